package validator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/internal/testutil/fixture"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/sdk/validator"
	"github.com/tessera-net/tessera/sdk/weights"
	"github.com/tessera-net/tessera/tx"
	"github.com/tessera-net/tessera/wire"
)

// Echo is the test subnet's synapse: a good miner echoes Text, a bad one does not.
type Echo struct {
	wire.Base
	Text  string `json:"text" wire:"required"`
	Reply string `json:"reply"`
}

func (Echo) RequiredHashFields() []string { return []string{"text"} }

func definition() *subnet.Definition[*Echo] {
	return &subnet.Definition[*Echo]{
		Name: "echo",
		Query: func(_ context.Context, r subnet.Round) (*Echo, error) {
			return &Echo{Text: fmt.Sprintf("round %d", r.Step)}, nil
		},
		Score: func(_ context.Context, q *Echo, rs []subnet.Response[*Echo]) ([]float64, error) {
			out := make([]float64, len(rs))
			for i, r := range rs {
				if r.OK() && r.Synapse.Reply == q.Text {
					out[i] = 1
				}
			}
			return out, nil
		},
	}
}

// serve runs an in-process miner axon for uri that answers well or badly, and returns
// its port.
func serve(t *testing.T, ctx context.Context, uri string, good bool) int {
	t.Helper()
	a, err := wire.NewAxon(testutil.Pair(t, uri), wire.AxonConfig{})
	if err != nil {
		t.Fatal(err)
	}
	a.Attach("", wire.Handle(func(_ context.Context, _ *wire.Call, e *Echo) error {
		if good {
			e.Reply = e.Text
		} else {
			e.Reply = "nonsense"
		}
		return nil
	}), wire.AttachOptions{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go a.Serve(ctx, l)
	return l.Addr().(*net.TCPAddr).Port
}

// fakeChain is a chain whose metagraph the test edits; every Status is a new block.
type fakeChain struct {
	mu     sync.Mutex
	height int64
	mg     subnets.Metagraph
	owner  string
	refuse *client.TxError
	sent   []subnets.SetWeights
	// commit-reveal: the pending commit of uid 1, and the reveals refused
	commit      []byte
	commitEpoch uint64
	commits     int
	badReveals  []string
}

func (f *fakeChain) Status(context.Context) (*client.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.height++
	return &client.Status{Height: f.height}, nil
}

func (f *fakeChain) Query(_ context.Context, path string, _ int64, out any) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var v any
	switch path {
	case "/subnets/metagraph_lite/1":
		v = f.mg
	case "/subnets/subnet/1":
		v = subnets.SubnetView{Netuid: 1, N: f.mg.N, OwnerHotkey: f.owner, Hyperparams: f.mg.Hyperparams}
	default:
		return 0, &client.QueryError{Code: tx.CodeNotFound, Log: "unknown query " + path}
	}
	raw, _ := json.Marshal(v)                 // a deep copy, as the wire would make
	return f.height, json.Unmarshal(raw, out) // answered at the chain's height, as a node does
}

func (f *fakeChain) Send(_ context.Context, msg tx.Msg) (*client.TxView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse != nil {
		return nil, f.refuse
	}
	f.height++
	h := f.mg.Hyperparams
	var w subnets.SetWeights
	switch msg.Type {
	case subnets.MsgSetWeights:
		if err := msg.DecodeBody(&w); err != nil {
			return nil, err
		}
	case subnets.MsgCommitWeights:
		var c subnets.CommitWeights
		if err := msg.DecodeBody(&c); err != nil {
			return nil, err
		}
		f.commit, f.commitEpoch = c.Hash, subnets.EpochIndex(1, h.Tempo, uint64(f.height))
		f.commits++
		f.mg.LastUpdate[1] = uint64(f.height)
		return &client.TxView{Height: f.height, Hash: fmt.Sprintf("C%d", f.commits)}, nil
	case subnets.MsgRevealWeights:
		var r subnets.RevealWeights
		if err := msg.DecodeBody(&r); err != nil {
			return nil, err
		}
		now := subnets.EpochIndex(1, h.Tempo, uint64(f.height))
		bob, _ := keys.FromURI("//Bob")
		hash := subnets.CommitHash(bob.Public(), 1, r.UIDs, r.Values, r.Salt, r.VersionKey)
		switch {
		case f.commit == nil:
			f.badReveals = append(f.badReveals, "no commit")
		case now != f.commitEpoch+h.RevealPeriod:
			f.badReveals = append(f.badReveals, fmt.Sprintf("revealed in epoch %d, committed in %d", now, f.commitEpoch))
		case string(hash) != string(f.commit):
			f.badReveals = append(f.badReveals, "hash mismatch")
		default:
			f.commit = nil
			w = subnets.SetWeights{Netuid: r.Netuid, UIDs: r.UIDs, Values: r.Values, VersionKey: r.VersionKey}
		}
		if w.UIDs == nil {
			return nil, &client.TxError{Code: tx.CodeInvalidMessage, Log: f.badReveals[len(f.badReveals)-1]}
		}
	default:
		return nil, fmt.Errorf("unexpected %s", msg.Type)
	}
	f.sent = append(f.sent, w)
	f.mg.LastUpdate[1] = uint64(f.height)
	return &client.TxView{Height: f.height, Hash: fmt.Sprintf("TX%d", len(f.sent))}, nil
}

func (f *fakeChain) edit(fn func(mg *subnets.Metagraph)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.mg)
}

