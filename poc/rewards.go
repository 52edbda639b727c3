package poc

import (
	"fmt"
	"math/big"
	"sort"
)

// PPM is the denominator of the coverage bonus: parts per million.
const PPM = 1_000_000

// DefaultBonusPPM is the default coverage bonus: 10 % (100000 / 1000000).
const DefaultBonusPPM = 100_000

// MaxBonusPPM bounds the bonus parameter: at most 10× PPM, a bonus of 1000 %.
const MaxBonusPPM = 10 * PPM

// MLNode is one MLNode's PoC outcome in an epoch.
type MLNode struct {
	ID    string
	Model string // the model subgroup it is in
	// Valid is its valid nonces: the Count of its commitment.
	Valid uint64
	// Preserved: it kept serving inference during PoC (POC_SLOT), did no PoC, and keeps
	// PrevWeight, its weight of the epoch before.
	Preserved  bool
	PrevWeight uint64
}

// Weight is the MLNode's weight: PrevWeight when preserved, else Valid.
func (n MLNode) Weight() uint64 {
	if n.Preserved {
		return n.PrevWeight
	}
	return n.Valid
}

// Member is one participant of an epoch: its MLNodes and whether its PoC was accepted
// (Accepted over the validators' verdicts). A rejected participant gets no weight
// for the epoch, preserved MLNodes included.
type Member struct {
	MLNodes  []MLNode
	Accepted bool
}

// Payout is one participant's result.
type Payout struct {
	NodeWeights []uint64 // per MLNode, in the Member's order
	Weight      uint64   // their sum
	// Covered: for every model of the epoch it has an MLNode of that model with a
	// positive weight, and so earns the coverage bonus.
	Covered bool
	Reward  uint64
}

// Distribution is an epoch's emission shared among its participants.
type Distribution struct {
	Members []Payout
	// Unpaid is what was not paid out: the whole emission when no participant has
	// weight, else 0 (the rewards add up to the emission exactly).
	Unpaid uint64
}

// Rewards shares an epoch's emission among members by weight with the coverage bonus.
//
//  1. Weights: an MLNode's weight is MLNode.Weight (0 for all of a rejected member's);
//     a member's weight is their sum.
//  2. Coverage: a member is covered when every model in models has one of its MLNodes
//     with a positive weight (an MLNode of weight 0 does not count, or a participant
//     could declare an idle MLNode per model to collect the bonus). With no models,
//     nobody is covered.
//  3. Effective weight e_i = Weight_i · (PPM + bonusPPM) if covered, else
//     Weight_i · PPM: a covered member earns (PPM + bonusPPM)/PPM times as much per
//     unit of weight as one that is not.
//  4. With S = Σ e_i > 0, Reward_i = ⌊emission · e_i / S⌋ exactly (math/big). The
//     remainder emission − Σ Reward_i is less than the number of members with e_i > 0;
//     it is paid one unit each to the members with the largest (emission · e_i) mod S,
//     the earlier member first on a tie. So the rewards add up to the emission
//     exactly. With S = 0 nothing is paid and Unpaid is the emission.
//
// It fails if a member's weight does not fit 64 bits or bonusPPM exceeds MaxBonusPPM.
func Rewards(emission uint64, models []string, members []Member, bonusPPM uint64) (Distribution, error) {
	if bonusPPM > MaxBonusPPM {
		return Distribution{}, fmt.Errorf("poc: coverage bonus of %d ppm, more than the limit of %d", bonusPPM, MaxBonusPPM)
	}
	d := Distribution{Members: make([]Payout, len(members))}
	eff := make([]*big.Int, len(members))
	S := new(big.Int)
	for i, m := range members {
		p := &d.Members[i]
		p.NodeWeights = make([]uint64, len(m.MLNodes))
		if m.Accepted {
			for k, n := range m.MLNodes {
				w := n.Weight()
				if p.Weight+w < p.Weight {
					return Distribution{}, fmt.Errorf("%w: member %d's MLNode weights add up to more than 2^64", ErrOverflow, i)
				}
				p.NodeWeights[k] = w
				p.Weight += w
			}
			p.Covered = covers(m.MLNodes, p.NodeWeights, models)
		}
		f := uint64(PPM)
		if p.Covered {
			f += bonusPPM
		}
		eff[i] = new(big.Int).Mul(new(big.Int).SetUint64(p.Weight), new(big.Int).SetUint64(f))
		S.Add(S, eff[i])
	}
	if S.Sign() == 0 {
		d.Unpaid = emission
		return d, nil
	}
	E := new(big.Int).SetUint64(emission)
	rem := make([]*big.Int, len(members))
	var paid uint64
	for i := range members {
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(E, eff[i]), S, new(big.Int))
		d.Members[i].Reward = q.Uint64() // ≤ emission
		paid += d.Members[i].Reward
		rem[i] = r
	}
	order := make([]int, len(members))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rem[order[a]].Cmp(rem[order[b]]) > 0 })
	for _, i := range order[:emission-paid] {
		d.Members[i].Reward++
	}
	return d, nil
}

// covers reports whether, for every model, some MLNode of that model has a positive
// weight.
func covers(nodes []MLNode, weights []uint64, models []string) bool {
	if len(models) == 0 {
		return false
	}
	for _, m := range models {
		found := false
		for k, n := range nodes {
			if n.Model == m && weights[k] > 0 {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
