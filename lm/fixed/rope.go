package fixed

import (
	"math/bits"

	"github.com/tessera-net/tessera/internal/safemath"
)

// RoPE constants (correctly rounded, checked in tables_test.go).
const (
	// ropeInv2Pi is round(2^66 / (2 pi)): 1/(2 pi) turns per radian in Q66.
	ropeInv2Pi = 11743562013128004906
	// ropeTwoPi is round(2 pi * 2^61).
	ropeTwoPi = 14488038916154245685
	// RopeMaxDims bounds the dims argument of RopeFreqs and RopeTable.
	RopeMaxDims = 1 << 16
	// RopeMaxPos bounds the maxPos argument of RopeTable.
	RopeMaxPos = 1 << 24
	// RopeMaxTable bounds maxPos * dims/2, the entries of each RopeTable
	// slice (2^25 entries = 128 MiB per slice).
	RopeMaxTable = 1 << 25
)

// Q62 coefficients of the angle polynomials: cos d = 1 - d^2/2 + d^4/24 -
// d^6/720, sin d = d (1 - d^2/6 + d^4/120 - d^6/5040); round(2^62 / n).
const (
	ropeC2 = 1 << 61            // 2^62/2
	ropeC4 = 192153584101141163 // 2^62/24
	ropeC6 = 6405119470038039   // 2^62/720
	ropeS3 = 768614336404564651 // 2^62/6
	ropeS5 = 38430716820228233  // 2^62/120
	ropeS7 = 915017067148291    // 2^62/5040
)

// ropeSin[j] = round(sin(j pi / 512) * 2^62) for j in [0, 256], built at init:
// x = floor(pi_Q120 * j / 512), entry = round(q120Sin(x) / 2^58).
var ropeSin [257]uint64

func init() {
	for j := range ropeSin {
		x := q120Pi.MulDiv64(uint64(j), 512)
		ropeSin[j] = roundShr(q120Sin(x), q120Frac-62)
	}
}

// RopeFreqs returns the dims/2 RoPE inverse frequencies theta_i =
// base^(-2i/dims), i in [0, dims/2), in Q62 radians per position (theta_0 =
// 2^62 exactly; every theta_i is in (0, 2^62]). base is Q16 and must exceed
// 1.0 (base > 65536), else ErrRopeBase; dims must be even and in [2,
// RopeMaxDims], else ErrRopeDims.
//
// Each theta_i is round(base^(-2i/dims) * 2^62) half up, computed in Q120
// integer arithmetic with an error below 2^-100 before the rounding (so it is
// the correctly rounded value unless the exact value lies within 2^-100 of a
// rounding boundary; the tests check it against math/big): with n =
// bits.Len64(base) - 1,
//
//	lb  = (n - 16) + floor(q120LnRatio(base, 2^n) * log2e_Q120 / 2^120)   (log2 of base, Q120)
//	y   = floor(lb * 2i / dims)                                          (Q120)
//	k   = floor(y / 2^120), f = y mod 2^120
//	v   = q120ExpNeg(floor(f * ln2_Q120 / 2^120))                        (2^-f, Q120)
//	theta_i = floor((v + 2^(57+k)) / 2^(58+k))
func RopeFreqs(base int64, dims int) ([]int64, error) {
	if base <= 1<<16 {
		return nil, ErrRopeBase
	}
	if dims < 2 || dims > RopeMaxDims || dims%2 != 0 {
		return nil, ErrRopeDims
	}
	b := uint64(base)
	n := uint(bits.Len64(b) - 1) // >= 16
	lb := q120Mul(q120LnRatio(b, 1<<n), q120Log2E).Add(safemath.U128{Hi: uint64(n-16) << (q120Frac - 64)})
	out := make([]int64, dims/2)
	for i := range out {
		y := lb.MulDiv64(uint64(2*i), uint64(dims))
		k := uint(y.Hi >> (q120Frac - 64)) // < 47
		f := safemath.U128{Hi: y.Hi & (1<<(q120Frac-64) - 1), Lo: y.Lo}
		v := q120ExpNeg(q120Mul(f, q120Ln2))
		out[i] = int64(roundShr(v, q120Frac-62+k))
	}
	return out, nil
}

