package fixed

import "math/bits"

// Constants of Exp (all correctly rounded, checked in tables_test.go).
const (
	// expLog2E is round(log2(e) * 2^63).
	expLog2E = 13306513097844322492
	// expMinX: for x < expMinX (-32.0 in Q16) Exp returns 0 without
	// computing; e^-32 * 2^30 < 2^-15, which the general path also rounds
	// to 0.
	expMinX = -32 << 16
)

// expPoly holds c_n = round(ln(2)^n / n! * 2^63), n = 0..5, the Q63
// coefficients of 2^-r = sum_n (-1)^n c_n r^n.
var expPoly = [6]uint64{
	9223372036854775808, // 2^63
	6393154322601327830,
	2215698446797868712,
	511935043789664227,
	88711583058159475,
	12298036735954530,
}

// expTable[j] = round(2^(-j/256) * 2^62) for j in [0, 256), built at init by
// expTableInit.
var expTable [256]uint64

func init() {
	expTableInit(&expTable)
}

// expTableInit computes expTable in integers: w = floor(ln2_Q120 * j / 256),
// v = q120ExpNeg(w) (e^-w in Q120), entry = round(v / 2^58).
func expTableInit(t *[256]uint64) {
	for j := range t {
		w := q120Ln2.MulDiv64(uint64(j), 256)
		t[j] = roundShr(q120ExpNeg(w), q120Frac-62)
	}
}

// Exp returns e^(x/2^16) in Q30 (a value in [0, 2^30]) for x in Q16.
// x > 0 is treated as 0 (the result is then 2^30). See the package
// documentation for the exact algorithm; the result is round(e^x * 2^30)
// (half away from zero) up to an internal error below 1e-8 units of Q30, so
// it is the correctly rounded value except possibly when e^x * 2^30 lies
// within 1e-8 of a half-integer. Exp(x) = 0 for x <= -1408209 (about
// -21.4878, where e^x * 2^30 < 1/2), and Exp is non-decreasing in x.
func Exp(x int32) uint32 {
	if x >= 0 {
		return 1 << 30
	}
	if x < expMinX {
		return 0
	}
	// t = -x * log2(e) in Q79 (a <= 2^21 so P < 2^85).
	a := uint64(-int64(x))
	hi, lo := bits.Mul64(a, expLog2E)
	k := hi >> 15        // integer part of t, <= 46
	f := hi<<49 | lo>>15 // fractional part of t in Q64 (truncated)
	j := f >> 56         // table index: top 8 bits of f
	r := f & (1<<56 - 1) // remainder in Q64, < 2^-8
	p := expPoly[5]      // Horner for 2^-r in Q63, all steps truncated
	p = expPoly[4] - mulHi(r, p)
	p = expPoly[3] - mulHi(r, p)
	p = expPoly[2] - mulHi(r, p)
	p = expPoly[1] - mulHi(r, p)
	p = expPoly[0] - mulHi(r, p)
	h, l := bits.Mul64(expTable[j], p) // Q62 * Q63 = Q125
	e := h<<1 | l>>63                  // 2^-f in Q62, truncated, <= 2^62
	s := 32 + k                        // Q62 -> Q30 and 2^-k
	if s >= 64 {
		return 0 // e / 2^64 < 1/2
	}
	return uint32((e + 1<<(s-1)) >> s)
}

// mulHi returns floor(a*b / 2^64).
func mulHi(a, b uint64) uint64 {
	h, _ := bits.Mul64(a, b)
	return h
}

// Sigmoid returns σ(x) = 1/(1+e^-x) in Q30 for x in Q16, from e = Exp(-|x|):
// for x >= 0 it is Rdiv(2^60, 2^30 + e), for x < 0 it is
// Rdiv(e * 2^30, 2^30 + e). The result is in [0, 2^30] (2^30 for
// x >= 1408209, 0 for x <= -1408209, where Exp(-|x|) = 0) and Sigmoid(-x) = 2^30 - Sigmoid(x) exactly
// for every x > math.MinInt32 (no rounding ties can occur). The error is
// below 1 unit of Q30.
func Sigmoid(x int32) uint32 {
	if x >= 0 {
		e := uint64(Exp(-x))
		return uint32(rdivU(1<<60, 1<<30+e))
	}
	e := uint64(Exp(x))
	return uint32(rdivU(e<<30, 1<<30+e))
}

// SiLU returns x * σ(x) in Q16 for x in Q16, with one rounding: from
// e = Exp(-|x|), for x >= 0 it is Rdiv(x * 2^30, 2^30 + e) and for x < 0 it
// is Rdiv(x * e, 2^30 + e) (|x| * 2^30 <= 2^61: no overflow; the magnitude
// never exceeds |x|, so it fits an int32). It saturates naturally: SiLU(x) = x
// for x >= 1408209 and 0 for x <= -1408209.
func SiLU(x int32) int32 {
	if x >= 0 {
		e := uint64(Exp(-x))
		return int32(rdivU(uint64(x)<<30, 1<<30+e))
	}
	e := uint64(Exp(x))
	return -int32(rdivU(uint64(-int64(x))*e, 1<<30+e))
}

// rdivU returns a/b rounded half up for b > 0.
func rdivU(a, b uint64) uint64 {
	q, r := a/b, a%b
	if r >= b-r {
		q++
	}
	return q
}
