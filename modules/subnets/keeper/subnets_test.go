package keeper_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/internal/testutil"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/tx"
	"github.com/tessera-net/tessera/yuma"
	"github.com/tessera-net/tessera/yuma/yumajson"
)

type actors struct {
	owner, ownerHot *keys.Pair
	val, valHot     *keys.Pair
	miners, minHots []*keys.Pair
}

// setupSubnet creates subnet 1 with tempo 10, a staked validator and three miners, on
// the genesis switch dtao: false (the root-weights emission these tests are about).
func setupSubnet(t *testing.T) (*chainHarness, actors) { return setupSubnetParams(t, nil) }

// setupSubnetParams is setupSubnet with these subnets params in the genesis. The chain is
// on the genesis switch dtao: false, the chain before dynamic TAO (root weights split the
// emission, stake is one TAO balance per hotkey), for the tests of that emission.
func setupSubnetParams(t *testing.T, params map[string]any) (*chainHarness, actors) {
	a := actors{owner: testutil.Pair(t, "//Alice"), ownerHot: testutil.Pair(t, "//Alice//hot"), val: testutil.Pair(t, "//Bob"), valHot: testutil.Pair(t, "//Bob//hot")}
	for _, n := range []string{"//M1", "//M2", "//M3"} {
		a.miners = append(a.miners, testutil.Pair(t, n))
		a.minHots = append(a.minHots, testutil.Pair(t, n+"//hot"))
	}
	h := newChainParams(t, modules.Builtin(), false, params, append([]*keys.Pair{a.owner, a.val}, a.miners...)...)
	h.must(a.owner, h.msg(subnets.NewCreate(a.ownerHot.Public(), "")))
	h.must(a.owner, h.msg(subnets.NewSetHyperparam(1, "tempo", 10)))
	h.must(a.owner, h.msg(subnets.NewSetHyperparam(1, "weights_rate_limit", 0)))
	h.must(a.val, h.msg(subnets.NewRegister(1, a.valHot.Public(), 0)))
	for i, m := range a.miners {
		h.must(m, h.msg(subnets.NewRegister(1, a.minHots[i].Public(), 0)))
	}
	h.must(a.val, h.msg(stake.NewAdd(a.valHot.Public(), 1_000*accounts.UnitsPerToken)))
	h.must(a.val, h.msg(accounts.NewTransfer(a.valHot.Public(), accounts.UnitsPerToken))) // the hotkey pays its fees
	h.must(a.owner, h.msg(stake.NewAdd(a.ownerHot.Public(), 10*accounts.UnitsPerToken)))
	return h, a
}

// untilEpoch runs empty blocks until the block before netuid 1's next epoch.
func (h *chainHarness) untilEpoch(tempo uint16) {
	for !subnets.EpochDue(1, tempo, uint64(h.height+1)) {
		h.block()
	}
}

