package client_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/devnet"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/tx"
)

// The client against a real node: one devnet, reached in process and over HTTP.
func TestClientAgainstANode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node: skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Options{BlockTime: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop() })
	overHTTP, err := client.Dial(d.Node.RPCAddress())
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]*client.Client{"local": d.Client, "http": overHTTP}
	if err := d.WaitHeight(ctx, 3); err != nil {
		t.Fatal(err)
	}

	t.Run("AppHeight", func(t *testing.T) {
		for name, c := range clients {
			h, err := c.AppHeight(ctx)
			if err != nil || h < 3 {
				t.Fatalf("%s: app height %d, %v; want at least 3", name, h, err)
			}
		}
	})
	t.Run("Query", func(t *testing.T) { testQuery(ctx, t, clients) })
	t.Run("TxAndBlock", func(t *testing.T) { testTxAndBlock(ctx, t, d, clients) })
	t.Run("BroadcastTwice", func(t *testing.T) { testBroadcastTwice(ctx, t, d, clients) })
	t.Run("StaleNonceRetried", func(t *testing.T) { testStaleNonceRetried(ctx, t, d, clients) })
	t.Run("ConcurrentSends", func(t *testing.T) { testConcurrentSends(ctx, t, d, clients) })
	t.Run("DroppedTransaction", func(t *testing.T) { testDroppedTransaction(ctx, t, d, clients) })
}

type chainAnswer struct {
	ChainID string `json:"chain_id"`
	Height  int64  `json:"height"`
}

func testQuery(ctx context.Context, t *testing.T, clients map[string]*client.Client) {
	for name, c := range clients {
		var latest chainAnswer
		h, err := c.Query(ctx, "/chain", 0, &latest)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if h < 3 || h != latest.Height || latest.ChainID != devnet.ChainID {
			t.Fatalf("%s: the latest answer %+v came with height %d", name, latest, h)
		}
		var old chainAnswer
		if h, err := c.Query(ctx, "/chain", 2, &old); err != nil || h != 2 || old.Height != 2 {
			t.Fatalf("%s: at height 2 the answer is %+v at height %d (%v)", name, old, h, err)
		}
		var qe *client.QueryError
		if _, err := c.Query(ctx, "/nosuchmodule/x", 0, &old); !errors.As(err, &qe) || qe.Code != tx.CodeNotFound {
			t.Fatalf("%s: an unknown module answered %v, want a not_found QueryError", name, err)
		}
		if _, err := c.Query(ctx, "/chain", h+1_000_000, &old); !errors.As(err, &qe) || qe.Code != tx.CodeNotFound {
			t.Fatalf("%s: a future height answered %v, want a not_found QueryError", name, err)
		}
		if _, err := c.Query(ctx, "/chain", -1, &old); !errors.Is(err, client.ErrInvalidInput) {
			t.Fatalf("%s: a negative height answered %v, want ErrInvalidInput", name, err)
		}
	}
}

func testTxAndBlock(ctx context.Context, t *testing.T, d *devnet.Devnet, clients map[string]*client.Client) {
	alice, bob := d.Accounts[0].Pair, d.Accounts[1].Pair
	msg, err := accounts.NewTransfer(bob.Public(), 7)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := d.Client.Signer(alice).Send(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range clients {
		got, err := c.Tx(ctx, "0x"+strings.ToLower(sent.Hash))
		if err != nil || got.Height != sent.Height || got.MsgType != msg.Type || got.Signer != alice.Public().String() {
			t.Fatalf("%s: transaction %s read back as %+v (%v), sent %+v", name, sent.Hash, got, err, sent)
		}
		if _, err := c.Tx(ctx, strings.Repeat("ab", 32)); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("%s: an unknown hash gave %v, want ErrNotFound", name, err)
		}
		for _, bad := range []string{"", "xyz", strings.Repeat("ab", 31)} {
			if _, err := c.Tx(ctx, bad); !errors.Is(err, client.ErrInvalidInput) {
				t.Fatalf("%s: hash %q gave %v, want ErrInvalidInput", name, bad, err)
			}
		}

		b, err := c.Block(ctx, sent.Height)
		if err != nil || b.Height != sent.Height || b.NumTxs != 1 || b.Txs[0].Hash != sent.Hash || b.ChainID != devnet.ChainID {
			t.Fatalf("%s: block %d is %+v (%v), want the transfer %s in it", name, sent.Height, b, err, sent.Hash)
		}
		if latest, err := c.Block(ctx, 0); err != nil || latest.Height < sent.Height {
			t.Fatalf("%s: the latest block is %+v (%v)", name, latest, err)
		}
		if _, err := c.Block(ctx, sent.Height+1_000_000); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("%s: a block beyond the tip gave %v, want ErrNotFound", name, err)
		}
		if _, err := c.Block(ctx, -1); !errors.Is(err, client.ErrInvalidInput) {
			t.Fatalf("%s: a negative height gave %v, want ErrInvalidInput", name, err)
		}
	}
}

