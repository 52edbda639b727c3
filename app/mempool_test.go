package app

import (
	"context"
	"encoding/json"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/tx"
)

// queryNonce asks path ("/accounts/account/…" or "/mempool/accounts/account/…") for an
// account's nonce and returns it with the height of the answer.
func (h *harness) queryNonce(path string) (uint64, int64) {
	h.t.Helper()
	r, err := h.app.Query(context.Background(), &abci.RequestQuery{Path: path})
	if err != nil || r.Code != 0 {
		h.t.Fatalf("query %s: %v %d %s", path, err, r.Code, r.Log)
	}
	var v accounts.AccountView
	if err := json.Unmarshal(r.Value, &v); err != nil {
		h.t.Fatalf("query %s: %v", path, err)
	}
	return v.Nonce, r.Height
}

// The mempool query answers from the state CheckTx judges by: an account's nonce counts
// the transactions waiting in the mempool, which the committed query does not, and both
// agree again once the block holding them is committed.
func TestMempoolQueryCountsPendingTransactions(t *testing.T) {
	alice, bob := testutil.Pair(t, "//Alice"), testutil.Pair(t, "//Bob")
	h := newHarness(t, map[string]uint64{"//Alice": 10_000_000})
	h.block()
	committed, pending := "/accounts/account/"+alice.Public().String(), "/mempool/accounts/account/"+alice.Public().String()
	var txs [][]byte
	for n := uint64(0); n < 3; n++ {
		b := h.transfer(alice, bob.Public(), 1, n)
		if r := h.checkTx(b); r.Code != 0 {
			t.Fatalf("nonce %d: %s", n, r.Log)
		}
		txs = append(txs, b)
	}
	if n, height := h.queryNonce(pending); n != 3 || height != 1 {
		t.Fatalf("mempool nonce %d at height %d, want 3 at 1", n, height)
	}
	if n, _ := h.queryNonce(committed); n != 0 {
		t.Fatalf("committed nonce %d, want 0", n)
	}
	h.block(txs...)
	if n, height := h.queryNonce(pending); n != 3 || height != 2 {
		t.Fatalf("after the block: mempool nonce %d at height %d, want 3 at 2", n, height)
	}
	if n, _ := h.queryNonce(committed); n != 3 {
		t.Fatalf("after the block: committed nonce %d, want 3", n)
	}
}

func TestMempoolQueryRefusals(t *testing.T) {
	h := newHarness(t, nil)
	h.block()
	for _, c := range []struct {
		path   string
		height int64
		want   tx.Code
	}{
		{"/mempool/nosuch/x", 0, tx.CodeNotFound},
		{"/mempool/accounts/account/not-an-address", 0, tx.CodeInvalidMessage},
		{"/mempool/accounts/params", 1, tx.CodeInvalidMessage},
	} {
		r, err := h.app.Query(context.Background(), &abci.RequestQuery{Path: c.path, Height: c.height})
		if err != nil || tx.Code(r.Code) != c.want || r.Log == "" {
			t.Errorf("%s at %d: %v code %d %q, want %s", c.path, c.height, err, r.Code, r.Log, c.want)
		}
	}
}