func (f *fakeChain) sentWeights() []subnets.SetWeights {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]subnets.SetWeights(nil), f.sent...)
}

// setUID makes uid hold hotkey, serving on port (0: no axon), growing the metagraph.
func setUID(mg *subnets.Metagraph, uid int, hotkey string, port int) {
	for int(mg.N) <= uid {
		fixture.AddUID(mg, "")
	}
	mg.Hotkeys[uid] = hotkey
	mg.Axons[uid] = subnets.AxonView{Hotkey: hotkey}
	if port > 0 {
		mg.Axons[uid].IP, mg.Axons[uid].Port = "127.0.0.1", uint16(port)
	}
}

func shrink(mg *subnets.Metagraph, n int) {
	mg.N = uint16(n)
	mg.UIDs, mg.Hotkeys, mg.Coldkeys, mg.Stake = mg.UIDs[:n], mg.Hotkeys[:n], mg.Coldkeys[:n], mg.Stake[:n]
	mg.ValidatorPermit, mg.Axons, mg.LastUpdate = mg.ValidatorPermit[:n], mg.Axons[:n], mg.LastUpdate[:n]
	mg.BlockAtRegistration, mg.Incentive = mg.BlockAtRegistration[:n], mg.Incentive[:n]
}

// patience is how long a test waits for the validator's loop to get somewhere.
const patience = 15 * time.Second

// setup makes a chain with Alice (owner), Bob (validator, uid 1) and good miners Dave
// and Eve (uids 2, 3), and a function that starts Bob's validator on it.
func setup(t *testing.T, ctx context.Context, edit func(h *subnets.Hyperparams)) (*fakeChain, func(context.Context) (*validator.Validator[*Echo], chan error)) {
	t.Helper()
	alice, bob := testutil.Pair(t, "//Alice").Public().String(), testutil.Pair(t, "//Bob").Public().String()
	dave, eve := testutil.Pair(t, "//Dave").Public().String(), testutil.Pair(t, "//Eve").Public().String()
	fc := &fakeChain{owner: alice}
	fc.mg.Netuid = 1
	fc.mg.Hyperparams = subnets.DefaultHyperparams()
	fc.mg.Hyperparams.WeightsRateLimit = 0
	fc.mg.Hyperparams.MinAllowedWeights = 3
	fc.mg.Hyperparams.MaxWeightLimit = 50000
	if edit != nil {
		edit(&fc.mg.Hyperparams)
	}
	setUID(&fc.mg, 0, alice, 0)
	setUID(&fc.mg, 1, bob, 0)
	setUID(&fc.mg, 2, dave, serve(t, ctx, "//Dave", true))
	setUID(&fc.mg, 3, eve, serve(t, ctx, "//Eve", true))
	fc.mg.ValidatorPermit[1] = true
	fc.mg.Stake[1] = 1 << 40

	cfg := subnet.DefaultConfig()
	cfg.EpochLength, cfg.StepInterval, cfg.Timeout, cfg.Alpha = 2, subnet.Duration(5*time.Millisecond), subnet.Duration(5*time.Second), 0.5
	cfg.StateDir = t.TempDir()
	return fc, func(ctx context.Context) (*validator.Validator[*Echo], chan error) {
		v, err := validator.New(definition(), validator.Options{Config: cfg, Hotkey: testutil.Pair(t, "//Bob"), Chain: fc})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- v.Run(ctx) }()
		return v, done
	}
}

