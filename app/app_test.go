package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules"
	"github.com/tessera-net/tessera/modules/accounts"
	accountskeeper "github.com/tessera-net/tessera/modules/accounts/keeper"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

const testChain = "tessera-test"

type harness struct {
	t        *testing.T
	app      *App
	height   int64
	accounts *accountskeeper.Keeper
}

func newHarness(t *testing.T, balances map[string]uint64) *harness {
	t.Helper()
	return newHarnessWith(t, balances)
}

// newHarnessWith is newHarness with further modules after the built-in ones.
func newHarnessWith(t *testing.T, balances map[string]uint64, extra ...module.Module) *harness {
	t.Helper()
	set := modules.Builtin()
	a, err := New(store.OpenMemory(), Options{Modules: append(set.Modules, extra...), Ante: set.Ante})
	if err != nil {
		t.Fatal(err)
	}
	g := accounts.Genesis{}
	for uri, bal := range balances {
		g.Balances = append(g.Balances, accounts.GenesisBalance{Address: testutil.Pair(t, uri).Public().String(), Balance: bal})
	}
	raw, _ := json.Marshal(map[string]any{"accounts": g})
	if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{ChainId: testChain, AppStateBytes: raw, InitialHeight: 1}); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, app: a, accounts: set.Accounts}
}

func (h *harness) sign(from *keys.Pair, nonce, fee uint64, chain string, msg tx.Msg) []byte {
	h.t.Helper()
	b, err := tx.Sign(from, tx.Envelope{ChainID: chain, Nonce: nonce, Fee: fee, Msg: msg})
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

func (h *harness) transfer(from *keys.Pair, to keys.PublicKey, amount, nonce uint64) []byte {
	h.t.Helper()
	m, err := accounts.NewTransfer(to, amount)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.sign(from, nonce, 1000, testChain, m)
}

func (h *harness) checkTx(b []byte) *abci.ResponseCheckTx {
	r, err := h.app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: b, Type: abci.CheckTxType_New})
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) block(txs ...[]byte) *abci.ResponseFinalizeBlock {
	h.t.Helper()
	h.height++
	r, err := h.app.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{
		Txs: txs, Height: h.height, Time: blockTime(h.height), Hash: blockHash(h.height), ProposerAddress: testProposer,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.app.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		h.t.Fatal(err)
	}
	return r
}

// blockTime, blockHash and testProposer are what the harness's block at a height carries.
func blockTime(height int64) time.Time { return time.Unix(1_700_000_000+height, 0) }

func blockHash(height int64) []byte {
	h := sha256.Sum256([]byte{byte(height >> 8), byte(height)})
	return h[:]
}

var testProposer = bytes.Repeat([]byte{0xA1}, 20)

func (h *harness) account(p keys.PublicKey) accounts.Account {
	r, _ := h.app.store.Committed(0)
	a, err := h.accounts.Account(r, p)
	if err != nil {
		h.t.Fatal(err)
	}
	return a
}

func TestTransferMovesBalances(t *testing.T) {
	alice, bob := testutil.Pair(t, "//Alice"), testutil.Pair(t, "//Bob")
	h := newHarness(t, map[string]uint64{"//Alice": 10_000_000})
	tx0 := h.transfer(alice, bob.Public(), 2_500, 0)
	tx1 := h.transfer(alice, bob.Public(), 500, 1)
	for _, b := range [][]byte{tx0, tx1} {
		if r := h.checkTx(b); r.Code != 0 {
			t.Fatalf("CheckTx: %d %s", r.Code, r.Log)
		}
	}
	res := h.block(tx0, tx1)
	for i, r := range res.TxResults {
		if r.Code != 0 {
			t.Fatalf("tx %d: %d %s", i, r.Code, r.Log)
		}
	}
	if got := h.account(bob.Public()).Balance; got != 3_000 {
		t.Fatalf("bob has %d, want 3000", got)
	}
	a := h.account(alice.Public())
	if a.Balance != 10_000_000-3_000-2_000 || a.Nonce != 2 {
		t.Fatalf("alice = %+v", a)
	}
	if v, hash := h.app.store.LastCommit(); v != 1 || string(hash) != string(res.AppHash) {
		t.Fatalf("committed version %d hash %x, block said %x", v, hash, res.AppHash)
	}
}

