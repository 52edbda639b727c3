package keeper

import (
	"errors"
	"fmt"

	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/store"
)

// Coinbase runs one block's dTAO coinbase (dtao.RunCoinbase, then the moving prices) over
// every pool and writes the result back: TAO injected or used for chain buys, alpha minted
// into the pending amounts; the issuance rises by what was spent.
func (sk *Keeper) Coinbase(kv store.KV, block uint64, cp stake.CoinbaseParams) (dtao.CoinbaseResult, error) {
	iss, err := sk.ensureIssuance(kv)
	if err != nil {
		return dtao.CoinbaseResult{}, err
	}
	pools, err := sk.Pools(kv)
	if err != nil || len(pools) == 0 {
		return dtao.CoinbaseResult{}, err
	}
	root, err := sk.TotalStaked(kv)
	if err != nil {
		return dtao.CoinbaseResult{}, err
	}
	st := dtao.DefaultState()
	st.TotalIssuance, st.RootTAO, st.TaoWeight, st.OwnerCut = iss, root, cp.TaoWeight, cp.OwnerCut
	if !cp.MovingAlpha.IsZero() {
		st.MovingAlpha = cp.MovingAlpha
	}
	if cp.EMAHalving != 0 {
		st.EMAHalving = cp.EMAHalving
	}
	st.Subnets = make([]dtao.Subnet, len(pools))
	for i := range pools {
		p := &pools[i]
		st.Subnets[i] = dtao.Subnet{Netuid: p.Netuid, Pool: p.DPool(), AlphaOut: p.AlphaOut, ProtocolAlpha: p.ProtocolAlpha,
			MovingPrice: p.MovingPrice(), FirstEmissionBlock: p.FirstEmissionBlock, SubtokenEnabled: true,
			RegistrationAllowed: true, EmissionEnabled: true, OwnerCutEnabled: true, MinerBurned: p.MinerBurned(),
			PendingServer: p.PendingServer, PendingValidator: p.PendingValidator, PendingRoot: p.PendingRoot,
			PendingOwnerCut: p.PendingOwnerCut}
		if p.FirstEmissionBlock > block {
			st.Subnets[i].FirstEmissionBlock = 0 // not started yet
		}
	}
	emission := BlockEmissionAt(iss, cp.BlockEmission)
	rule := cp.Rule
	if rule == nil {
		rule = dtao.EMAPriceShares
	}
	nst, res := dtao.RunCoinbase(st, emission, rule)
	dtao.UpdateMovingPrices(&nst, block)
	byNet := map[uint16]*dtao.SubnetEmission{}
	for i := range res.Subnets {
		byNet[res.Subnets[i].Netuid] = &res.Subnets[i]
	}
	for i := range pools {
		p, s := &pools[i], &nst.Subnets[i]
		p.SetDPool(s.Pool)
		p.AlphaOut, p.ProtocolAlpha = s.AlphaOut, s.ProtocolAlpha
		p.EMAHi, p.EMALo = s.MovingPrice.Hi, s.MovingPrice.Lo
		p.PendingServer, p.PendingValidator, p.PendingRoot, p.PendingOwnerCut = s.PendingServer, s.PendingValidator, s.PendingRoot, s.PendingOwnerCut
		p.ShareHi, p.ShareLo, p.LastEmission = 0, 0, 0
		if e := byNet[p.Netuid]; e != nil {
			p.ShareHi, p.ShareLo = e.Share.Hi, e.Share.Lo
			p.LastEmission = e.TAOIn + e.ChainBuyTAO
			p.Volume += e.ChainBuyTAO
			p.AlphaDust += e.AlphaDust
		}
		if err := sk.putPool(kv, p); err != nil {
			return res, err
		}
	}
	return res, putIssuance(kv, nst.TotalIssuance)
}

func putIssuance(kv store.KV, v uint64) error {
	return module.PutUint64(kv, keyIssuance, v)
}

// BlockEmissionAt is base halved as dtao.BlockEmission halves 1 TAO at the issuance
// (dtao.HalvedEmission).
func BlockEmissionAt(issuance, base uint64) uint64 { return dtao.HalvedEmission(issuance, base) }

// Pending is a subnet's emission accumulated for its next epoch: server, validator, root
// and the owner's cut (alpha).
func (sk *Keeper) Pending(r store.Reader, netuid uint16) (server, validator, root, ownerCut uint64, err error) {
	p, ok, err := sk.Pool(r, netuid)
	if err != nil || !ok {
		return 0, 0, 0, 0, err
	}
	return p.PendingServer, p.PendingValidator, p.PendingRoot, p.PendingOwnerCut, nil
}

