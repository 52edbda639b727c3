package keeper

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// Claim types and the auto-claim (subtensor's claim_root.rs: RootClaimType,
// StakingColdkeysByIndex, run_auto_claim_root_divs).
//
// The auto-claim's index numbers the coldkeys that hold root stake 0..n−1. A coldkey
// enters it (at n) when it opens its first root position (AddStake on a position that
// had none) and leaves it when it closes its last (subStake to zero with no other root
// position left): the last entry then moves into its slot, so the numbering stays dense.
// So the index holds exactly the coldkeys with root stake (CheckRootClaims checks the
// bijection both ways), and its size is bounded by the root positions that exist, each
// of which holds stake (GHSA-2026-012: subtensor's index also took coldkeys that only
// set a claim type or claimed, and kept them after they unstaked; here neither adds an
// entry, and every path that closes a position goes through subStake).
var (
	prefixClaimType   = []byte("stk/rt/") // coldkey → stake.RootClaimType (absent: Swap)
	prefixClaimIndex  = []byte("stk/ri/") // coldkey → its position in the index (uint64)
	prefixClaimAt     = []byte("stk/rp/") // position (8 bytes big-endian) → coldkey
	keyClaimCount     = []byte("stk/rn")  // the number of indexed coldkeys
	keyClaimLastBlock = []byte("stk/rh")  // the hash of the last block the auto-claim ran in
)

func claimAtKey(i uint64) []byte {
	return module.Key(prefixClaimAt, binary.BigEndian.AppendUint64(nil, i))
}

// RootClaimTypeOf is a coldkey's root claim type (Swap if it never set one).
func (sk *Keeper) RootClaimTypeOf(r store.Reader, cold keys.PublicKey) (stake.RootClaimType, error) {
	var ct stake.RootClaimType
	_, err := module.Get(r, module.Key(prefixClaimType, cold[:]), &ct)
	return ct, err
}

// setRootClaimType is stake/set_root_claim_type.
func (sk *Keeper) setRootClaimType(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var m stake.SetRootClaimType
	if err := msg.DecodeBody(&m); err != nil {
		return err
	}
	ct, err := stake.RootClaimType(m).Validate()
	if err != nil {
		return err
	}
	k := module.Key(prefixClaimType, signer[:])
	if ct.Type == stake.ClaimSwap {
		err = ctx.KV.Delete(k)
	} else {
		err = module.Put(ctx.KV, k, ct)
	}
	if err != nil {
		return err
	}
	ctx.Emit("root_claim_type_set", module.Attr("coldkey", signer.String()), module.Attr("type", stake.ClaimTypeName(ct.Type)),
		module.Attr("netuids", fmt.Sprint(ct.Netuids)))
	return nil
}

// indexRootStaker adds cold to the auto-claim's index if it is not there.
func (sk *Keeper) indexRootStaker(kv store.KV, cold keys.PublicKey) error {
	ik := module.Key(prefixClaimIndex, cold[:])
	if b, err := kv.Get(ik); err != nil || b != nil {
		return err
	}
	n, err := module.GetUint64(kv, keyClaimCount)
	if err != nil {
		return err
	}
	if err := module.PutUint64(kv, ik, n); err != nil {
		return err
	}
	if err := kv.Set(claimAtKey(n), cold[:]); err != nil {
		return err
	}
	return module.PutUint64(kv, keyClaimCount, n+1)
}

// rootPositionClosing is called when cold's root position under hot is about to close:
// if cold has no other root position it leaves the auto-claim's index.
func (sk *Keeper) rootPositionClosing(kv store.KV, hot, cold keys.PublicKey) error {
	other := false
	prefix := module.Key(prefixCold, cold[:])
	if err := kv.Iterate(prefix, func(k, _ []byte) (bool, error) {
		other = !bytes.Equal(k[len(prefix):], hot[:])
		return !other, nil
	}); err != nil || other {
		return err
	}
	return sk.unindexRootStaker(kv, cold)
}

// unindexRootStaker removes cold from the index, moving the last entry into its slot.
func (sk *Keeper) unindexRootStaker(kv store.KV, cold keys.PublicKey) error {
	ik := module.Key(prefixClaimIndex, cold[:])
	b, err := kv.Get(ik)
	if err != nil || b == nil {
		return err
	}
	var i uint64
	if err := tx.UnmarshalState(b, &i); err != nil {
		return err
	}
	n, err := module.GetUint64(kv, keyClaimCount)
	if err != nil {
		return err
	}
	if n == 0 || i >= n {
		return fmt.Errorf("auto-claim index: %s at %d of %d", cold, i, n)
	}
	last := n - 1
	if i != last {
		moved, err := kv.Get(claimAtKey(last))
		if err != nil {
			return err
		}
		if len(moved) != len(cold) {
			return fmt.Errorf("auto-claim index: no coldkey at %d of %d", last, n)
		}
		if err := kv.Set(claimAtKey(i), moved); err != nil {
			return err
		}
		if err := module.PutUint64(kv, module.Key(prefixClaimIndex, moved), i); err != nil {
			return err
		}
	}
	if err := kv.Delete(claimAtKey(last)); err != nil {
		return err
	}
	if err := kv.Delete(ik); err != nil {
		return err
	}
	return module.PutUint64OrDelete(kv, keyClaimCount, last)
}

// indexedColdkey is the coldkey at position i of the index.
func (sk *Keeper) indexedColdkey(r store.Reader, i uint64) (keys.PublicKey, bool, error) {
	b, err := r.Get(claimAtKey(i))
	if err != nil || len(b) != len(keys.PublicKey{}) {
		return keys.PublicKey{}, false, err
	}
	return keys.PublicKey(b), true, nil
}

