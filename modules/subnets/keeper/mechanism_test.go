package keeper_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/internal/testutil"

	"github.com/tessera-net/tessera/modules"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/tx"
	"github.com/tessera-net/tessera/yuma"
)

// lastTakesAll is a mechanism for the test: the highest uid gets all the incentive and
// the whole emission as a miner. It records what the keeper gave it.
type lastTakesAll struct{ seen []subnets.EpochInput }

func (m *lastTakesAll) Epoch(in *subnets.EpochInput) (*subnets.EpochResult, error) {
	m.seen = append(m.seen, *in)
	n := len(in.Neurons)
	res := &yuma.EpochResult{Active: make([]bool, n), StakeWeight: make([]uint16, n), Consensus: make([]uint16, n),
		Incentive: make([]uint16, n), Dividends: make([]uint16, n), ValidatorTrust: make([]uint16, n),
		NewValidatorPermit: make([]bool, n), ServerEmission: make([]uint64, n), ValidatorEmission: make([]uint64, n),
		Emission: make([]uint64, n), Bonds: make([][]yuma.Entry, n)}
	res.Incentive[n-1], res.ServerEmission[n-1], res.Emission[n-1] = 65535, in.Emission, in.Emission
	return res, nil
}

// A subnet runs the mechanism it was created with, and the keeper pays what the
// mechanism returns; a subnet created beside it with the default still runs Yuma.
func TestSubnetRunsItsMechanism(t *testing.T) {
	owner, ownerHot, miner, minerHot := testutil.Pair(t, "//Alice"), testutil.Pair(t, "//Alice//hot"), testutil.Pair(t, "//M1"), testutil.Pair(t, "//M1//hot")
	mech := &lastTakesAll{}
	set := modules.Builtin()
	set.Mechanisms["last-takes-all"] = mech
	h := newChainParams(t, set, false, manySubnets, owner, miner)

	if code, log := h.do(owner, h.msg(subnets.NewCreate(ownerHot.Public(), "no-such"))); code != tx.CodeInvalidMessage ||
		!strings.Contains(log, `"no-such"`) || !strings.Contains(log, "[last-takes-all poc yuma]") {
		t.Fatalf("an unknown mechanism: %s %s", code, log)
	}
	h.must(owner, h.msg(subnets.NewCreate(ownerHot.Public(), "last-takes-all")))
	h.must(owner, h.msg(subnets.NewCreate(testutil.Pair(t, "//Alice//hot2").Public(), "")))
	h.must(owner, h.msg(subnets.NewSetHyperparam(1, "tempo", 10)))
	h.must(miner, h.msg(subnets.NewRegister(1, minerHot.Public(), 0)))

	var views []subnets.SubnetView
	h.query("/subnets/list", &views)
	if views[1].Mechanism != "last-takes-all" || views[2].Mechanism != subnets.MechanismYuma || views[0].Mechanism != subnets.MechanismRoot {
		t.Fatalf("mechanisms shown: %s, %s, %s", views[0].Mechanism, views[1].Mechanism, views[2].Mechanism)
	}
	var names []string
	h.query("/subnets/mechanisms", &names)
	if strings.Join(names, ",") != "last-takes-all,poc,yuma" {
		t.Fatalf("mechanisms query: %v", names)
	}

	h.untilEpoch(10)
	var sn subnets.SubnetView
	h.query("/subnets/subnet/1", &sn)
	var p subnets.Params
	h.query("/subnets/params", &p)
	pending := sn.Pending + sn.EmissionPerBlk
	before, _ := h.set.Stake.TotalStake(h.reader(), minerHot.Public())
	h.block()
	if len(mech.seen) != 1 {
		t.Fatalf("the mechanism ran %d times at the epoch, want 1", len(mech.seen))
	}
	in := mech.seen[0]
	if want := pending - subnets.OwnerCut(pending, p); in.Emission != want || in.Subnet.Netuid != 1 || len(in.Neurons) != 2 {
		t.Fatalf("the mechanism got emission %d (want %d), subnet %d, %d neurons", in.Emission, want, in.Subnet.Netuid, len(in.Neurons))
	}
	after, _ := h.set.Stake.TotalStake(h.reader(), minerHot.Public())
	if after-before != in.Emission {
		t.Fatalf("the miner's stake grew by %d, the mechanism paid it %d", after-before, in.Emission)
	}
	var mg subnets.Metagraph
	h.query("/subnets/metagraph/1", &mg)
	if mg.Incentive[1] != 65535 || mg.Emission[1] != in.Emission || mg.Incentive[0] != 0 {
		t.Fatalf("the metagraph shows incentive %v, emission %v", mg.Incentive, mg.Emission)
	}
}

// The metagraph answers at the committed height it reads; the lite one leaves out the
// weights and bonds, and one neuron is read on its own.
func TestMetagraphBlockLiteAndNeuron(t *testing.T) {
	h, a := setupSubnet(t)
	h.untilEpoch(10)
	h.block() // permits
	h.must(a.valHot, h.msg(subnets.NewSetWeights(1, []uint16{2, 3, 4}, []uint16{100, 50, 10}, 0)))

	var full, lite subnets.Metagraph
	h.query("/subnets/metagraph/1", &full)
	h.query("/subnets/metagraph_lite/1", &lite)
	if full.Block != h.height || lite.Block != h.height {
		t.Fatalf("metagraph block %d / lite %d, committed height %d", full.Block, lite.Block, h.height)
	}
	if len(full.Weights[1]) != 3 || lite.Weights != nil || lite.Bonds != nil || !lite.Lite {
		t.Fatalf("full weights %v; lite weights %v bonds %v", full.Weights[1], lite.Weights, lite.Bonds)
	}
	if lite.N != full.N || lite.Hotkeys[2] != full.Hotkeys[2] || lite.Stake[1] != full.Stake[1] {
		t.Fatal("the lite metagraph's terms differ from the full one's")
	}
	// The validators' view before any epoch pays for it: the staked validator's row.
	var vs subnets.ValidatorScoresView
	h.query("/subnets/validator_scores/1", &vs)
	if sc := vs.Scores; len(sc) != int(full.N) || vs.Block != h.height || !(sc[2] > sc[3] && sc[3] > sc[4] && sc[4] > 0) || sc[1] != 0 {
		t.Fatalf("validator scores %+v", vs)
	}
	var nv subnets.NeuronView
	h.query("/subnets/neuron/1/1", &nv)
	if nv.Hotkey != full.Hotkeys[1] || nv.Stake != full.Stake[1] || len(nv.Weights) != 3 || nv.ValidatorPermit != full.ValidatorPermit[1] {
		t.Fatalf("neuron 1: %+v", nv)
	}
	for path, code := range map[string]tx.Code{
		"/subnets/neuron/1/9":                               tx.CodeNotFound,
		"/subnets/neuron/1":                                 tx.CodeInvalidMessage,
		"/subnets/neuron/1/x":                               tx.CodeInvalidMessage,
		"/subnets/metagraph/7":                              tx.CodeNotFound,
		"/subnets/nothing/1":                                tx.CodeNotFound,
		"/subnets/commitment/1/" + strings.Repeat("5", 200): tx.CodeInvalidMessage,
	} {
		r, _ := h.app.Query(context.Background(), queryReq(path))
		if tx.Code(r.Code) != code {
			t.Errorf("%s: %s %s, want %s", path, tx.Code(r.Code), r.Log, code)
		}
	}
}
