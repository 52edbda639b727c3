package e2e

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/tx"
)

// A node killed with SIGKILL in the middle of a stream of transfers loses none that were
// reported committed, and after the restart its state's hash is the one its blocks carry.
func TestKilledNodeLosesNoCommittedTransfer(t *testing.T) {
	ctx := binaryTest(t, 3*time.Minute)
	home := filepath.Join(t.TempDir(), "node")
	base := testutil.FreePorts(t, 3)
	rpc := "127.0.0.1:" + strconv.Itoa(base+1)
	tessera(t, "node", "init", "--home", home, "--chain-id", "crash-test", "--dev-accounts", "--block-time", "200ms",
		"--p2p", "127.0.0.1:"+strconv.Itoa(base), "--rpc", rpc, "--api", "127.0.0.1:"+strconv.Itoa(base+2))
	p := startNode(t, home)
	defer func() {
		if t.Failed() {
			p.dumpLog()
		}
	}()
	c := dial(t, rpc)
	waitHeight(ctx, t, c, 1)

	alice, _ := keys.FromURI("//Alice")
	bob, _ := keys.FromURI("//Bob")
	start, err := c.Account(ctx, bob.Public())
	if err != nil {
		t.Fatal(err)
	}
	chainID, err := c.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Stream transfers of 1..N units with consecutive nonces; a waiter per transaction
	// records those the node reports committed. The node is killed part way.
	var (
		mu        sync.Mutex
		committed = map[string]uint64{} // hash → amount
		sent      = map[string]uint64{}
		wg        sync.WaitGroup
	)
	streamCtx, stopStream := context.WithCancel(ctx)
	killAt := time.After(2500 * time.Millisecond)
	nonce := uint64(0)
stream:
	for amount := uint64(1); ; amount++ {
		select {
		case <-killAt:
			break stream
		default:
		}
		m, _ := accounts.NewTransfer(bob.Public(), amount)
		raw, err := tx.Sign(alice, tx.Envelope{ChainID: chainID, Nonce: nonce, Fee: 1000, Msg: m})
		if err != nil {
			t.Fatal(err)
		}
		hash, err := c.Broadcast(ctx, raw)
		if err != nil {
			t.Fatalf("broadcast nonce %d: %v", nonce, err)
		}
		nonce++
		sent[hash] = amount
		wg.Add(1)
		go func(hash string, amount uint64) {
			defer wg.Done()
			if v, err := c.WaitTx(streamCtx, hash); err == nil && v.Code == 0 {
				mu.Lock()
				committed[hash] = amount
				mu.Unlock()
			}
		}(hash, amount)
		time.Sleep(5 * time.Millisecond)
	}
	p.kill()
	stopStream()
	wg.Wait()
	if len(committed) == 0 {
		t.Fatal("no transfer was reported committed before the kill")
	}
	t.Logf("sent %d transfers, %d reported committed before SIGKILL", len(sent), len(committed))

	p = startNode(t, home)
	h := waitHeight(ctx, t, c, 1)
	tip := waitHeight(ctx, t, c, h+2)

	// Every reported transfer is in the chain, committed with code 0. The blocks are read
	// from the block store, not the transaction index: CometBFT indexes a block in its
	// own goroutine after the commit, so a SIGKILL can lose the index of the last blocks
	// while the blocks and their state stay.
	var inChain uint64
	found := map[string]bool{}
	for height := int64(1); height <= tip; height++ {
		b, err := c.Block(ctx, height)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range b.Txs {
			amount, ours := sent[v.Hash]
			if !ours {
				continue
			}
			if v.Code != 0 {
				t.Fatalf("transfer %s: code %d %s", v.Hash, v.Code, v.Log)
			}
			found[v.Hash] = true
			inChain += amount
		}
	}
	for hash := range committed {
		if !found[hash] {
			t.Fatalf("transfer %s was reported committed and is gone after the restart", hash)
		}
	}
	end, err := c.Account(ctx, bob.Public())
	if err != nil {
		t.Fatal(err)
	}
	if end.Balance != start.Balance+inChain {
		t.Fatalf("bob has %d, want %d + %d committed", end.Balance, start.Balance, inChain)
	}

	// The application's own committed hash is the one the next block carries.
	info, err := c.RPC().ABCIInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := info.Response.LastBlockHeight
	waitHeight(ctx, t, c, last+1)
	if got, want := appHashAt(ctx, t, c, last), info.Response.LastBlockAppHash; got != hexUpper(want) {
		t.Fatalf("app hash after height %d: block says %s, app says %X", last, got, want)
	}
}

func hexUpper(b []byte) string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
