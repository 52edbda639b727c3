package app

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules"
	"github.com/tessera-net/tessera/tx"
)

// seen is what the probe module saw of one call.
type seen struct {
	what      string // "begin", "tx", "end"
	height    int64
	time      time.Time
	check     bool
	blockHash []byte
	proposer  []byte
}

// probe is a module that records the context of its start of block, its one message
// ("probe/record") and its end of block.
type probe struct{ log []seen }

func (p *probe) record(what string, ctx *module.Context) {
	p.log = append(p.log, seen{what, ctx.Height, ctx.Time, ctx.Check, ctx.BlockHash, ctx.Proposer})
}

func (p *probe) Name() string                                       { return "probe" }
func (p *probe) InitGenesis(*module.Context, json.RawMessage) error { return nil }
func (p *probe) Queries() map[string]module.Route                   { return nil }
func (p *probe) BeginBlock(ctx *module.Context) error               { p.record("begin", ctx); return nil }
func (p *probe) EndBlock(ctx *module.Context) error                 { p.record("end", ctx); return nil }
func (p *probe) recordMsg(ctx *module.Context, _ keys.PublicKey, _ tx.Msg) error {
	p.record("tx", ctx)
	return nil
}
func (p *probe) Handlers() map[string]module.Handler {
	return map[string]module.Handler{"probe/record": p.recordMsg}
}

func newProbeHarness(t *testing.T) (*harness, *probe, func(nonce uint64) []byte) {
	t.Helper()
	p := &probe{}
	h := newHarnessWith(t, map[string]uint64{"//Alice": 1_000_000}, p)
	alice := testutil.Pair(t, "//Alice")
	msg, err := tx.NewMsg("probe/record", struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	return h, p, func(nonce uint64) []byte { return h.sign(alice, nonce, 1000, testChain, msg) }
}

// takeLast returns the probe's last record and clears the log.
func (p *probe) takeLast(t *testing.T) seen {
	t.Helper()
	if len(p.log) == 0 {
		t.Fatal("the probe saw nothing")
	}
	s := p.log[len(p.log)-1]
	p.log = nil
	return s
}

func TestCheckTxRunsAtTheNextHeight(t *testing.T) {
	h, p, record := newProbeHarness(t)

	// Before any block: the first block, and no block time yet.
	if r := h.checkTx(record(0)); r.Code != 0 {
		t.Fatalf("check: %s", r.Log)
	}
	if s := p.takeLast(t); !s.check || s.height != 1 || !s.time.IsZero() || s.blockHash != nil || s.proposer != nil {
		t.Fatalf("CheckTx before block 1 ran with %+v, want height 1, zero time, no block hash or proposer", s)
	}

	h.block(record(0))
	h.block()
	p.log = nil
	if r := h.checkTx(record(1)); r.Code != 0 {
		t.Fatalf("check: %s", r.Log)
	}
	if s := p.takeLast(t); !s.check || s.height != 3 || !s.time.Equal(blockTime(2)) {
		t.Fatalf("CheckTx after block 2 ran with %+v, want height 3 and block 2's time %v", s, blockTime(2))
	}

	// An App reopened over the committed state checks at the next height too.
	set := modules.Builtin()
	reopened, err := New(h.app.store, Options{Modules: append(set.Modules, p), Ante: set.Ante})
	if err != nil {
		t.Fatal(err)
	}
	r, err := reopened.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: record(1), Type: abci.CheckTxType_New})
	if err != nil || r.Code != 0 {
		t.Fatalf("check after reopening: %v %s", err, r.GetLog())
	}
	if s := p.takeLast(t); s.height != 3 {
		t.Fatalf("CheckTx of a reopened App ran at height %d, want 3", s.height)
	}
}

func TestBlockContextCarriesTheBlock(t *testing.T) {
	h, p, record := newProbeHarness(t)
	h.block(record(0))
	if len(p.log) != 3 {
		t.Fatalf("the probe saw %d calls, want begin, tx, end: %+v", len(p.log), p.log)
	}
	for i, what := range []string{"begin", "tx", "end"} {
		s := p.log[i]
		if s.what != what || s.check || s.height != 1 || !s.time.Equal(blockTime(1)) ||
			!bytes.Equal(s.blockHash, blockHash(1)) || !bytes.Equal(s.proposer, testProposer) {
			t.Fatalf("call %d is %+v, want %s of block 1 with its hash and proposer", i, s, what)
		}
	}
}
