package keeper

import (
	"fmt"
	"math/big"
	"strconv"

	"github.com/tessera-net/tessera/internal/safemath"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/yuma"
)

// EndBlock mints the block emission into the subnets' pending amounts, runs the epoch of
// every subnet whose tempo ends at this block, and adjusts registration burns.
func (k *Keeper) EndBlock(ctx *module.Context) error {
	block := blockOf(ctx)
	if p, err := GetParams(ctx.KV); err != nil {
		return err
	} else if p.DTAO {
		ids, err := Netuids(ctx.KV)
		if err != nil {
			return err
		}
		return k.endBlockDTAO(ctx, p, ids)
	}
	p, ids, shares, err := k.emissionState(ctx.KV)
	if err != nil {
		return err
	}
	for _, netuid := range ids {
		if netuid == subnets.RootNetuid {
			continue
		}
		s, err := GetSubnet(ctx.KV, netuid)
		if err != nil {
			return err
		}
		s.Pending += shares[netuid]
		if subnets.EpochDue(netuid, s.Hyper.Tempo, block) {
			if err := k.runEpoch(ctx, p, s, block); err != nil {
				return fmt.Errorf("epoch of subnet %d: %w", netuid, err)
			}
		}
		adjustBurn(s, block)
		if err := putSubnet(ctx.KV, s); err != nil {
			return err
		}
	}
	return nil
}

// adjustBurn moves the registration burn toward the target number of registrations per
// interval (subtensor's burn adjustment): burn × (regs + target) / (2 × target), clamped.
func adjustBurn(s *subnets.Subnet, block uint64) {
	h := s.Hyper
	if block-s.LastAdjustment < h.AdjustmentInterval {
		return
	}
	target := uint64(max(h.TargetRegsPerInterval, 1))
	next := safemath.MulDiv(s.Burn, uint64(s.RegsInInterval)+target, 2*target)
	s.Burn = min(max(next, h.MinBurn), h.MaxBurn)
	s.RegsInInterval = 0
	s.LastAdjustment = block
}

// emissionState reads the chain's parameters and subnets and splits one block's emission
// over them (EmissionShares).
func (k *Keeper) emissionState(r store.Reader) (subnets.Params, []uint16, map[uint16]uint64, error) {
	p, err := GetParams(r)
	if err != nil {
		return p, nil, nil, err
	}
	ids, err := Netuids(r)
	if err != nil {
		return p, nil, nil, err
	}
	if p.DTAO {
		// Under dTAO, the TAO the last block's coinbase gave each subnet's pool.
		shares := map[uint16]uint64{}
		for _, id := range ids {
			pool, ok, err := k.stake.Pool(r, id)
			if err != nil {
				return p, nil, nil, err
			}
			if ok {
				shares[id] = pool.LastEmission
			}
		}
		return p, ids, shares, nil
	}
	shares, err := k.EmissionShares(r, p, ids)
	return p, ids, shares, err
}

// EmissionShares splits one block's emission across the subnets (root excluded). Each
// root member's weights are normalised and weighted by its stake; a subnet's share is the
// stake-weighted sum. Until a root member with stake weights a subnet, every subnet gets
// an equal share. Amounts are rounded down; the remainder is not minted.
func (k *Keeper) EmissionShares(r store.Reader, p subnets.Params, ids []uint16) (map[uint16]uint64, error) {
	out := map[uint16]uint64{}
	exists := map[uint16]bool{}
	var nets []uint16
	for _, id := range ids {
		if id != subnets.RootNetuid {
			exists[id] = true
			nets = append(nets, id)
		}
	}
	if len(nets) == 0 {
		return out, nil
	}
	root, err := GetSubnet(r, subnets.RootNetuid)
	if err != nil {
		return nil, err
	}
	neurons, err := Neurons(r, root)
	if err != nil {
		return nil, err
	}
	score := map[uint16]*big.Int{}
	total := new(big.Int)
	for _, n := range neurons {
		st, err := k.stake.TotalStake(r, keys.PublicKey(n.Hotkey))
		if err != nil {
			return nil, err
		}
		var sum uint64
		for _, e := range n.Weights {
			if exists[e.UID] {
				sum += uint64(e.Value)
			}
		}
		if st == 0 || sum == 0 {
			continue
		}
		for _, e := range n.Weights {
			if !exists[e.UID] || e.Value == 0 {
				continue
			}
			// stake × w / Σw, kept to 32 fractional bits.
			c := new(big.Int).Mul(new(big.Int).SetUint64(st), new(big.Int).SetUint64(uint64(e.Value)))
			c.Lsh(c, 32).Div(c, new(big.Int).SetUint64(sum))
			if score[e.UID] == nil {
				score[e.UID] = new(big.Int)
			}
			score[e.UID].Add(score[e.UID], c)
			total.Add(total, c)
		}
	}
	if total.Sign() == 0 {
		each := p.BlockEmission / uint64(len(nets))
		for _, id := range nets {
			out[id] = each
		}
		return out, nil
	}
	emission := new(big.Int).SetUint64(p.BlockEmission)
	for _, id := range nets {
		if sc := score[id]; sc != nil {
			out[id] = new(big.Int).Div(new(big.Int).Mul(emission, sc), total).Uint64()
		}
	}
	return out, nil
}

