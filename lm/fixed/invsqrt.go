package fixed

import (
	"math"
	"math/bits"
)

// invSqrtSeed[j-64], j in [64, 256), approximates 2^63 / sqrt(m_j) with
// m_j = (2j+1)/128, the midpoint of the mantissa cell [j/64, (j+1)/64). It is
// built at init by eight invSqrtStep iterations from 2^62 (0.5). The seed only
// affects speed: InvSqrt's final correction makes its result exact whatever
// the seed.
var invSqrtSeed [192]uint64

func init() {
	for j := 64; j < 256; j++ {
		mq := uint64(2*j+1) << 55
		y := uint64(1 << 62)
		for range 8 {
			y = invSqrtStep(mq, y)
		}
		invSqrtSeed[j-64] = y
	}
}

// invSqrtStep is one Newton step y' = y (3 - m y^2) / 2 for 1/sqrt(m), with m
// in Q62 (m in [1, 4)) and y in Q63 (y < sqrt(3/m), so 3 - m y^2 > 0); each
// product is truncated. y' <= 1/sqrt(m) <= 1 in exact arithmetic, so y' fits.
func invSqrtStep(mq, y uint64) uint64 {
	y2 := mulHi(y, y)              // Q62
	t := mulHi(mq, y2)             // m y^2 in Q60
	h, l := bits.Mul64(y, 3<<60-t) // Q63 * Q60 = Q123
	return h<<3 | l>>61            // y (3 - m y^2) / 2 in Q63
}

// InvSqrt returns 1/sqrt(x / 2^32) in Q32 for x in Q32, i.e. the integer
// nearest to 2^48 / sqrt(x): the unique y with (2y-1)^2 x <= 2^98 < (2y+1)^2 x
// (a tie (2y±1)^2 x = 2^98 is impossible for x >= 1). Every x >= 1 is
// accepted (results from 2^48 at x = 1 down to 2^16 at x near 2^64).
// InvSqrt(0) = math.MaxUint64 (standing for +inf). The result is exact: a
// table seed and three Newton steps give a candidate within 1 of the answer
// and an exact 192-bit comparison corrects it.
func InvSqrt(x uint64) uint64 {
	if x == 0 {
		return math.MaxUint64
	}
	se := uint(bits.Len64(x)-1) &^ 1 // even exponent: x = 2^se * m, m in [1, 4)
	mq := x << (62 - se)             // m in Q62
	y := invSqrtSeed[(mq>>56)-64]
	y = invSqrtStep(mq, y)
	y = invSqrtStep(mq, y)
	y = invSqrtStep(mq, y)
	// 2^48/sqrt(x) = 2^(48 - se/2) / sqrt(m) = y / 2^(15 + se/2).
	sh := 15 + se/2
	c := (y + 1<<(sh-1)) >> sh
	for !invSqrtAbove(c, x) {
		c++
	}
	for c > 1 && invSqrtAbove(c-1, x) {
		c--
	}
	return c
}

// invSqrtAbove reports whether (2c+1)^2 * x > 2^98, exactly (c < 2^62).
func invSqrtAbove(c, x uint64) bool {
	a := 2*c + 1
	sh, sl := bits.Mul64(a, a)
	// (sh:sl) * x = w2:w1:w0
	h1, _ := bits.Mul64(sl, x)
	h2, l2 := bits.Mul64(sh, x)
	w1, carry := bits.Add64(h1, l2, 0)
	w2 := h2 + carry
	// 2^98 = w2 0, w1 2^34, w0 0; strictly above means w2 > 0, or w1 > 2^34,
	// or w1 == 2^34 with w0 > 0.
	if w2 != 0 {
		return true
	}
	if w1 != 1<<34 {
		return w1 > 1<<34
	}
	_, l1 := bits.Mul64(sl, x)
	return l1 != 0
}
