package yuma

import (
	"math"
	"math/bits"
)

// Fixed is a signed fixed-point number with 32 integer and 32 fractional bits, the I32F32
// type of substrate-fixed that subtensor uses for every quantity inside the epoch. The value
// is Fixed/2^32. Arithmetic follows substrate-fixed v0.6.0 exactly: products are floored
// (arithmetic shift of the exact 128-bit product), quotients are truncated toward zero, and
// the saturating/checked variants behave as their Rust namesakes.
type Fixed int64

// Fixed-point constants.
const (
	fracBits = 32
	// One is 1.0 in I32F32.
	One Fixed = 1 << fracBits
	// MaxFixed and MinFixed are the largest and smallest I32F32 values.
	MaxFixed Fixed = math.MaxInt64
	MinFixed Fixed = math.MinInt64
	half     Fixed = One / 2
)

// FixedFromInt converts an integer to I32F32, saturating.
func FixedFromInt(v int64) Fixed {
	if v > math.MaxInt32 {
		return MaxFixed
	}
	if v < math.MinInt32 {
		return MinFixed
	}
	return Fixed(v << fracBits)
}

// FixedFromU16 converts a u16 to I32F32 exactly (subtensor's u16_to_fixed).
func FixedFromU16(v uint16) Fixed { return Fixed(int64(v) << fracBits) }

// U16Proportion converts a stored u16 proportion to I32F32 as subtensor's
// u16_proportion_to_fixed does: v/65535, truncated. The round trip through
// ToU16Proportion is not the identity (36044 becomes 36043).
//
// Since 2^32 = 65535·65537 + 1, floor(v·2^32/65535) = 65537·v + floor(v/65535): one
// multiplication instead of a division (bonds are converted a million times an epoch).
// floor(v/65535) is 1 for v = 65535 and 0 below, that is (v+1)>>16: no branch.
func U16Proportion(v uint16) Fixed {
	return Fixed(uint64(v)*65537 + (uint64(v)+1)>>16)
}

// ToU16Proportion is subtensor's fixed_proportion_to_u16: floor(x*65535), saturated to the
// u16 range. (x·(65535·2^32))>>32 is exactly x·65535, so the I32F32 product reduces to an
// integer multiplication.
func (x Fixed) ToU16Proportion() uint16 {
	switch {
	case x <= 0:
		return 0
	case x >= One:
		return math.MaxUint16
	}
	return uint16(uint64(x) * math.MaxUint16 >> fracBits)
}

// ToU16 drops the fraction (floor) and saturates to [0, 65535].
func (x Fixed) ToU16() uint16 {
	v := int64(x) >> fracBits
	switch {
	case v < 0:
		return 0
	case v > math.MaxUint16:
		return math.MaxUint16
	}
	return uint16(v)
}

// Float64 returns an approximation of x for display and tests; nothing that yields state
// uses it.
func (x Fixed) Float64() float64 { return float64(x) / float64(One) }

// SatAdd is saturating addition. (Overflow happened iff the sum's sign differs from both
// operands' signs; a single branch keeps the hot sums cheap.)
func (x Fixed) SatAdd(y Fixed) Fixed {
	s := x + y
	if (x^s)&(y^s) < 0 {
		if x < 0 {
			return MinFixed
		}
		return MaxFixed
	}
	return s
}

// SatSub is saturating subtraction (overflow iff the operands' signs differ and the
// result's sign differs from x's).
func (x Fixed) SatSub(y Fixed) Fixed {
	d := x - y
	if (x^y)&(x^d) < 0 {
		if x < 0 {
			return MinFixed
		}
		return MaxFixed
	}
	return d
}

