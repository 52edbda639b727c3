package keeper

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// BeginBlock runs, under dTAO, the block's coinbase: the emission split across the
// subnets' pools by their moving prices (dtao.EMAPriceShares), injected or used for
// chain buys, and their alpha emission added to what the next epoch pays. It also fixes
// the chain's TAO issuance before the block's first transaction. Then the staking module
// auto-claims the root dividends of a few coldkeys (AutoClaimRoot).
func (k *Keeper) BeginBlock(ctx *module.Context) error {
	p, err := GetParams(ctx.KV)
	if err != nil || !p.DTAO {
		return err
	}
	cp := stake.CoinbaseParams{BlockEmission: p.BlockEmission, TaoWeight: p.TaoWeight, OwnerCut: p.OwnerCut}
	cp.MovingAlpha, cp.EMAHalving = p.CoinbaseMoving()
	res, err := k.stake.Coinbase(ctx.KV, blockOf(ctx), cp)
	if err != nil {
		return fmt.Errorf("coinbase: %w", err)
	}
	k.lastCoinbase = res
	if err := k.stake.AutoClaimRoot(ctx); err != nil { // after the coinbase, as subtensor's block_step
		return fmt.Errorf("root auto-claim: %w", err)
	}
	return nil
}

// LastCoinbase is the coinbase of the last block this keeper executed (for the devnet's
// report; the state holds each pool's share and emission for queries).
func (k *Keeper) LastCoinbase() dtao.CoinbaseResult { return k.lastCoinbase }

func (k *Keeper) recycleUnderDTAO(kv store.KV, amount uint64) error {
	p, err := GetParams(kv)
	if err != nil || !p.DTAO {
		return err
	}
	return k.stake.Recycle(kv, amount)
}

// endBlockDTAO runs the epochs that are due (dtao.EpochDue on each subnet's last epoch:
// staggered by netuid at creation), at most dtao.MaxEpochsPerBlock a block in netuid
// order (the rest wait a block), and adjusts registration burns.
func (k *Keeper) endBlockDTAO(ctx *module.Context, p subnets.Params, ids []uint16) error {
	block := blockOf(ctx)
	ran := 0
	for _, netuid := range ids {
		if netuid == subnets.RootNetuid {
			continue
		}
		s, err := GetSubnet(ctx.KV, netuid)
		if err != nil {
			return err
		}
		if ran < dtao.MaxEpochsPerBlock && dtao.EpochDue(block, s.LastEpochBlock, s.Hyper.Tempo, s.PendingEpochAt, block-min(block, s.LastEpochBlock)) {
			ran++
			if err := k.runEpochDTAO(ctx, p, s, block); err != nil {
				return fmt.Errorf("epoch of subnet %d: %w", netuid, err)
			}
			s.PendingEpochAt = 0 // a triggered epoch has run (or its slot was spent on a skipped one)
			if err := k.stake.ApplyPendingChildren(ctx, netuid, block); err != nil {
				return fmt.Errorf("child keys of subnet %d: %w", netuid, err)
			}
		}
		adjustBurn(s, block)
		if err := putSubnet(ctx.KV, s); err != nil {
			return err
		}
	}
	return nil
}

// runEpochDTAO runs a subnet's mechanism over its pending alpha emission with the stake
// in alpha plus root TAO × tao_weight, and has the staking ledger pay it in alpha.
func (k *Keeper) runEpochDTAO(ctx *module.Context, p subnets.Params, s *subnets.Subnet, block uint64) error {
	mech, ok := k.mechanisms[s.Mechanism]
	if !ok {
		return k.skipEpoch(ctx, s, block, fmt.Errorf("the chain has no incentive mechanism %q", s.Mechanism))
	}
	srv, val, root, _, err := k.stake.Pending(ctx.KV, s.Netuid)
	if err != nil {
		return err
	}
	in, err := k.EpochInputDTAO(ctx.KV, s, block, dtao.EpochEmission(srv, val, root), p.TaoWeight)
	if err != nil {
		return err
	}
	res, err := mech.Epoch(in)
	if err != nil {
		return k.skipEpoch(ctx, s, block, err)
	}
	pay := stake.EpochPayout{Netuid: s.Netuid, Hotkeys: make([]keys.PublicKey, len(in.Neurons)),
		Incentive: res.ServerEmission, Dividends: res.ValidatorEmission, OwnerAssociated: make([]bool, len(in.Neurons)),
		AlphaStake: in.Stake, RootStake: in.TaoStake, TaoWeight: p.TaoWeight,
		Owner: keys.PublicKey(s.Owner), OwnerHotkey: keys.PublicKey(s.OwnerHotkey)}
	for uid, nr := range in.Neurons {
		pay.Hotkeys[uid] = keys.PublicKey(nr.Hotkey)
		pay.OwnerAssociated[uid] = bytes.Equal(nr.Hotkey, s.OwnerHotkey) || bytes.Equal(nr.Coldkey, s.Owner)
	}
	paid, err := k.stake.PayEpoch(ctx.KV, pay)
	if err != nil {
		return err
	}
	// The metagraph's emission is what each uid was paid, in alpha.
	res.ServerEmission, res.ValidatorEmission = paid.Miner, make([]uint64, len(in.Neurons))
	var total uint64
	for uid := range in.Neurons {
		res.ValidatorEmission[uid] = paid.Validator[uid] + paid.Root[uid]
		total += paid.Miner[uid] + res.ValidatorEmission[uid]
	}
	total += paid.ToParents
	if _, err := k.payAndRecordTerms(ctx, s, in.Neurons, res); err != nil {
		return err
	}
	ctx.Emit("epoch", module.Attr("netuid", strconv.Itoa(int(s.Netuid))), module.Attr("block", strconv.FormatUint(block, 10)),
		module.Attr("emission", strconv.FormatUint(paid.Drained, 10)), module.Attr("owner_cut", strconv.FormatUint(paid.OwnerCut, 10)),
		module.Attr("server", strconv.FormatUint(paid.ServerPot, 10)), module.Attr("validator", strconv.FormatUint(paid.ValidatorPot, 10)),
		module.Attr("root", strconv.FormatUint(paid.RootPot, 10)),
		module.Attr("paid", strconv.FormatUint(total, 10)), module.Attr("root_tao", strconv.FormatUint(paid.RootTAO, 10)),
		module.Attr("recycled", strconv.FormatUint(paid.Recycled, 10)))
	s.LastEpochBlock = block
	return nil
}

