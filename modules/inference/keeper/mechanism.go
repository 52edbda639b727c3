package keeper

import (
	"fmt"

	"github.com/tessera-net/tessera/internal/safemath"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/poc"
	"github.com/tessera-net/tessera/yuma"
)

// Mechanism is the poc incentive mechanism: at each tempo's epoch it pays the subnet's
// emission by the group in force, half each way as Yuma splits it:
//
//   - the server half (⌊emission/2⌋) to the participants by weight, with the coverage
//     bonus (poc.Rewards): the metagraph's incentive and server emission;
//   - the validator half (the rest) to the round's validators that sent verdicts and
//     whose own PoC was accepted, by their stake: its dividends and validator emission
//     (under dTAO these are the shares of the validator pot, which the staking ledger
//     pays).
//
// An executor made INVALID in the group's epoch by its invalidated inferences
// (models.Params.InvalidLimit) counts as rejected: it earns nothing of either half.
//
// It reads the group and the executors' statistics from EpochInput.State and nothing
// else of the chain; like every mechanism it is a pure function of its input. What a
// member no longer registered would have earned, a half nobody can take, and the whole
// emission before the first group, are not paid (the keeper mints nothing for them).
type Mechanism struct{ k *Keeper }

// Mechanism returns the poc mechanism, for the chain's registry (modules.Builtin).
func (k *Keeper) Mechanism() subnets.Mechanism { return k.mech }

// Epoch implements subnets.Mechanism.
func (m *Mechanism) Epoch(in *subnets.EpochInput) (*subnets.EpochResult, error) {
	n := len(in.Neurons)
	res := &subnets.EpochResult{
		Active: make([]bool, n), StakeWeight: make([]uint16, n), Consensus: make([]uint16, n), Incentive: make([]uint16, n),
		Dividends: make([]uint16, n), ValidatorTrust: make([]uint16, n), NewValidatorPermit: make([]bool, n),
		ServerEmission: make([]uint64, n), ValidatorEmission: make([]uint64, n), Emission: make([]uint64, n), Bonds: make([][]yuma.Entry, n),
	}
	if in.State == nil {
		return nil, fmt.Errorf("poc mechanism: the epoch input carries no state")
	}
	g, err := m.k.Current(in.State, in.Subnet.Netuid)
	if err != nil || g == nil {
		return res, err
	}
	if g, err = m.k.withoutInvalid(in.State, g); err != nil {
		return nil, err
	}
	uidOf := map[inference.Account]int{}
	for uid, nr := range in.Neurons {
		var a inference.Account
		copy(a[:], nr.Hotkey)
		uidOf[a] = uid
	}
	serverPart := in.Emission / 2
	dist, err := poc.Rewards(serverPart, servedModels(g), PoCMembers(g), uint64(g.CoverageBonusPPM))
	if err != nil {
		return nil, err
	}
	votes, err := poc.Rewards(in.Emission-serverPart, nil, voters(g, uidOf), 0)
	if err != nil {
		return nil, err
	}
	var paidServer, paidValidator uint64
	for i, mem := range g.Members {
		if uid, ok := uidOf[mem.Hotkey]; ok {
			res.Active[uid] = true
			res.ServerEmission[uid] += dist.Members[i].Reward
			paidServer += dist.Members[i].Reward
		}
	}
	for i, v := range g.Validators {
		if uid, ok := uidOf[v.Hotkey]; ok {
			res.ValidatorEmission[uid] += votes.Members[i].Reward
			paidValidator += votes.Members[i].Reward
		}
	}
	for uid := range res.Incentive {
		res.Emission[uid] = res.ServerEmission[uid] + res.ValidatorEmission[uid]
		if paidServer > 0 {
			res.Incentive[uid] = uint16(safemath.MulDiv(res.ServerEmission[uid], 65535, paidServer))
		}
		if paidValidator > 0 {
			res.Dividends[uid] = uint16(safemath.MulDiv(res.ValidatorEmission[uid], 65535, paidValidator))
		}
	}
	return res, nil
}

// voters are the group's validators as poc.Rewards members: one weight, the stake of a
// validator that voted, is still registered and whose own PoC was accepted (0
// otherwise: a participant rejected for the epoch earns nothing of it).
func voters(g *inference.Group, uidOf map[inference.Account]int) []poc.Member {
	accepted := map[inference.Account]bool{}
	for _, m := range g.Members {
		accepted[m.Hotkey] = m.Accepted
	}
	out := make([]poc.Member, len(g.Validators))
	for i, v := range g.Validators {
		w := uint64(0)
		if _, ok := uidOf[v.Hotkey]; ok && v.Voted && accepted[v.Hotkey] {
			w = v.Stake
		}
		out[i] = poc.Member{Accepted: true, MLNodes: []poc.MLNode{{ID: "stake", Valid: w}}}
	}
	return out
}

// PoCMembers turns a group into the inputs of poc.Rewards: each node's stored weight
// (already 0 for a rejected member) as its valid count.
func PoCMembers(g *inference.Group) []poc.Member {
	out := make([]poc.Member, len(g.Members))
	for i, m := range g.Members {
		pm := poc.Member{Accepted: m.Accepted}
		for _, n := range m.Nodes {
			pm.MLNodes = append(pm.MLNodes, poc.MLNode{ID: n.ID, Model: n.PoCModel, Valid: n.Weight})
		}
		out[i] = pm
	}
	return out
}