// AutoClaimRoot is the block's auto-claim (run_auto_claim_root_divs), run by the subnets
// module after the coinbase: it picks up to dtao.AutoClaimsPerBlock coldkeys of the index
// from the previous block's hash (dtao.AutoClaimIndices; the hash of the block the
// auto-claim last ran in is stored for this, since a block cannot know its own hash
// before it is decided and its proposer could grind it) and claims each one's root
// dividends on every subnet by its claim type, unforced: amounts below
// dtao.RootClaimMinimum stay owed. A coldkey's claim runs in a cache: if it fails, its
// writes are dropped, root_autoclaim_failed is emitted and the others go on (as subtensor
// logs and rolls back). Then it stores this block's hash.
func (sk *Keeper) AutoClaimRoot(ctx *module.Context) error {
	parent, err := ctx.KV.Get(keyClaimLastBlock)
	if err != nil {
		return err
	}
	n, err := module.GetUint64(ctx.KV, keyClaimCount)
	if err != nil {
		return err
	}
	picks := dtao.AutoClaimIndices(parent, dtao.AutoClaimsPerBlock, n)
	if len(picks) > 0 {
		if _, err := sk.ensureIssuance(ctx.KV); err != nil {
			return err
		}
	}
	for _, i := range picks {
		cold, ok, err := sk.indexedColdkey(ctx.KV, i)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("auto-claim index: no coldkey at %d of %d", i, n)
		}
		c := store.NewCache(ctx.KV)
		sub := &module.Context{KV: c, ChainID: ctx.ChainID, Height: ctx.Height, Time: ctx.Time, BlockHash: ctx.BlockHash, Proposer: ctx.Proposer}
		err = sk.autoClaimOne(sub, cold)
		if err != nil {
			ctx.Emit("root_autoclaim_failed", module.Attr("coldkey", cold.String()), module.Attr("error", err.Error()))
			continue
		}
		if err := c.Write(ctx.KV); err != nil {
			return err
		}
		for _, e := range sub.Events() {
			ctx.Emit(e.Type, e.Attributes...)
		}
	}
	if len(ctx.BlockHash) == 0 {
		return ctx.KV.Delete(keyClaimLastBlock)
	}
	return ctx.KV.Set(keyClaimLastBlock, slices.Clone(ctx.BlockHash))
}

func (sk *Keeper) autoClaimOne(ctx *module.Context, cold keys.PublicKey) error {
	hots, err := sk.rootHotkeys(ctx.KV, cold)
	if err != nil {
		return err
	}
	ct, err := sk.RootClaimTypeOf(ctx.KV, cold)
	if err != nil {
		return err
	}
	_, err = sk.claimFor(ctx, cold, hots, nil, ct, false, true)
	return err
}

// checkClaimIndex checks the auto-claim's index: positions 0..n−1 each hold a coldkey
// whose entry points back at it, no other entries exist, and the indexed coldkeys are
// exactly those with a root position.
func (sk *Keeper) checkClaimIndex(r store.Reader) error {
	n, err := module.GetUint64(r, keyClaimCount)
	if err != nil {
		return err
	}
	var entries uint64
	if err := r.Iterate(prefixClaimIndex, func(k, v []byte) (bool, error) {
		var i uint64
		if err := tx.UnmarshalState(v, &i); err != nil {
			return false, err
		}
		cold := keys.PublicKey(k[len(prefixClaimIndex):])
		at, ok, err := sk.indexedColdkey(r, i)
		if err != nil {
			return false, err
		}
		if !ok || at != cold || i >= n {
			return false, fmt.Errorf("auto-claim index: %s says position %d of %d, which holds %s", cold, i, n, at)
		}
		var positions bool
		if err := r.Iterate(module.Key(prefixCold, cold[:]), func(_, _ []byte) (bool, error) { positions = true; return false, nil }); err != nil {
			return false, err
		}
		if !positions {
			return false, fmt.Errorf("auto-claim index: %s is indexed at %d but has no root stake", cold, i)
		}
		entries++
		return true, nil
	}); err != nil {
		return err
	}
	var ats uint64
	if err := r.Iterate(prefixClaimAt, func(_, _ []byte) (bool, error) { ats++; return true, nil }); err != nil {
		return err
	}
	if entries != n || ats != n {
		return fmt.Errorf("auto-claim index: count %d, %d coldkeys indexed, %d positions", n, entries, ats)
	}
	var prev keys.PublicKey
	first := true
	return r.Iterate(prefixCold, func(k, _ []byte) (bool, error) {
		cold := keys.PublicKey(k[len(prefixCold) : len(prefixCold)+32])
		if !first && cold == prev {
			return true, nil
		}
		first, prev = false, cold
		b, err := r.Get(module.Key(prefixClaimIndex, cold[:]))
		if err == nil && b == nil {
			err = fmt.Errorf("auto-claim index: %s has root stake but is not indexed", cold)
		}
		return err == nil, err
	})
}

func (sk *Keeper) queryRootClaimType(q module.QueryRequest) (any, error) {
	cold, err := module.AddressArg(q.Args[0])
	if err != nil {
		return nil, err
	}
	ct, err := sk.RootClaimTypeOf(q.State, cold)
	if err != nil {
		return nil, err
	}
	v := stake.RootClaimTypeView{Coldkey: cold.String(), Type: stake.ClaimTypeName(ct.Type), Netuids: ct.Netuids}
	if v.Netuids == nil {
		v.Netuids = []uint16{}
	}
	if v.Indexed, err = module.GetUint64(q.State, keyClaimCount); err != nil {
		return nil, err
	}
	b, err := q.State.Get(module.Key(prefixClaimIndex, cold[:]))
	if err != nil {
		return nil, err
	}
	if b != nil {
		v.AutoClaim = true
		err = tx.UnmarshalState(b, &v.Index)
	}
	return v, err
}
