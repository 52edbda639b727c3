package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/app"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// infChain is an application with an inference subnet whose first epoch group is in
// force, driven block by block through CheckTx, FinalizeBlock and Commit as a node
// drives it.
type infChain struct {
	b      testing.TB
	a      *app.App
	height int64
	nonces map[keys.PublicKey]uint64
	parts  []*keys.Pair
	users  []*keys.Signer
	t0     time.Time
}

const infChainID = "bench"

func (c *infChain) blockTime(h int64) time.Time { return c.t0.Add(time.Duration(h) * time.Second) }

// sign returns what signs a message, as its builder returns it, as a transaction of p
// with p's next nonce: c.sign(p)(inference.NewStart(...)).
func (c *infChain) sign(p *keys.Pair) func(tx.Msg, error) []byte {
	return func(m tx.Msg, err error) []byte {
		c.b.Helper()
		if err != nil {
			c.b.Fatal(err)
		}
		n := c.nonces[p.Public()]
		c.nonces[p.Public()] = n + 1
		t, err := tx.Sign(p, tx.Envelope{ChainID: infChainID, Nonce: n, Fee: 1000, Msg: m})
		if err != nil {
			c.b.Fatal(err)
		}
		return t
	}
}

// block offers txs to the mempool, executes them as the next block and commits it; every
// transaction must succeed.
func (c *infChain) block(txs [][]byte) *abci.ResponseFinalizeBlock {
	c.b.Helper()
	ctx := context.Background()
	for _, t := range txs {
		if r, _ := c.a.CheckTx(ctx, &abci.RequestCheckTx{Tx: t, Type: abci.CheckTxType_New}); r.Code != 0 {
			c.b.Fatalf("block %d: check: %s", c.height+1, r.Log)
		}
	}
	c.height++
	res, err := c.a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: c.height, Time: c.blockTime(c.height), Txs: txs,
		Hash: binary.BigEndian.AppendUint64(make([]byte, 24), uint64(c.height))})
	if err != nil {
		c.b.Fatal(err)
	}
	for _, r := range res.TxResults {
		if r.Code != 0 {
			c.b.Fatalf("block %d: deliver: %s", c.height, r.Log)
		}
	}
	if _, err := c.a.Commit(ctx, &abci.RequestCommit{}); err != nil {
		c.b.Fatal(err)
	}
	return res
}

func (c *infChain) until(h int64) {
	for c.height < h {
		c.block(nil)
	}
}

// newInfChain starts a chain with a poc subnet of participants MLNode owners (one node
// each, all serving model m-a at price 1, all staked: the validators), funded users,
// and runs epoch 1 to its switch at block 312.
func newInfChain(b testing.TB, participants, users int) *infChain {
	set := modules.Builtin()
	a, err := app.New(store.OpenMemory(), app.Options{Modules: set.Modules, Ante: set.Ante})
	if err != nil {
		b.Fatal(err)
	}
	c := &infChain{b: b, a: a, nonces: map[keys.PublicKey]uint64{}, t0: time.Unix(1_700_000_000, 0).UTC()}
	owner, err := keys.FromURI("//benchowner")
	if err != nil {
		b.Fatal(err)
	}
	g := accounts.Genesis{Balances: []accounts.GenesisBalance{{Address: owner.Public().String(), Balance: 1 << 60}}}
	for i := 0; i < participants; i++ {
		p, err := keys.FromURI(fmt.Sprintf("//benchparticipant%d", i))
		if err != nil {
			b.Fatal(err)
		}
		c.parts = append(c.parts, p)
		g.Balances = append(g.Balances, accounts.GenesisBalance{Address: p.Public().String(), Balance: 1 << 50})
	}
	for i := 0; i < users; i++ {
		p, err := keys.FromURI(fmt.Sprintf("//benchuser%d", i))
		if err != nil {
			b.Fatal(err)
		}
		s, err := keys.NewSigner(p)
		if err != nil {
			b.Fatal(err)
		}
		c.users = append(c.users, s)
		g.Balances = append(g.Balances, accounts.GenesisBalance{Address: p.Public().String(), Balance: 1 << 50})
	}
	p := models.DefaultParams()
	p.EpochBlocks, p.PoCBlocks, p.PoCExchange, p.ValidationBlocks, p.ValidationXchg, p.LoadingBlocks = 300, 3, 2, 3, 2, 2 // the next PoC (block 600) is far past the timed blocks
	model := models.Spec{ID: "m-a", Name: "Bench model", Version: "1", HFRepo: "tessera/bench", HFCommit: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		Quantization: "int8", ContextSize: 4096, KVCacheQuant: "fp8", Args: []string{}, VRAMGB: 24, ThroughputPerNonce: 1000, PricePerToken: 1,
		PoC: models.PoC{Layers: 1, Width: 64, Heads: 4, KVHeads: 2, FFN: 128, Vocab: 512, SeqLen: 4}}
	raw, _ := json.Marshal(map[string]any{"accounts": g, "models": models.Genesis{Params: &p, Models: []models.Spec{model}}})
	if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{ChainId: infChainID, Time: c.t0, AppStateBytes: raw, InitialHeight: 1}); err != nil {
		b.Fatal(err)
	}
	txs := [][]byte{c.sign(owner)(subnets.NewCreate(owner.Public(), inference.Mechanism))}
	for _, hp := range []struct {
		name string
		v    uint64
	}{{"tempo", 65535}, {"target_regs_per_interval", 4096}, {"min_burn", 0}, {"max_burn", 0}, {"immunity_period", 0}} {
		txs = append(txs, c.sign(owner)(subnets.NewSetHyperparam(1, hp.name, hp.v)))
	}
	c.block(txs)
	txs = nil
	for _, p := range c.parts {
		txs = append(txs, c.sign(p)(subnets.NewRegister(1, p.Public(), 0)))
	}
	c.block(txs)
	txs = nil
	for _, p := range c.parts {
		txs = append(txs, c.sign(p)(stake.NewAddOn(1, p.Public(), 1_000_000_000_000, 0, false)))
		txs = append(txs, c.sign(p)(inference.NewHardwareDiff(inference.HardwareDiff{Netuid: 1, Add: []inference.MLNode{{ID: "gpu-0", Host: "10.0.0.1",
			InferencePort: 8000, PoCPort: 8080, Hardware: []inference.Hardware{{Type: "H100", Count: 8}}, Models: []string{"m-a"}}}})))
	}
	c.block(txs)
	epoch := p.EpochBlocks
	c.until(int64(epoch))
	txs = nil
	for _, p := range c.parts {
		pub := p.Public()
		txs = append(txs, c.sign(p)(inference.NewCommit(inference.Commit{Netuid: 1, Epoch: 1, MLNode: "gpu-0", Root: sha256.Sum256(pub[:]), Count: 1000})))
	}
	c.block(txs)
	c.until(int64(epoch + 5)) // validation start
	var js []inference.Judgement
	for _, p := range c.parts {
		pub := p.Public()
		js = append(js, inference.Judgement{Participant: pub[:], Sampled: 200})
	}
	txs = nil
	for _, p := range c.parts {
		txs = append(txs, c.sign(p)(inference.NewVerdict(inference.Verdict{Netuid: 1, Epoch: 1, Judgements: js})))
	}
	c.block(txs)
	c.until(int64(epoch + 12)) // the switch: epoch 1's group in force
	return c
}

