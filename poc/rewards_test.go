package poc

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"reflect"
	"testing"
)

func node(model string, valid uint64) MLNode {
	return MLNode{ID: model + "-node", Model: model, Valid: valid}
}

func TestRewards(t *testing.T) {
	const max64 = ^uint64(0)
	ab := []string{"A", "B"}
	for _, c := range []struct {
		name     string
		emission uint64
		models   []string
		members  []Member
		bonus    uint64
		rewards  []uint64
		weights  []uint64
		covered  []bool
		unpaid   uint64
	}{
		{"by weight, remainder to the largest fraction", 100, []string{"A"},
			[]Member{{[]MLNode{node("A", 1)}, true}, {[]MLNode{node("A", 2)}, true}}, DefaultBonusPPM,
			[]uint64{33, 67}, []uint64{1, 2}, []bool{true, true}, 0},
		{"the bonus for covering every model", 1000, ab,
			[]Member{{[]MLNode{node("A", 5), node("B", 5)}, true}, {[]MLNode{node("A", 10)}, true}}, DefaultBonusPPM,
			[]uint64{524, 476}, []uint64{10, 10}, []bool{true, false}, 0},
		{"no bonus parameter", 1000, ab,
			[]Member{{[]MLNode{node("A", 5), node("B", 5)}, true}, {[]MLNode{node("A", 10)}, true}}, 0,
			[]uint64{500, 500}, []uint64{10, 10}, []bool{true, false}, 0},
		{"an MLNode of weight 0 does not cover its model", 1000, ab,
			[]Member{{[]MLNode{node("A", 10), node("B", 0)}, true}, {[]MLNode{node("A", 10)}, true}}, DefaultBonusPPM,
			[]uint64{500, 500}, []uint64{10, 10}, []bool{false, false}, 0},
		{"a rejected participant gets nothing, preserved nodes included", 90, ab,
			[]Member{
				{[]MLNode{node("A", 10), {Model: "B", Preserved: true, PrevWeight: 7}}, false},
				{[]MLNode{node("A", 10)}, true}, {[]MLNode{node("A", 20)}, true}}, DefaultBonusPPM,
			[]uint64{0, 30, 60}, []uint64{0, 10, 20}, []bool{false, false, false}, 0},
		{"a preserved node keeps its previous weight", 200, ab,
			[]Member{{[]MLNode{node("A", 10), {Model: "B", Valid: 999, Preserved: true, PrevWeight: 10}}, true},
				{[]MLNode{node("A", 22)}, true}}, DefaultBonusPPM,
			[]uint64{100, 100}, []uint64{20, 22}, []bool{true, false}, 0},
		{"ties go to the earlier member", 100, []string{"A"},
			[]Member{{[]MLNode{node("A", 1)}, true}, {[]MLNode{node("A", 1)}, true}, {[]MLNode{node("A", 1)}, true}}, 0,
			[]uint64{34, 33, 33}, []uint64{1, 1, 1}, []bool{true, true, true}, 0},
		{"nobody has weight: nothing paid", 100, []string{"A"},
			[]Member{{[]MLNode{node("A", 0)}, true}, {nil, true}}, DefaultBonusPPM,
			[]uint64{0, 0}, []uint64{0, 0}, []bool{false, false}, 100},
		{"no models: nobody is covered", 10, nil,
			[]Member{{[]MLNode{node("A", 1)}, true}}, DefaultBonusPPM,
			[]uint64{10}, []uint64{1}, []bool{false}, 0},
		{"zero emission", 0, []string{"A"},
			[]Member{{[]MLNode{node("A", 3)}, true}}, DefaultBonusPPM,
			[]uint64{0}, []uint64{3}, []bool{true}, 0},
		{"largest values", max64, []string{"A"},
			[]Member{{[]MLNode{node("A", max64)}, true}, {[]MLNode{node("B", max64)}, true}, {[]MLNode{node("A", 1)}, true}}, MaxBonusPPM,
			[]uint64{16909515400900422313, 1537228672809129301, 1}, []uint64{max64, max64, 1}, []bool{true, false, true}, 0},
	} {
		d, err := Rewards(c.emission, c.models, c.members, c.bonus)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var rewards, weights []uint64
		var covered []bool
		var sum uint64
		for _, p := range d.Members {
			rewards, weights, covered = append(rewards, p.Reward), append(weights, p.Weight), append(covered, p.Covered)
			sum += p.Reward
		}
		if !reflect.DeepEqual(rewards, c.rewards) || !reflect.DeepEqual(weights, c.weights) || !reflect.DeepEqual(covered, c.covered) || d.Unpaid != c.unpaid {
			t.Errorf("%s: rewards %v weights %v covered %v unpaid %d\n want rewards %v weights %v covered %v unpaid %d",
				c.name, rewards, weights, covered, d.Unpaid, c.rewards, c.weights, c.covered, c.unpaid)
		}
		if sum+d.Unpaid != c.emission {
			t.Errorf("%s: %d paid + %d unpaid != emission %d", c.name, sum, d.Unpaid, c.emission)
		}
	}
}

