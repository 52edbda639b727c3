package subnets

import (
	"bytes"
	"fmt"
	"math/big"
	"strconv"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/yuma"
)

// EndBlock mints the block emission into the subnets' pending amounts, runs the epoch of
// every subnet whose tempo ends at this block, and adjusts registration burns.
func (m *Module) EndBlock(ctx *module.Context) error {
	block := blockOf(ctx)
	p, err := GetParams(ctx.KV)
	if err != nil {
		return err
	}
	ids, err := Netuids(ctx.KV)
	if err != nil {
		return err
	}
	shares, err := EmissionShares(ctx.KV, p, ids)
	if err != nil {
		return err
	}
	for _, netuid := range ids {
		if netuid == RootNetuid {
			continue
		}
		s, err := GetSubnet(ctx.KV, netuid)
		if err != nil {
			return err
		}
		s.Pending += shares[netuid]
		if EpochDue(netuid, s.Hyper.Tempo, block) {
			if err := m.runEpoch(ctx, p, s, block); err != nil {
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
func adjustBurn(s *Subnet, block uint64) {
	h := s.Hyper
	if block-s.LastAdjustment < h.AdjustmentInterval {
		return
	}
	target := uint64(max(h.TargetRegsPerInterval, 1))
	next := mulDiv(s.Burn, uint64(s.RegsInInterval)+target, 2*target)
	s.Burn = min(max(next, h.MinBurn), h.MaxBurn)
	s.RegsInInterval = 0
	s.LastAdjustment = block
}

func mulDiv(a, b, c uint64) uint64 {
	r := new(big.Int).Mul(new(big.Int).SetUint64(a), new(big.Int).SetUint64(b))
	return r.Div(r, new(big.Int).SetUint64(c)).Uint64()
}

// EmissionShares splits one block's emission across the subnets (root excluded). Each
// root member's weights are normalised and weighted by its stake; a subnet's share is the
// stake-weighted sum. Until a root member with stake weights a subnet, every subnet gets
// an equal share. Amounts are rounded down; the remainder is not minted.
func EmissionShares(r store.Reader, p Params, ids []uint16) (map[uint16]uint64, error) {
	out := map[uint16]uint64{}
	exists := map[uint16]bool{}
	var subnets []uint16
	for _, id := range ids {
		if id != RootNetuid {
			exists[id] = true
			subnets = append(subnets, id)
		}
	}
	if len(subnets) == 0 {
		return out, nil
	}
	root, err := GetSubnet(r, RootNetuid)
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
		st, err := stake.TotalStake(r, keys.PublicKey(n.Hotkey))
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
		each := p.BlockEmission / uint64(len(subnets))
		for _, id := range subnets {
			out[id] = each
		}
		return out, nil
	}
	emission := new(big.Int).SetUint64(p.BlockEmission)
	for _, id := range subnets {
		if sc := score[id]; sc != nil {
			out[id] = new(big.Int).Div(new(big.Int).Mul(emission, sc), total).Uint64()
		}
	}
	return out, nil
}

// EpochState builds the Yuma epoch's input from a subnet's stored state, as the epoch at
// currentBlock would see it, with the given emission.
func EpochState(r store.Reader, s *Subnet, currentBlock, emission uint64) (*yuma.EpochState, []*Neuron, error) {
	neurons, err := Neurons(r, s)
	if err != nil {
		return nil, nil, err
	}
	n := len(neurons)
	h := s.Hyper
	es := &yuma.EpochState{
		N:                      n,
		CurrentBlock:           currentBlock,
		Tempo:                  h.Tempo,
		ActivityCutoff:         yuma.ActivityCutoffBlocks(h.ActivityCutoffFactorMilli, h.Tempo),
		LastMechanismStepBlock: s.LastEpochBlock,
		LastUpdate:             make([]uint64, n),
		BlockAtRegistration:    make([]uint64, n),
		Stake:                  make([]uint64, n),
		StakeThreshold:         h.StakeThreshold,
		ValidatorPermit:        make([]bool, n),
		MaxAllowedValidators:   h.MaxValidators,
		Weights:                make([][]yuma.Entry, n),
		Bonds:                  make([][]yuma.Entry, n),
		Kappa:                  h.Kappa,
		BondsPenalty:           h.BondsPenalty,
		BondsMovingAverage:     h.BondsMovingAverage,
		Yuma3:                  h.Yuma3,
		LiquidAlpha:            h.LiquidAlpha,
		AlphaLow:               h.AlphaLow,
		AlphaHigh:              h.AlphaHigh,
		AlphaSigmoidSteepness:  h.AlphaSigmoidSteepness,
		CommitRevealEnabled:    h.CommitReveal,
		RaoEmission:            emission,
	}
	if h.CommitReveal {
		es.CommitBlocks = make([]uint64, n)
	}
	curEpoch := EpochIndex(s.Netuid, h.Tempo, currentBlock)
	for uid, nr := range neurons {
		es.LastUpdate[uid] = nr.LastUpdate
		es.BlockAtRegistration[uid] = nr.BlockAtRegistration
		es.ValidatorPermit[uid] = nr.ValidatorPermit
		es.Weights[uid] = nr.Weights
		es.Bonds[uid] = nr.Bonds
		if es.Stake[uid], err = stake.TotalStake(r, keys.PublicKey(nr.Hotkey)); err != nil {
			return nil, nil, err
		}
		if bytes.Equal(nr.Hotkey, s.OwnerHotkey) {
			es.HasOwner, es.OwnerUID = true, uint16(uid)
		}
		if h.CommitReveal {
			es.CommitBlocks[uid] = yuma.NoCommit
			var wc WeightCommit
			ok, err := get(r, k(prefixWCmt, u16(s.Netuid), nr.Hotkey), &wc)
			if err != nil {
				return nil, nil, err
			}
			if ok && curEpoch <= wc.Epoch+h.RevealPeriod {
				es.CommitBlocks[uid] = wc.Block
			}
		}
	}
	return es, neurons, nil
}

// runEpoch pays the owner's cut, runs Yuma over the rest of the pending emission, pays
// miners and validators as stake and stores the epoch's results on every neuron.
func (m *Module) runEpoch(ctx *module.Context, p Params, s *Subnet, block uint64) error {
	pending := s.Pending
	cut := mulDiv(pending, uint64(p.OwnerCut), 65535)
	es, neurons, err := EpochState(ctx.KV, s, block, pending-cut)
	if err != nil {
		return err
	}
	m.epochMu.Lock()
	res, err := m.epochs.Epoch(es)
	m.epochMu.Unlock()
	if err != nil {
		// The stored state is inconsistent (a bug, not an attack: every input went through
		// the handlers' checks). Every node reaches the same verdict, so skipping the
		// epoch keeps consensus; the emission stays pending for the next one.
		ctx.Emit("epoch_failed", module.Attr("netuid", strconv.Itoa(int(s.Netuid))), module.Attr("error", err.Error()))
		s.LastEpochBlock = block
		return nil
	}
	if cut > 0 {
		if err := accounts.Credit(ctx.KV, keys.PublicKey(s.Owner), cut); err != nil {
			return err
		}
	}
	var paid uint64
	for uid, nr := range neurons {
		hot := keys.PublicKey(nr.Hotkey)
		if e := res.ServerEmission[uid]; e > 0 {
			if err := stake.PayMiner(ctx.KV, hot, e); err != nil {
				return err
			}
		}
		if e := res.ValidatorEmission[uid]; e > 0 {
			if err := stake.PayValidator(ctx.KV, hot, e); err != nil {
				return err
			}
		}
		paid += res.ServerEmission[uid] + res.ValidatorEmission[uid]
		nr.Active = res.Active[uid]
		nr.StakeWeight = res.StakeWeight[uid]
		nr.Consensus = res.Consensus[uid]
		nr.Incentive = res.Incentive[uid]
		nr.Dividends = res.Dividends[uid]
		nr.ValidatorTrust = res.ValidatorTrust[uid]
		nr.ValidatorPermit = res.NewValidatorPermit[uid]
		nr.Emission = res.ServerEmission[uid] + res.ValidatorEmission[uid]
		nr.Bonds = res.Bonds[uid]
		if err := putNeuronTerms(ctx.KV, s.Netuid, uint16(uid), nr); err != nil {
			return err
		}
	}
	ctx.Emit("epoch", module.Attr("netuid", strconv.Itoa(int(s.Netuid))), module.Attr("block", strconv.FormatUint(block, 10)),
		module.Attr("emission", strconv.FormatUint(pending, 10)), module.Attr("owner_cut", strconv.FormatUint(cut, 10)),
		module.Attr("paid", strconv.FormatUint(paid, 10)))
	s.Pending = 0
	s.LastEpochBlock = block
	return nil
}
