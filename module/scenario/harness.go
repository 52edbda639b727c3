package scenario

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/app"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules"
	"github.com/tessera-net/tessera/store"
)

// Chain is what a scenario drives: the ABCI calls a CometBFT node makes. *app.App is one.
type Chain interface {
	InitChain(context.Context, *abci.RequestInitChain) (*abci.ResponseInitChain, error)
	CheckTx(context.Context, *abci.RequestCheckTx) (*abci.ResponseCheckTx, error)
	FinalizeBlock(context.Context, *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error)
	Commit(context.Context, *abci.RequestCommit) (*abci.ResponseCommit, error)
	Query(context.Context, *abci.RequestQuery) (*abci.ResponseQuery, error)
}

// NewChain returns a fresh chain with nothing written, for a genesis to start.
type NewChain func() (Chain, error)

// ChainID is the chain id of every scenario chain.
const ChainID = "scenario"

// GenesisTime is the time of every scenario genesis; blocks follow a second apart.
func GenesisTime() time.Time { return time.Unix(1_700_000_000, 0).UTC() }

// Harness runs the commands of a scenario against one chain at a time. It is not safe for
// concurrent use; a scenario is a sequence.
type Harness struct {
	newChain NewChain
	msgs     MsgBuilders
	names    *Names

	chain     Chain // nil until a genesis succeeds
	minFee    uint64
	height    int64
	blockTime time.Time
	pending   []pendingTx
	nextNonce map[keys.PublicKey]uint64 // signers with transactions in the mempool
}

// pendingTx is a transaction the mempool accepted, waiting for the next block.
type pendingTx struct {
	from  string
	nonce uint64
	line  string // the message line as written, to label its result
	bytes []byte
}

// New returns a harness that starts each genesis on a chain from newChain and builds
// messages with msgs.
func New(newChain NewChain, msgs MsgBuilders) *Harness {
	return &Harness{newChain: newChain, msgs: msgs, names: NewNames()}
}

// NewApp is the NewChain of the real application, with the chain's registry of modules
// (modules.Builtin), over an in-memory store.
func NewApp() (Chain, error) { return NewAppWith()() }

// NewAppWith is NewApp with further modules after the built-in ones, each built by a
// function that may wire it to the built-in keepers (as a new module's test does before
// the module joins the registry).
func NewAppWith(extra ...func(set *modules.Set) module.Module) NewChain {
	return func() (Chain, error) {
		set := modules.Builtin()
		mods := set.Modules
		for _, e := range extra {
			mods = append(mods, e(set))
		}
		a, err := app.New(store.OpenMemory(), app.Options{Modules: mods, Ante: set.Ante})
		if err != nil {
			return nil, err
		}
		return a, nil
	}
}

// Run runs the scenario file at path on the real application (NewApp), with the message
// words of tables. A mistake in the file (an unknown command or word, a bad or unused
// argument) fails the test at its line; a different output fails it with a diff, or,
// under -rewrite, is written into the file.
func Run(t *testing.T, path string, tables ...MsgBuilders) {
	t.Helper()
	RunOn(t, path, NewApp, tables...)
}

// Walk runs every scenario file under dir (Run on each), as a module's TestScenarios
// does: scenario.Walk(t, "testdata", scenario.AccountsMsgs()).
func Walk(t *testing.T, dir string, tables ...MsgBuilders) {
	t.Helper()
	datadriven.Walk(t, dir, func(t *testing.T, path string) { Run(t, path, tables...) })
}

// RunOn is Run on the chains newChain makes (NewAppWith for a module not yet in the
// registry).
func RunOn(t *testing.T, path string, newChain NewChain, tables ...MsgBuilders) {
	t.Helper()
	msgs, err := Merge(tables...)
	if err != nil {
		t.Fatal(err)
	}
	h := New(newChain, msgs)
	datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
		out, err := h.Command(d)
		if err != nil {
			d.Fatalf(t, "%v", err)
		}
		return out
	})
}

// Command runs one command of a scenario and returns its output, with the addresses of
// named accounts printed as their names. An error is a mistake in the scenario, not an
// outcome of the chain: those are in the output.
func (h *Harness) Command(d *datadriven.TestData) (string, error) {
	var out string
	var err error
	switch d.Cmd {
	case "genesis":
		out, err = h.genesis(d)
	case "tx":
		out, err = h.tx(d)
	case "block":
		out, err = h.block(d)
	case "query":
		out, err = h.query(d)
	case "balance":
		out, err = h.balance(d)
	default:
		return "", fmt.Errorf("%w: %q", ErrUnknownCommand, d.Cmd)
	}
	if err != nil {
		return "", err
	}
	return h.names.Render(out), nil
}
