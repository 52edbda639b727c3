package safemath

import (
	"math/big"
	"math/bits"
)

// U128 is the unsigned 128-bit integer Hi·2^64 + Lo. It is the one 128-bit type of the
// project: exact tallies (gov, subnets), the I64F64 stake of the epoch (yuma), the Q120
// table arithmetic of lm/fixed and the raw bits of dTAO's U64F64 and U96F32. Every method
// says what it does on overflow: wraps (modulo 2^128), saturates, or reports the carry.
// The zero value is 0.
type U128 struct{ Hi, Lo uint64 }

// IsZero reports whether a is 0.
func (a U128) IsZero() bool { return a.Hi|a.Lo == 0 }

// Less reports whether a < b.
func (a U128) Less(b U128) bool { return a.Hi < b.Hi || (a.Hi == b.Hi && a.Lo < b.Lo) }

// Cmp returns -1, 0 or +1 as a is below, equal to or above b.
func (a U128) Cmp(b U128) int {
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}

// Add returns a + b modulo 2^128 (wraps).
func (a U128) Add(b U128) U128 {
	lo, c := bits.Add64(a.Lo, b.Lo, 0)
	hi, _ := bits.Add64(a.Hi, b.Hi, c)
	return U128{hi, lo}
}

// AddCarry returns a + b modulo 2^128 and whether the sum carried out of 128 bits.
func (a U128) AddCarry(b U128) (U128, bool) {
	lo, c := bits.Add64(a.Lo, b.Lo, 0)
	hi, c := bits.Add64(a.Hi, b.Hi, c)
	return U128{hi, lo}, c != 0
}

// AddSat returns a + b, saturating at 2^128 - 1.
func (a U128) AddSat(b U128) U128 {
	s, c := a.AddCarry(b)
	if c {
		return U128{^uint64(0), ^uint64(0)}
	}
	return s
}

// Add64 returns a + v modulo 2^128 (wraps).
func (a U128) Add64(v uint64) U128 {
	lo, c := bits.Add64(a.Lo, v, 0)
	return U128{a.Hi + c, lo}
}

// Sub returns a - b modulo 2^128 (wraps when b > a).
func (a U128) Sub(b U128) U128 {
	lo, br := bits.Sub64(a.Lo, b.Lo, 0)
	hi, _ := bits.Sub64(a.Hi, b.Hi, br)
	return U128{hi, lo}
}

// SubSat returns a - b, saturating at 0 when b > a.
func (a U128) SubSat(b U128) U128 {
	lo, br := bits.Sub64(a.Lo, b.Lo, 0)
	hi, br := bits.Sub64(a.Hi, b.Hi, br)
	if br != 0 {
		return U128{}
	}
	return U128{hi, lo}
}

// Mul64 returns a × v modulo 2^128 (wraps). U128{Lo: x}.Mul64(y) is the exact product of
// two uint64 values.
func (a U128) Mul64(v uint64) U128 {
	hi, lo := bits.Mul64(a.Lo, v)
	return U128{a.Hi*v + hi, lo}
}

// MulFull returns the exact 256-bit product a × b as its high and low 128-bit halves
// (never overflows). Fixed-point products are this shifted right by the fraction bits.
func (a U128) MulFull(b U128) (hi, lo U128) {
	h00, l00 := bits.Mul64(a.Lo, b.Lo)
	h01, l01 := bits.Mul64(a.Lo, b.Hi)
	h10, l10 := bits.Mul64(a.Hi, b.Lo)
	h11, l11 := bits.Mul64(a.Hi, b.Hi)
	p1, c1 := bits.Add64(h00, l01, 0)
	p2, c2 := bits.Add64(h01, l11, c1)
	p3 := h11 + c2
	p1, c1 = bits.Add64(p1, l10, 0)
	p2, c2 = bits.Add64(p2, h10, c1)
	p3 += c2
	return U128{p3, p2}, U128{p1, l00}
}

// Div64 returns floor(a / d) (never overflows). It panics if d is 0.
func (a U128) Div64(d uint64) U128 {
	qhi, r := bits.Div64(0, a.Hi, d)
	qlo, _ := bits.Div64(r, a.Lo, d)
	return U128{qhi, qlo}
}

// MulDiv64 returns floor(a × m / d), the product taken exactly in 192 bits; a quotient of
// 2^128 or more wraps (only its low 128 bits are returned). It panics if d is 0.
func (a U128) MulDiv64(m, d uint64) U128 {
	h1, l1 := bits.Mul64(a.Lo, m)
	h2, l2 := bits.Mul64(a.Hi, m)
	w1, c := bits.Add64(h1, l2, 0)
	w2 := h2 + c
	_, r := bits.Div64(0, w2, d)
	qhi, r := bits.Div64(r, w1, d)
	qlo, _ := bits.Div64(r, l1, d)
	return U128{qhi, qlo}
}

// Shl returns a << n, discarding the bits shifted out above 2^128 (wraps); n ≥ 128 gives 0.
func (a U128) Shl(n uint) U128 {
	switch {
	case n == 0:
		return a
	case n < 64:
		return U128{a.Hi<<n | a.Lo>>(64-n), a.Lo << n}
	default:
		return U128{a.Lo << (n - 64), 0}
	}
}

// Shr returns a >> n (truncating); n ≥ 128 gives 0.
func (a U128) Shr(n uint) U128 {
	switch {
	case n == 0:
		return a
	case n < 64:
		return U128{a.Hi >> n, a.Lo>>n | a.Hi<<(64-n)}
	default:
		return U128{0, a.Hi >> (n - 64)}
	}
}

// Big returns a as a big integer (for tests and the rare exact fallbacks).
func (a U128) Big() *big.Int {
	z := new(big.Int).SetUint64(a.Hi)
	z.Lsh(z, 64)
	return z.Or(z, new(big.Int).SetUint64(a.Lo))
}