// The same bytes broadcast twice: the second is a conflict, in process and over HTTP.
func testBroadcastTwice(ctx context.Context, t *testing.T, d *devnet.Devnet, clients map[string]*client.Client) {
	s := d.Client.Signer(d.Accounts[2].Pair)
	for name, c := range clients {
		msg, err := accounts.NewTransfer(d.Accounts[3].Pair.Public(), 1)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := s.Sign(ctx, msg)
		if err != nil {
			t.Fatal(err)
		}
		first, err := c.Broadcast(ctx, raw)
		if err != nil {
			t.Fatalf("%s: first broadcast: %v", name, err)
		}
		again, err := c.Broadcast(ctx, raw)
		var te *client.TxError
		if !errors.As(err, &te) || te.Code != tx.CodeConflict || again != first || te.Hash != first {
			t.Fatalf("%s: the second broadcast gave %q, %v; want a conflict TxError for %s", name, again, err, first)
		}
		if !strings.Contains(err.Error(), "refused: "+tx.CodeConflict.String()+": ") {
			t.Fatalf("%s: the refusal %q does not name its code as the application's refusals do", name, err)
		}
	}
}

// Two signers of one key: the one whose nonce another took meanwhile signs again, once,
// with the nonce the mempool counts, and says so; a signer reads its first nonce from the
// mempool, past the key's pending transactions.
func testStaleNonceRetried(ctx context.Context, t *testing.T, d *devnet.Devnet, clients map[string]*client.Client) {
	key, to := d.Accounts[4].Pair, d.Accounts[0].Pair.Public()
	for name, c := range clients {
		msg, err := accounts.NewTransfer(to, 1)
		if err != nil {
			t.Fatal(err)
		}
		slow, fast := c.Signer(key), c.Signer(key)
		if _, err := slow.Sign(ctx, msg); err != nil { // slow now counts on the next nonce, n+1
			t.Fatal(err)
		}
		for range 2 { // fast takes n and n+1; both stay pending for a moment
			if _, err := fast.Submit(ctx, msg); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if n, err := c.NextNonce(ctx, key.Public()); err != nil || n < 2 {
			t.Fatalf("%s: next nonce %d, %v", name, n, err)
		}
		var retries []client.StaleNonceRetry
		slow.OnStaleNonce = func(r client.StaleNonceRetry) { retries = append(retries, r) }
		v, err := slow.Send(ctx, msg)
		if err != nil || len(retries) != 1 || retries[0].Next != retries[0].Used+1 || v.Nonce != retries[0].Next {
			t.Fatalf("%s: the stale signer sent %+v, %v after retries %+v; want one retry with the next nonce", name, v, err, retries)
		}
	}
}

// One signer shared by goroutines, as a service's loops share its key: every Send goes
// through, each with a nonce of its own, none retried for a stale nonce.
func testConcurrentSends(ctx context.Context, t *testing.T, d *devnet.Devnet, clients map[string]*client.Client) {
	key, to := d.Accounts[5].Pair, d.Accounts[0].Pair.Public()
	for name, c := range clients {
		s := c.Signer(key)
		retried := 0
		s.OnStaleNonce = func(client.StaleNonceRetry) { retried++ }
		const n = 16
		nonces := make(chan uint64, n)
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				msg, err := accounts.NewTransfer(to, uint64(i+1))
				if err == nil {
					var v *client.TxView
					if v, err = s.Send(ctx, msg); err == nil {
						nonces <- v.Nonce
					}
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(nonces)
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		seen := map[uint64]bool{}
		for v := range nonces {
			seen[v] = true
		}
		if len(seen) != n || retried != 0 {
			t.Fatalf("%s: %d distinct nonces of %d sends, %d stale-nonce retries", name, len(seen), n, retried)
		}
	}
}

// A transaction that never reaches a block: SendAll gives it up after CommitWithin
// blocks rather than waiting for ever, and the signer's next transaction, whose nonce the
// lost one's absence left ahead of the chain's, is signed again with the free nonce.
func testDroppedTransaction(ctx context.Context, t *testing.T, d *devnet.Devnet, clients map[string]*client.Client) {
	key, to := d.Accounts[5].Pair, d.Accounts[0].Pair.Public()
	msg, err := accounts.NewTransfer(to, 1)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range clients {
		missing := strings.Repeat("AB", 32) // the hash of no transaction
		if _, err := c.WaitTxWithin(ctx, missing, 3); !errors.Is(err, client.ErrNotCommitted) {
			t.Fatalf("%s: waiting 3 blocks for a transaction never sent: %v, want ErrNotCommitted", name, err)
		}
		s := c.Signer(key)
		// Signed and never broadcast: its nonce is lost as an evicted one's is.
		if _, err := s.Sign(ctx, msg); err != nil {
			t.Fatal(err)
		}
		before, err := c.NextNonce(ctx, key.Public())
		if err != nil {
			t.Fatal(err)
		}
		views, err := s.SendAll(ctx, msg, msg)
		if err != nil || len(views) != 2 {
			t.Fatalf("%s: after a lost nonce, SendAll gave %d views, %v", name, len(views), err)
		}
		if views[0].Nonce != before || views[1].Nonce != before+1 {
			t.Fatalf("%s: nonces %d and %d, want %d and %d", name, views[0].Nonce, views[1].Nonce, before, before+1)
		}
	}
}