// EpochInputDTAO is EpochInput under dTAO: each uid's stake is its hotkey's alpha on the
// subnet and, beside it, its root stake, weighed by taoWeight.
func (k *Keeper) EpochInputDTAO(r store.Reader, s *subnets.Subnet, block, emission, taoWeight uint64) (*subnets.EpochInput, error) {
	neurons, err := Neurons(r, s)
	if err != nil {
		return nil, err
	}
	in := &subnets.EpochInput{Subnet: s, Neurons: neurons, Block: block, Emission: emission, TaoWeight: taoWeight, State: r}
	hot := make([]keys.PublicKey, len(neurons))
	for i, n := range neurons {
		hot[i] = keys.PublicKey(n.Hotkey)
	}
	if in.Stake, in.TaoStake, err = k.stake.EpochStakes(r, s.Netuid, hot); err != nil {
		return nil, err
	}
	if s.Hyper.CommitReveal {
		if in.CommitBlocks, err = commitBlocks(r, s, neurons, block); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// pruneSubnet makes room for a new subnet at max_subnets under dTAO: the non-immune subnet
// with the lowest moving price (dtao.PruneCandidate; ties to the earliest registration) is
// dissolved — its pool paid out to its stakers (stake.DissolvePool), its neurons, weights
// and commitments deleted — and its netuid is free again. It returns the netuids left.
func (k *Keeper) pruneSubnet(ctx *module.Context, p subnets.Params, ids []uint16) ([]uint16, error) {
	var infos []dtao.PruneInfo
	for _, id := range ids {
		pool, ok, err := k.stake.Pool(ctx.KV, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		s, err := GetSubnet(ctx.KV, id)
		if err != nil {
			return nil, err
		}
		infos = append(infos, dtao.PruneInfo{Netuid: id, MovingPrice: pool.MovingPrice(), RegisteredAt: uint64(max(s.CreatedAt, 0))})
	}
	victim, ok := dtao.PruneCandidate(infos, blockOf(ctx), p.NetworkImmunity)
	if !ok {
		return nil, tx.Errorf(tx.CodeConflict, "the chain has its maximum of %d subnets and every one is within its immunity period of %d blocks", p.MaxSubnets, p.NetworkImmunity)
	}
	d, err := k.stake.DissolvePool(ctx.KV, victim)
	if err != nil {
		return nil, err
	}
	for _, prefix := range [][]byte{prefixNeuron, prefixWRow, prefixBonds, prefixTerms, prefixHotkey, prefixCommit, prefixWCmt} {
		if err := module.DeletePrefix(ctx.KV, module.Key(prefix, u16(victim))); err != nil {
			return nil, err
		}
	}
	if err := ctx.KV.Delete(module.Key(prefixSubnet, u16(victim))); err != nil {
		return nil, err
	}
	for _, h := range k.dissolved {
		if err := h(ctx.KV, victim); err != nil {
			return nil, fmt.Errorf("dissolve subnet %d: %w", victim, err)
		}
	}
	ctx.Emit("subnet_dissolved", module.Attr("netuid", strconv.Itoa(int(victim))), module.Attr("pot", strconv.FormatUint(d.Pot, 10)),
		module.Attr("paid", strconv.FormatUint(d.Paid, 10)), module.Attr("recycled", strconv.FormatUint(d.Recycled, 10)),
		module.Attr("positions", strconv.Itoa(d.Positions)))
	out := make([]uint16, 0, len(ids)-1)
	for _, id := range ids {
		if id != victim {
			out = append(out, id)
		}
	}
	return out, nil
}
