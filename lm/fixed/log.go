package fixed

import (
	"math"
	"math/bits"

	"github.com/tessera-net/tessera/internal/safemath"
)

// Constants of Log (correctly rounded, checked in tables_test.go).
const (
	// logLn2 is round(ln(2) * 2^63).
	logLn2 = 6393154322601327830
	// LogMaxFrac is the largest frac Log accepts as given; a larger frac is
	// treated as LogMaxFrac.
	LogMaxFrac = 1 << 20
)

// logPoly holds round(2^63 / n), n = 1..5, the Q63 coefficients of
// ln(1+z) = z - z^2/2 + z^3/3 - z^4/4 + z^5/5.
var logPoly = [5]uint64{
	1 << 63,
	1 << 62,
	3074457345618258603,
	1 << 61,
	1844674407370955162,
}

// logRecip[j] = ceil(2^70 / (256 + j)), a Q62 value >= 1/(1 + j/256), and
// logTable[j] = round(ln(2^62 / logRecip[j]) * 2^63) = round(-ln(logRecip[j]
// / 2^62) * 2^63), for j in [0, 256). Built at init by logTableInit.
var (
	logRecip [256]uint64
	logTable [256]uint64
)

func init() {
	logTableInit(&logRecip, &logTable)
}

// logTableInit computes the Log tables in integers: R = ceil(2^70/(256+j)),
// v = q120LnRatio(2^62, R) (ln(2^62/R) in Q120), entry = round(v / 2^57).
func logTableInit(r, t *[256]uint64) {
	for j := range r {
		d := uint64(256 + j)
		q, rem := bits.Div64(1<<6, 0, d) // 2^70 / d
		if rem != 0 {
			q++
		}
		r[j] = q
		t[j] = roundShr(q120LnRatio(1<<62, q), q120Frac-63)
	}
}

// Log returns ln(x / 2^frac) in Q16, for x > 0, rounded half away from
// zero; Log(0, frac) = math.MinInt64 (standing for -inf). frac above
// LogMaxFrac is treated as LogMaxFrac. See the package documentation for the
// exact algorithm; the result is the correctly rounded value up to an
// internal error below 1e-9 units of Q16 (plus frac * 2^-48 units from the
// rounding of ln 2), and Log is non-decreasing in x.
func Log(x uint64, frac uint) int64 {
	if x == 0 {
		return math.MinInt64
	}
	if frac > LogMaxFrac {
		frac = LogMaxFrac
	}
	n := uint(bits.Len64(x) - 1)
	mm := x << (63 - n)    // mantissa m = x / 2^n in [1, 2), Q63
	j := (mm >> 55) & 0xff // floor((m - 1) * 256)
	// z = m * R_j - 1 in [0, 2^-8 + 2^-61]: R_j = ceil(2^70/(256+j)) makes
	// m * R_j >= 1; Q125 product, minus 2^125, truncated to Q64.
	ph, pl := bits.Mul64(mm, logRecip[j])
	ph -= 1 << 61
	z := ph<<3 | pl>>61
	p := logPoly[4] // Horner in Q63, every step truncated
	p = logPoly[3] - mulHi(z, p)
	p = logPoly[2] - mulHi(z, p)
	p = logPoly[1] - mulHi(z, p)
	p = logPoly[0] - mulHi(z, p)
	lm := logTable[j] + mulHi(z, p) // ln(m) in Q63, < 2^63
	// ln(x/2^frac) = (n - frac) ln2 + ln m, in Q63 as 128-bit, then Q16.
	if n >= frac {
		h, l := bits.Mul64(uint64(n-frac), logLn2)
		l, c := bits.Add64(l, lm, 0)
		h += c
		return int64(roundShr(safemath.U128{Hi: h, Lo: l}, 47))
	}
	h, l := bits.Mul64(uint64(frac-n), logLn2)
	l, b := bits.Sub64(l, lm, 0) // (frac-n) ln2 > ln m: positive
	h -= b
	return -int64(roundShr(safemath.U128{Hi: h, Lo: l}, 47))
}
