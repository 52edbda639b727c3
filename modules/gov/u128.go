package gov

import "math/bits"

// uint128 is the exact arithmetic of the tally: sums of stakes times 65535ths.
type uint128 struct{ hi, lo uint64 }

func (a uint128) add(v uint64) uint128 {
	lo, c := bits.Add64(a.lo, v, 0)
	return uint128{a.hi + c, lo}
}

// mul multiplies by a small factor (≤ 65535, so the high word cannot overflow for sums of
// at most three uint64 values).
func (a uint128) mul(v uint64) uint128 {
	hi, lo := bits.Mul64(a.lo, v)
	return uint128{a.hi*v + hi, lo}
}

func (a uint128) zero() bool { return a.hi == 0 && a.lo == 0 }

func (a uint128) less(b uint128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

func (a uint128) greater(b uint128) bool { return b.less(a) }
