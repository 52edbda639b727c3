package dtao

import (
	"math"
	"math/bits"
)

// Emission constants (subtensor runtime).
const (
	// MaxSupply is 21 M TAO in rao.
	MaxSupply uint64 = 21_000_000_000_000_000
	// DefaultBlockEmission is 1 TAO per block before the first halving.
	DefaultBlockEmission uint64 = 1_000_000_000
	// DefaultOwnerCut is SubnetOwnerCut, 11_796/65535 ≈ 18 %.
	DefaultOwnerCut uint16 = 11_796
	// DefaultEMAHalvingBlocks is EMAPriceHalvingBlocks.
	DefaultEMAHalvingBlocks uint64 = 201_600
)

// DefaultMovingAlpha is SubnetMovingAlpha, I96F32::from_num(0.000003) (12_885 bits).
var DefaultMovingAlpha = U96F32{0, 12_885}

// BlockEmission is get_block_emission for an issuance (§2.1): 0 at or above 21e15, else
// floor(1e9 / 2^k) with k = floor(log2(1/(1 − I/21e15))) in I96F32. A subnet's alpha
// emission is the same function of its alpha issuance (AlphaIn + AlphaOut).
func BlockEmission(issuance uint64) uint64 {
	if issuance >= MaxSupply {
		return 0
	}
	ratio := Ratio96(issuance, MaxSupply)
	inv := oneU96F32.Div(oneU96F32.Sub(ratio))
	// floor(log2(inv)) for inv ≥ 1: the position of its top bit above the 32 fraction bits.
	var top int
	if inv.Hi != 0 {
		top = 64 + bits.Len64(inv.Hi) - 1
	} else {
		top = bits.Len64(inv.Lo) - 1
	}
	k := top - 32
	if k < 0 {
		k = 0
	}
	if k >= 64 {
		return 0
	}
	return DefaultBlockEmission >> uint(k)
}

// HalvedEmission is a chain's base block emission halved as BlockEmission halves 1 TAO at
// the issuance: base >> k (0 once the supply is reached).
func HalvedEmission(issuance, base uint64) uint64 {
	e := BlockEmission(issuance) // 1e9 >> k
	if e == 0 {
		return 0
	}
	k := 0
	for v := DefaultBlockEmission; v > e; v >>= 1 {
		k++
	}
	return base >> uint(k)
}

// MintAmount is what mint_tao adds at an issuance: BlockEmission clamped to 21e15.
func MintAmount(issuance uint64) uint64 {
	e := BlockEmission(issuance)
	if issuance >= MaxSupply {
		return 0
	}
	return min(e, MaxSupply-issuance)
}

// TaoWeightFraction is get_tao_weight: U96F32(stored)/U96F32(u64::MAX), truncated (at most
// 1.0, reached by u64::MAX).
func TaoWeightFraction(stored uint64) U96F32 {
	q, _ := bits.Div64(stored>>32, stored<<32, math.MaxUint64)
	return U96F32{0, q}
}

// RootProp is tw·R/(tw·R + alpha issuance) in U96F32 (block_step.rs l.69), with R the
// root TAO stake (SubnetTAO[0]).
func RootProp(taoWeight uint64, rootTAO, alphaIssuance uint64) U96F32 {
	tr := TaoWeightFraction(taoWeight).Mul(U96F32FromInt(rootTAO))
	return tr.Div(tr.Add(U96F32FromInt(alphaIssuance)))
}
