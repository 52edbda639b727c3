package keeper

import (
	"fmt"

	"github.com/tessera-net/tessera/internal/safemath"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/poc"
	"github.com/tessera-net/tessera/yuma"
)

// Mechanism is the poc incentive mechanism: at each tempo's epoch it shares the subnet's
// emission among the members of the group in force by weight, with the coverage bonus
// (poc.Rewards), and writes the result as the metagraph's incentive and emission.
//
// It reads the group from EpochInput.State and nothing else of the chain; like every
// mechanism it is a pure function of its input. What a member no longer registered
// would have earned, and the whole emission before the first group, is not paid (the
// keeper then mints nothing for it).
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
	uidOf := map[inference.Account]int{}
	for uid, nr := range in.Neurons {
		var a inference.Account
		copy(a[:], nr.Hotkey)
		uidOf[a] = uid
	}
	dist, err := poc.Rewards(in.Emission, servedModels(g), PoCMembers(g), uint64(g.CoverageBonusPPM))
	if err != nil {
		return nil, err
	}
	var paid uint64
	for i, mem := range g.Members {
		uid, ok := uidOf[mem.Hotkey]
		if !ok {
			continue
		}
		res.Active[uid] = true
		res.ServerEmission[uid] += dist.Members[i].Reward
		res.Emission[uid] += dist.Members[i].Reward
		paid += dist.Members[i].Reward
	}
	for uid := range res.Incentive {
		if paid > 0 {
			res.Incentive[uid] = uint16(safemath.MulDiv(res.ServerEmission[uid], 65535, paid))
		}
	}
	return res, nil
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