// The emission an epoch credits on chain is exactly what package yuma computes for the
// state the chain reports, and it is paid as stake.
func TestEpochEmissionsMatchYuma(t *testing.T) {
	h, a := setupSubnet(t)
	h.untilEpoch(10)
	h.block() // first epoch: permits by stake
	var mg subnets.Metagraph
	h.query("/subnets/metagraph/1", &mg)
	if !mg.ValidatorPermit[1] {
		t.Fatalf("the staked validator got no permit: %+v", mg.ValidatorPermit)
	}
	h.must(a.valHot, h.msg(subnets.NewSetWeights(1, []uint16{2, 3, 4}, []uint16{100, 50, 10}, 0)))

	h.untilEpoch(10)
	var raw []byte
	{
		r, err := h.app.Query(context.Background(), queryReq("/subnets/epoch_state/1"))
		if err != nil || r.Code != 0 {
			t.Fatalf("epoch_state: %v %s", err, r.Log)
		}
		raw = r.Value
	}
	st, err := yumajson.Decode(raw)
	if err != nil {
		t.Fatalf("the chain's epoch state does not decode: %v\n%s", err, raw)
	}
	want, err := yuma.Epoch(&st.EpochState)
	if err != nil {
		t.Fatal(err)
	}
	before := make([]uint64, mg.N)
	for uid, hk := range mg.Hotkeys {
		pk, _ := keys.ParsePublicKey(hk)
		before[uid], _ = h.set.Stake.TotalStake(h.reader(), pk)
	}
	res := h.block()
	var sawEpoch bool
	for _, e := range res.Events {
		sawEpoch = sawEpoch || e.Type == "epoch"
	}
	if !sawEpoch {
		t.Fatal("no epoch event at the epoch block")
	}
	h.query("/subnets/metagraph/1", &mg)
	var minerTotal uint64
	for uid := range mg.UIDs {
		got := mg.Emission[uid]
		exp := want.ServerEmission[uid] + want.ValidatorEmission[uid]
		if got != exp {
			t.Errorf("uid %d: chain emission %d, yuma %d", uid, got, exp)
		}
		pk, _ := keys.ParsePublicKey(mg.Hotkeys[uid])
		after, _ := h.set.Stake.TotalStake(h.reader(), pk)
		if after-before[uid] != exp {
			t.Errorf("uid %d: stake grew by %d, emission was %d", uid, after-before[uid], exp)
		}
		if mg.Incentive[uid] != want.Incentive[uid] || mg.Dividends[uid] != want.Dividends[uid] || mg.Consensus[uid] != want.Consensus[uid] {
			t.Errorf("uid %d: terms differ from yuma", uid)
		}
		if uid >= 2 {
			minerTotal += want.ServerEmission[uid]
		}
	}
	if mg.Incentive[2] <= mg.Incentive[3] || mg.Incentive[3] <= mg.Incentive[4] {
		t.Fatalf("incentive does not follow the weights: %v", mg.Incentive)
	}
	if minerTotal == 0 {
		t.Fatal("miners earned nothing")
	}
}

