package fixed

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

const q62 = 1 << 62

// bigTheta returns base^(-2i/dims) for a Q16 base, with math/big.
func bigTheta(base int64, i, dims int) *big.Float {
	lb := bigLn(bfNew().Quo(bfI(base), bf(q16)))
	lb.Mul(lb, bfI(int64(-2*i)))
	lb.Quo(lb, bfI(int64(dims)))
	return bigExp(lb)
}

// TestRopeFreqsExact checks that every theta_i is the correctly rounded
// value of base^(-2i/dims) * 2^62.
func TestRopeFreqsExact(t *testing.T) {
	bases := []int64{10000 << 16, 500000 << 16, 1000000 << 16, 10000<<16 + 1, 65537, 2 << 16, 3 << 15, math.MaxInt64}
	for _, base := range bases {
		for _, dims := range []int{2, 4, 6, 64, 128} {
			fr, err := RopeFreqs(base, dims)
			if err != nil || len(fr) != dims/2 {
				t.Fatalf("RopeFreqs(%d, %d): %v", base, dims, err)
			}
			for i, got := range fr {
				want := bigRound(bigTheta(base, i, dims), 62)
				if big.NewInt(got).Cmp(want) != 0 {
					t.Errorf("RopeFreqs(%d, %d)[%d] = %d, want %v", base, dims, i, got, want)
				}
				if i > 0 && got >= fr[i-1] {
					t.Errorf("RopeFreqs(%d, %d) not decreasing at %d", base, dims, i)
				}
			}
			if fr[0] != q62 {
				t.Errorf("theta_0 = %d", fr[0])
			}
		}
	}
	// A wide sweep over dims = 256 for llama bases (each checked exactly).
	for _, base := range []int64{10000 << 16, 500000 << 16} {
		fr, _ := RopeFreqs(base, 256)
		for i, got := range fr {
			if want := bigRound(bigTheta(base, i, 256), 62); big.NewInt(got).Cmp(want) != 0 {
				t.Errorf("RopeFreqs(%d, 256)[%d] = %d, want %v", base, i, got, want)
			}
		}
	}
}

func TestRopeFreqsGolden(t *testing.T) {
	fr, err := RopeFreqs(10000<<16, 128)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		i    int
		want int64
	}{{0, 1 << 62}, {1, 3993555562496546842}, {32, 46116860184273879}, {63, 532549193312420}} {
		if fr[c.i] != c.want {
			t.Errorf("theta[%d] = %d, want %d", c.i, fr[c.i], c.want)
		}
	}
}

func TestRopeErrors(t *testing.T) {
	for _, c := range []struct {
		base  int64
		dims  int
		pos   int
		want  error
		table bool
	}{
		{1 << 16, 4, 1, ErrRopeBase, false},
		{0, 4, 1, ErrRopeBase, false},
		{-5, 4, 1, ErrRopeBase, false},
		{10000 << 16, 3, 1, ErrRopeDims, false},
		{10000 << 16, 0, 1, ErrRopeDims, false},
		{10000 << 16, -2, 1, ErrRopeDims, false},
		{10000 << 16, RopeMaxDims + 2, 1, ErrRopeDims, false},
		{10000 << 16, 4, 0, ErrRopeSize, true},
		{10000 << 16, 4, -1, ErrRopeSize, true},
		{10000 << 16, 4, RopeMaxPos + 1, ErrRopeSize, true},
		{10000 << 16, 128, RopeMaxTable/64 + 1, ErrRopeSize, true},
		{10000 << 16, 4, 1, ErrRopeBase, true},
	} {
		var err error
		if c.table {
			b := c.base
			if c.want == ErrRopeBase {
				b = 1 << 16
			}
			_, _, err = RopeTable(b, c.dims, c.pos)
		} else {
			_, err = RopeFreqs(c.base, c.dims)
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%+v: err = %v", c, err)
		}
	}
}

// refCosSin returns cos, sin (times 2^30) of pos * freq / 2^62, reducing the
// angle modulo 2 pi with math/big first, so the reference error is ~1e-15.
func refCosSin(freq int64, pos int) (float64, float64) {
	a := bfNew().Mul(bfI(freq), bfI(int64(pos)))
	a.SetMantExp(a, -62)
	twoPi := bfNew().Mul(bigPi, bf(2))
	k := bfNew().Quo(a, twoPi)
	ki, _ := k.Int(nil)
	if a.Sign() < 0 {
		ki.Sub(ki, big.NewInt(1))
	}
	a.Sub(a, bfNew().Mul(bfInt(ki), twoPi))
	af, _ := a.Float64()
	return math.Cos(af) * q30, math.Sin(af) * q30
}