// TestValidatorCommitReveal: on a commit-reveal subnet the validator commits, reveals
// in the epoch after, with the salt and values committed, and commits again later.
func TestValidatorCommitReveal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fc, run := setup(t, ctx, func(h *subnets.Hyperparams) {
		h.CommitReveal, h.RevealPeriod, h.Tempo = true, 1, 5
	})
	_, done := run(ctx)
	testutil.WaitFor(t, patience, "two revealed weight sets", func() bool { return len(fc.sentWeights()) >= 2 })
	cancel()
	<-done
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if len(fc.badReveals) > 0 || fc.commits < 2 {
		t.Fatalf("%d commits, reveals refused: %v", fc.commits, fc.badReveals)
	}
	w := fc.sent[0]
	if err := weights.Check(weights.Vector{UIDs: w.UIDs, Values: w.Values}, weights.Limits{N: 4, MinAllowedWeights: 3, MaxWeightLimit: 50000}); err != nil {
		t.Fatal(err)
	}
}

// TestValidatorLoop runs the validator against in-process miners and a chain the test
// edits: weights within the limits are set, a refusal is reported with the chain's
// reason, the metagraph grows and shrinks, a replaced hotkey's score restarts, a lost
// permit stops the weights, and a restart resumes the scores.
func TestValidatorLoop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fc, run := setup(t, ctx, nil)
	ferdie := testutil.Pair(t, "//Ferdie").Public().String()
	vctx, vcancel := context.WithCancel(ctx)
	v, done := run(vctx)

	// Weights land, within the subnet's limits.
	testutil.WaitFor(t, patience, "weights", func() bool { return len(fc.sentWeights()) > 0 })
	w := fc.sentWeights()[0]
	if err := weights.Check(weights.Vector{UIDs: w.UIDs, Values: w.Values}, weights.Limits{N: 4, MinAllowedWeights: 3, MaxWeightLimit: 50000}); err != nil {
		t.Fatalf("weights %v %v break the limits: %v", w.UIDs, w.Values, err)
	}

	// A refusal is reported with the chain's reason.
	fc.edit(func(*subnets.Metagraph) {
		fc.refuse = &client.TxError{Code: tx.CodeRateLimited, Log: "weights were set at block 7; the next may be set at block 107 (rate limit 100 blocks)"}
	})
	testutil.WaitFor(t, patience, "the refusal reported", func() bool {
		return strings.Contains(v.Snapshot().LastWeightsError, "the chain refused the weights: weights were set at block 7")
	})
	fc.edit(func(*subnets.Metagraph) { fc.refuse = nil })

	// Eve's uid goes to Ferdie, who answers badly, and the subnet grows by one uid.
	testutil.WaitFor(t, patience, "eve scored", func() bool { s := v.Snapshot(); return len(s.Scores) == 4 && s.Scores[3] > 0.5 })
	ferdiePort := serve(t, ctx, "//Ferdie", false)
	fc.edit(func(mg *subnets.Metagraph) {
		setUID(mg, 3, ferdie, ferdiePort)
		setUID(mg, 4, testutil.Pair(t, "//Charlie").Public().String(), 0)
	})
	testutil.WaitFor(t, patience, "the resync", func() bool { s := v.Snapshot(); return len(s.Hotkeys) == 5 && s.Hotkeys[3] == ferdie })
	if s := v.Snapshot(); s.Scores[3] != 0 || s.Scores[4] != 0 {
		t.Fatalf("the replaced and the new uid should start from zero: %v", s.Scores)
	}
	// The subnet shrinks.
	fc.edit(func(mg *subnets.Metagraph) { shrink(mg, 3) })
	testutil.WaitFor(t, patience, "the shrink", func() bool { return len(v.Snapshot().Scores) == 3 })

	// Without a permit the validator says why and sends nothing.
	fc.edit(func(mg *subnets.Metagraph) { mg.ValidatorPermit[1] = false })
	testutil.WaitFor(t, patience, "the missing permit reported", func() bool {
		return strings.Contains(v.Snapshot().LastWeightsError, "uid 1 has no validator permit on subnet 1")
	})

	// A restart resumes the scores.
	vcancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v", err)
	}
	saved := v.Snapshot()
	v2, done2 := run(ctx)
	testutil.WaitFor(t, patience, "a round after the restart", func() bool { return v2.Snapshot().Step > saved.Step })
	if s := v2.Snapshot(); s.Scores[2] < saved.Scores[2]*0.5 || s.Scores[2] < 0.5 {
		t.Fatalf("dave's score %v after the restart, %v before: not resumed", s.Scores[2], saved.Scores[2])
	}
	cancel()
	if err := <-done2; err != nil {
		t.Fatal(err)
	}
}