// EpochInput reads what a subnet's mechanism sees at an epoch from its stored state, as
// the epoch at block would see it, with the given emission.
func (k *Keeper) EpochInput(r store.Reader, s *subnets.Subnet, block, emission uint64) (*subnets.EpochInput, error) {
	neurons, err := Neurons(r, s)
	if err != nil {
		return nil, err
	}
	in := &subnets.EpochInput{Subnet: s, Neurons: neurons, Block: block, Emission: emission, State: r}
	if in.Stake, err = k.stakes(r, neurons); err != nil {
		return nil, err
	}
	if s.Hyper.CommitReveal {
		if in.CommitBlocks, err = commitBlocks(r, s, neurons, block); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// stakes reads the total stake on each neuron's hotkey.
func (k *Keeper) stakes(r store.Reader, neurons []*subnets.Neuron) ([]uint64, error) {
	out := make([]uint64, len(neurons))
	for uid, nr := range neurons {
		st, err := k.stake.TotalStake(r, keys.PublicKey(nr.Hotkey))
		if err != nil {
			return nil, err
		}
		out[uid] = st
	}
	return out, nil
}

// commitBlocks is, for each uid, the block of its weight commit that may still be
// revealed at block's epoch, or yuma.NoCommit.
func commitBlocks(r store.Reader, s *subnets.Subnet, neurons []*subnets.Neuron, block uint64) ([]uint64, error) {
	out := make([]uint64, len(neurons))
	curEpoch := subnets.EpochIndex(s.Netuid, s.Hyper.Tempo, block)
	for uid, nr := range neurons {
		out[uid] = yuma.NoCommit
		var wc subnets.WeightCommit
		ok, err := module.Get(r, module.Key(prefixWCmt, u16(s.Netuid), nr.Hotkey), &wc)
		if err != nil {
			return nil, err
		}
		if ok && curEpoch <= wc.Epoch+s.Hyper.RevealPeriod {
			out[uid] = wc.Block
		}
	}
	return out, nil
}

// runEpoch pays the owner's cut, runs the subnet's mechanism over the rest of the pending
// emission, pays miners and validators as stake and stores the epoch's results on every
// neuron.
func (k *Keeper) runEpoch(ctx *module.Context, p subnets.Params, s *subnets.Subnet, block uint64) error {
	pending := s.Pending
	cut := subnets.OwnerCut(pending, p)
	mech, ok := k.mechanisms[s.Mechanism]
	if !ok {
		// A subnet's mechanism is checked at creation, so only a chain that dropped one
		// from its registry gets here; every node does the same, and the emission stays
		// pending until the mechanism is back.
		return k.skipEpoch(ctx, s, block, fmt.Errorf("the chain has no incentive mechanism %q", s.Mechanism))
	}
	in, err := k.EpochInput(ctx.KV, s, block, pending-cut)
	if err != nil {
		return err
	}
	res, err := mech.Epoch(in)
	if err != nil {
		// The stored state is inconsistent (a bug, not an attack: every input went through
		// the handlers' checks). Every node reaches the same verdict, so skipping the
		// epoch keeps consensus; the emission stays pending for the next one.
		return k.skipEpoch(ctx, s, block, err)
	}
	if cut > 0 {
		if err := k.accounts.Credit(ctx.KV, keys.PublicKey(s.Owner), cut); err != nil {
			return err
		}
	}
	paid, err := k.payAndRecord(ctx, s, in.Neurons, res)
	if err != nil {
		return err
	}
	ctx.Emit("epoch", module.Attr("netuid", strconv.Itoa(int(s.Netuid))), module.Attr("block", strconv.FormatUint(block, 10)),
		module.Attr("emission", strconv.FormatUint(pending, 10)), module.Attr("owner_cut", strconv.FormatUint(cut, 10)),
		module.Attr("paid", strconv.FormatUint(paid, 10)))
	s.Pending = 0
	s.LastEpochBlock = block
	return nil
}

func (k *Keeper) skipEpoch(ctx *module.Context, s *subnets.Subnet, block uint64, err error) error {
	ctx.Emit("epoch_failed", module.Attr("netuid", strconv.Itoa(int(s.Netuid))), module.Attr("error", err.Error()))
	s.LastEpochBlock = block
	return nil
}

// payAndRecord pays each uid's miner and validator emission as stake and stores the
// epoch's terms on every neuron; it returns the total paid.
func (k *Keeper) payAndRecord(ctx *module.Context, s *subnets.Subnet, neurons []*subnets.Neuron, res *subnets.EpochResult) (uint64, error) {
	for uid, nr := range neurons {
		hot := keys.PublicKey(nr.Hotkey)
		if e := res.ServerEmission[uid]; e > 0 {
			if err := k.stake.PayMiner(ctx.KV, hot, e); err != nil {
				return 0, err
			}
		}
		if e := res.ValidatorEmission[uid]; e > 0 {
			if err := k.stake.PayValidator(ctx.KV, hot, e); err != nil {
				return 0, err
			}
		}
	}
	return k.payAndRecordTerms(ctx, s, neurons, res)
}

// payAndRecordTerms stores the epoch's terms on every neuron (its emission: what it was
// paid) and returns the total paid.
func (k *Keeper) payAndRecordTerms(ctx *module.Context, s *subnets.Subnet, neurons []*subnets.Neuron, res *subnets.EpochResult) (uint64, error) {
	var paid uint64
	hadBonds := make([]bool, len(neurons))
	for uid, nr := range neurons {
		paid += res.ServerEmission[uid] + res.ValidatorEmission[uid]
		nr.Active = res.Active[uid]
		nr.StakeWeight = res.StakeWeight[uid]
		nr.Consensus = res.Consensus[uid]
		nr.Incentive = res.Incentive[uid]
		nr.Dividends = res.Dividends[uid]
		nr.ValidatorTrust = res.ValidatorTrust[uid]
		nr.ValidatorPermit = res.NewValidatorPermit[uid]
		nr.Emission = res.ServerEmission[uid] + res.ValidatorEmission[uid]
		hadBonds[uid] = len(nr.Bonds) > 0
		nr.Bonds = res.Bonds[uid]
	}
	return paid, putEpochTerms(ctx.KV, s.Netuid, neurons, hadBonds)
}