func TestWeightRejections(t *testing.T) {
	h, a := setupSubnet(t)
	h.untilEpoch(10)
	h.block()
	m0 := a.minHots[0]
	cases := []struct {
		name   string
		signer *keys.Pair
		uids   []uint16
		values []uint16
		code   tx.Code
		log    string
	}{
		{"uid that does not exist", a.valHot, []uint16{2, 99}, []uint16{1, 1}, tx.CodeNotFound, "does not exist"},
		{"duplicated uids", a.valHot, []uint16{2, 2}, []uint16{1, 1}, tx.CodeInvalidMessage, "appears twice"},
		{"lengths disagree", a.valHot, []uint16{2, 3}, []uint16{1}, tx.CodeInvalidMessage, "pair up"},
		{"no permit", m0, []uint16{2, 3}, []uint16{1, 1}, tx.CodeUnauthorized, "permit"},
		{"not registered", testutil.Pair(t, "//Nobody"), []uint16{2}, []uint16{1}, tx.CodeNotFound, "not registered"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.signer == m0 || c.name == "not registered" {
				// Hotkeys pay fees too: fund them.
				h.must(a.owner, h.msg(accounts.NewTransfer(c.signer.Public(), accounts.UnitsPerToken)))
			}
			code, log := h.do(c.signer, h.msg(subnets.NewSetWeights(1, c.uids, c.values, 0)))
			if code != c.code || !strings.Contains(log, c.log) {
				t.Fatalf("got %s %q, want %s containing %q", code, log, c.code, c.log)
			}
		})
	}
	// Too few weights and over the max weight limit.
	h.must(a.owner, h.msg(subnets.NewSetHyperparam(1, "min_allowed_weights", 3)))
	if code, log := h.do(a.valHot, h.msg(subnets.NewSetWeights(1, []uint16{2, 3}, []uint16{1, 1}, 0))); code != tx.CodeInvalidMessage || !strings.Contains(log, "at least 3") {
		t.Fatalf("too few weights: %s %s", code, log)
	}
	h.must(a.owner, h.msg(subnets.NewSetHyperparam(1, "max_weight_limit", 30000)))
	if code, log := h.do(a.valHot, h.msg(subnets.NewSetWeights(1, []uint16{2, 3, 4}, []uint16{100, 1, 1}, 0))); code != tx.CodeInvalidMessage || !strings.Contains(log, "at most") {
		t.Fatalf("over the max weight limit: %s %s", code, log)
	}
	// Too fast.
	h.must(a.owner, h.msg(subnets.NewSetHyperparam(1, "weights_rate_limit", 50)))
	h.must(a.valHot, h.msg(subnets.NewSetWeights(1, []uint16{2, 3, 4}, []uint16{1, 1, 1}, 0)))
	if code, log := h.do(a.valHot, h.msg(subnets.NewSetWeights(1, []uint16{2, 3, 4}, []uint16{1, 1, 1}, 0))); code != tx.CodeRateLimited || !strings.Contains(log, "rate limit") {
		t.Fatalf("too fast: %s %s", code, log)
	}
	// Registering twice; staking more than the balance; a stranger changing parameters.
	if code, log := h.do(a.val, h.msg(subnets.NewRegister(1, a.valHot.Public(), 0))); code != tx.CodeConflict || !strings.Contains(log, "already registered") {
		t.Fatalf("register twice: %s %s", code, log)
	}
	if code, _ := h.do(a.val, h.msg(stake.NewAdd(a.valHot.Public(), 1<<62))); code != tx.CodeInsufficientFunds {
		t.Fatalf("stake over balance: %s", code)
	}
	if code, _ := h.do(a.val, h.msg(subnets.NewSetHyperparam(1, "tempo", 5))); code != tx.CodeUnauthorized {
		t.Fatalf("stranger set a hyperparameter: %s", code)
	}
	if code, log := h.do(a.owner, h.msg(subnets.NewSetHyperparam(1, "kappa_typo", 5))); code != tx.CodeInvalidMessage || !strings.Contains(log, "unknown hyperparameter") {
		t.Fatalf("unknown hyperparameter: %s %s", code, log)
	}
}

func TestCommitReveal(t *testing.T) {
	h, a := setupSubnet(t)
	h.must(a.owner, h.msg(subnets.NewSetHyperparam(1, "commit_reveal_weights_enabled", 1)))
	h.untilEpoch(10)
	h.block()
	uids, vals, salt := []uint16{2, 3}, []uint16{7, 3}, []uint16{9, 9, 9}
	if code, _ := h.do(a.valHot, h.msg(subnets.NewSetWeights(1, uids, vals, 0))); code != tx.CodeUnauthorized {
		t.Fatalf("direct set_weights with commit-reveal on: %s", code)
	}
	h.must(a.valHot, h.msg(subnets.NewCommitWeights(a.valHot.Public(), 1, uids, vals, salt, 0)))
	if code, log := h.do(a.valHot, h.msg(subnets.NewRevealWeights(1, uids, vals, salt, 0))); code != tx.CodeRateLimited || !strings.Contains(log, "too early") {
		t.Fatalf("early reveal: %s %s", code, log)
	}
	h.untilEpoch(10)
	h.block()
	h.block()
	if code, log := h.do(a.valHot, h.msg(subnets.NewRevealWeights(1, uids, []uint16{7, 4}, salt, 0))); code != tx.CodeInvalidMessage || !strings.Contains(log, "do not match") {
		t.Fatalf("mismatched reveal: %s %s", code, log)
	}
	h.must(a.valHot, h.msg(subnets.NewRevealWeights(1, uids, vals, salt, 0)))
	var n subnets.NeuronView
	h.query("/subnets/neuron/1/1", &n)
	if len(n.Weights) != 2 || n.Weights[0] != [2]uint16{2, 65535} {
		t.Fatalf("revealed weights: %v", n.Weights)
	}
}

