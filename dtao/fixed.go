package dtao

import (
	"math"
	"math/big"
	"math/bits"

	"github.com/tessera-net/tessera/internal/safemath"
)

// The fixed-point types of subtensor that dTAO uses are carried as their raw bits in a
// safemath.U128: U64F64 (64 fractional bits) and U96F32 (32 fractional bits).
// Only non-negative values occur (I96F32 values such as the moving price are stored as
// non-negative U96F32 bits). Products floor, quotients truncate, and every operation
// saturates at the type's maximum, as substrate-fixed's saturating_* and safe_div do
// (safe_div gives 0 on a zero divisor).

// U64F64 is the raw bits of a U64F64 value (value = bits / 2^64).
type U64F64 safemath.U128

// U96F32 is the raw bits of a U96F32 value (value = bits / 2^32).
type U96F32 safemath.U128

var (
	maxU128    = safemath.U128{Hi: math.MaxUint64, Lo: math.MaxUint64}
	bigMaxU128 = new(big.Int).SetBytes([]byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	bigMaxU64 = new(big.Int).SetUint64(math.MaxUint64)
)

// u128FromBig saturates a non-negative big integer to 128 bits.
func u128FromBig(z *big.Int) safemath.U128 {
	if z.Sign() <= 0 {
		return safemath.U128{}
	}
	if z.Cmp(bigMaxU128) > 0 {
		return maxU128
	}
	w := z.Bits()
	var lo, hi uint64
	if bits.UintSize == 64 {
		if len(w) > 0 {
			lo = uint64(w[0])
		}
		if len(w) > 1 {
			hi = uint64(w[1])
		}
		return safemath.U128{Hi: hi, Lo: lo}
	}
	lo = new(big.Int).And(z, bigMaxU64).Uint64()
	hi = new(big.Int).Rsh(z, 64).Uint64()
	return safemath.U128{Hi: hi, Lo: lo}
}

// Cmp compares two U64F64 values.
func (v U64F64) Cmp(w U64F64) int { return safemath.U128(v).Cmp(safemath.U128(w)) }

// Cmp compares two U96F32 values.
func (v U96F32) Cmp(w U96F32) int { return U64F64(v).Cmp(U64F64(w)) }

// IsZero reports whether v is 0.
func (v U64F64) IsZero() bool { return safemath.U128(v).IsZero() }

// IsZero reports whether v is 0.
func (v U96F32) IsZero() bool { return safemath.U128(v).IsZero() }

// U64F64FromInt is U64F64::saturating_from_num(u64).
func U64F64FromInt(n uint64) U64F64 { return U64F64{n, 0} }

// U96F32FromInt is U96F32::saturating_from_num(u64).
func U96F32FromInt(n uint64) U96F32 { return U96F32{n >> 32, n << 32} }

// Floor is saturating_to_num::<u64>() of a U64F64: its integer part.
func (v U64F64) Floor() uint64 { return v.Hi }

// Floor is saturating_to_num::<u64>() of a U96F32: its integer part, saturated to u64.
func (v U96F32) Floor() uint64 {
	if v.Hi>>32 != 0 {
		return math.MaxUint64
	}
	return v.Hi<<32 | v.Lo>>32
}

// ToU96F32 converts a U64F64 to U96F32, dropping 32 fractional bits (from_fixed truncates).
func (v U64F64) ToU96F32() U96F32 { return U96F32{v.Hi >> 32, v.Hi<<32 | v.Lo>>32} }

// ToU64F64 converts a U96F32 to U64F64, saturating.
func (v U96F32) ToU64F64() U64F64 {
	if v.Hi>>32 != 0 {
		return U64F64(maxU128)
	}
	return U64F64{v.Hi<<32 | v.Lo>>32, v.Lo << 32}
}

// fixMul is the saturating product of two raw values with frac (< 128) fractional bits,
// floored: the 256-bit product shifted right by frac.
func fixMul(a, b safemath.U128, frac uint) safemath.U128 {
	// p = a·b as four words, little-endian
	hi, lo := a.MulFull(b)
	w := [4]uint64{lo.Lo, lo.Hi, hi.Lo, hi.Hi}
	// shift right by frac
	q, r := frac/64, frac%64
	var out [4]uint64
	for i := 0; i+int(q) < 4; i++ {
		v := w[i+int(q)] >> r
		if r != 0 && i+int(q)+1 < 4 {
			v |= w[i+int(q)+1] << (64 - r)
		}
		out[i] = v
	}
	if out[2]|out[3] != 0 {
		return maxU128
	}
	return safemath.U128{Hi: out[1], Lo: out[0]}
}

// fixDiv is safe_div: (a << frac) / b truncated, 0 if b is 0, saturating.
func fixDiv(a, b safemath.U128, frac uint) safemath.U128 {
	if b == (safemath.U128{}) {
		return safemath.U128{}
	}
	if b.Hi == 0 && frac < 64 {
		// (a << frac) is three words; divide by one word.
		w2 := a.Hi >> (64 - frac)
		w1 := a.Hi<<frac | a.Lo>>(64-frac)
		w0 := a.Lo << frac
		if frac == 0 {
			w2, w1, w0 = 0, a.Hi, a.Lo
		}
		if w2 >= b.Lo {
			return maxU128 // quotient needs more than 128 bits
		}
		q1, r := bits.Div64(w2, w1, b.Lo)
		q0, _ := bits.Div64(r, w0, b.Lo)
		return safemath.U128{Hi: q1, Lo: q0}
	}
	if b.Lo == 0 && (frac == 64 || frac == 32) {
		// b = h·2^64: floor((a<<frac) / (h·2^64)) = floor(((a<<frac)>>64) / h).
		y := a
		if frac == 32 {
			y = safemath.U128{Hi: a.Hi >> 32, Lo: a.Hi<<32 | a.Lo>>32}
		}
		q1 := y.Hi / b.Hi
		q0, _ := bits.Div64(y.Hi%b.Hi, y.Lo, b.Hi)
		return safemath.U128{Hi: q1, Lo: q0}
	}
	if b.Hi == 0 && frac == 64 {
		// (a << 64) / b: words a.Hi, a.Lo, 0
		if a.Hi >= b.Lo {
			return maxU128
		}
		q1, r := bits.Div64(a.Hi, a.Lo, b.Lo)
		q0, _ := bits.Div64(r, 0, b.Lo)
		return safemath.U128{Hi: q1, Lo: q0}
	}
	z := a.Big()
	z.Lsh(z, frac)
	return u128FromBig(z.Quo(z, b.Big()))
}

// Mul is the saturating floored product.
func (v U64F64) Mul(w U64F64) U64F64 { return U64F64(fixMul(safemath.U128(v), safemath.U128(w), 64)) }

// Div is safe_div.
func (v U64F64) Div(w U64F64) U64F64 { return U64F64(fixDiv(safemath.U128(v), safemath.U128(w), 64)) }

// Add is saturating_add.
func (v U64F64) Add(w U64F64) U64F64 { return U64F64(safemath.U128(v).AddSat(safemath.U128(w))) }

// Sub is saturating_sub.
func (v U64F64) Sub(w U64F64) U64F64 { return U64F64(safemath.U128(v).SubSat(safemath.U128(w))) }

// Mul is the saturating floored product.
func (v U96F32) Mul(w U96F32) U96F32 { return U96F32(fixMul(safemath.U128(v), safemath.U128(w), 32)) }

// Div is safe_div.
func (v U96F32) Div(w U96F32) U96F32 { return U96F32(fixDiv(safemath.U128(v), safemath.U128(w), 32)) }

// Add is saturating_add.
func (v U96F32) Add(w U96F32) U96F32 { return U96F32(safemath.U128(v).AddSat(safemath.U128(w))) }

// Sub is saturating_sub.
func (v U96F32) Sub(w U96F32) U96F32 { return U96F32(safemath.U128(v).SubSat(safemath.U128(w))) }

// Min returns the smaller value.
func (v U96F32) Min(w U96F32) U96F32 {
	if w.Cmp(v) < 0 {
		return w
	}
	return v
}

// Min returns the smaller value.
func (v U64F64) Min(w U64F64) U64F64 {
	if w.Cmp(v) < 0 {
		return w
	}
	return v
}

// one constants.
var (
	oneU64F64 = U64F64{1, 0}
	oneU96F32 = U96F32{0, 1 << 32}
)

// Ratio64 is U64F64::from_num(num) / U64F64::from_num(den) (safe_div).
func Ratio64(num, den uint64) U64F64 { return U64F64FromInt(num).Div(U64F64FromInt(den)) }

// Ratio96 is U96F32::from_num(num) / U96F32::from_num(den) (safe_div).
func Ratio96(num, den uint64) U96F32 { return U96F32FromInt(num).Div(U96F32FromInt(den)) }

// mulU64 is floor(n × v) for a U64F64 v, saturated to u64: U64F64(n).saturating_mul(v).to_u64.
func (v U64F64) mulU64(n uint64) uint64 { return U64F64FromInt(n).Mul(v).Floor() }
