package fixed

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// randLogits returns n Q16 logits: normal with the given standard deviation
// (in real units), plus a few outliers.
func randLogits(r *rand.Rand, n int, sd float64) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(r.NormFloat64() * sd * q16)
	}
	if n > 10 {
		out[r.IntN(n)] = 20 * q16
		out[r.IntN(n)] = -30000 * q16
	}
	return out
}

func refSoftmax(src []int32) (p []float64, lse float64) {
	m := math.Inf(-1)
	for _, v := range src {
		m = math.Max(m, float64(v)/q16)
	}
	var s float64
	p = make([]float64, len(src))
	for i, v := range src {
		p[i] = math.Exp(float64(v)/q16 - m)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p, m + math.Log(s)
}

func TestSoftmax(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	var maxP, maxLSE, maxLS float64
	for _, n := range []int{1, 2, 3, 17, 4096, 32000} {
		for _, sd := range []float64{0.01, 1, 3, 10} {
			src := randLogits(r, n, sd)
			ref, refLSE := refSoftmax(src)
			p := Softmax(nil, src)
			var sum int64
			var caseP float64
			for i := range p {
				sum += int64(p[i])
				err := math.Abs(float64(p[i]) - ref[i]*q30)
				maxP = math.Max(maxP, err)
				caseP = math.Max(caseP, err)
				// The documented bound: 1 + p_i * n/2 units.
				if err > 1+ref[i]*float64(n)/2+1e-6 {
					t.Fatalf("n=%d sd=%v: p[%d] = %d, ref %.3f", n, sd, i, p[i], ref[i]*q30)
				}
			}
			if d := sum - q30; d > int64(n/2) || -d > int64(n/2) {
				t.Fatalf("n=%d sd=%v: sum p = %d", n, sd, sum)
			}
			lse := LogSumExp(src)
			t.Logf("n=%5d sd=%5.2f: Softmax max |err| %8.3f units of Q30, LogSumExp err %.4f units of Q16", n, sd, caseP, math.Abs(float64(lse)-refLSE*q16))
			maxLSE = math.Max(maxLSE, math.Abs(float64(lse)-refLSE*q16))
			ls := LogSoftmax(nil, src)
			for i := range ls {
				want := math.Max(math.Log(ref[i]), math.MinInt32/q16) * q16
				if ref[i] == 0 {
					want = float64(Sat32(int64(src[i]) - lse))
				}
				maxLS = math.Max(maxLS, math.Abs(float64(ls[i])-want))
			}
			// The streaming pieces agree with Softmax/LogSumExp.
			m, s := MaxExpSum(src)
			if int64(m)+Log(s, 30) != lse {
				t.Fatal("MaxExpSum disagrees with LogSumExp")
			}
			if idx := ArgMax(src); src[idx] != m {
				t.Fatal("ArgMax")
			}
		}
	}
	t.Logf("Softmax max |err| = %.3f units of Q30; LogSumExp %.4f, LogSoftmax %.4f units of Q16", maxP, maxLSE, maxLS)
	if maxLSE > 0.6 || maxLS > 0.6 {
		t.Fatalf("errors too large: %v %v %v", maxP, maxLSE, maxLS)
	}
}

func TestSoftmaxEdges(t *testing.T) {
	if got := Softmax(nil, nil); len(got) != 0 {
		t.Fatal("empty")
	}
	if got := LogSumExp(nil); got != math.MinInt64 {
		t.Fatal("empty LSE")
	}
	if got := LogSoftmax(nil, nil); len(got) != 0 {
		t.Fatal("empty LogSoftmax")
	}
	if m, s := MaxExpSum(nil); m != 0 || s != 0 {
		t.Fatal("empty MaxExpSum")
	}
	// Extremes: the difference src_i - m spans the whole int32 range twice.
	src := []int32{math.MaxInt32, math.MinInt32, 0, math.MaxInt32}
	if got := Softmax(nil, src); !slices.Equal(got, []uint32{1 << 29, 0, 0, 1 << 29}) {
		t.Errorf("Softmax extremes = %v", got)
	}
	// src[2] - lse = -(2^31 - 1) - 45426 saturates.
	if got := LogSoftmax(nil, src); !slices.Equal(got, []int32{-45426, math.MinInt32, math.MinInt32, -45426}) {
		t.Errorf("LogSoftmax extremes = %v", got)
	}
	// Uniform.
	u := Softmax(nil, make([]int32, 3))
	if !slices.Equal(u, []uint32{357913941, 357913941, 357913941}) {
		t.Errorf("uniform = %v", u)
	}
	// dst reuse and in-place LogSoftmax.
	buf := make([]uint32, 1, 10)
	out := Softmax(buf, []int32{0, 65536})
	if &out[0] != &buf[0] || !slices.Equal(out, []uint32{288773652, 784968172}) {
		t.Errorf("Softmax reuse = %v", out)
	}
	x := []int32{0, 65536, -65536}
	lse := LogSumExp(x)
	y := LogSoftmax(x, x)
	if &y[0] != &x[0] || y[0] != Sat32(-lse) || lse != 92249 {
		t.Errorf("LogSoftmax in place = %v (lse %d)", y, lse)
	}
	// Golden: probabilities of a small fixed vector.
	g := Softmax(nil, []int32{-131072, 0, 32768, 65536, 65536})
	if !slices.Equal(g, []uint32{17676909, 130615671, 215348835, 355050205, 355050205}) {
		t.Errorf("golden softmax = %v", g)
	}
}

func TestArgMax(t *testing.T) {
	for _, c := range []struct {
		src  []int32
		want int
	}{
		{nil, -1}, {[]int32{5}, 0}, {[]int32{1, 3, 3, 2}, 1}, {[]int32{-5, -5}, 0},
		{[]int32{math.MinInt32, math.MinInt32, math.MaxInt32}, 2},
	} {
		if got := ArgMax(c.src); got != c.want {
			t.Errorf("ArgMax(%v) = %d, want %d", c.src, got, c.want)
		}
	}
}

func refTopK(src []int32, k int) []int {
	idx := make([]int, len(src))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if src[a] != src[b] {
			if src[a] > src[b] {
				return -1
			}
			return 1
		}
		return a - b
	})
	k = max(0, min(k, len(src)))
	return idx[:k]
}

func TestTopK(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, n := range []int{0, 1, 2, 5, 100, 1000, 32000} {
		for _, spread := range []int32{2, 50, math.MaxInt32} {
			src := make([]int32, n)
			for i := range src {
				src[i] = int32(r.Int64N(2*int64(spread))) - spread
			}
			for _, k := range []int{-1, 0, 1, 2, 3, 10, 40, 100, n - 1, n, n + 5} {
				got := TopK(src, k, nil)
				if want := refTopK(src, k); !slices.Equal(got, want) {
					t.Fatalf("TopK n=%d k=%d spread=%d: got %v want %v", n, k, spread, got[:min(len(got), 10)], want[:min(len(want), 10)])
				}
			}
		}
	}
	buf := make([]int, 0, 8)
	got := TopK([]int32{3, 1, 3, 7, -2}, 3, buf)
	if !slices.Equal(got, []int{3, 0, 2}) || &got[:1][0] != &buf[:1][0] {
		t.Errorf("TopK reuse = %v", got)
	}
	if got := TopK([]int32{1, 2, 3}, 1, nil); !slices.Equal(got, []int{2}) {
		t.Errorf("TopK k=1 = %v", got)
	}
}