// mulWide returns floor(x*y / 2^32) and whether it fits in an int64.
func mulWide(x, y Fixed) (Fixed, bool) {
	// Hot path: both operands in [0, 1) give a product below 2^64 and need no 128-bit
	// arithmetic. Almost every multiplication in the epoch is of two proportions.
	if uint64(x) < 1<<32 && uint64(y) < 1<<32 {
		return Fixed(uint64(x) * uint64(y) >> fracBits), true
	}
	neg := (x < 0) != (y < 0)
	ax, ay := absU(x), absU(y)
	hi, lo := bits.Mul64(ax, ay)
	// Magnitude shifted right by 32; for negative products floor means rounding the
	// magnitude up when bits are dropped.
	q := hi<<32 | lo>>fracBits
	qhi := hi >> fracBits
	if neg && lo&(1<<fracBits-1) != 0 {
		q++
		if q == 0 {
			qhi++
		}
	}
	if qhi != 0 {
		return 0, false
	}
	if neg {
		if q > 1<<63 {
			return 0, false
		}
		return Fixed(-int64(q)), true // q == 1<<63 wraps to MinInt64, which is exact
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	return Fixed(q), true
}

func absU(x Fixed) uint64 {
	if x < 0 {
		return uint64(-x) // MinInt64 maps to 1<<63, which is correct as an unsigned magnitude
	}
	return uint64(x)
}

// SatMul is saturating multiplication (floor of the exact product). The test for two
// proportions in [0, 1) is kept small enough to be inlined at the million call sites of an
// epoch; other operands take the 128-bit path.
func (x Fixed) SatMul(y Fixed) Fixed {
	if uint64(x)|uint64(y) < 1<<32 {
		return Fixed(uint64(x) * uint64(y) >> fracBits)
	}
	return satMulSlow(x, y)
}

func satMulSlow(x, y Fixed) Fixed {
	p, ok := mulWide(x, y)
	if !ok {
		if (x < 0) != (y < 0) {
			return MinFixed
		}
		return MaxFixed
	}
	return p
}

// CheckedMul is multiplication that reports overflow.
func (x Fixed) CheckedMul(y Fixed) (Fixed, bool) { return mulWide(x, y) }

// divWide returns trunc(x*2^32 / y) and whether it is defined and fits in an int64.
func divWide(x, y Fixed) (Fixed, bool) {
	if y == 0 {
		return 0, false
	}
	// Hot path: a non-negative dividend below 2^32 (a proportion below 1) shifted by 32
	// fits in a uint64, so one 64-bit division gives the exact truncated quotient
	// (normalisations divide values in [0, 1] by positive sums).
	if x >= 0 && x < 1<<32 && y > 0 {
		q := (uint64(x) << fracBits) / uint64(y) // x<<32 < 2^64: one 64-bit division
		if q > math.MaxInt64 {
			return 0, false
		}
		return Fixed(q), true
	}
	neg := (x < 0) != (y < 0)
	ax, ay := absU(x), absU(y)
	hi, lo := ax>>fracBits, ax<<fracBits
	if hi >= ay {
		return 0, false
	}
	q, _ := bits.Div64(hi, lo, ay)
	if neg {
		if q > 1<<63 {
			return 0, false
		}
		return Fixed(-int64(q)), true
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	return Fixed(q), true
}

// SafeDiv is subtensor's safe_div: the truncated quotient, or 0 when y is 0 or the quotient
// overflows. A proportion in [0, 1) divided by a positive value is done inline with one
// 64-bit division.
func (x Fixed) SafeDiv(y Fixed) Fixed {
	// x < 2^32 and x < y·2^31 make x·2^32/y < 2^63: no overflow is possible.
	if uint64(x) < 1<<32 && y > 0 && uint64(x)>>31 < uint64(y) {
		return Fixed(uint64(x) << fracBits / uint64(y))
	}
	return safeDivSlow(x, y)
}

func safeDivSlow(x, y Fixed) Fixed {
	q, _ := divWide(x, y)
	return q
}

// CheckedDiv is division that reports a zero divisor or overflow.
func (x Fixed) CheckedDiv(y Fixed) (Fixed, bool) { return divWide(x, y) }

// SatDiv is saturating division. Division by zero, which panics in Rust, yields 0.
func (x Fixed) SatDiv(y Fixed) Fixed {
	q, ok := divWide(x, y)
	if !ok && y != 0 {
		if (x < 0) != (y < 0) {
			return MinFixed
		}
		return MaxFixed
	}
	return q
}

func minF(a, b Fixed) Fixed {
	if a < b {
		return a
	}
	return b
}

func maxF(a, b Fixed) Fixed {
	if a > b {
		return a
	}
	return b
}

// clamp is subtensor's clamp_value: min with high first, then max with low.
func clamp(v, low, high Fixed) Fixed { return maxF(minF(v, high), low) }

// expE is substrate-fixed's constant e as I9F23 (22802601/2^23) widened to I32F32.
const expE Fixed = 22802601 << 9

// Exp is substrate-fixed's transcendental::exp for I32F32: the Taylor series
// 1 + x + Σ_{i=2}^{31} x^i/i! with each term computed from the previous one by a floored
// multiplication and a truncated division, 1/exp(-x) for negative x, and the I9F23 constant
// for x == 1. It reports false where the Rust function returns an error (overflow).
func Exp(x Fixed) (Fixed, bool) {
	if x == 0 {
		return One, true
	}
	if x == One {
		return expE, true
	}
	neg := x < 0
	if neg {
		if x == MinFixed {
			return 0, false
		}
		x = -x
	}
	result, ok := x+One, x <= MaxFixed-One
	if !ok {
		return 0, false
	}
	term := x
	for i := int64(2); i < fracBits; i++ {
		if term, ok = term.CheckedMul(x); !ok {
			return 0, false
		}
		// checked_div by from_num(i): (term·2^32)/(i·2^32) truncated is term/i truncated,
		// which Go's integer division computes exactly and which cannot overflow.
		term /= Fixed(i)
		if term == 0 {
			break // every later term is 0·x/i = 0: the rest of the series adds nothing
		}
		if result > MaxFixed-term {
			return 0, false
		}
		result += term
	}
	if neg {
		return One.CheckedDiv(result)
	}
	return result, true
}

// ExpSafe is subtensor's exp_safe: the input clamped to [-20, 20], 0 or the maximum on error.
func ExpSafe(x Fixed) Fixed {
	lo, hi := FixedFromInt(-20), FixedFromInt(20)
	if x < lo {
		x = lo
	} else if hi < x {
		x = hi
	}
	v, ok := Exp(x)
	if !ok {
		if x <= 0 {
			return 0
		}
		return MaxFixed
	}
	return v
}

// SigmoidSafe is subtensor's sigmoid_safe: 1/(1+exp(-rho*(x-kappa))).
func SigmoidSafe(x, rho, kappa Fixed) Fixed {
	offset := x.SatSub(kappa)
	negRho := rho.SatMul(FixedFromInt(-1))
	e := ExpSafe(negRho.SatMul(offset))
	return One.SafeDiv(e.SatAdd(One))
}
