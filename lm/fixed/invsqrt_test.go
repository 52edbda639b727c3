package fixed

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

var two98 = new(big.Int).Lsh(big.NewInt(1), 98)

// invSqrtOK checks exactly, with math/big, that y is the integer nearest to
// 2^48/sqrt(x): (2y-1)^2 x <= 2^98 < (2y+1)^2 x.
func invSqrtOK(x, y uint64) bool {
	bx := new(big.Int).SetUint64(x)
	lo := new(big.Int).SetUint64(2*y - 1)
	lo.Mul(lo, lo).Mul(lo, bx)
	hi := new(big.Int).SetUint64(2*y + 1)
	hi.Mul(hi, hi).Mul(hi, bx)
	return lo.Cmp(two98) <= 0 && hi.Cmp(two98) > 0
}

func TestInvSqrtExact(t *testing.T) {
	check := func(x uint64) {
		y := InvSqrt(x)
		if !invSqrtOK(x, y) {
			t.Fatalf("InvSqrt(%d) = %d is not round(2^48/sqrt(x))", x, y)
		}
	}
	for x := uint64(1); x <= 1<<18; x++ {
		check(x)
	}
	for k := range 64 {
		for d := -3; d <= 3; d++ {
			if x := uint64(1)<<k + uint64(d); x != 0 && x>>k <= 1 {
				check(x)
			}
		}
	}
	check(math.MaxUint64)
	check(math.MaxUint64 - 1)
	r := rand.New(rand.NewPCG(7, 8))
	for n := 1; n <= 64; n++ {
		for range 8000 {
			check(r.Uint64()>>(64-n) | 1<<(n-1))
		}
	}
}

// TestInvSqrtFloat compares with float64 (accurate to ~2^-52 relative,
// i.e. < 0.02 units at the largest results) and checks monotonicity.
func TestInvSqrtFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	var maxErr float64
	for range 1 << 20 {
		x := r.Uint64() >> r.UintN(64)
		if x == 0 {
			continue
		}
		got := InvSqrt(x)
		ref := math.Ldexp(1, 48) / math.Sqrt(float64(x))
		maxErr = math.Max(maxErr, math.Abs(float64(got)-ref))
	}
	t.Logf("InvSqrt: max |err| vs float64 = %.4f units of Q32", maxErr)
	if maxErr > 0.52 {
		t.Fatalf("max err %.4f", maxErr)
	}
	for _, base := range []uint64{1, 1 << 32, 1 << 40, 1 << 62} {
		prev := InvSqrt(base)
		for x := base + 1; x < base+200000; x++ {
			y := InvSqrt(x)
			if y > prev {
				t.Fatalf("InvSqrt increasing at %d", x)
			}
			prev = y
		}
	}
}

func TestInvSqrtEdges(t *testing.T) {
	for _, c := range []struct{ x, want uint64 }{
		{0, math.MaxUint64},
		{1, 1 << 48},
		{4, 1 << 47},
		{1 << 32, 1 << 32},     // 1/sqrt(1) = 1
		{4 << 32, 1 << 31},     // 1/sqrt(4) = 0.5
		{1 << 30, 1 << 33},     // 1/sqrt(0.25) = 2
		{2 << 32, 3037000500},  // 1/sqrt(2)
		{3 << 32, 2479700525},  // 1/sqrt(3)
		{42950, 1358182742203}, // x ~ 1e-5 (rms eps)
		{1 << 62, 1 << 17},
		{math.MaxUint64, 1 << 16},
		{12345678901234, 80109183},
	} {
		if got := InvSqrt(c.x); got != c.want {
			t.Errorf("InvSqrt(%d) = %d, want %d", c.x, got, c.want)
		}
	}
}
