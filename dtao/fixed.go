package dtao

import (
	"math"
	"math/big"
	"math/bits"
)

// The fixed-point types of subtensor that dTAO uses are carried as their raw bits in a
// 128-bit unsigned integer: U64F64 (64 fractional bits) and U96F32 (32 fractional bits).
// Only non-negative values occur (I96F32 values such as the moving price are stored as
// non-negative U96F32 bits). Products floor, quotients truncate, and every operation
// saturates at the type's maximum, as substrate-fixed's saturating_* and safe_div do
// (safe_div gives 0 on a zero divisor).

// U128 is an unsigned 128-bit integer.
type U128 struct{ Hi, Lo uint64 }

// U64F64 is the raw bits of a U64F64 value (value = bits / 2^64).
type U64F64 U128

// U96F32 is the raw bits of a U96F32 value (value = bits / 2^32).
type U96F32 U128

var (
	maxU128    = U128{math.MaxUint64, math.MaxUint64}
	bigMaxU128 = new(big.Int).SetBytes([]byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	bigMaxU64 = new(big.Int).SetUint64(math.MaxUint64)
)

// Big returns v as a big integer.
func (v U128) Big() *big.Int {
	z := new(big.Int).SetUint64(v.Hi)
	z.Lsh(z, 64)
	return z.Or(z, new(big.Int).SetUint64(v.Lo))
}

// u128FromBig saturates a non-negative big integer to 128 bits.
func u128FromBig(z *big.Int) U128 {
	if z.Sign() <= 0 {
		return U128{}
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
		return U128{hi, lo}
	}
	lo = new(big.Int).And(z, bigMaxU64).Uint64()
	hi = new(big.Int).Rsh(z, 64).Uint64()
	return U128{hi, lo}
}

func (v U128) less(w U128) bool { return v.Hi < w.Hi || (v.Hi == w.Hi && v.Lo < w.Lo) }

// Cmp compares two U64F64 values.
func (v U64F64) Cmp(w U64F64) int {
	switch {
	case U128(v).less(U128(w)):
		return -1
	case U128(w).less(U128(v)):
		return 1
	}
	return 0
}

// Cmp compares two U96F32 values.
func (v U96F32) Cmp(w U96F32) int { return U64F64(v).Cmp(U64F64(w)) }

// IsZero reports whether v is 0.
func (v U64F64) IsZero() bool { return v.Hi == 0 && v.Lo == 0 }

// IsZero reports whether v is 0.
func (v U96F32) IsZero() bool { return v.Hi == 0 && v.Lo == 0 }

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
func fixMul(a, b U128, frac uint) U128 {
	// p = a·b as four words, little-endian
	h00, l00 := bits.Mul64(a.Lo, b.Lo)
	h01, l01 := bits.Mul64(a.Lo, b.Hi)
	h10, l10 := bits.Mul64(a.Hi, b.Lo)
	h11, l11 := bits.Mul64(a.Hi, b.Hi)
	p0 := l00
	p1, c1 := bits.Add64(h00, l01, 0)
	p2, c2 := bits.Add64(h01, l11, c1)
	p3 := h11 + c2
	p1, c1 = bits.Add64(p1, l10, 0)
	p2, c2 = bits.Add64(p2, h10, c1)
	p3 += c2
	w := [4]uint64{p0, p1, p2, p3}
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
	return U128{out[1], out[0]}
}

// fixDiv is safe_div: (a << frac) / b truncated, 0 if b is 0, saturating.
func fixDiv(a, b U128, frac uint) U128 {
	if b == (U128{}) {
		return U128{}
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
		return U128{q1, q0}
	}
	if b.Lo == 0 && (frac == 64 || frac == 32) {
		// b = h·2^64: floor((a<<frac) / (h·2^64)) = floor(((a<<frac)>>64) / h).
		y := a
		if frac == 32 {
			y = U128{a.Hi >> 32, a.Hi<<32 | a.Lo>>32}
		}
		q1 := y.Hi / b.Hi
		q0, _ := bits.Div64(y.Hi%b.Hi, y.Lo, b.Hi)
		return U128{q1, q0}
	}
	if b.Hi == 0 && frac == 64 {
		// (a << 64) / b: words a.Hi, a.Lo, 0
		if a.Hi >= b.Lo {
			return maxU128
		}
		q1, r := bits.Div64(a.Hi, a.Lo, b.Lo)
		q0, _ := bits.Div64(r, 0, b.Lo)
		return U128{q1, q0}
	}
	z := a.Big()
	z.Lsh(z, frac)
	return u128FromBig(z.Quo(z, b.Big()))
}

func fixAdd(a, b U128) U128 {
	lo, c := bits.Add64(a.Lo, b.Lo, 0)
	hi, c := bits.Add64(a.Hi, b.Hi, c)
	if c != 0 {
		return maxU128
	}
	return U128{hi, lo}
}

func fixSub(a, b U128) U128 {
	lo, br := bits.Sub64(a.Lo, b.Lo, 0)
	hi, br := bits.Sub64(a.Hi, b.Hi, br)
	if br != 0 {
		return U128{}
	}
	return U128{hi, lo}
}

// Mul is the saturating floored product.
func (v U64F64) Mul(w U64F64) U64F64 { return U64F64(fixMul(U128(v), U128(w), 64)) }

// Div is safe_div.
func (v U64F64) Div(w U64F64) U64F64 { return U64F64(fixDiv(U128(v), U128(w), 64)) }

// Add is saturating_add.
func (v U64F64) Add(w U64F64) U64F64 { return U64F64(fixAdd(U128(v), U128(w))) }

// Sub is saturating_sub.
func (v U64F64) Sub(w U64F64) U64F64 { return U64F64(fixSub(U128(v), U128(w))) }

// Mul is the saturating floored product.
func (v U96F32) Mul(w U96F32) U96F32 { return U96F32(fixMul(U128(v), U128(w), 32)) }

// Div is safe_div.
func (v U96F32) Div(w U96F32) U96F32 { return U96F32(fixDiv(U128(v), U128(w), 32)) }

// Add is saturating_add.
func (v U96F32) Add(w U96F32) U96F32 { return U96F32(fixAdd(U128(v), U128(w))) }

// Sub is saturating_sub.
func (v U96F32) Sub(w U96F32) U96F32 { return U96F32(fixSub(U128(v), U128(w))) }

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