func TestRejectionsHaveTheirOwnCodes(t *testing.T) {
	alice, bob := testutil.Pair(t, "//Alice"), testutil.Pair(t, "//Bob")
	h := newHarness(t, map[string]uint64{"//Alice": 10_000_000, "//Bob": 5_000})
	good := h.transfer(alice, bob.Public(), 100, 0)
	h.block(good)

	transfer := func(amount uint64) tx.Msg {
		m, _ := accounts.NewTransfer(bob.Public(), amount)
		return m
	}
	badSig := h.transfer(alice, bob.Public(), 100, 1)
	badSig[len(badSig)-1] ^= 1 // the signature is the last field
	cases := []struct {
		name string
		tx   []byte
		code tx.Code
	}{
		{"replay", good, tx.CodeStaleNonce},
		{"bad signature", badSig, tx.CodeBadSignature},
		{"wrong chain id", h.sign(alice, 1, 1000, "other-chain", transfer(1)), tx.CodeWrongChainID},
		{"malformed bytes", []byte{0xde, 0xad, 0xbe, 0xef}, tx.CodeMalformed},
		{"empty", nil, tx.CodeMalformed},
		{"future nonce", h.sign(alice, 7, 1000, testChain, transfer(1)), tx.CodeFutureNonce},
		{"fee below minimum", h.sign(alice, 1, 10, testChain, transfer(1)), tx.CodeInsufficientFee},
		{"zero amount", h.sign(alice, 1, 1000, testChain, transfer(0)), tx.CodeInvalidAmount},
		{"insufficient funds", h.sign(bob, 0, 1000, testChain, transfer(1_000_000)), tx.CodeInsufficientFunds},
		{"cannot pay fee", h.sign(testutil.Pair(t, "//Charlie"), 0, 1000, testChain, transfer(1)), tx.CodeInsufficientFunds},
		{"unknown message", h.sign(alice, 1, 1000, testChain, tx.Msg{Type: "nope/nothing", Body: []byte{0xa0}}), tx.CodeUnknownMessage},
		{"malformed body", h.sign(alice, 1, 1000, testChain, tx.Msg{Type: accounts.MsgTransfer, Body: []byte{0x01}}), tx.CodeInvalidMessage},
		{"too large", make([]byte, tx.MaxTxBytes+1), tx.CodeTooLarge},
	}
	before := h.app.store.WorkingHash()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.checkTx(c.tx)
			if tx.Code(r.Code) != c.code {
				t.Fatalf("CheckTx code %s (%s), want %s", tx.Code(r.Code), r.Log, c.code)
			}
			if r.Log == "" {
				t.Fatal("rejection without a log")
			}
		})
	}
	if string(before) != string(h.app.store.WorkingHash()) {
		t.Fatal("CheckTx rejections touched the state")
	}
	// The same transactions forced into a block by a faulty proposer never touch
	// balances or nonces either (except a message failure after a paid fee, which none of
	// these reaches with a valid signature and nonce except zero amount/malformed body).
	all := make([][]byte, 0, len(cases))
	for _, c := range cases {
		if c.name == "too large" || c.name == "zero amount" || c.name == "malformed body" || c.name == "insufficient funds" {
			continue
		}
		all = append(all, c.tx)
	}
	res := h.block(all...)
	for i, r := range res.TxResults {
		if r.Code == 0 {
			t.Fatalf("block tx %d accepted", i)
		}
	}
	if a := h.account(alice.Public()); a.Nonce != 1 {
		t.Fatalf("alice nonce moved to %d", a.Nonce)
	}
}

func TestFailedMessagePaysFeeAndUsesNonce(t *testing.T) {
	alice, bob := testutil.Pair(t, "//Alice"), testutil.Pair(t, "//Bob")
	h := newHarness(t, map[string]uint64{"//Alice": 10_000})
	m, _ := accounts.NewTransfer(bob.Public(), 1_000_000)
	res := h.block(h.sign(alice, 0, 1000, testChain, m))
	if tx.Code(res.TxResults[0].Code) != tx.CodeInsufficientFunds {
		t.Fatalf("code %d %s", res.TxResults[0].Code, res.TxResults[0].Log)
	}
	if a := h.account(alice.Public()); a.Balance != 9_000 || a.Nonce != 1 {
		t.Fatalf("alice = %+v, want fee paid and nonce used", a)
	}
	if b := h.account(bob.Public()); b.Balance != 0 {
		t.Fatalf("bob received %d", b.Balance)
	}
	// The failed transaction still names its signer (the index finds it among alice's
	// transactions), and nothing of the failed message's own events.
	ev := res.TxResults[0].Events
	if len(ev) != 1 || ev[0].Type != "tx" || ev[0].Attributes[0].Key != "signer" || ev[0].Attributes[0].Value != alice.Public().String() || !ev[0].Attributes[0].Index {
		t.Fatalf("events of a failed transaction: %v", ev)
	}
}

