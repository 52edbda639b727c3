package fixed

import (
	"math"
	"math/rand/v2"
	"testing"
)

const (
	q30 = 1 << 30
	q16 = 1 << 16
)

// TestExpExhaustive compares Exp with float64 math.Exp for every x in
// [-2^21, 0] (beyond which it is 0) and checks monotonicity. math.Exp is
// within 1 ulp (relative 2.3e-16), i.e. 2.5e-7 units of Q30, so a bound of
// 0.5 + 1e-6 units means Exp is correctly rounded wherever the reference
// can tell.
func TestExpExhaustive(t *testing.T) {
	var maxErr float64
	prev := uint32(0)
	misround := 0
	for x := int32(expMinX); x <= 0; x++ {
		got := Exp(x)
		ref := math.Exp(float64(x)/q16) * q30
		err := math.Abs(float64(got) - ref)
		if err > maxErr {
			maxErr = err
		}
		if got != uint32(math.Floor(ref+0.5)) && math.Abs(ref-math.Floor(ref)-0.5) > 1e-6 {
			misround++
		}
		if got < prev {
			t.Fatalf("Exp not monotonic at x=%d: %d < %d", x, got, prev)
		}
		prev = got
	}
	t.Logf("Exp: max |err| = %.9f units of Q30 over [-2^21, 0]", maxErr)
	if maxErr > 0.5+1e-6 || misround != 0 {
		t.Fatalf("Exp max error %.9f, %d misrounded", maxErr, misround)
	}
}

func TestExpEdges(t *testing.T) {
	cases := []struct {
		x    int32
		want uint32
	}{
		{0, 1 << 30},
		{1, 1 << 30},
		{math.MaxInt32, 1 << 30},
		{math.MinInt32, 0},
		{expMinX - 1, 0},
		{expMinX, 0},
		{-1408209, 0},
		{-1408208, 1},
		// Golden values (catch any change of bits).
		{-1, 1073725440},
		{-65536, 395007542},  // e^-1
		{-32768, 651257337},  // e^-0.5
		{-45426, 536871679},  // near ln(1/2)
		{-10 * 65536, 48748}, // e^-10
		{-20 * 65536, 2},     // e^-20
		{-123457, 163220254}, // e^-1.88380
		{-1000000, 254},      // e^-15.2588
	}
	for _, c := range cases {
		if got := Exp(c.x); got != c.want {
			t.Errorf("Exp(%d) = %d, want %d", c.x, got, c.want)
		}
	}
}

func TestSigmoid(t *testing.T) {
	var maxErr float64
	prev := uint32(0)
	for x := int32(-3 << 20); x <= 3<<20; x++ {
		got := Sigmoid(x)
		xf := float64(x) / q16
		ref := q30 / (1 + math.Exp(-xf))
		if err := math.Abs(float64(got) - ref); err > maxErr {
			maxErr = err
		}
		if got < prev {
			t.Fatalf("Sigmoid not monotonic at %d", x)
		}
		prev = got
		if x != math.MinInt32 {
			if s := Sigmoid(-x); uint64(s)+uint64(got) != q30 {
				t.Fatalf("Sigmoid(%d)+Sigmoid(%d) = %d", x, -x, uint64(s)+uint64(got))
			}
		}
	}
	t.Logf("Sigmoid: max |err| = %.6f units of Q30", maxErr)
	if maxErr > 1 {
		t.Fatalf("Sigmoid max error %.6f", maxErr)
	}
	for _, c := range []struct {
		x    int32
		want uint32
	}{
		{0, 1 << 29}, {math.MaxInt32, 1 << 30}, {math.MinInt32, 0},
		{1408209, 1 << 30}, {1408208, 1<<30 - 1}, {-1408209, 0}, {-1408208, 1},
		{65536, 784968172}, {-65536, 288773652}, {300000, 1062816958}, {-300000, 10924866}, {1000000, 1073741570},
	} {
		if got := Sigmoid(c.x); got != c.want {
			t.Errorf("Sigmoid(%d) = %d, want %d", c.x, got, c.want)
		}
	}
}

func TestSiLU(t *testing.T) {
	check := func(x int32) float64 {
		got := SiLU(x)
		xf := float64(x) / q16
		ref := xf / (1 + math.Exp(-xf)) * q16
		return math.Abs(float64(got) - ref)
	}
	var maxErr float64
	for x := int32(-3 << 20); x <= 3<<20; x++ {
		maxErr = math.Max(maxErr, check(x))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1 << 20 {
		maxErr = math.Max(maxErr, check(int32(r.Uint32())))
	}
	t.Logf("SiLU: max |err| = %.6f units of Q16", maxErr)
	if maxErr > 0.5+1e-3 {
		t.Fatalf("SiLU max error %.6f", maxErr)
	}
	for _, c := range []struct{ x, want int32 }{
		{0, 0}, {math.MaxInt32, math.MaxInt32}, {math.MinInt32, 0}, {1 << 21, 1 << 21},
		{-1408209, 0}, {65536, 47911}, {-65536, -17625}, {-80000, -18225}, {12345, 6752}, {-500000, -243},
	} {
		if got := SiLU(c.x); got != c.want {
			t.Errorf("SiLU(%d) = %d, want %d", c.x, got, c.want)
		}
	}
}
