package keeper

import (
	"bytes"
	"fmt"
	"math/big"
	"slices"
	"strconv"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// Root claims (subtensor's staking/claim_root.rs, research/dtao.md §3). A root dividend
// of x alpha to hotkey h on subnet n (after the take) raises h's claim rate on n,
// RootClaimable[h][n], by x/root_stake(h) in U96F32 and moves x into the pool's RootHeld.
// A coldkey c with root stake s under h is owed rate·s − claimed[h][c][n]. Claimed is
// kept exactly, in 2^-32 units and signed: every change of c's root stake under h by Δ
// moves it by rate·Δ on every subnet where h has a rate, so the owed amount does not
// change (new stake earns only later dividends; GHSA-2026-010: every stake-moving path
// goes through AddStake and subStake, which do it). A claim pays ⌊owed⌋ and adds it to
// claimed. So Σ owed ≤ Σ x·(rate floors) ≤ RootHeld always: the claims cannot take more
// alpha than was accrued (CheckRootClaims checks it).
var (
	prefixRootRate    = []byte("stk/rr/") // hotkey ‖ netuid → rootRate (U96F32 bits)
	prefixRootClaimed = []byte("stk/rd/") // hotkey ‖ coldkey ‖ netuid → signedBits (2^-32 units)
	prefixRootIndex   = []byte("stk/rx/") // coldkey ‖ hotkey → empty: the coldkey has claimed entries under the hotkey
)

type rootRate struct {
	Hi uint64 `cbor:"1,keyasint"`
	Lo uint64 `cbor:"2,keyasint"`
}

// signedBits is a signed big integer as stored: its sign and magnitude (big-endian).
type signedBits struct {
	Neg bool   `cbor:"1,keyasint,omitempty"`
	Mag []byte `cbor:"2,keyasint,omitempty"`
}

func rateKey(hot keys.PublicKey, netuid uint16) []byte {
	return module.Key(prefixRootRate, hot[:], u16(netuid))
}

func claimedKey(hot, cold keys.PublicKey, netuid uint16) []byte {
	return module.Key(prefixRootClaimed, hot[:], cold[:], u16(netuid))
}

func (r rootRate) bits() *big.Int {
	b := new(big.Int).SetUint64(r.Hi)
	return b.Lsh(b, 64).Or(b, new(big.Int).SetUint64(r.Lo))
}

// rootRates lists a hotkey's claim rates by netuid, ascending.
func (sk *Keeper) rootRates(r store.Reader, hot keys.PublicKey) (netuids []uint16, rates []rootRate, err error) {
	prefix := module.Key(prefixRootRate, hot[:])
	err = r.Iterate(prefix, func(k, v []byte) (bool, error) {
		var rr rootRate
		if err := tx.UnmarshalState(v, &rr); err != nil {
			return false, err
		}
		rest := k[len(prefix):]
		netuids = append(netuids, uint16(rest[0])<<8|uint16(rest[1]))
		rates = append(rates, rr)
		return true, nil
	})
	return netuids, rates, err
}

func (sk *Keeper) claimed(r store.Reader, hot, cold keys.PublicKey, netuid uint16) (*big.Int, error) {
	var sb signedBits
	_, err := module.Get(r, claimedKey(hot, cold, netuid), &sb)
	v := new(big.Int).SetBytes(sb.Mag)
	if sb.Neg {
		v.Neg(v)
	}
	return v, err
}

func (sk *Keeper) putClaimed(kv store.KV, hot, cold keys.PublicKey, netuid uint16, v *big.Int) error {
	if v.Sign() == 0 {
		return kv.Delete(claimedKey(hot, cold, netuid))
	}
	if err := kv.Set(module.Key(prefixRootIndex, cold[:], hot[:]), []byte{}); err != nil {
		return err
	}
	return module.Put(kv, claimedKey(hot, cold, netuid), signedBits{Neg: v.Sign() < 0, Mag: new(big.Int).Abs(v).Bytes()})
}

// rootStakeChanged moves claimed[hot][cold][n] by rate·delta (delta signed, negative for a
// decrease) on every subnet where hot has a claim rate, so that a change of root stake
// leaves what is owed as it was.
func (sk *Keeper) rootStakeChanged(kv store.KV, hot, cold keys.PublicKey, amount uint64, decrease bool) error {
	netuids, rates, err := sk.rootRates(kv, hot)
	if err != nil || len(netuids) == 0 {
		return err
	}
	d := new(big.Int).SetUint64(amount)
	if decrease {
		d.Neg(d)
	}
	for i, n := range netuids {
		c, err := sk.claimed(kv, hot, cold, n)
		if err != nil {
			return err
		}
		c.Add(c, new(big.Int).Mul(rates[i].bits(), d))
		if err := sk.putClaimed(kv, hot, cold, n, c); err != nil {
			return err
		}
	}
	return nil
}

// rootOwed is what (hot, cold) may claim on netuid: ⌊rate·stake − claimed⌋ (0 if negative,
// which the bookkeeping never makes).
func (sk *Keeper) rootOwed(r store.Reader, hot, cold keys.PublicKey, netuid uint16, rate rootRate) (uint64, error) {
	s, err := sk.StakeOf(r, hot, cold)
	if err != nil {
		return 0, err
	}
	c, err := sk.claimed(r, hot, cold, netuid)
	if err != nil {
		return 0, err
	}
	e := new(big.Int).Mul(rate.bits(), new(big.Int).SetUint64(s))
	e.Sub(e, c).Rsh(e, 32)
	if e.Sign() <= 0 {
		return 0, nil
	}
	if !e.IsUint64() {
		return 0, fmt.Errorf("root claim of %s under %s on subnet %d overflows", cold, hot, netuid)
	}
	return e.Uint64(), nil
}

// accrueRootDividend is the root part u of a validator's dividend on a subnet
// (claim_root.rs): the take is staked to the hotkey's owner on the subnet; the rest
// raises the hotkey's claim rate by rest/root_stake and is held in the pool (RootHeld).
// If the rest is above the hotkey's root stake (or it has none), it is staked to the
// owner instead, as subtensor does. It returns the alpha accrued for claims.
func (sk *Keeper) accrueRootDividend(kv store.KV, netuid uint16, hot keys.PublicKey, u uint64) (uint64, error) {
	take, err := sk.Take(kv, hot)
	if err != nil {
		return 0, err
	}
	toOwner, rest := dtao.Take(u, take)
	root, err := sk.TotalStake(kv, hot)
	if err != nil {
		return 0, err
	}
	rate, ok := dtao.RootClaimRate(rest, root)
	if !ok || rate.IsZero() {
		return 0, sk.payAlphaToOwner(kv, netuid, hot, u)
	}
	if err := sk.payAlphaToOwner(kv, netuid, hot, toOwner); err != nil {
		return 0, err
	}
	var rr rootRate
	if _, err := module.Get(kv, rateKey(hot, netuid), &rr); err != nil {
		return 0, err
	}
	sum := dtao.U96F32{Hi: rr.Hi, Lo: rr.Lo}.Add(rate)
	if err := module.Put(kv, rateKey(hot, netuid), rootRate{sum.Hi, sum.Lo}); err != nil {
		return 0, err
	}
	p, _, err := sk.Pool(kv, netuid)
	if err != nil {
		return 0, err
	}
	p.RootHeld += rest
	return rest, sk.putPool(kv, &p)
}

// RootClaimables lists what a coldkey may claim, by hotkey (its root positions in
// ascending hotkey order) and netuid; entries with nothing owed are left out.
func (sk *Keeper) RootClaimables(r store.Reader, cold keys.PublicKey) ([]stake.RootClaimable, error) {
	out := []stake.RootClaimable{}
	hots, err := sk.rootHotkeys(r, cold)
	if err != nil {
		return nil, err
	}
	for _, hot := range hots {
		netuids, rates, err := sk.rootRates(r, hot)
		if err != nil {
			return nil, err
		}
		s, err := sk.StakeOf(r, hot, cold)
		if err != nil {
			return nil, err
		}
		for i, n := range netuids {
			owed, err := sk.rootOwed(r, hot, cold, n, rates[i])
			if err != nil {
				return nil, err
			}
			if owed == 0 {
				continue
			}
			e := stake.RootClaimable{Hotkey: hot.String(), Netuid: n, RootStake: s, Owed: owed}
			if p, ok, err := sk.Pool(r, n); err != nil {
				return nil, err
			} else if ok {
				if q, err := p.DPool().QuoteSell(owed, dtao.LimitPrice(dtao.MinPriceRao), true, StakeParams().Pool); err == nil && q.AmountTaken == owed {
					e.TAOValue = q.Out
				}
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// rootHotkeys are the hotkeys a coldkey stakes on root, and those under which it has
// claim bookkeeping (it may be owed dividends after unstaking all), ascending.
func (sk *Keeper) rootHotkeys(r store.Reader, cold keys.PublicKey) ([]keys.PublicKey, error) {
	var hots []keys.PublicKey
	for _, p := range [][]byte{prefixCold, prefixRootIndex} {
		prefix := module.Key(p, cold[:])
		if err := r.Iterate(prefix, func(k, _ []byte) (bool, error) {
			hots = append(hots, keys.PublicKey(k[len(prefix):]))
			return true, nil
		}); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(hots, func(a, b keys.PublicKey) int { return bytes.Compare(a[:], b[:]) })
	return slices.Compact(hots), nil
}

// claimRoot is stake/claim_root: for each (hotkey, netuid) asked for with at least
// dtao.RootClaimMinimum owed, the owed alpha leaves RootHeld and is sold on the pool
// fee-free, its TAO staked on root under the hotkey (Swap), or staked on the subnet under
// the hotkey (Keep, or when the pool refuses the sale). Keep in the message keeps on every
// subnet; without it the coldkey's RootClaimType decides per subnet. As subtensor's
// claim_root, the user's claim is not forced: amounts below the minimum stay owed (they
// grow with later dividends). A claim that can be paid neither way (too small for a share)
// stays owed. A claim that pays nothing is refused.
func (sk *Keeper) claimRoot(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var c stake.ClaimRoot
	if err := msg.DecodeBody(&c); err != nil {
		return err
	}
	hots, err := sk.rootHotkeys(ctx.KV, signer)
	if err != nil {
		return err
	}
	if len(c.Hotkey) > 0 {
		hot, err := module.PublicKey("hotkey", c.Hotkey)
		if err != nil {
			return err
		}
		if !slices.Contains(hots, hot) {
			return tx.Errorf(tx.CodeNotFound, "%s has no root stake under hotkey %s", signer, hot)
		}
		hots = []keys.PublicKey{hot}
	}
	ct, err := sk.RootClaimTypeOf(ctx.KV, signer)
	if err != nil {
		return err
	}
	if c.Keep {
		ct = stake.RootClaimType{Type: stake.ClaimKeep}
	}
	if _, err := sk.ensureIssuance(ctx.KV); err != nil {
		return err
	}
	res, err := sk.claimFor(ctx, signer, hots, c.Netuids, ct, false, false)
	if err != nil {
		return err
	}
	if res.claims == 0 {
		what := "on any subnet"
		if len(c.Netuids) > 0 {
			what = fmt.Sprintf("on subnets %v", c.Netuids)
		}
		if res.below > 0 {
			return tx.Errorf(tx.CodeNotFound, "%s has no root dividends to claim %s: at most %s alpha is owed on a subnet, below the minimum %s a claim takes",
				signer, what, accounts.FormatAmount(res.below), accounts.FormatAmount(dtao.RootClaimMinimum))
		}
		return tx.Errorf(tx.CodeNotFound, "%s has no root dividends to claim %s", signer, what)
	}
	return nil
}

// claimResult counts what claimFor did: the claims paid, and the largest owed amount it
// left because it was below the minimum.
type claimResult struct {
	claims int
	below  uint64
}

// claimFor claims cold's root dividends under hots on the netuids asked for (all if
// none), keeping or swapping per subnet as ct says. Unless forced, an owed amount below
// dtao.RootClaimMinimum is skipped. Each claim emits root_claimed (with auto=true when the
// auto-claim made it).
func (sk *Keeper) claimFor(ctx *module.Context, cold keys.PublicKey, hots []keys.PublicKey, only []uint16, ct stake.RootClaimType, forced, auto bool) (claimResult, error) {
	var res claimResult
	for _, hot := range hots {
		netuids, rates, err := sk.rootRates(ctx.KV, hot)
		if err != nil {
			return res, err
		}
		for i, n := range netuids {
			if len(only) > 0 && !slices.Contains(only, n) {
				continue
			}
			owed, err := sk.rootOwed(ctx.KV, hot, cold, n, rates[i])
			if err != nil {
				return res, err
			}
			if owed == 0 {
				continue
			}
			if !forced && owed < dtao.RootClaimMinimum {
				res.below = max(res.below, owed)
				continue
			}
			tao, kept, err := sk.payRootClaim(ctx.KV, n, hot, cold, owed, ct.Keeps(n))
			if err != nil {
				return res, err
			}
			if !kept && tao == 0 {
				continue // too small to pay either way: it stays owed
			}
			res.claims++
			attrs := []abci.EventAttribute{module.Attr("coldkey", cold.String()), module.Attr("hotkey", hot.String()),
				module.Attr("netuid", strconv.Itoa(int(n))), module.Attr("alpha", u64s(owed)), module.Attr("tao", u64s(tao)),
				module.Attr("kept", strconv.FormatBool(kept))}
			if auto {
				attrs = append(attrs, module.Attr("auto", "true"))
			}
			ctx.Emit("root_claimed", attrs...)
		}
	}
	return res, nil
}

// payRootClaim pays owed alpha of (hot, cold)'s root claim on netuid: marks it claimed,
// takes it out of RootHeld, and sells it for root stake or keeps it staked on the subnet.
func (sk *Keeper) payRootClaim(kv store.KV, netuid uint16, hot, cold keys.PublicKey, owed uint64, keep bool) (tao uint64, kept bool, err error) {
	p, ok, err := sk.Pool(kv, netuid)
	if err != nil || !ok {
		return 0, false, err
	}
	if owed > p.RootHeld {
		return 0, false, fmt.Errorf("subnet %d: a root claim of %d alpha, more than the %d held", netuid, owed, p.RootHeld)
	}
	if !keep {
		d := p.DPool()
		r, err := d.SellAlpha(owed, dtao.LimitPrice(dtao.MinPriceRao), true, StakeParams().Pool)
		if err == nil && r.Out > 0 && r.AmountTaken == owed {
			p.SetDPool(d)
			p.AlphaOut -= owed
			p.RootHeld -= owed
			p.Volume += r.Out
			if err := sk.putPool(kv, &p); err != nil {
				return 0, false, err
			}
			if err := sk.markClaimed(kv, hot, cold, netuid, owed); err != nil {
				return 0, false, err
			}
			return r.Out, false, sk.AddStake(kv, hot, cold, r.Out)
		}
	}
	if err := sk.creditAlpha(kv, netuid, hot, cold, owed); tooSmall(err) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, err
	}
	p.RootHeld -= owed
	if err := sk.putPool(kv, &p); err != nil {
		return 0, false, err
	}
	return 0, true, sk.markClaimed(kv, hot, cold, netuid, owed)
}

func (sk *Keeper) markClaimed(kv store.KV, hot, cold keys.PublicKey, netuid uint16, owed uint64) error {
	c, err := sk.claimed(kv, hot, cold, netuid)
	if err != nil {
		return err
	}
	return sk.putClaimed(kv, hot, cold, netuid, c.Add(c, new(big.Int).Lsh(new(big.Int).SetUint64(owed), 32)))
}

// CheckRootClaims checks, on every pool, that what every root staker is owed (exactly, in
// 2^-32 units) is no more than the pool's RootHeld: the claims cannot take alpha that was
// not accrued; and that the auto-claim's index holds exactly the coldkeys with root stake
// (checkClaimIndex).
func (sk *Keeper) CheckRootClaims(r store.Reader) error {
	if err := sk.checkClaimIndex(r); err != nil {
		return err
	}
	entitled := map[uint16]*big.Int{}
	err := r.Iterate(prefixRootRate, func(k, v []byte) (bool, error) {
		var rr rootRate
		if err := tx.UnmarshalState(v, &rr); err != nil {
			return false, err
		}
		rest := k[len(prefixRootRate):]
		hot, n := keys.PublicKey(rest[:32]), uint16(rest[32])<<8|uint16(rest[33])
		total, err := sk.TotalStake(r, hot)
		if err != nil {
			return false, err
		}
		if entitled[n] == nil {
			entitled[n] = new(big.Int)
		}
		// Σ_c (rate·s_c − claimed_c) = rate·Σ s_c − Σ claimed_c, over every coldkey with
		// bookkeeping (one that left root may still be owed).
		entitled[n].Add(entitled[n], new(big.Int).Mul(rr.bits(), new(big.Int).SetUint64(total)))
		cp := module.Key(prefixRootClaimed, hot[:])
		return true, r.Iterate(cp, func(ck, cv []byte) (bool, error) {
			if cn := ck[len(ck)-2:]; uint16(cn[0])<<8|uint16(cn[1]) != n {
				return true, nil
			}
			var sb signedBits
			if err := tx.UnmarshalState(cv, &sb); err != nil {
				return false, err
			}
			c := new(big.Int).SetBytes(sb.Mag)
			if sb.Neg {
				c.Neg(c)
			}
			entitled[n].Sub(entitled[n], c)
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	ns := make([]uint16, 0, len(entitled))
	for n := range entitled {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	for _, n := range ns {
		p, _, err := sk.Pool(r, n)
		if err != nil {
			return err
		}
		held := new(big.Int).Lsh(new(big.Int).SetUint64(p.RootHeld), 32)
		if entitled[n].Cmp(held) > 0 {
			return fmt.Errorf("subnet %d: root stakers are owed %s alpha (2^-32 units %s), more than the %s held", n,
				accounts.FormatAmount(new(big.Int).Rsh(entitled[n], 32).Uint64()), entitled[n], accounts.FormatAmount(p.RootHeld))
		}
	}
	return nil
}

// dropRootClaims deletes every claim rate and claimed amount on a dissolved subnet (its
// netuid may be reused).
func (sk *Keeper) dropRootClaims(kv store.KV, netuid uint16) error {
	var del [][]byte
	for _, prefix := range [][]byte{prefixRootRate, prefixRootClaimed} {
		if err := kv.Iterate(prefix, func(k, _ []byte) (bool, error) {
			if n := k[len(k)-2:]; uint16(n[0])<<8|uint16(n[1]) == netuid {
				del = append(del, slices.Clone(k))
			}
			return true, nil
		}); err != nil {
			return err
		}
	}
	for _, k := range del {
		if err := kv.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func (sk *Keeper) queryRootClaimable(q module.QueryRequest) (any, error) {
	cold, err := module.AddressArg(q.Args[0])
	if err != nil {
		return nil, err
	}
	return sk.RootClaimables(q.State, cold)
}
