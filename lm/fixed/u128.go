package fixed

import "github.com/tessera-net/tessera/internal/safemath"

// This file holds the internal 128-bit unsigned fixed-point arithmetic used
// only to build tables at package initialisation and by RopeFreqs, on the
// shared safemath.U128. All of it is integer code; every operation truncates
// (rounds toward zero) unless a comment says otherwise.
//
// The working format is "Q120": a safemath.U128 value v stands for v / 2^120,
// so it can hold values in [0, 256) with a resolution of 2^-120 (about
// 7.5e-37).

// q120Frac is the number of fractional bits of the Q120 format.
const q120Frac = 120

// q120One is 1.0 in Q120.
var q120One = safemath.U128{Hi: 1 << (q120Frac - 64)}

// Correctly rounded constants in Q120 (checked against math/big in
// tables_test.go):
//
//	ln 2     = 0x00b17217f7d1cf79_abc9e3b39803f2f7 / 2^120
//	pi       = 0x03243f6a8885a308_d313198a2e037073 / 2^120
//	log2(e)  = 0x0171547652b82fe1_777d0ffda0d23a7d / 2^120
var (
	q120Ln2   = safemath.U128{Hi: 0x00b17217f7d1cf79, Lo: 0xabc9e3b39803f2f7}
	q120Pi    = safemath.U128{Hi: 0x03243f6a8885a308, Lo: 0xd313198a2e037073}
	q120Log2E = safemath.U128{Hi: 0x0171547652b82fe1, Lo: 0x777d0ffda0d23a7d}
)

// q120Mul returns floor(a*b / 2^120), i.e. the Q120 product of two Q120
// values: bits [120, 248) of the 256-bit product. The caller guarantees the
// result is below 2^128 (a value below 256).
func q120Mul(a, b safemath.U128) safemath.U128 {
	hi, lo := a.MulFull(b)
	return safemath.U128{Hi: hi.Hi<<8 | hi.Lo>>56, Lo: hi.Lo<<8 | lo.Hi>>56}
}

// roundShr returns floor((a + 2^(n-1)) / 2^n) as a uint64, i.e. a/2^n rounded
// half up, for n in [1, 127]; the caller guarantees the result fits in 64 bits.
func roundShr(a safemath.U128, n uint) uint64 {
	h := safemath.U128{Lo: 1}.Shl(n - 1)
	return a.Add(h).Shr(n).Lo
}

// q120ExpNeg returns e^(-w) in Q120 for w in Q120 with 0 <= w <= 1, by the
// Taylor series: term_0 = 1, term_k = floor(term_(k-1) * w / 2^120) / k
// (each step truncated), summed until a term is zero; even terms are added,
// odd terms subtracted. The error is below 2^-112.
func q120ExpNeg(w safemath.U128) safemath.U128 {
	pos, neg := q120One, safemath.U128{}
	term := q120One
	for k := uint64(1); ; k++ {
		term = q120Mul(term, w).Div64(k)
		if term.IsZero() {
			break
		}
		if k&1 == 1 {
			neg = neg.Add(term)
		} else {
			pos = pos.Add(term)
		}
	}
	return pos.Sub(neg)
}

// q120LnRatio returns ln(a/b) in Q120 for 0 < b <= a < 2b, a+b < 2^64, using
// ln(a/b) = 2*atanh(s), s = (a-b)/(a+b) in [0, 1/3):
// s = floor((a-b)*2^120 / (a+b)); p_0 = s, p_k = floor(p_(k-1)*s^2/2^120)
// with s^2 = floor(s*s/2^120); result = 2 * sum_k floor(p_k/(2k+1)), summed
// until p_k is zero. The error is below 2^-112.
func q120LnRatio(a, b uint64) safemath.U128 {
	n := a - b
	s := safemath.U128{Hi: n}.MulDiv64(1<<56, a+b) // (a-b)·2^120 / (a+b)
	s2 := q120Mul(s, s)
	sum := safemath.U128{}
	p := s
	for k := uint64(0); !p.IsZero(); k++ {
		sum = sum.Add(p.Div64(2*k + 1))
		p = q120Mul(p, s2)
	}
	return sum.Add(sum)
}

// q120Sin returns sin(x) in Q120 for x in Q120 with 0 <= x <= 2, by the Taylor
// series term_0 = x, term_k = floor(floor(term_(k-1)*x^2/2^120) /
// ((2k)(2k+1))) with x^2 = floor(x*x/2^120), summed until a term is zero with
// alternating signs. The error is below 2^-112.
func q120Sin(x safemath.U128) safemath.U128 {
	x2 := q120Mul(x, x)
	pos, neg := x, safemath.U128{}
	term := x
	for k := uint64(1); ; k++ {
		term = q120Mul(term, x2).Div64((2 * k) * (2*k + 1))
		if term.IsZero() {
			break
		}
		if k&1 == 1 {
			neg = neg.Add(term)
		} else {
			pos = pos.Add(term)
		}
	}
	return pos.Sub(neg)
}
