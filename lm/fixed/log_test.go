package fixed

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// refLog returns ln(x / 2^frac) * 2^16 in float64 with an absolute error of
// a few 1e-15 * 2^16 (x is split so that no bits are lost converting it).
func refLog(x uint64, frac uint) float64 {
	var l float64
	if x < 1<<53 {
		l = math.Log(float64(x))
	} else {
		hi, lo := x>>32, x&(1<<32-1)
		h := float64(hi) * (1 << 32)
		l = math.Log(float64(hi)) + 32*math.Ln2 + math.Log1p(float64(lo)/h)
	}
	return (l - float64(frac)*math.Ln2) * q16
}

type logStats struct {
	maxErr   float64
	misround int
	n        int
}

func (s *logStats) add(t *testing.T, x uint64, frac uint) int64 {
	got := Log(x, frac)
	ref := refLog(x, frac)
	err := math.Abs(float64(got) - ref)
	if err > s.maxErr {
		s.maxErr = err
	}
	r := math.Round(ref) // half away from zero
	if float64(got) != r && math.Abs(math.Abs(ref-math.Trunc(ref))-0.5) > 1e-6 {
		s.misround++
		if s.misround < 5 {
			t.Errorf("Log(%d, %d) = %d, ref %.9f", x, frac, got, ref)
		}
	}
	s.n++
	return got
}

func TestLogExhaustiveSmall(t *testing.T) {
	for _, frac := range []uint{0, 16, 30} {
		var s logStats
		prev := int64(math.MinInt64)
		for x := uint64(1); x <= 1<<22; x++ {
			got := s.add(t, x, frac)
			if got < prev {
				t.Fatalf("Log not monotonic at x=%d frac=%d", x, frac)
			}
			prev = got
		}
		t.Logf("Log x in [1, 2^22], frac %d: max |err| = %.9f units of Q16", frac, s.maxErr)
		if s.maxErr > 0.5+1e-6 || s.misround != 0 {
			t.Fatalf("max err %.9f, %d misrounded", s.maxErr, s.misround)
		}
	}
}

func TestLogRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var s logStats
	for n := 1; n <= 64; n++ {
		for range 20000 {
			x := r.Uint64()>>(64-n) | 1<<(n-1)
			s.add(t, x, uint(r.IntN(71)))
		}
	}
	// Sums of Q30 exponentials (2^30 .. 2^47) and Q30 probabilities.
	for range 200000 {
		s.add(t, 1<<30+r.Uint64N(1<<47), 30)
		s.add(t, 1+r.Uint64N(1<<30), 30)
	}
	// Dense runs at a few large x to check monotonicity at full precision.
	for _, base := range []uint64{1 << 40, 1<<63 - 500000, math.MaxUint64 - 2000000, 3 << 50} {
		prev := Log(base, 0)
		for x := base; x < base+1000000; x++ {
			got := s.add(t, x, 0)
			if got < prev {
				t.Fatalf("Log not monotonic at %d", x)
			}
			prev = got
		}
	}
	t.Logf("Log random (%d values): max |err| = %.9f units of Q16", s.n, s.maxErr)
	if s.maxErr > 0.5+1e-6 || s.misround != 0 {
		t.Fatalf("max err %.9f, %d misrounded", s.maxErr, s.misround)
	}
}

// TestLogBig checks Log against a math/big reference on a sample, requiring
// the correctly rounded result.
func TestLogBig(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 300 {
		n := 1 + i%64
		x := r.Uint64()>>(64-n) | 1<<(n-1)
		frac := uint(r.IntN(100))
		v := bigLn(bfU(x))
		v.Sub(v, bfNew().Mul(bfI(int64(frac)), bigLn2))
		v.SetMantExp(v, 16)
		want := bigRoundHalfAway(v)
		if got := Log(x, frac); big.NewInt(got).Cmp(want) != 0 {
			t.Errorf("Log(%d, %d) = %d, want %v", x, frac, got, want)
		}
	}
}

func TestLogEdges(t *testing.T) {
	cases := []struct {
		x    uint64
		frac uint
		want int64
	}{
		{0, 0, math.MinInt64},
		{0, 30, math.MinInt64},
		{1, 0, 0},
		{1 << 30, 30, 0},
		{1 << 63, 63, 0},
		{2, 0, 45426},                     // ln 2
		{1, 1, -45426},                    // ln 1/2
		{3 << 30, 30, 71999},              // ln 3
		{math.MaxUint64, 0, 2907270},      // ln(2^64 - 1)
		{1, 64, -2907270},                 // ln 2^-64
		{1, 30, -1362783},                 // ln 2^-30
		{32000 << 30, 30, 679837},         // ln 32000
		{1, LogMaxFrac, -47632711549},     // largest frac
		{1, LogMaxFrac + 5, -47632711549}, // clamped
		{1<<30 + 1, 30, 0},
		{1234567890123, 30, 461854},
		{987654321, 0, 1357306},
	}
	for _, c := range cases {
		if got := Log(c.x, c.frac); got != c.want {
			t.Errorf("Log(%d, %d) = %d, want %d", c.x, c.frac, got, c.want)
		}
	}
	// Log(2^k, 0) = round(k ln2 * 2^16) for every k.
	for k := range 64 {
		want := bigRoundHalfAway(bfNew().SetMantExp(bfNew().Mul(bfI(int64(k)), bigLn2), 16))
		if got := Log(1<<k, 0); big.NewInt(got).Cmp(want) != 0 {
			t.Errorf("Log(2^%d) = %d, want %v", k, got, want)
		}
	}
}