// A transaction whose signature does not verify names no signer: anyone could claim any.
func TestBadSignatureNamesNoSigner(t *testing.T) {
	alice, bob := testutil.Pair(t, "//Alice"), testutil.Pair(t, "//Bob")
	h := newHarness(t, map[string]uint64{"//Alice": 10_000_000})
	bad := h.transfer(alice, bob.Public(), 100, 0)
	bad[len(bad)-1] ^= 1
	res := h.block(bad)
	if r := res.TxResults[0]; tx.Code(r.Code) != tx.CodeBadSignature || len(r.Events) != 0 {
		t.Fatalf("code %s, events %v", tx.Code(r.Code), r.Events)
	}
}

func TestMempoolCountsPendingNonces(t *testing.T) {
	alice, bob := testutil.Pair(t, "//Alice"), testutil.Pair(t, "//Bob")
	h := newHarness(t, map[string]uint64{"//Alice": 10_000_000})
	for n := uint64(0); n < 5; n++ {
		if r := h.checkTx(h.transfer(alice, bob.Public(), 1, n)); r.Code != 0 {
			t.Fatalf("nonce %d: %s", n, r.Log)
		}
	}
	if r := h.checkTx(h.transfer(alice, bob.Public(), 1, 2)); tx.Code(r.Code) != tx.CodeStaleNonce {
		t.Fatalf("a nonce already in the mempool was accepted again: %d %s", r.Code, r.Log)
	}
}

func TestQuery(t *testing.T) {
	alice := testutil.Pair(t, "//Alice")
	h := newHarness(t, map[string]uint64{"//Alice": 42})
	h.block()
	r, _ := h.app.Query(context.Background(), &abci.RequestQuery{Path: "/accounts/account/" + alice.Public().String()})
	var v accounts.AccountView
	if r.Code != 0 || json.Unmarshal(r.Value, &v) != nil || v.Balance != 42 {
		t.Fatalf("query: %d %s %s", r.Code, r.Log, r.Value)
	}
	r, _ = h.app.Query(context.Background(), &abci.RequestQuery{Path: "/nosuch/x"})
	if tx.Code(r.Code) != tx.CodeNotFound {
		t.Fatalf("unknown module: %d", r.Code)
	}
	r, _ = h.app.Query(context.Background(), &abci.RequestQuery{Path: "/accounts/account/not-an-address"})
	if r.Code == 0 || r.Log == "" {
		t.Fatal("bad address accepted")
	}
	r, _ = h.app.Query(context.Background(), &abci.RequestQuery{Path: "/store", Data: []byte("meta/chain_id"), Prove: true})
	if r.Code != 0 || string(r.Value) != testChain || r.ProofOps == nil {
		t.Fatalf("store query: %d %s %q", r.Code, r.Log, r.Value)
	}
}

func TestSigCacheBounded(t *testing.T) {
	c := newSigCache(3)
	for i := byte(1); i <= 5; i++ {
		c.add([32]byte{i})
	}
	if c.take([32]byte{1}) || c.take([32]byte{2}) {
		t.Fatal("oldest entries were not evicted")
	}
	if !c.take([32]byte{5}) || c.take([32]byte{5}) {
		t.Fatal("take must report a cached hash once")
	}
	if len(c.set) != 2 {
		t.Fatalf("%d entries, want 2", len(c.set))
	}
}

// A block whose transactions the node never checked still verifies their signatures.
func TestBlockVerifiesUncheckedSignatures(t *testing.T) {
	alice, bob := testutil.Pair(t, "//Alice"), testutil.Pair(t, "//Bob")
	h := newHarness(t, map[string]uint64{"//Alice": 10_000_000})
	forged := h.transfer(alice, bob.Public(), 100, 0)
	forged[len(forged)-1] ^= 1
	if r := h.block(forged).TxResults[0]; tx.Code(r.Code) != tx.CodeBadSignature {
		t.Fatalf("forged signature in a block: code %d %s", r.Code, r.Log)
	}
}
