package fixed

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// Errors returned by this package. Every error returned wraps exactly one of
// these, so callers can test with errors.Is.
var (
	// ErrNaN: a float conversion was given a NaN.
	ErrNaN = errors.New("fixed: NaN")
	// ErrInf: a float conversion was given an infinity.
	ErrInf = errors.New("fixed: infinity")
	// ErrRange: a converted value does not fit in an int64.
	ErrRange = errors.New("fixed: value out of int64 range")
	// ErrRopeBase: a RoPE base is not above 1.0.
	ErrRopeBase = errors.New("fixed: rope base must be greater than 1")
	// ErrRopeDims: a RoPE dimension count is not even or out of range.
	ErrRopeDims = errors.New("fixed: rope dims must be even and in [2, 65536]")
	// ErrRopeSize: a RoPE table would be too large or maxPos is out of range.
	ErrRopeSize = errors.New("fixed: rope table size out of range")
)

// Rshr returns v / 2^n rounded half away from zero:
// sign(v) * floor((|v| + 2^(n-1)) / 2^n), computed on |v| as a uint64 so that
// it cannot overflow for any v (including math.MinInt64). Rshr(v, 0) = v; for
// n >= 64 the result is 0, except Rshr(math.MinInt64, 64) = -1 (exactly -1/2,
// rounded away from zero).
func Rshr(v int64, n uint) int64 {
	if n == 0 {
		return v
	}
	neg := v < 0
	a := uint64(v)
	if neg {
		a = -a // |v| as uint64; 2^63 for MinInt64
	}
	var r uint64
	switch {
	case n < 64:
		r = (a + 1<<(n-1)) >> n // a <= 2^63 and 2^(n-1) <= 2^62: no overflow
	case n == 64:
		r = a >> 63 // 1 iff a == 2^63
	default:
		r = 0
	}
	if neg {
		return -int64(r)
	}
	return int64(r)
}

// Rdiv returns a / b rounded half away from zero, for b != 0 (b == 0 panics
// with Go's integer division by zero; the package never calls it so). With
// q = floor(|a| / |b|) and r = |a| mod |b| computed on uint64 magnitudes,
// the magnitude is q+1 if r >= |b| - r and q otherwise, and the sign is that
// of a/b. The only result that does not fit is Rdiv(math.MinInt64, -1), which
// wraps to math.MinInt64.
func Rdiv(a, b int64) int64 {
	neg := (a < 0) != (b < 0)
	ua, ub := uint64(a), uint64(b)
	if a < 0 {
		ua = -ua
	}
	if b < 0 {
		ub = -ub
	}
	q, r := ua/ub, ua%ub
	if r >= ub-r {
		q++
	}
	if neg {
		return -int64(q)
	}
	return int64(q)
}

// Sat32 clamps v to [math.MinInt32, math.MaxInt32].
func Sat32(v int64) int32 {
	if v > math.MaxInt32 {
		return math.MaxInt32
	}
	if v < math.MinInt32 {
		return math.MinInt32
	}
	return int32(v)
}

// FromFloat32 returns f * 2^frac rounded half away from zero, computed
// exactly from the bits of f (math.Float32bits): f = (-1)^s * m * 2^e with m
// and e from the IEEE 754 fields (normal: m = mantissa | 2^23, e = exp - 150;
// subnormal: m = mantissa, e = -149), and the result is
// (-1)^s * Rshr-style rounding of m * 2^(e+frac). ±0 gives 0. NaN gives
// ErrNaN, ±Inf gives ErrInf, and a result outside [math.MinInt64,
// math.MaxInt64] gives ErrRange (all wrapped with the value).
func FromFloat32(f float32, frac uint) (int64, error) {
	b := math.Float32bits(f)
	neg := b>>31 != 0
	ex := int((b >> 23) & 0xff)
	mant := uint64(b & (1<<23 - 1))
	switch {
	case ex == 0xff && mant != 0:
		return 0, fmt.Errorf("%w (float32 %v)", ErrNaN, f)
	case ex == 0xff:
		return 0, fmt.Errorf("%w (float32 %v)", ErrInf, f)
	case ex == 0:
		ex = -149
	default:
		mant |= 1 << 23
		ex -= 150
	}
	v, ok := scaleExact(neg, mant, ex, frac)
	if !ok {
		return 0, fmt.Errorf("%w: float32 %v * 2^%d", ErrRange, f, frac)
	}
	return v, nil
}

// FromFloat64 is FromFloat32 for a float64 (math.Float64bits; normal:
// m = mantissa | 2^52, e = exp - 1075; subnormal: m = mantissa, e = -1074).
func FromFloat64(f float64, frac uint) (int64, error) {
	b := math.Float64bits(f)
	neg := b>>63 != 0
	ex := int((b >> 52) & 0x7ff)
	mant := b & (1<<52 - 1)
	switch {
	case ex == 0x7ff && mant != 0:
		return 0, fmt.Errorf("%w (float64 %v)", ErrNaN, f)
	case ex == 0x7ff:
		return 0, fmt.Errorf("%w (float64 %v)", ErrInf, f)
	case ex == 0:
		ex = -1074
	default:
		mant |= 1 << 52
		ex -= 1075
	}
	v, ok := scaleExact(neg, mant, ex, frac)
	if !ok {
		return 0, fmt.Errorf("%w: float64 %v * 2^%d", ErrRange, f, frac)
	}
	return v, nil
}

// scaleExact returns (-1)^neg * m * 2^(e+frac) rounded half away from zero,
// for m < 2^53 and e in [-1074, 971]; ok is false if it does not fit an int64.
func scaleExact(neg bool, m uint64, e int, frac uint) (int64, bool) {
	if m == 0 {
		return 0, true
	}
	if frac > 1<<12 {
		// m*2^e >= 2^-1074, so the result is at least 2^(4096-1074).
		return 0, false
	}
	s := e + int(frac)
	var a uint64
	switch {
	case s >= 0:
		if bits.Len64(m)+s > 64 {
			return 0, false
		}
		a = m << uint(s)
	case s > -64:
		a = (m + 1<<uint(-s-1)) >> uint(-s) // m < 2^53: no overflow
	default:
		a = 0 // m / 2^64 < 1/2
	}
	if neg {
		if a > 1<<63 {
			return 0, false
		}
		return -int64(a), true
	}
	if a > math.MaxInt64 {
		return 0, false
	}
	return int64(a), true
}

// ToFloat64 returns v / 2^frac as a float64 (rounded to nearest by the
// conversion when |v| > 2^53). For display only: nothing in the forward pass
// may depend on it.
func ToFloat64(v int64, frac uint) float64 {
	return math.Ldexp(float64(v), -int(frac))
}
