package keeper_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/module/scenario"
	"github.com/tessera-net/tessera/modules"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// benchNet is an inference subnet of 100 participants with 10 MLNodes each (half in
// each of two models) and stake (so 100 validators), driven through the keepers'
// handlers on one write buffer.
type benchNet struct {
	b     testing.TB
	set   *modules.Set
	kv    *store.Cache
	hots  []keys.PublicKey
	p     models.Params
	owner keys.PublicKey
}

func newBenchNet(b testing.TB, participants, nodes int) *benchNet {
	set := modules.Builtin()
	n := &benchNet{b: b, set: set, kv: store.NewCache(store.OpenMemory().Working())}
	n.p = models.DefaultParams()
	n.p.EpochBlocks, n.p.PoCBlocks, n.p.PoCExchange, n.p.ValidationBlocks, n.p.ValidationXchg, n.p.LoadingBlocks = 20, 3, 2, 3, 2, 2
	ma, mb := scenario.TestModel("m-a"), scenario.TestModel("m-b")
	raw, _ := json.Marshal(models.Genesis{Params: &n.p, Models: []models.Spec{ma, mb}})
	ctx := n.ctx(0)
	for _, m := range set.Modules {
		g := json.RawMessage(nil)
		if m.Name() == models.Name {
			g = raw
		}
		if err := m.InitGenesis(ctx, g); err != nil {
			b.Fatal(err)
		}
	}
	n.owner = n.key("owner")
	n.must(set.Accounts.Credit(ctx.KV, n.owner, 1<<60))
	n.do(1, n.owner)(subnets.NewCreate(n.owner, inference.Mechanism))
	for _, hp := range []struct {
		name string
		v    uint64
	}{{"tempo", 65535}, {"target_regs_per_interval", 4096}, {"min_burn", 0}, {"max_burn", 0}, {"immunity_period", 0}} {
		n.do(1, n.owner)(subnets.NewSetHyperparam(1, hp.name, hp.v))
	}
	for i := 0; i < participants; i++ {
		h := n.key(fmt.Sprintf("participant%d", i))
		n.hots = append(n.hots, h)
		n.must(set.Accounts.Credit(ctx.KV, h, 1<<40))
		n.do(1, h)(subnets.NewRegister(1, h, 0))
		n.must(set.Stake.AddStake(ctx.KV, h, h, uint64(1000+i)*1_000_000_000))
		d := inference.HardwareDiff{Netuid: 1}
		for j := 0; j < nodes; j++ {
			model := []string{"m-a", "m-b"}[j%2]
			d.Add = append(d.Add, inference.MLNode{ID: fmt.Sprintf("gpu-%d", j), Host: "10.0.0.1", InferencePort: 8000, PoCPort: 8080,
				Hardware: []inference.Hardware{{Type: "H100", Count: 8}}, Models: []string{model}})
		}
		n.do(1, h)(inference.NewHardwareDiff(d))
	}
	return n
}

func (n *benchNet) key(s string) keys.PublicKey {
	p, err := keys.FromURI("//" + s)
	if err != nil {
		n.b.Fatal(err)
	}
	return p.Public()
}

func (n *benchNet) must(err error) {
	if err != nil {
		n.b.Helper()
		n.b.Fatal(err)
	}
}

func (n *benchNet) ctx(h int64) *module.Context {
	hash := sha256.Sum256(fmt.Appendf(nil, "block %d", h))
	return &module.Context{KV: n.kv, ChainID: "bench", Height: h, BlockHash: hash[:]}
}

// do returns what runs one message, as its builder returns it, through its module's
// handler at height h: n.do(h, signer)(subnets.NewRegister(...)).
func (n *benchNet) do(h int64, signer keys.PublicKey) func(tx.Msg, error) {
	return func(m tx.Msg, err error) {
		n.b.Helper()
		n.must(err)
		for _, mod := range n.set.Modules {
			if handle, ok := mod.Handlers()[m.Type]; ok {
				if err := handle(n.ctx(h), signer, m); err != nil {
					n.b.Fatalf("%s: %v", m.Type, err)
				}
				return
			}
		}
		n.b.Fatalf("no handler for %s", m.Type)
	}
}

// endBlock runs the inference module's end block at h on the buffer.
func (n *benchNet) endBlock(h int64) {
	n.b.Helper()
	n.must(n.set.Inference.EndBlock(n.ctx(h)))
}

