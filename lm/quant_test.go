package lm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tessera-net/tessera/lm/kernel"
)

// dequant is weight (j, k) of l as a float64, from the format's definition.
func dequant(l *Linear, j, k int) float64 {
	q, s := l.M.Row(j)
	return float64(q[k]) * float64(s[k/kernel.BlockSize]) * float64(l.RS[j]) / (1 << 48)
}

func TestQuantizeBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, cols := range []int{1, 8, 31, 32, 33, 100, 2048} {
		for _, scale := range []float64{1e-6, 0.02, 1, 300, 3000} {
			l := newLinear(3, cols)
			var rq rowQuantizer
			for j := 0; j < 3; j++ {
				vals := make([]float32, cols)
				var amax float64
				for k := range vals {
					vals[k] = float32(r.NormFloat64() * scale)
					if j == 2 && k%40 < 32 { // a row with blocks of very different sizes
						vals[k] *= 1e-3
					}
					amax = max(amax, math.Abs(float64(vals[k])))
				}
				if err := rq.quantize(l, j, vals); err != nil {
					t.Fatal(err)
				}
				q, s := l.M.Row(j)
				for k, v := range vals {
					if q[k] == -128 {
						t.Fatalf("q out of range: %d", q[k])
					}
					b := k / kernel.BlockSize
					step := float64(s[b]) * float64(l.RS[j]) / (1 << 48)
					// RS is rounded to an integer: a relative error of up to 0.5/RS on every weight.
					if d := math.Abs(dequant(l, j, k) - float64(v)); d > step/2*1.001+math.Abs(float64(v))/float64(l.RS[j]) {
						t.Fatalf("cols %d scale %g row %d col %d: %g quantised to %g, error %g over half a step %g",
							cols, scale, j, k, v, dequant(l, j, k), d, step/2)
					}
				}
			}
		}
	}
}

func TestQuantizeRefuses(t *testing.T) {
	l := newLinear(1, 2)
	var rq rowQuantizer
	for _, vals := range [][]float32{{float32(math.NaN()), 1}, {float32(math.Inf(1)), 0}, {40000, 1}, {1}} {
		if err := rq.quantize(l, 0, vals); err == nil {
			t.Errorf("%v: no error", vals)
		}
	}
	if err := rq.quantize(l, 0, []float32{0, 0}); err != nil || l.RS[0] != 0 {
		t.Errorf("zero row: %v, RS %d", err, l.RS[0])
	}
}

// TestLinearMatchesFloat: the integer matrix product is the float product of the
// quantised values to within the activations' quantisation step.
func TestLinearMatchesFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const rows, cols = 16, 96
	l := newLinear(rows, cols)
	var rq rowQuantizer
	for j := 0; j < rows; j++ {
		vals := make([]float32, cols)
		for k := range vals {
			vals[k] = float32(r.NormFloat64() * 0.05)
		}
		if err := rq.quantize(l, j, vals); err != nil {
			t.Fatal(err)
		}
	}
	x := make([]int32, cols)
	for k := range x {
		x[k] = int32(r.NormFloat64() * 65536)
	}
	xq := make([]int8, l.M.Stride)
	amax := quantizeActs(xq, x)
	acc := make([]int64, rows)
	kernel.MatVec(acc, l.M, xq)
	for j := 0; j < rows; j++ {
		var want, bound float64
		for k := 0; k < cols; k++ {
			xv := float64(xq[k]) * float64(amax) / 127 / 65536
			want += dequant(l, j, k) * xv
			bound += math.Abs(dequant(l, j, k))
		}
		got := float64(linearOut(acc[j], l.RS[j], amax)) / 65536
		if math.Abs(got-want) > 1.0/65536+want*1e-9 {
			t.Errorf("row %d: %g, want %g", j, got, want)
		}
		_ = bound
	}
}