func TestRopeCosSinBig(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	var maxErr float64
	check := func(f int64, pos int) {
		c, s := RopeCosSin(f, pos)
		rc, rs := refCosSin(f, pos)
		maxErr = math.Max(maxErr, math.Max(math.Abs(float64(c)-rc), math.Abs(float64(s)-rs)))
	}
	for _, base := range []int64{10000 << 16, 500000 << 16} {
		for _, dims := range []int{4, 64, 128} {
			fr, _ := RopeFreqs(base, dims)
			for range 300 {
				check(fr[r.IntN(len(fr))], r.IntN(1<<20))
			}
		}
	}
	for range 3000 {
		check(int64(r.Uint64N(q62+1)), r.IntN(1<<20)-1<<19)
	}
	t.Logf("RopeCosSin vs big-reduced reference: max |err| = %.6f units of Q30", maxErr)
	if maxErr > 0.5+1e-4 {
		t.Fatalf("max err %.6f", maxErr)
	}
}

// TestRopeTableFloat sweeps every position below 32768 for the llama bases
// and compares with float64 (angle pos * theta in float64, error below
// 32768 * 2^-53 rad ~ 0.004 units), checking the table layout too.
func TestRopeTableFloat(t *testing.T) {
	var maxErr, maxNorm float64
	for _, base := range []int64{10000 << 16, 500000 << 16} {
		for _, dims := range []int{4, 64, 128} {
			const maxPos = 32768
			cos, sin, err := RopeTable(base, dims, maxPos)
			if err != nil {
				t.Fatal(err)
			}
			fr, _ := RopeFreqs(base, dims)
			h := dims / 2
			bf := float64(base) / q16
			for pos := range maxPos {
				for i := range h {
					c, s := cos[pos*h+i], sin[pos*h+i]
					ang := float64(pos) * math.Pow(bf, -float64(2*i)/float64(dims))
					maxErr = math.Max(maxErr, math.Abs(float64(c)-math.Cos(ang)*q30))
					maxErr = math.Max(maxErr, math.Abs(float64(s)-math.Sin(ang)*q30))
					n := float64(c)*float64(c) + float64(s)*float64(s)
					maxNorm = math.Max(maxNorm, math.Abs(n/q30-q30))
					if pos%1024 == 7 {
						if c2, s2 := RopeCosSin(fr[i], pos); c2 != c || s2 != s {
							t.Fatalf("table[%d][%d] differs from RopeCosSin", pos, i)
						}
					}
				}
			}
		}
	}
	t.Logf("RopeTable vs float64 (pos < 32768): max |err| = %.6f units of Q30; max |cos^2+sin^2-1| = %.3f units", maxErr, maxNorm)
	if maxErr > 0.51 {
		t.Fatalf("max err %.6f", maxErr)
	}
}

func TestRopeCosSinEdges(t *testing.T) {
	for _, c := range []struct {
		f        int64
		pos      int
		cos, sin int32
	}{
		{q62, 0, 1 << 30, 0},
		{0, 12345, 1 << 30, 0},
		{q62, 1, 580145183, 903522590},   // cos 1, sin 1
		{q62, -1, 580145183, -903522590}, // cos -1, sin -1
		{-q62, 1, 580145183, -903522590},
		{-q62, -1, 580145183, 903522590},
		{q62, 3, -1062996349, 151526455},  // 3 rad
		{q62, 100, 925907839, -543705967}, // 100 rad
		{q62 / 2, 4096, 1019769477, -336142408},
		{3748042893013883380, 32767, -856641985, 647368531},
	} {
		gc, gs := RopeCosSin(c.f, c.pos)
		if gc != c.cos || gs != c.sin {
			t.Errorf("RopeCosSin(%d, %d) = %d, %d; want %d, %d", c.f, c.pos, gc, gs, c.cos, c.sin)
		}
	}
	// Any input is accepted without panicking.
	_, _ = RopeCosSin(math.MinInt64, math.MinInt64)
	_, _ = RopeCosSin(math.MaxInt64, math.MaxInt64)
	// Quadrant boundaries: the angle k pi/2 for k = 0..3 on a freq of pi/2.
	halfPi := int64(7244019458077122842) // round(pi/2 * 2^62)
	want := [][2]int32{{1 << 30, 0}, {0, 1 << 30}, {-(1 << 30), 0}, {0, -(1 << 30)}}
	for k := range 4 {
		c, s := RopeCosSin(halfPi, k)
		if d := [2]int32{c, s}; d != want[k] {
			t.Errorf("angle %d pi/2: %d %d", k, c, s)
		}
	}
}