// epoch runs epoch e's stages up to (not including) the one at stage, every participant
// committing on every mining node and every validator accepting everyone.
func (n *benchNet) epoch(e uint64, until string) {
	ph := inference.Schedule(n.p, e*n.p.EpochBlocks)
	steps := []struct {
		name string
		h    uint64
		then func()
	}{
		{"poc_start", ph.PoCStart, func() { n.commitAll(e, int64(ph.PoCStart+1)) }},
		{"validation_start", ph.ValidationStart, func() { n.judgeAll(e, int64(ph.ValidationStart+1)) }},
		{"formation", ph.Formation, func() {}},
		{"switch", ph.Switch, func() {}},
	}
	for _, s := range steps {
		if s.name == until {
			return
		}
		n.endBlock(int64(s.h))
		s.then()
	}
}

func (n *benchNet) round(e uint64) *inference.Round {
	rd, ok, err := n.set.Inference.Round(n.kv, 1, e)
	if err != nil || !ok {
		n.b.Fatalf("round %d: %v %v", e, ok, err)
	}
	return rd
}

func (n *benchNet) commitAll(e uint64, h int64) {
	for _, m := range n.round(e).Roster {
		for _, nd := range m.Nodes {
			if nd.Slot != 0 {
				continue // POC_SLOT
			}
			root := sha256.Sum256([]byte(nd.ID))
			n.do(h, keys.PublicKey(m.Hotkey))(inference.NewCommit(inference.Commit{Netuid: 1, Epoch: e, MLNode: nd.ID, Root: root, Count: 5000}))
		}
	}
}

func (n *benchNet) judgeAll(e uint64, h int64) {
	rd := n.round(e)
	var js []inference.Judgement
	for _, m := range rd.Roster {
		committed := uint64(0)
		for _, nd := range m.Nodes {
			if nd.Slot == 0 {
				committed += 5000
			}
		}
		if committed > 0 {
			js = append(js, inference.Judgement{Participant: append([]byte(nil), m.Hotkey[:]...), Sampled: uint32(min(committed, uint64(rd.Params.ValidationSample)))})
		}
	}
	for _, v := range rd.Validators {
		n.do(h, keys.PublicKey(v.Hotkey))(inference.NewVerdict(inference.Verdict{Netuid: 1, Epoch: e, Judgements: js}))
	}
}

// BenchmarkStageTransition100x10 is the inference module's end block at each stage
// transition of a 100-participant × 10-MLNode subnet with 100 validators, in the second
// epoch (so the PoC start runs the uptime selection over a group in force): the PoC
// start (roster, seed, selection), the validation start (validator snapshot), the
// formation (10,000 judgements and 1,000 commitments read, weights, coverage, the
// group written) and the switch. Each is timed on a fresh write buffer over the state
// just before it.
func BenchmarkStageTransition100x10(b *testing.B) {
	n := newBenchNet(b, 100, 10)
	n.epoch(1, "")
	base := n.kv
	for _, stage := range []string{"poc_start", "validation_start", "formation", "switch"} {
		b.Run(stage, func(b *testing.B) {
			n.kv = store.NewCache(base)
			n.b = b
			n.epoch(2, stage)
			ph := inference.Schedule(n.p, 2*n.p.EpochBlocks)
			h := map[string]uint64{"poc_start": ph.PoCStart, "validation_start": ph.ValidationStart, "formation": ph.Formation, "switch": ph.Switch}[stage]
			before := n.kv
			for b.Loop() {
				n.kv = store.NewCache(before)
				n.endBlock(int64(h))
			}
		})
	}
}

// A dissolved subnet leaves nothing of the inference module behind (a new subnet may
// reuse its netuid).
func TestDissolveDropsInferenceState(t *testing.T) {
	n := newBenchNet(t, 3, 2)
	n.epoch(1, "")
	left := func() int {
		c := 0
		n.must(n.kv.Iterate([]byte("inf/"), func(_, _ []byte) (bool, error) { c++; return true, nil }))
		return c
	}
	if left() == 0 {
		t.Fatal("no inference state after an epoch")
	}
	n.must(n.set.Inference.Dissolve(n.kv, 1))
	if c := left(); c != 0 {
		t.Fatalf("%d inference keys left after the dissolve", c)
	}
}
