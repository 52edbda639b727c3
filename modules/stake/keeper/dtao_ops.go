package keeper

import (
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

// side is a subnet's staking side: its pool, or for root (netuid 0) a stable 1:1 pool
// over the root stake (pool is then nil: the root ledger itself records what changes).
func (sk *Keeper) side(r store.Reader, netuid uint16) (dtao.Side, *stake.Pool, error) {
	if netuid == 0 {
		total, err := sk.TotalStaked(r)
		return dtao.Side{Pool: dtao.Pool{TAO: total, Alpha: total, Stable: true}, AlphaOut: total}, nil, err
	}
	p, ok, err := sk.Pool(r, netuid)
	if err != nil {
		return dtao.Side{}, nil, err
	}
	if !ok {
		return dtao.Side{}, nil, tx.Errorf(tx.CodeNotFound, "subnet %d has no dTAO pool (no such subnet, or the chain runs without dTAO)", netuid)
	}
	return p.Side(), &p, nil
}

func (sk *Keeper) saveSide(kv store.KV, p *stake.Pool, sd dtao.Side, volume uint64) error {
	if p == nil {
		return nil
	}
	p.SetSide(sd)
	p.Volume += volume
	return sk.putPool(kv, p)
}

// positionOf is a coldkey's stake on (hotkey, netuid): TAO on root, alpha elsewhere.
func (sk *Keeper) positionOf(r store.Reader, netuid uint16, hot, cold keys.PublicKey) (uint64, error) {
	if netuid == 0 {
		return sk.StakeOf(r, hot, cold)
	}
	return sk.AlphaOf(r, netuid, hot, cold)
}

func (sk *Keeper) credit(kv store.KV, netuid uint16, hot, cold keys.PublicKey, u uint64) error {
	if netuid == 0 {
		return sk.AddStake(kv, hot, cold, u)
	}
	if err := sk.creditAlpha(kv, netuid, hot, cold, u); err != nil {
		return stakeError(err, netuid, dtao.Pool{}, u, dtao.Limit{})
	}
	return nil
}

func (sk *Keeper) debit(kv store.KV, netuid uint16, hot, cold keys.PublicKey, u uint64) error {
	if netuid == 0 {
		return sk.subStake(kv, hot, cold, u)
	}
	return sk.debitAlpha(kv, netuid, hot, cold, u)
}

func (sk *Keeper) needOwner(r store.Reader, hot keys.PublicKey) error {
	if _, ok, err := sk.Owner(r, hot); err != nil {
		return err
	} else if !ok {
		return tx.Errorf(tx.CodeNotFound, "hotkey %s is not registered on any subnet; register it first", hot)
	}
	return nil
}

func (sk *Keeper) needPosition(r store.Reader, netuid uint16, hot, cold keys.PublicKey, amount uint64) (uint64, error) {
	have, err := sk.positionOf(r, netuid, hot, cold)
	if err != nil {
		return 0, err
	}
	if have < amount {
		unit := "alpha"
		if netuid == 0 {
			unit = "TAO"
		}
		return 0, tx.Errorf(tx.CodeInsufficientFunds, "%s has %s %s staked on %s on subnet %d, cannot take %s",
			cold, accounts.FormatAmount(have), unit, hot, netuid, accounts.FormatAmount(amount))
	}
	return have, nil
}

// addAlpha is stake/add on a dTAO subnet: the TAO buys alpha through the pool.
func (sk *Keeper) addAlpha(ctx *module.Context, signer, hot keys.PublicKey, a stake.Add) error {
	sd, pool, err := sk.side(ctx.KV, a.Netuid)
	if err != nil {
		return err
	}
	if _, err := sk.ensureIssuance(ctx.KV); err != nil {
		return err
	}
	lim := dtao.Limit{Price: a.LimitPrice, AllowPartial: a.AllowPartial}
	nsd, res, err := dtao.AddStake(sd, a.Amount, lim, StakeParams())
	if err != nil {
		return stakeError(err, a.Netuid, sd.Pool, a.Amount, lim)
	}
	if err := sk.accounts.Debit(ctx.KV, signer, res.TAOTaken); err != nil {
		return err
	}
	if err := sk.credit(ctx.KV, a.Netuid, hot, signer, res.Alpha); err != nil {
		return err
	}
	if err := sk.saveSide(ctx.KV, pool, nsd, res.PaidIn); err != nil {
		return err
	}
	if err := sk.payAuthor(ctx, res.Fee); err != nil { // to the block author (authors.go)
		return err
	}
	ctx.Emit("stake_added", module.Attr("coldkey", signer.String()), module.Attr("hotkey", hot.String()),
		module.Attr("netuid", strconv.Itoa(int(a.Netuid))), module.Attr("amount", u64s(res.TAOTaken)),
		module.Attr("alpha", u64s(res.Alpha)), module.Attr("fee", u64s(res.Fee)))
	return nil
}

// removeAlpha is stake/remove on a dTAO subnet: the alpha is sold through the pool.
func (sk *Keeper) removeAlpha(ctx *module.Context, signer, hot keys.PublicKey, r stake.Remove) error {
	have, err := sk.needPosition(ctx.KV, r.Netuid, hot, signer, r.Amount)
	if err != nil {
		return err
	}
	lim := dtao.Limit{Price: r.LimitPrice, AllowPartial: r.AllowPartial}
	_, err = sk.sellAlpha(ctx, signer, hot, r.Netuid, r.Amount, have, lim, true)
	return err
}

// sellAlpha sells amount of the signer's alpha on (hot, netuid), of which it has have,
// through the pool (dtao.RemoveStake: fee and slippage), pays the fee to the block author
// and emits stake_removed. The TAO goes to the signer's balance when toBalance, else the
// caller places it; sellAlpha returns it.
func (sk *Keeper) sellAlpha(ctx *module.Context, signer, hot keys.PublicKey, netuid uint16, amount, have uint64, lim dtao.Limit, toBalance bool) (uint64, error) {
	sd, pool, err := sk.side(ctx.KV, netuid)
	if err != nil {
		return 0, err
	}
	if _, err := sk.ensureIssuance(ctx.KV); err != nil {
		return 0, err
	}
	nsd, res, err := dtao.RemoveStake(sd, amount, have, lim, StakeParams())
	if err != nil {
		return 0, stakeError(err, netuid, sd.Pool, amount, lim)
	}
	if err := sk.debit(ctx.KV, netuid, hot, signer, res.AlphaTaken); err != nil {
		return 0, err
	}
	if toBalance {
		if err := sk.accounts.Credit(ctx.KV, signer, res.TAO); err != nil {
			return 0, err
		}
	}
	if err := sk.saveSide(ctx.KV, pool, nsd, res.TAO+res.AuthorTAO); err != nil {
		return 0, err
	}
	if err := sk.payAuthor(ctx, res.AuthorTAO); err != nil { // to the block author (authors.go)
		return 0, err
	}
	ctx.Emit("stake_removed", module.Attr("coldkey", signer.String()), module.Attr("hotkey", hot.String()),
		module.Attr("netuid", strconv.Itoa(int(netuid))), module.Attr("alpha", u64s(res.AlphaTaken)),
		module.Attr("amount", u64s(res.TAO)), module.Attr("fee", u64s(res.AuthorTAO)))
	return res.TAO, nil
}

// unstakeAll is stake/unstake_all and, with toRoot, stake/unstake_all_alpha (see
// stake.UnstakeAll): each alpha position of the signer on the hotkey, in netuid order, is
// sold whole; one the pool refuses stays (subtensor skips a position whose
// validate_remove_stake fails). Without toRoot the root stake comes back one for one too;
// with it the TAO of the sales is staked on root under the hotkey (fee-free, 1:1).
func (sk *Keeper) unstakeAll(ctx *module.Context, signer keys.PublicKey, msg tx.Msg, toRoot bool) error {
	var u stake.UnstakeAll
	if err := msg.DecodeBody(&u); err != nil {
		return err
	}
	hot, err := module.PublicKey("hotkey", u.Hotkey)
	if err != nil {
		return err
	}
	if err := sk.needOwner(ctx.KV, hot); err != nil {
		return err
	}
	positions, err := sk.AlphaPositions(ctx.KV, signer)
	if err != nil {
		return err
	}
	var sold uint64
	sales := 0
	for _, p := range positions {
		// A position's TAO value is its whole sale simulated on the pool as it is now
		// (AlphaPositions), 0 where the pool refuses it (or it would fetch nothing): that
		// position stays, and a refused sale changes nothing. Each position is on its own
		// subnet, so the sales before it do not move its pool.
		if p.Hotkey != hot.String() || p.Stake == 0 || p.TAOValue == 0 {
			continue
		}
		tao, err := sk.sellAlpha(ctx, signer, hot, p.Netuid, p.Stake, p.Stake, dtao.Limit{}, !toRoot)
		if err != nil {
			return err
		}
		sold, sales = sold+tao, sales+1
	}
	root, err := sk.StakeOf(ctx.KV, hot, signer)
	if err != nil {
		return err
	}
	switch {
	case toRoot && sold > 0:
		if err := sk.AddStake(ctx.KV, hot, signer, sold); err != nil {
			return err
		}
		ctx.Emit("stake_added", module.Attr("coldkey", signer.String()), module.Attr("hotkey", hot.String()),
			module.Attr("netuid", "0"), module.Attr("amount", u64s(sold)), module.Attr("alpha", u64s(sold)), module.Attr("fee", "0"))
	case !toRoot && root > 0:
		if err := sk.subStake(ctx.KV, hot, signer, root); err != nil {
			return err
		}
		if err := sk.accounts.Credit(ctx.KV, signer, root); err != nil {
			return err
		}
		ctx.Emit("stake_removed", module.Attr("coldkey", signer.String()), module.Attr("hotkey", hot.String()),
			module.Attr("netuid", "0"), module.Attr("amount", u64s(root)))
		sales++
	}
	if sales == 0 {
		return tx.Errorf(tx.CodeNotFound, "%s has no stake on %s that can be unstaked", signer, hot)
	}
	return nil
}

// moveStake moves amount of cold's stake on (fromHot, fromNet) to toCold on (toHot,
// toNet): on one subnet the shares move (no swap, no fee); across subnets the stake is
// sold on the origin and bought on the destination, one fee charged, and a result below
// the minimum stake is paid to toCold's balance instead.
func (sk *Keeper) moveStake(ctx *module.Context, event string, cold, fromHot keys.PublicKey, fromNet uint16,
	toCold, toHot keys.PublicKey, toNet uint16, amount uint64, lim dtao.Limit) error {
	if amount == 0 {
		return tx.Errorf(tx.CodeInvalidAmount, "amount must be greater than zero")
	}
	if err := sk.needOwner(ctx.KV, toHot); err != nil {
		return err
	}
	have, err := sk.needPosition(ctx.KV, fromNet, fromHot, cold, amount)
	if err != nil {
		return err
	}
	attrs := []abci.EventAttribute{module.Attr("coldkey", cold.String()), module.Attr("from", fromHot.String()),
		module.Attr("from_netuid", strconv.Itoa(int(fromNet))), module.Attr("to_coldkey", toCold.String()),
		module.Attr("to", toHot.String()), module.Attr("to_netuid", strconv.Itoa(int(toNet))), module.Attr("amount", u64s(amount))}
	if fromNet == toNet {
		if fromNet != 0 {
			if _, _, err := sk.side(ctx.KV, fromNet); err != nil {
				return err
			}
			if amount < StakeParams().MinStake {
				return stakeError(dtao.ErrAmountTooLow, fromNet, dtao.Pool{}, amount, lim)
			}
		}
		if err := sk.debit(ctx.KV, fromNet, fromHot, cold, amount); err != nil {
			return err
		}
		if err := sk.credit(ctx.KV, toNet, toHot, toCold, amount); err != nil {
			return err
		}
		ctx.Emit(event, append(attrs, module.Attr("received", u64s(amount)))...)
		return nil
	}
	fsd, fpool, err := sk.side(ctx.KV, fromNet)
	if err != nil {
		return err
	}
	tsd, tpool, err := sk.side(ctx.KV, toNet)
	if err != nil {
		return err
	}
	if _, err := sk.ensureIssuance(ctx.KV); err != nil {
		return err
	}
	nf, nt, res, err := dtao.MoveStake(fsd, tsd, amount, have, lim, StakeParams())
	if err != nil {
		return stakeError(err, fromNet, fsd.Pool, amount, lim)
	}
	if err := sk.debit(ctx.KV, fromNet, fromHot, cold, res.AlphaTaken); err != nil {
		return err
	}
	if err := sk.saveSide(ctx.KV, fpool, nf, res.TAO); err != nil {
		return err
	}
	if res.Restaked {
		if err := sk.credit(ctx.KV, toNet, toHot, toCold, res.Alpha); err != nil {
			return err
		}
		if err := sk.saveSide(ctx.KV, tpool, nt, res.TAO); err != nil {
			return err
		}
	} else if err := sk.accounts.Credit(ctx.KV, toCold, res.TAO); err != nil {
		return err
	}
	if err := sk.payAuthor(ctx, res.AuthorTAO); err != nil { // to the block author (authors.go)
		return err
	}
	attrs[len(attrs)-1] = module.Attr("amount", u64s(res.AlphaTaken)) // less than asked where a limit cut it
	ctx.Emit(event, append(attrs, module.Attr("tao", u64s(res.TAO)), module.Attr("received", u64s(res.Alpha)),
		module.Attr("restaked", strconv.FormatBool(res.Restaked)), module.Attr("fee", u64s(res.AuthorTAO)))...)
	return nil
}

func (sk *Keeper) transfer(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var t stake.Transfer
	if err := msg.DecodeBody(&t); err != nil {
		return err
	}
	dest, err := module.PublicKey("dest", t.Dest)
	if err != nil {
		return err
	}
	hot, err := module.PublicKey("hotkey", t.Hotkey)
	if err != nil {
		return err
	}
	if dest == signer && t.FromNetuid == t.ToNetuid {
		return tx.Errorf(tx.CodeInvalidMessage, "the stake is already %s's on subnet %d", dest, t.ToNetuid)
	}
	return sk.moveStake(ctx, "stake_transferred", signer, hot, t.FromNetuid, dest, hot, t.ToNetuid, t.Amount, dtao.Limit{})
}

func (sk *Keeper) swap(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var s stake.Swap
	if err := msg.DecodeBody(&s); err != nil {
		return err
	}
	hot, err := module.PublicKey("hotkey", s.Hotkey)
	if err != nil {
		return err
	}
	if s.FromNetuid == s.ToNetuid {
		return tx.Errorf(tx.CodeInvalidMessage, "swap needs two different subnets, both are %d", s.ToNetuid)
	}
	return sk.moveStake(ctx, "stake_swapped", signer, hot, s.FromNetuid, signer, hot, s.ToNetuid, s.Amount,
		dtao.Limit{Price: s.LimitPrice, AllowPartial: s.AllowPartial})
}

func u64s(v uint64) string { return strconv.FormatUint(v, 10) }
