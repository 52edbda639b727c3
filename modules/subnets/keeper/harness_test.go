package keeper_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/tessera-net/tessera/modules"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/app"
	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

const chain = "subnets-test"

// chainHarness drives the real application through ABCI, one block at a time.
type chainHarness struct {
	t      testing.TB
	app    *app.App
	set    *modules.Set
	height int64
	nonces map[keys.PublicKey]uint64
	// proposer is the consensus address the blocks name as their proposer (none if nil).
	proposer []byte
}

// newChainWith is a chain over set with the genesis switch dtao, the funded accounts rich.
func newChainWith(t testing.TB, set *modules.Set, dtao bool, funded ...*keys.Pair) *chainHarness {
	t.Helper()
	return newChainGenesis(t, set, dtao, nil, nil, funded...)
}

// manySubnets are the subnets genesis params of the tests that create several subnets in
// a few blocks: no registration rate limit (network_rate_limit 0; subtensor's 7200 blocks
// is the default, shown in testdata/lock.txt).
var manySubnets = map[string]any{"network_rate_limit": 0}

// newChainParams is newChainWith with these subnets params (by JSON name; the others keep
// their defaults) in the genesis.
func newChainParams(t testing.TB, set *modules.Set, dtao bool, params map[string]any, funded ...*keys.Pair) *chainHarness {
	t.Helper()
	return newChainGenesis(t, set, dtao, params, nil, funded...)
}

// newChainGenesis is newChainParams with further app_state sections (by module name).
func newChainGenesis(t testing.TB, set *modules.Set, dtao bool, params map[string]any, sections map[string]json.RawMessage, funded ...*keys.Pair) *chainHarness {
	t.Helper()
	a, err := app.New(store.OpenMemory(), app.Options{Modules: set.Modules, Ante: set.Ante})
	if err != nil {
		t.Fatal(err)
	}
	var st genesis.AppState
	for _, p := range funded {
		st.Fund(p.Public(), 1_000_000_000_000_000)
	}
	if err := st.SetDTAO(dtao); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := st.SetSubnetsParam(name, params[name]); err != nil {
			t.Fatal(err)
		}
	}
	if st.Extra == nil {
		st.Extra = map[string]json.RawMessage{}
	}
	for k, v := range sections {
		st.Extra[k] = v
	}
	raw, _ := json.Marshal(st)
	if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{ChainId: chain, AppStateBytes: raw, InitialHeight: 1}); err != nil {
		t.Fatal(err)
	}
	return &chainHarness{t: t, app: a, set: set, nonces: map[keys.PublicKey]uint64{}}
}

func (h *chainHarness) sign(from *keys.Pair, msg tx.Msg) []byte {
	h.t.Helper()
	n := h.nonces[from.Public()]
	b, err := tx.Sign(from, tx.Envelope{ChainID: chain, Nonce: n, Fee: 1000, Msg: msg})
	if err != nil {
		h.t.Fatal(err)
	}
	h.nonces[from.Public()] = n + 1
	return b
}

// block executes one block and returns its results.
func (h *chainHarness) block(txs ...[]byte) *abci.ResponseFinalizeBlock {
	h.t.Helper()
	h.height++
	// A block hash (SHA-256 of the height) so that the root auto-claim picks from it.
	hash := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(h.height)))
	r, err := h.app.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Txs: txs, Height: h.height, Time: time.Unix(1_700_000_000+h.height, 0), Hash: hash[:],
		ProposerAddress: h.proposer})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.app.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		h.t.Fatal(err)
	}
	return r
}

// do runs one transaction in its own block and returns its result code and log.
func (h *chainHarness) do(from *keys.Pair, msg tx.Msg) (tx.Code, string) {
	h.t.Helper()
	r := h.block(h.sign(from, msg)).TxResults[0]
	// A refused transaction does not use its nonce: resync from the state.
	acct, err := h.set.Accounts.Account(h.reader(), from.Public())
	if err != nil {
		h.t.Fatal(err)
	}
	h.nonces[from.Public()] = acct.Nonce
	return tx.Code(r.Code), r.Log
}

// must runs a transaction that must succeed.
func (h *chainHarness) must(from *keys.Pair, msg tx.Msg) {
	h.t.Helper()
	if code, log := h.do(from, msg); code != 0 {
		h.t.Fatalf("transaction failed: %s %s", code, log)
	}
}

func (h *chainHarness) query(path string, out any) {
	h.t.Helper()
	r, err := h.app.Query(context.Background(), &abci.RequestQuery{Path: path})
	if err != nil || r.Code != 0 {
		h.t.Fatalf("query %s: %v %s", path, err, r.Log)
	}
	if err := json.Unmarshal(r.Value, out); err != nil {
		h.t.Fatal(err)
	}
}

func (h *chainHarness) reader() store.Reader {
	r, err := h.app.Store().Committed(0)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func queryReq(path string) *abci.RequestQuery { return &abci.RequestQuery{Path: path} }

// msg unwraps a message constructor's result.
func (h *chainHarness) msg(m tx.Msg, err error) tx.Msg {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}
