// Package safemath is the integer arithmetic the state machine shares: products and
// quotients of token amounts that must neither overflow nor depend on the platform.
package safemath

import (
	"math"
	"math/bits"
)

// MulDiv is floor(a × b / c) computed in 128 bits, saturating at math.MaxUint64 when the
// quotient does not fit (and when c is 0). Amounts × 65535ths and burns × ratios use it.
func MulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if c == 0 || hi >= c {
		return math.MaxUint64
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}
