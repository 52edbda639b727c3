package dtao

import (
	"math"
	"math/bits"

	"github.com/tessera-net/tessera/internal/safemath"
)

// mulDiv is floor(a·b/c), saturating (safemath.MulDiv).
func mulDiv(a, b, c uint64) uint64 { return safemath.MulDiv(a, b, c) }

// mulDivRem is floor(a·b/c) and its remainder for a·b/c < 2^64 (c > 0).
func mulDivRem(a, b, c uint64) (uint64, uint64) {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return math.MaxUint64, 0
	}
	return bits.Div64(hi, lo, c)
}

func satMulU(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}