func TestRegistrationReplacesLowestOutsideImmunity(t *testing.T) {
	h, a := setupSubnet(t)
	h.must(a.owner, h.msg(subnets.NewSetHyperparam(1, "max_validators", 5)))
	h.must(a.owner, h.msg(subnets.NewSetHyperparam(1, "max_uids", 5)))
	newcomer, newHot := testutil.Pair(t, "//New"), testutil.Pair(t, "//New//hot")
	h.must(a.owner, h.msg(accounts.NewTransfer(newcomer.Public(), 10*accounts.UnitsPerToken)))
	if code, log := h.do(newcomer, h.msg(subnets.NewRegister(1, newHot.Public(), 0))); code != tx.CodeConflict || !strings.Contains(log, "immunity") {
		t.Fatalf("full subnet with everyone immune: %s %s", code, log)
	}
	h.must(a.owner, h.msg(subnets.NewSetHyperparam(1, "immunity_period", 0)))
	h.must(newcomer, h.msg(subnets.NewRegister(1, newHot.Public(), 0)))
	var mg subnets.Metagraph
	h.query("/subnets/metagraph/1", &mg)
	if mg.N != 5 || mg.Hotkeys[0] != a.ownerHot.Public().String() {
		t.Fatalf("owner replaced or size changed: %v", mg.Hotkeys)
	}
	found := false
	for _, hk := range mg.Hotkeys {
		found = found || hk == newHot.Public().String()
	}
	if !found {
		t.Fatal("newcomer not registered")
	}
}

func TestRootWeightsSplitEmission(t *testing.T) {
	h, a := setupSubnetParams(t, manySubnets)
	h.must(a.val, h.msg(subnets.NewCreate(testutil.Pair(t, "//Bob//hot2").Public(), ""))) // subnet 2
	var shares map[string]string
	h.query("/subnets/emission", &shares)
	if shares["1"] != shares["2"] || shares["1"] == "0" {
		t.Fatalf("without root weights subnets share equally: %v", shares)
	}
	h.must(a.val, h.msg(subnets.NewRegister(0, a.valHot.Public(), 0)))
	h.must(a.valHot, h.msg(subnets.NewSetWeights(0, []uint16{1, 2}, []uint16{3, 1}, 0)))
	h.query("/subnets/emission", &shares)
	if shares["1"] != "750000000" || shares["2"] != "250000000" {
		t.Fatalf("root weights 3:1 give %v", shares)
	}
}

// registrations/<address> lists the uids a hotkey holds on every subnet, with its stake
// (the same on each: stake is the hotkey's);
// an address registered nowhere gets an empty list.
func TestRegistrationsQuery(t *testing.T) {
	h, a := setupSubnetParams(t, manySubnets)
	h.must(a.val, h.msg(subnets.NewCreate(testutil.Pair(t, "//Bob//hot2").Public(), ""))) // subnet 2
	h.must(a.val, h.msg(subnets.NewRegister(2, a.valHot.Public(), 0)))
	var regs []subnets.RegistrationView
	h.query("/subnets/registrations/"+a.valHot.Public().String(), &regs)
	if len(regs) != 2 || regs[0].Netuid != 1 || regs[0].UID != 1 || regs[1].Netuid != 2 || regs[1].UID != 1 {
		t.Fatalf("the validator's hotkey: %+v", regs)
	}
	for _, r := range regs {
		if r.Hotkey != a.valHot.Public().String() || r.Coldkey != a.val.Public().String() || r.Stake < 1_000*accounts.UnitsPerToken || r.Stake != regs[0].Stake {
			t.Fatalf("registration on %d: %+v", r.Netuid, r)
		}
	}
	h.query("/subnets/registrations/"+a.val.Public().Hex(), &regs)
	if len(regs) != 0 {
		t.Fatalf("a coldkey holds no uid itself: %+v", regs)
	}
}
