package yuma

import (
	"math"
	"math/bits"
)

// This file turns an epoch's fixed-point terms into what the chain stores: u16 proportions,
// emissions in the smallest unit, and the bond rows.

// terms are an epoch's per-uid results in fixed point, as both epochs compute them.
type terms struct {
	active, newPermits []bool
	stake, activeStake []Fixed
	consensus          []Fixed
	incentive          []Fixed // normalised
	dividends          []Fixed // normalised
	trust              []Fixed // validator trust
}

// result is the EpochResult of t with rao to emit (see emissionResult), every term as
// floor(x × 65535); Bonds is left to the epoch.
func (t *terms) result(rao uint64) *EpochResult {
	res := emissionResult(t.stake, t.activeStake, t.incentive, t.dividends, rao)
	res.Active = t.active
	res.StakeWeight = toU16(t.stake)
	res.Consensus = toU16(t.consensus)
	res.Incentive = toU16(t.incentive)
	res.Dividends = toU16(t.dividends)
	res.ValidatorTrust = toU16(t.trust)
	res.NewValidatorPermit = t.newPermits
	return res
}

// storedBondRows is the sparse epoch's stored bonds: the EMA row as floor(b × 65535) for uids
// with a new permit, an empty row for everyone else (the epoch's terms carry an empty bond
// for them and every row is written).
func storedBondRows(ema sparse, newPermits []bool, n int) [][]Entry {
	rows := make([][]Entry, n)
	total := 0
	for i := range rows {
		if newPermits[i] && i < len(ema) {
			total += len(ema[i])
		}
	}
	entries := make([]Entry, total) // one allocation for all rows
	for i := range rows {
		if !newPermits[i] || i >= len(ema) {
			rows[i] = []Entry{}
			continue
		}
		row := entries[:len(ema[i]):len(ema[i])]
		entries = entries[len(ema[i]):]
		for k, c := range ema[i] {
			row[k] = Entry{c.j, c.v.ToU16Proportion()}
		}
		rows[i] = row
	}
	return rows
}

// emissionResult splits rao between servers (incentive) and validators (dividends),
// normalising both by Σ(incentive + dividends); when that sum is zero the validators get it
// all in proportion to active stake, or to stake if no stake is active.
func emissionResult(stake, activeStake, incentive, dividends []Fixed, rao uint64) *EpochResult {
	n := len(stake)
	combined := make([]Fixed, n)
	for i := range combined {
		combined[i] = incentive[i].SatAdd(dividends[i])
	}
	sum := sumFixed(combined)
	server := append([]Fixed(nil), incentive...)
	validator := append([]Fixed(nil), dividends...)
	normalizeUsingSum(server, sum)
	normalizeUsingSum(validator, sum)
	normalize(combined)
	if sum == 0 {
		src := activeStake
		if isZero(activeStake) {
			src = stake
		}
		validator = append([]Fixed(nil), src...)
		combined = append([]Fixed(nil), src...)
	}
	return &EpochResult{
		ServerEmission:    toRao(server, rao),
		ValidatorEmission: toRao(validator, rao),
		Emission:          toRao(combined, rao),
	}
}

// toRao is floor(I96F32(x) × I96F32(rao)) saturated to u64: the I96F32 product of an
// I32F32 value and an integer is exactly x_bits × rao / 2^32.
func toRao(x []Fixed, rao uint64) []uint64 {
	out := make([]uint64, len(x))
	for i, v := range x {
		if v <= 0 {
			continue
		}
		hi, lo := bits.Mul64(uint64(v), rao)
		if hi>>32 != 0 {
			out[i] = math.MaxUint64
			continue
		}
		out[i] = hi<<32 | lo>>32
	}
	return out
}

func toU16(x []Fixed) []uint16 {
	out := make([]uint16, len(x))
	for i, v := range x {
		out[i] = v.ToU16Proportion()
	}
	return out
}