// TestValidatorRefusesForeignState: a state saved for another hotkey is not used.
func TestValidatorRefusesForeignState(t *testing.T) {
	dir := t.TempDir()
	st := &validator.State{Netuid: 1, Hotkey: testutil.Pair(t, "//Charlie").Public().String()}
	if err := st.Save(dir); err != nil {
		t.Fatal(err)
	}
	cfg := subnet.DefaultConfig()
	cfg.StateDir = dir
	v, err := validator.New(definition(), validator.Options{Config: cfg, Hotkey: testutil.Pair(t, "//Bob"), Chain: &fakeChain{}})
	if err != nil {
		t.Fatal(err)
	}
	err = v.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "use another --state-dir") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewChecks(t *testing.T) {
	cfg := subnet.DefaultConfig()
	cfg.StateDir = t.TempDir()
	_, err := validator.New(&subnet.Definition[*Echo]{}, validator.Options{Config: cfg, Hotkey: testutil.Pair(t, "//Bob"), Chain: &fakeChain{}})
	if err == nil || !strings.Contains(err.Error(), "no Name") || !strings.Contains(err.Error(), "no Score function") {
		t.Fatalf("err = %v", err)
	}
	_, err = validator.New(definition(), validator.Options{Config: cfg, Chain: &fakeChain{}})
	if err == nil || err.Error() != "validator: no hotkey" {
		t.Fatalf("err = %v", err)
	}
	cfg.StateDir = ""
	_, err = validator.New(definition(), validator.Options{Config: cfg, Hotkey: testutil.Pair(t, "//Bob"), Chain: &fakeChain{}})
	if err == nil || err.Error() != "validator: no state directory" {
		t.Fatalf("err = %v", err)
	}
}

// TestValidatorSurvivesSubnetBugs: a Query that panics or returns nothing and a Score
// that panics or miscounts cost a round each, not the validator.
func TestValidatorSurvivesSubnetBugs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fc, _ := setup(t, ctx, nil)
	var calls int
	def := definition()
	query, score := def.Query, def.Score
	def.Query = func(ctx context.Context, r subnet.Round) (*Echo, error) {
		calls++
		switch calls {
		case 1:
			panic("query bug")
		case 2:
			return nil, nil
		}
		return query(ctx, r)
	}
	def.Score = func(ctx context.Context, q *Echo, rs []subnet.Response[*Echo]) ([]float64, error) {
		switch calls {
		case 3:
			panic("score bug")
		case 4:
			return []float64{1}, nil
		}
		return score(ctx, q, rs)
	}
	cfg := subnet.DefaultConfig()
	cfg.EpochLength, cfg.StepInterval, cfg.StateDir = 2, subnet.Duration(time.Millisecond), t.TempDir()
	v, err := validator.New(def, validator.Options{Config: cfg, Hotkey: testutil.Pair(t, "//Bob"), Chain: fc})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	testutil.WaitFor(t, patience, "two scored rounds", func() bool { return v.Snapshot().Step >= 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if calls < 6 {
		t.Fatalf("%d rounds attempted for 2 scored ones", calls)
	}
}