// RopeCosSin returns cos and sin of the angle pos * freq in Q30, for freq in
// Q62 radians per position (as from RopeFreqs) and any pos. Every int64 freq
// and int pos are accepted; the sign of pos * freq is applied as sin(-a) =
// -sin(a). Algorithm (all integer, u = unsigned magnitudes):
//
//	t   = |pos| * |freq|                     (128-bit, Q62 radians, exact)
//	u   = floor(t * ropeInv2Pi / 2^64) mod 2^64
//	                                          (the fractional turns of the angle, Q64)
//	q   = u >> 62 (quadrant), v = u mod 2^62
//	j   = v >> 54 (0..255), r = v mod 2^54    (turns within the table cell, Q64)
//	d   = floor(r * ropeTwoPi / 2^63)        (radians, Q62, d < pi/512)
//	d2  = mq(d, d) with mq(a, b) = floor(a b / 2^62)
//	cd  = 2^62 - mq(d2, C2 - mq(d2, C4 - mq(d2, C6)))
//	sd  = mq(d, 2^62 - mq(d2, S3 - mq(d2, S5 - mq(d2, S7))))
//	sa  = ropeSin[j], ca = ropeSin[256-j]
//	s   = mq(sa, cd) + mq(ca, sd),  c = mq(ca, cd) - mq(sa, sd)   (signed)
//	S, C = Rshr(s, 32), Rshr(c, 32)
//	(cos, sin) = (C, S), (-S, C), (-C, -S), (S, -C) for q = 0, 1, 2, 3
//
// then sin is negated if pos * freq < 0. For |pos| < 2^20 and the exact
// angle pos * freq / 2^62 the result is within 0.5 + 1e-4 units of Q30 of
// the true cos and sin (the angle reduction is accurate to 2^-44 radians,
// the polynomials and table to 1e-17); the error grows as |pos| * 2^-64
// radians for larger |pos|.
func RopeCosSin(freq int64, pos int) (cos, sin int32) {
	neg := (freq < 0) != (pos < 0)
	a, p := uint64(freq), uint64(pos)
	if freq < 0 {
		a = -a
	}
	if pos < 0 {
		p = -p
	}
	th, tl := bits.Mul64(a, p)
	a1, _ := bits.Mul64(tl, ropeInv2Pi)
	_, b0 := bits.Mul64(th, ropeInv2Pi)
	u := a1 + b0 // bits [64, 128) of t * ropeInv2Pi (Q128 turns) = Q64 turns
	q := u >> 62
	v := u & (1<<62 - 1)
	j := v >> 54
	r := v & (1<<54 - 1)
	dh, dl := bits.Mul64(r, ropeTwoPi) // Q64 * Q61 = Q125
	d := dh<<1 | dl>>63                // Q62
	d2 := mq62(d, d)
	cd := 1<<62 - mq62(d2, ropeC2-mq62(d2, ropeC4-mq62(d2, ropeC6)))
	sd := mq62(d, 1<<62-mq62(d2, ropeS3-mq62(d2, ropeS5-mq62(d2, ropeS7))))
	sa, ca := ropeSin[j], ropeSin[256-j]
	s := int64(mq62(sa, cd) + mq62(ca, sd))
	c := int64(mq62(ca, cd)) - int64(mq62(sa, sd))
	S, C := int32(Rshr(s, 32)), int32(Rshr(c, 32))
	switch q {
	case 0:
		cos, sin = C, S
	case 1:
		cos, sin = -S, C
	case 2:
		cos, sin = -C, -S
	default:
		cos, sin = S, -C
	}
	if neg {
		sin = -sin
	}
	return cos, sin
}

// mq62 returns floor(a*b / 2^62) for a, b <= 2^62 (so the result is <= 2^62).
func mq62(a, b uint64) uint64 {
	h, l := bits.Mul64(a, b)
	return h<<2 | l>>62
}

// RopeTable returns the cos and sin tables of RopeFreqs(base, dims) for
// positions [0, maxPos): cos[pos*dims/2 + i], sin[pos*dims/2 + i] =
// RopeCosSin(theta_i, pos). Errors: those of RopeFreqs, and ErrRopeSize when
// maxPos is not in [1, RopeMaxPos] or maxPos*dims/2 > RopeMaxTable.
func RopeTable(base int64, dims, maxPos int) (cos, sin []int32, err error) {
	freqs, err := RopeFreqs(base, dims)
	if err != nil {
		return nil, nil, err
	}
	if maxPos < 1 || maxPos > RopeMaxPos || maxPos > RopeMaxTable/(dims/2) {
		return nil, nil, ErrRopeSize
	}
	h := dims / 2
	cos = make([]int32, maxPos*h)
	sin = make([]int32, maxPos*h)
	for pos := range maxPos {
		row := pos * h
		for i, f := range freqs {
			cos[row+i], sin[row+i] = RopeCosSin(f, pos)
		}
	}
	return cos, sin, nil
}
