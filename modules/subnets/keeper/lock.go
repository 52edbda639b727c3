package keeper

import (
	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/store"
)

// keyLock holds the last subnet registration's lock and its block (subtensor's
// NetworkLastLockCost and NetworkLastRegistered), from which the next lock cost follows.
var keyLock = []byte("sn/lock")

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
	v := subnets.LockView{Block: now, LockCost: p.LockCost, MinLock: p.LockCost}
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
