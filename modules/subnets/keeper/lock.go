package keeper

import (
	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// keyLock holds the last subnet registration's lock and its block (subtensor's
// NetworkLastLockCost and NetworkLastRegistered), from which the next lock cost follows.
var keyLock = []byte("sn/lock")

// keyLastRegistration is the block of the last subnets/create (with or without dTAO),
// from which the registration rate limit counts.
var keyLastRegistration = []byte("sn/lastreg")

// nextRegistration is the first block at which a subnet registration is allowed after
// one at last, under network_rate_limit limit (subtensor's check_passes_rate_limit:
// last == 0, before the first, always passes).
func nextRegistration(last, limit uint64) uint64 {
	if last == 0 {
		return 0
	}
	return last + limit
}

// checkRegistrationRate refuses a subnet registration at block now within
// network_rate_limit blocks of the last one (rate_limited, naming both blocks).
func checkRegistrationRate(r store.Reader, p subnets.Params, now uint64) error {
	last, err := module.GetUint64(r, keyLastRegistration)
	if err != nil {
		return err
	}
	if next := nextRegistration(last, p.NetworkRateLimit); last != 0 && now < next {
		return tx.Errorf(tx.CodeRateLimited, "subnet registrations are limited to one every %d blocks (network_rate_limit): the last was at block %d, the next is allowed at block %d (this is block %d)",
			p.NetworkRateLimit, last, next, now)
	}
	return nil
}

// recordRegistration notes a subnet registration at block now.
func recordRegistration(kv store.KV, now uint64) error {
	return module.PutUint64(kv, keyLastRegistration, now)
}

type lockRecord struct {
	LastLock      uint64 `cbor:"1,keyasint"`
	LastLockBlock uint64 `cbor:"2,keyasint"`
}

func getLock(r store.Reader) (lockRecord, error) {
	var l lockRecord
	_, err := module.Get(r, keyLock, &l)
	return l, err
}

// LockCost is what a subnets/create at block now locks. Without dTAO it is the fixed
// lock_cost. Under dTAO it is dtao.LockCost (get_network_lock_cost): the last lock doubled
// (not before the first registration), falling by ⌊last/I_eff⌋ a block since, and never
// below lock_cost, with I_eff = ⌊lock_reduction_interval·block_emission/1e9⌋ at the
// halved block emission of the issuance.
func (k *Keeper) LockCost(r store.Reader, now uint64) (subnets.LockView, error) {
	p, err := GetParams(r)
	if err != nil {
		return subnets.LockView{}, err
	}
	v := subnets.LockView{Block: now, LockCost: p.LockCost, MinLock: p.LockCost, RateLimit: p.NetworkRateLimit}
	if v.LastRegistrationBlock, err = module.GetUint64(r, keyLastRegistration); err != nil {
		return v, err
	}
	v.NextRegistrationBlock = nextRegistration(v.LastRegistrationBlock, p.NetworkRateLimit)
	if !p.DTAO {
		return v, nil
	}
	l, err := getLock(r)
	if err != nil {
		return v, err
	}
	iss, err := k.stake.Issuance(r)
	if err != nil {
		return v, err
	}
	lp := dtao.LockParams{MinLock: p.LockCost, ReductionInterval: p.LockReductionInterval}
	emission := dtao.HalvedEmission(iss, p.BlockEmission)
	v.Dynamic, v.LastLock, v.LastLockBlock = true, l.LastLock, l.LastLockBlock
	v.LockCost = dtao.LockCost(l.LastLock, l.LastLockBlock, now, emission, lp)
	if ieff := dtao.LockDecayInterval(p.LockReductionInterval, emission); ieff > 0 && v.LockCost > p.LockCost {
		v.DecayPerBlock = l.LastLock / ieff
	}
	return v, nil
}

func (k *Keeper) queryLockCost(q module.QueryRequest) (any, error) {
	return k.LockCost(q.State, uint64(max(q.Height, 0))+1)
}
