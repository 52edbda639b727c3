package dtao

import "sort"

// Registration constants (runtime).
const (
	DefaultMinLock               uint64 = 1_000_000_000_000 // 1000 TAO
	DefaultLockReductionInterval uint64 = 100_800
	DefaultSubnetLimit                  = 128
	DefaultImmunityBlocks        uint64 = 1_296_000
	DefaultRegistrationInterval  uint64 = 7_200 // global: blocks between two registrations
)

// LockParams are the lock cost's parameters.
type LockParams struct {
	MinLock           uint64
	ReductionInterval uint64 // NetworkLockReductionInterval
}

// LockCost is get_network_lock_cost (coinbase/root.rs l.502): the last lock doubles at each
// registration (×1 before the first) and decays linearly back to MinLock:
// max(min_lock, last·mult − ⌊last/I_eff⌋·(now − last_block)), I_eff =
// ⌊interval·block_emission/1e9⌋ (so a halving shortens the decay).
func LockCost(lastLock, lastLockBlock, now, blockEmission uint64, lp LockParams) uint64 {
	mult := uint64(2)
	if lastLockBlock == 0 {
		mult = 1
	}
	ieff := LockDecayInterval(lp.ReductionInterval, blockEmission)
	var per uint64
	if ieff > 0 {
		per = lastLock / ieff
	}
	red := satMulU(per, satSub(now, lastLockBlock))
	return max(lp.MinLock, satSub(satMulU(lastLock, mult), red))
}

// LockDecayInterval is I_eff = ⌊interval·blockEmission/1e9⌋: the blocks over which a lock
// decays by itself (a halving of the block emission halves it).
func LockDecayInterval(interval, blockEmission uint64) uint64 {
	return mulDiv(interval, blockEmission, 1_000_000_000)
}

// SeedPool is the pool a new subnet starts with (subnets/subnet.rs l.221–260): the lock
// stays in the pool, TAO = max(lock, min_lock), alpha = ⌊TAO/median⌋ where median is the
// median spot price of the existing non-root subnets with a price > 0 (the mean of the two
// middle ones for an even count; 1.0 if there are none), taken before the new subnet
// exists. The owner gets no alpha (AlphaOut = 0).
func SeedPool(lock, minLock uint64, prices []U64F64) Pool {
	tao := max(lock, minLock)
	m := MedianPrice(prices)
	return Pool{TAO: tao, Alpha: U64F64FromInt(tao).Div(m).Floor(), QuoteWeight: HalfWeight}
}

// MedianPrice is the median of the positive prices (1.0 if none).
func MedianPrice(prices []U64F64) U64F64 {
	var ps []U64F64
	for _, p := range prices {
		if !p.IsZero() {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return oneU64F64
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Cmp(ps[j]) < 0 })
	n := len(ps)
	if n%2 == 1 {
		return ps[n/2]
	}
	return ps[n/2-1].Add(ps[n/2]).Div(U64F64FromInt(2))
}

// PruneInfo is what the pruning choice sees of a subnet.
type PruneInfo struct {
	Netuid       uint16
	MovingPrice  U96F32
	RegisteredAt uint64
}

// PruneCandidate is the subnet dissolved when the subnet limit is reached (root.rs l.593):
// the non-immune one (registered at least immunity blocks ago) with the lowest EMA price,
// ties to the earliest registration, then the lowest netuid. ok is false if every subnet is
// immune. Root (netuid 0) is never chosen.
func PruneCandidate(subnets []PruneInfo, now, immunity uint64) (netuid uint16, ok bool) {
	var best PruneInfo
	for _, s := range subnets {
		if s.Netuid == 0 || satAdd(s.RegisteredAt, immunity) > now {
			continue
		}
		if !ok || s.MovingPrice.Cmp(best.MovingPrice) < 0 ||
			(s.MovingPrice == best.MovingPrice && (s.RegisteredAt < best.RegisteredAt ||
				(s.RegisteredAt == best.RegisteredAt && s.Netuid < best.Netuid))) {
			best, ok = s, true
		}
	}
	return best.Netuid, ok
}

// DissolvePayout splits a dissolved subnet's TAO pot pro rata to values (the stakers'
// alpha values, the protocol alpha last) by largest remainder (remove_stake.rs l.442): each
// gets ⌊pot·v/Σv⌋ and the leftover rao go one each to the largest remainders (ties to the
// earlier index). The payouts sum to pot whenever Σv > 0.
func DissolvePayout(pot uint64, values []uint64) []uint64 {
	out := make([]uint64, len(values))
	var total uint64
	for _, v := range values {
		total = satAdd(total, v)
	}
	if total == 0 {
		return out
	}
	type rem struct {
		i int
		r uint64
	}
	rs := make([]rem, len(values))
	var paid uint64
	for i, v := range values {
		q, r := mulDivRem(pot, v, total)
		out[i] = q
		paid += q
		rs[i] = rem{i, r}
	}
	sort.SliceStable(rs, func(a, b int) bool { return rs[a].r > rs[b].r })
	for k := 0; paid < pot && k < len(rs); k++ {
		out[rs[k].i]++
		paid++
	}
	return out
}
