package yuma

import (
	"math"
	"math/bits"

	"github.com/tessera-net/tessera/internal/safemath"
)

// This file computes the stake vector S of the epoch in I64F64 (64 integer and 64 fractional
// bits), the type subtensor uses before normalisation, held as safemath.U128 (only non-negative
// values occur). TestStakeMatchesBig checks every function against a math/big
// transcription.

// i64f64Max is I64F64::MAX, 2^127 - 1.
var i64f64Max = safemath.U128{Hi: 1<<63 - 1, Lo: math.MaxUint64}

// satI64F64 saturates a to the I64F64 range.
func satI64F64(a safemath.U128) safemath.U128 {
	if i64f64Max.Less(a) {
		return i64f64Max
	}
	return a
}

// taoWeightBits is get_tao_weight: U96F32(stored)/U96F32(u64::MAX), truncated, as the raw
// U96F32 bits (at most 1.0, that is 2^32, reached by u64::MAX).
func taoWeightBits(stored uint64) uint64 {
	q, _ := bits.Div64(stored>>32, stored<<32, math.MaxUint64)
	return q
}

// i64f64FromU64 is I64F64::saturating_from_num(u64): values at or above 2^63 saturate.
func i64f64FromU64(v uint64) safemath.U128 {
	if v >= 1<<63 {
		return i64f64Max
	}
	return safemath.U128{Hi: v}
}

// totalStake returns, as I64F64 bits, alpha_i + tao_i × tao_weight (saturating) for each uid,
// exactly as get_stake_weights_for_network.
func totalStake(alpha, tao []uint64, taoWeight uint64) []safemath.U128 {
	// U96F32 -> I64F64 is exact: w·2^32, in the low word unless the weight is 1.0 (2^64).
	wb := taoWeightBits(taoWeight)
	one := wb == 1<<32
	w := wb << 32
	out := make([]safemath.U128, len(alpha))
	for i := range alpha {
		s := i64f64FromU64(alpha[i])
		if i < len(tao) && tao[i] != 0 && wb != 0 {
			// (t × w) >> 64 of the 192-bit product, below 2^127 since t < 2^127, w < 2^64;
			// t itself for a weight of 1.0.
			t := i64f64FromU64(tao[i])
			h1, l1 := bits.Mul64(t.Hi, w)
			h2, _ := bits.Mul64(t.Lo, w)
			lo, c := bits.Add64(l1, h2, 0)
			p := satI64F64(safemath.U128{Hi: h1 + c, Lo: lo})
			if one {
				p = t
			}
			s, _ = s.AddCarry(p) // both below 2^127: no carry
			s = satI64F64(s)
		}
		out[i] = s
	}
	return out
}

// sumStake is the I64F64 sum of total and whether it stays within the I64F64 range.
func sumStake(total []safemath.U128) (safemath.U128, bool) {
	var sum safemath.U128
	for _, t := range total {
		var carry bool
		if sum, carry = sum.AddCarry(t); carry || i64f64Max.Less(sum) {
			return safemath.U128{}, false
		}
	}
	return sum, true
}

// normalizedStake filters stake below the threshold (the owner, if any, is exempt), applies
// inplace_normalize_64 and truncates to I32F32, giving the epoch's S. The sum of total must
// be within the I64F64 range (validate checks it).
func normalizedStake(total []safemath.U128, threshold uint64, owner int) []Fixed {
	keep := make([]bool, len(total))
	var sum safemath.U128
	for i, s := range total {
		// saturating_to_num::<u64>() of a non-negative I64F64 is its integer part.
		if i != owner && s.Hi < threshold {
			continue
		}
		keep[i] = true
		sum, _ = sum.AddCarry(s)
	}
	out := make([]Fixed, len(total))
	if sum == (safemath.U128{}) {
		// inplace_normalize_64 leaves an all-zero vector unchanged.
		return out
	}
	for i, s := range total {
		if keep[i] && s != (safemath.U128{}) {
			// safe_div in I64F64, (s << 64) / sum truncated, then I64F64 -> I32F32 dropping
			// the low 32 fractional bits: floor(floor(s·2^64/sum)/2^32) = floor(s·2^32/sum).
			out[i] = Fixed(quoShift32(s, sum))
		}
	}
	return out
}

// quoShift32 is floor(s·2^32 / d) for 0 ≤ s ≤ d, d > 0 (so at most 2^32).
//
// For d ≥ 2^64 it is Knuth's estimate: with d shifted left by z so that its top bit is
// set (top word v), q̂ = floor((s·2^(32+z)) / 2^64 / v) is at least the quotient and at
// most two above it (Knuth, TAOCP 4.3.1, Theorem B); q̂·d > s·2^32 is then tested and q̂
// lowered, with exact 192-bit products.
func quoShift32(s, d safemath.U128) uint64 {
	if d.Hi == 0 {
		// s ≤ d < 2^64: s·2^32 fits in 96 bits and its high word s>>32 is below d.
		q, _ := bits.Div64(s.Lo>>32, s.Lo<<32, d.Lo)
		return q
	}
	// N = s·2^32 as three words.
	n2, n1, n0 := s.Hi>>32, s.Hi<<32|s.Lo>>32, s.Lo<<32
	// Shifts by 64 give 0 in Go, so z = 0 needs no special case.
	z := uint(bits.LeadingZeros64(d.Hi))
	v := d.Hi<<z | d.Lo>>(64-z) // the top word of d << z
	// The top two of N << z's three words (N << z ≤ d·2^(32+z) < 2^160, so no bits are
	// lost and the high word is below 2^32 ≤ v, as Div64 requires).
	t2, t1 := n2<<z|n1>>(64-z), n1<<z|n0>>(64-z)
	q, _ := bits.Div64(t2, t1, v)
	for {
		// q·d as three words, compared with N.
		a1, a0 := bits.Mul64(q, d.Lo)
		b1, b0 := bits.Mul64(q, d.Hi)
		m1, c := bits.Add64(b0, a1, 0)
		m2 := b1 + c
		if m2 < n2 || (m2 == n2 && (m1 < n1 || (m1 == n1 && a0 <= n0))) {
			return q
		}
		q--
	}
}

// ratioI64F64ToFixed computes I32F32::saturating_from_num(I64F64(num) / I64F64(den)), the
// conversion used for bonds_moving_average/1e6 (once per epoch).
func ratioI64F64ToFixed(num, den uint64) Fixed {
	n := i64f64FromU64(num).Big()
	d := i64f64FromU64(den).Big()
	if d.Sign() == 0 {
		return 0
	}
	n.Lsh(n, 64)
	n.Quo(n, d)
	if n.Cmp(i64f64Max.Big()) > 0 {
		return 0 // safe_div returns 0 on overflow
	}
	n.Rsh(n, 32)
	if !n.IsInt64() {
		return MaxFixed
	}
	return Fixed(n.Int64())
}
