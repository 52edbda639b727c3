package yuma

import (
	"math"
	"math/big"
	"math/bits"
)

// This file computes the stake vector S of the epoch in I64F64 (64 integer and 64 fractional
// bits), the type subtensor uses before normalisation. The O(n) work here is small next to
// the O(n·validators) weight processing, so it uses math/big for clarity; only non-negative
// values occur.

var (
	i64f64Max = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 127), big.NewInt(1))
	u64Max    = new(big.Int).SetUint64(math.MaxUint64)
)

// taoWeightBits is get_tao_weight: U96F32(stored)/U96F32(u64::MAX), truncated, as the raw
// U96F32 bits (it is always below 1.0, so below 2^32).
func taoWeightBits(stored uint64) uint64 {
	q, _ := bits.Div64(stored>>32, stored<<32, math.MaxUint64)
	return q
}

// i64f64FromU64 is I64F64::saturating_from_num(u64): values at or above 2^63 saturate.
func i64f64FromU64(v uint64) *big.Int {
	b := new(big.Int).SetUint64(v)
	b.Lsh(b, 64)
	if b.Cmp(i64f64Max) > 0 {
		b.Set(i64f64Max)
	}
	return b
}

func satI64F64(b *big.Int) *big.Int {
	if b.Cmp(i64f64Max) > 0 {
		b.Set(i64f64Max)
	}
	return b
}

// totalStake returns, as I64F64 bits, alpha_i + tao_i × tao_weight (saturating) for each uid,
// exactly as get_stake_weights_for_network.
func totalStake(alpha, tao []uint64, taoWeight uint64) []*big.Int {
	w := new(big.Int).SetUint64(taoWeightBits(taoWeight))
	w.Lsh(w, 32) // U96F32 -> I64F64 is exact
	out := make([]*big.Int, len(alpha))
	for i := range alpha {
		s := i64f64FromU64(alpha[i])
		if i < len(tao) && tao[i] != 0 && w.Sign() != 0 {
			p := i64f64FromU64(tao[i])
			p.Mul(p, w)
			p.Rsh(p, 64)
			satI64F64(p)
			satI64F64(s.Add(s, p))
		}
		out[i] = s
	}
	return out
}

// i64f64ToU64 is saturating_to_num::<u64>() of a non-negative I64F64: the integer part.
func i64f64ToU64(b *big.Int) uint64 {
	q := new(big.Int).Rsh(b, 64)
	if q.Cmp(u64Max) > 0 {
		return math.MaxUint64
	}
	return q.Uint64()
}

// normalizedStake filters stake below the threshold (the owner, if any, is exempt), applies
// inplace_normalize_64 and truncates to I32F32, giving the epoch's S.
func normalizedStake(total []*big.Int, threshold uint64, owner int) []Fixed {
	filtered := make([]*big.Int, len(total))
	sum := new(big.Int)
	for i, s := range total {
		if i != owner && i64f64ToU64(s) < threshold {
			filtered[i] = new(big.Int)
			continue
		}
		filtered[i] = s
		sum.Add(sum, s)
	}
	out := make([]Fixed, len(total))
	if sum.Sign() == 0 {
		// inplace_normalize_64 leaves an all-zero vector unchanged.
		return out
	}
	q := new(big.Int)
	for i, s := range filtered {
		if s.Sign() == 0 {
			continue
		}
		// safe_div in I64F64: (s << 64) / sum, truncated; s <= sum so the quotient is <= 1.
		q.Lsh(s, 64)
		q.Quo(q, sum)
		// I64F64 -> I32F32 drops the low 32 fractional bits (floor).
		q.Rsh(q, 32)
		out[i] = Fixed(q.Int64())
	}
	return out
}

// ratioI64F64ToFixed computes I32F32::saturating_from_num(I64F64(num) / I64F64(den)), the
// conversion used for bonds_moving_average/1e6.
func ratioI64F64ToFixed(num, den uint64) Fixed {
	n := i64f64FromU64(num)
	d := i64f64FromU64(den)
	if d.Sign() == 0 {
		return 0
	}
	n.Lsh(n, 64)
	n.Quo(n, d)
	if n.Cmp(i64f64Max) > 0 {
		return 0 // safe_div returns 0 on overflow
	}
	n.Rsh(n, 32)
	if !n.IsInt64() {
		return MaxFixed
	}
	return Fixed(n.Int64())
}