// BenchmarkInferenceRecords is the chain's throughput of recorded inferences through the
// application: each block carries every participant's batch of PerTA start entries (as
// a TA, each entry a distinct user's signed request, its executor drawn by
// inference.Choose) and each executor's batch finishing the records started in the
// block before, through CheckTx, FinalizeBlock (the users' signatures verified, escrow
// moved, the records and usage written, the settlements due paid in the end block) and
// Commit on an in-memory IAVL store. The user signatures are made outside the timer.
// records/s counts records started and finished (each block starts and finishes
// participants × PerTA in steady state).
func BenchmarkInferenceRecords(b *testing.B) {
	const participants, perTA, users = 8, 400, 2048
	c := newInfChain(b, participants, users)
	cands := make([]inference.Candidate, len(c.parts))
	for i, p := range c.parts {
		cands[i] = inference.Candidate{Hotkey: inference.Account(p.Public()), Weight: 1000}
	}
	byHot := map[inference.Account]*keys.Pair{}
	for _, p := range c.parts {
		byHot[inference.Account(p.Public())] = p
	}
	// Pending finishes: the records started in the previous block, by executor.
	pending := map[inference.Account][]inference.FinishEntry{}
	seq := uint64(0)
	makeBlock := func() [][]byte {
		var txs [][]byte
		for _, p := range c.parts {
			if fs := pending[inference.Account(p.Public())]; len(fs) > 0 {
				for lo := 0; lo < len(fs); lo += inference.MaxEntries {
					txs = append(txs, c.sign(p)(inference.NewFinish(inference.Finish{Netuid: 1, Entries: fs[lo:min(lo+inference.MaxEntries, len(fs))]})))
				}
			}
		}
		pending = map[inference.Account][]inference.FinishEntry{}
		ts := c.blockTime(c.height + 1).UnixNano()
		for _, ta := range c.parts {
			s := inference.Start{Netuid: 1}
			for j := 0; j < perTA; j++ {
				seq++
				u := c.users[seq%uint64(len(c.users))]
				body := sha256.Sum256(binary.BigEndian.AppendUint64(nil, seq))
				sig := u.Sign(inference.RequestPayload("POST", inference.PathChat, ts, body))
				id := inference.RequestID(sig)
				exec, _ := inference.Choose(cands, sha256.Sum256(id[:]))
				s.Entries = append(s.Entries, inference.StartEntry{User: inference.Account(u.PublicKey()), Model: "m-a", Path: inference.PathChat,
					Timestamp: ts, BodyHash: body, Signature: sig, Executor: exec, PromptTokens: 64, MaxTokens: 256})
				pending[exec] = append(pending[exec], inference.FinishEntry{ID: id, PromptTokens: 60, CompletionTokens: 200, ResponseHash: body})
			}
			txs = append(txs, c.sign(ta)(inference.NewStart(s)))
		}
		return txs
	}
	check := func(res *abci.ResponseFinalizeBlock) {
		for _, r := range res.TxResults {
			for _, e := range r.Events {
				if e.Type == "inference_refused" {
					b.Fatalf("block %d: an entry was refused: %v", c.height, e.Attributes)
				}
			}
		}
	}
	// Warm up past the first settlements (finish + check blocks), so that the timed
	// blocks pay as many records as they start and finish.
	for i := 0; i < models.DefaultCheckBlocks+2; i++ {
		check(c.block(makeBlock()))
	}
	var elapsed time.Duration
	records := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		txs := makeBlock()
		b.StartTimer()
		start := time.Now()
		res := c.block(txs)
		elapsed += time.Since(start)
		b.StopTimer()
		check(res)
		records += participants * perTA
		b.StartTimer()
	}
	b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(elapsed.Microseconds())/float64(records), "µs/record")
}