func TestRewardsErrors(t *testing.T) {
	if _, err := Rewards(1, nil, []Member{{[]MLNode{node("A", 1<<63), node("A", 1<<63)}, true}}, 0); !errors.Is(err, ErrOverflow) {
		t.Errorf("weights over 2^64: %v", err)
	}
	if _, err := Rewards(1, nil, nil, MaxBonusPPM+1); err == nil {
		t.Error("a bonus over the limit was accepted")
	}
}

// TestRewardsProperties: on random epochs the rewards add up to the emission and each
// is within one unit of its exact share emission·e_i/S.
func TestRewardsProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	models := []string{"A", "B", "C"}
	for trial := 0; trial < 500; trial++ {
		members := make([]Member, 1+r.IntN(30))
		for i := range members {
			members[i].Accepted = r.IntN(10) != 0
			for k := r.IntN(5); k > 0; k-- {
				members[i].MLNodes = append(members[i].MLNodes, MLNode{Model: models[r.IntN(3)], Valid: uint64(r.IntN(1000)),
					Preserved: r.IntN(5) == 0, PrevWeight: uint64(r.IntN(1000))})
			}
		}
		emission := r.Uint64() >> uint(r.IntN(64))
		bonus := uint64(r.IntN(2 * PPM))
		d, err := Rewards(emission, models, members, bonus)
		if err != nil {
			t.Fatal(err)
		}
		S := new(big.Int)
		eff := make([]*big.Int, len(members))
		var sum uint64
		for i, p := range d.Members {
			fct := uint64(PPM)
			if p.Covered {
				fct += bonus
			}
			eff[i] = new(big.Int).Mul(new(big.Int).SetUint64(p.Weight), new(big.Int).SetUint64(fct))
			S.Add(S, eff[i])
			sum += p.Reward
		}
		if sum+d.Unpaid != emission || (S.Sign() > 0 && d.Unpaid != 0) {
			t.Fatalf("trial %d: paid %d unpaid %d of %d", trial, sum, d.Unpaid, emission)
		}
		if S.Sign() == 0 {
			continue
		}
		for i, p := range d.Members {
			exact := new(big.Rat).SetFrac(new(big.Int).Mul(new(big.Int).SetUint64(emission), eff[i]), S)
			diff := new(big.Rat).Sub(new(big.Rat).SetInt(new(big.Int).SetUint64(p.Reward)), exact)
			if diff.Cmp(big.NewRat(-1, 1)) <= 0 || diff.Cmp(big.NewRat(1, 1)) >= 0 {
				t.Fatalf("trial %d member %d: reward %d, exact share %s", trial, i, p.Reward, exact.FloatString(3))
			}
		}
	}
}
