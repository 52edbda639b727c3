package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/tx"
)

// An oversized path or data is refused with CodeTooLarge before anything else: before the
// route is looked up (an unknown module is still "too large") and before the store is read.
func TestQueryRefusesOversizedRequests(t *testing.T) {
	h := newHarness(t, map[string]uint64{"//Alice": 42})
	h.block()
	for _, tc := range []struct {
		name string
		req  abci.RequestQuery
		want string
	}{
		{"the reported attack", abci.RequestQuery{Path: "/accounts/account/" + strings.Repeat("z", 400_000)},
			fmt.Sprintf("query path is %d bytes; at most %d", 18+400_000, MaxQueryPath)},
		{"a path one byte over", abci.RequestQuery{Path: "/nosuch/" + strings.Repeat("a", MaxQueryPath-7)},
			fmt.Sprintf("query path is %d bytes; at most %d", MaxQueryPath+1, MaxQueryPath)},
		{"store data one byte over", abci.RequestQuery{Path: "/store", Data: make([]byte, MaxQueryData+1), Height: 99},
			fmt.Sprintf("query data is %d bytes; at most %d", MaxQueryData+1, MaxQueryData)},
		{"module query data", abci.RequestQuery{Path: "/accounts/params", Data: make([]byte, 1<<20)},
			fmt.Sprintf("query data is %d bytes; at most %d", 1<<20, MaxQueryData)},
	} {
		r, err := h.app.Query(context.Background(), &tc.req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if tx.Code(r.Code) != tx.CodeTooLarge || r.Codespace != Codespace || !strings.Contains(r.Log, tc.want) {
			t.Fatalf("%s: code %d %q, want %s saying %q", tc.name, r.Code, r.Log, tx.CodeTooLarge, tc.want)
		}
		if len(r.Log) > 200 || r.Value != nil {
			t.Fatalf("%s: the refusal echoes the request: %d-byte log, %d-byte value", tc.name, len(r.Log), len(r.Value))
		}
	}
	// At the bounds the request goes on to its route: the over-long argument is refused
	// by the route's own check, and data at its bound reads the store.
	atBound := "/accounts/account/" + strings.Repeat("z", MaxQueryPath-18)
	if r, _ := h.app.Query(context.Background(), &abci.RequestQuery{Path: atBound}); tx.Code(r.Code) != tx.CodeInvalidMessage ||
		!strings.Contains(r.Log, fmt.Sprintf("at most %d", module.MaxQueryArg)) {
		t.Fatalf("a path at the bound: %d %q", r.Code, r.Log)
	}
	if r, _ := h.app.Query(context.Background(), &abci.RequestQuery{Path: "/store", Data: make([]byte, MaxQueryData), Prove: true}); r.Code != 0 || r.ProofOps == nil {
		t.Fatalf("store data at the bound: %d %q", r.Code, r.Log)
	}
}

// A /store query without a key says how to give one.
func TestStoreQueryNeedsKey(t *testing.T) {
	h := newHarness(t, nil)
	h.block()
	r, _ := h.app.Query(context.Background(), &abci.RequestQuery{Path: "/store"})
	if tx.Code(r.Code) != tx.CodeInvalidMessage || !strings.Contains(r.Log, "needs a key") || !strings.Contains(r.Log, "data") {
		t.Fatalf("store query without a key: %d %q", r.Code, r.Log)
	}
}

// Query and Info are safe for concurrent use with each other and with block execution:
// the node calls them without a lock. Run with -race; every answer is also checked to be
// from a committed height, with the balance that height holds.
func TestQueriesRunConcurrently(t *testing.T) {
	alice, bob := testutil.Pair(t, "//Alice"), testutil.Pair(t, "//Bob")
	h := newHarness(t, map[string]uint64{"//Alice": 1_000_000})
	h.block()
	const blocks, readers = 10, 4
	done := make(chan struct{})
	errs := make(chan error, readers)
	var wg sync.WaitGroup
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- readUntil(h.app, bob.Public().String(), done)
		}()
	}
	for i := range blocks {
		h.block(h.transfer(alice, bob.Public(), 1, uint64(i)))
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// readUntil queries Info, /chain, /store and bob's account until done. Bob receives 1 per
// block from block 2 on, so his balance at height h is h-1.
func readUntil(a *App, bob string, done <-chan struct{}) error {
	ctx := context.Background()
	for {
		select {
		case <-done:
			return nil
		default:
		}
		if _, err := a.Info(ctx, &abci.RequestInfo{}); err != nil {
			return err
		}
		for _, path := range []string{"/chain", "/store"} {
			if r, _ := a.Query(ctx, &abci.RequestQuery{Path: path, Data: keyChainID}); r.Code != 0 {
				return fmt.Errorf("%s: %d %s", path, r.Code, r.Log)
			}
		}
		r, _ := a.Query(ctx, &abci.RequestQuery{Path: "/accounts/account/" + bob})
		var v accounts.AccountView
		if r.Code != 0 || json.Unmarshal(r.Value, &v) != nil {
			return fmt.Errorf("bob's account: %d %s", r.Code, r.Log)
		}
		if v.Balance != uint64(r.Height-1) {
			return fmt.Errorf("bob's balance at height %d is %d, want %d", r.Height, v.Balance, r.Height-1)
		}
	}
}