// PayEpoch drains a subnet's pending emission and pays it in alpha (dtao.md §3):
// incentives to the miners' owners (withheld from the subnet owner's hotkeys), dividends
// split by each validator's own alpha and root stake into the alpha pot (the take to the
// hotkey's owner, the rest to its nominators pro rata) and the root pot (the take staked
// to the hotkey's owner, the rest accrued for the hotkey's root stakers to claim:
// accrueRootDividend), the owner cut staked to the owner's hotkey. What no one receives is recycled (AlphaOut falls).
// Where the subnet has child keys, each uid's dividend is first shared with its parents
// (childDividends), who are paid as validators whether or not they are uids.
func (sk *Keeper) PayEpoch(kv store.KV, pay stake.EpochPayout) (stake.EpochPaid, error) {
	n := len(pay.Hotkeys)
	out := stake.EpochPaid{Miner: make([]uint64, n), Validator: make([]uint64, n), Root: make([]uint64, n)}
	pool, ok, err := sk.Pool(kv, pay.Netuid)
	if err != nil || !ok {
		return out, err
	}
	srv, val, rootPot, cut := pool.PendingServer, pool.PendingValidator, pool.PendingRoot, pool.PendingOwnerCut
	out.Drained = srv + val + rootPot + cut
	out.ServerPot, out.ValidatorPot, out.RootPot = srv, val, rootPot
	pool.PendingServer, pool.PendingValidator, pool.PendingRoot, pool.PendingOwnerCut = 0, 0, 0, 0
	if err := sk.putPool(kv, &pool); err != nil {
		return out, err
	}
	paidIncentive, withheld, minerBurned := dtao.PayIncentives(pay.Incentive, pay.OwnerAssociated)
	var totalIncentive uint64
	for _, v := range pay.Incentive {
		totalIncentive += v
	}
	vPot := dtao.ValidatorPot(val, srv, totalIncentive)
	// Child keys: each uid's dividend is first shared with its parents (receivers from n
	// on are parents that are not uids); without them recv is pay.Hotkeys, unchanged.
	recv, div, ownAlpha, ownRoot, err := sk.childDividends(kv, pay)
	if err != nil {
		return out, err
	}
	alphaPay, rootPay := dtao.SplitDividends(div, ownAlpha, ownRoot, pay.TaoWeight, vPot, rootPot)
	var spent uint64
	budgetMiner := srv
	if totalIncentive == 0 {
		budgetMiner = 0 // the server part went to the validator pot
	}
	out.Withheld = min(withheld, budgetMiner)
	budgetMiner -= out.Withheld
	spent += out.Withheld
	for uid, hot := range pay.Hotkeys {
		if v := min(paidIncentive[uid], budgetMiner); v > 0 {
			if err := sk.payAlphaToOwner(kv, pay.Netuid, hot, v); tooSmall(err) {
				continue // recycled below
			} else if err != nil {
				return out, err
			}
			budgetMiner -= v
			out.Miner[uid] = v
			spent += v
		}
		if v := alphaPay[uid]; v > 0 {
			if err := sk.payAlphaValidator(kv, pay.Netuid, hot, v); tooSmall(err) {
				continue
			} else if err != nil {
				return out, err
			}
			out.Validator[uid] = v
			spent += v
		}
	}
	for i, hot := range recv[n:] {
		if v := alphaPay[n+i]; v > 0 {
			if err := sk.payAlphaValidator(kv, pay.Netuid, hot, v); tooSmall(err) {
				continue
			} else if err != nil {
				return out, err
			}
			out.ToParents += v
			spent += v
		}
	}
	if cut > 0 {
		if err := sk.creditAlpha(kv, pay.Netuid, pay.OwnerHotkey, pay.Owner, cut); tooSmall(err) {
			cut = 0
		} else if err != nil {
			return out, fmt.Errorf("owner cut on subnet %d: %w", pay.Netuid, err)
		}
		out.OwnerCut = cut
		spent += cut
	}
	// Root dividends last: they sell alpha on the pool.
	for uid, hot := range recv {
		if v := rootPay[uid]; v > 0 {
			accrued, err := sk.accrueRootDividend(kv, pay.Netuid, hot, v)
			if tooSmall(err) {
				continue
			} else if err != nil {
				return out, err
			}
			if uid < n {
				out.Root[uid] = v
			} else {
				out.ToParents += v
			}
			out.RootAccrued += accrued
			spent += v
		}
	}
	pool, _, err = sk.Pool(kv, pay.Netuid)
	if err != nil {
		return out, err
	}
	// Withheld incentive and what no one received leave AlphaOut.
	out.Recycled = out.Drained - min(spent, out.Drained) + out.Withheld
	pool.AlphaOut -= min(pool.AlphaOut, out.Recycled)
	pool.MinerBurnedHi, pool.MinerBurnedLo = minerBurned.Hi, minerBurned.Lo
	return out, sk.putPool(kv, &pool)
}

// tooSmall is a credit refused because it would get no share (or overflow the hotkey's
// value): the payout is recycled instead of halting the block.
func tooSmall(err error) bool { return errors.Is(err, dtao.ErrStakeTooSmall) }

// payAlphaToOwner stakes u alpha to (hot, hot's owner) on a subnet.
func (sk *Keeper) payAlphaToOwner(kv store.KV, netuid uint16, hot keys.PublicKey, u uint64) error {
	owner, ok, err := sk.Owner(kv, hot)
	if err != nil || !ok {
		return fmt.Errorf("pay %s on subnet %d: hotkey has no owner (%v)", hot, netuid, err)
	}
	return sk.creditAlpha(kv, netuid, hot, owner, u)
}

// payAlphaValidator pays a validator's alpha dividend: the take to the hotkey's owner,
// the rest to its nominators on the subnet, pro rata (V grows).
func (sk *Keeper) payAlphaValidator(kv store.KV, netuid uint16, hot keys.PublicKey, u uint64) error {
	take, err := sk.Take(kv, hot)
	if err != nil {
		return err
	}
	toOwner, rest := dtao.Take(u, take)
	if err := sk.distributeAlpha(kv, netuid, hot, rest); err != nil {
		return err
	}
	if toOwner == 0 {
		return nil
	}
	return sk.payAlphaToOwner(kv, netuid, hot, toOwner)
}
