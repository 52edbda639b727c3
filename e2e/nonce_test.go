package e2e

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
)

// The CLI signing with a key that another process keeps signing with (a validator's
// hotkey, used by hand from the CLI): Bob's transactions are almost always waiting in the
// mempool, yet every `tx transfer --from-uri //Bob` is accepted, its nonce taken past
// them.
func TestCLISignsBesideAnotherSignerOfTheSameKey(t *testing.T) {
	ctx := binaryTest(t, 2*time.Minute)
	run, rpc, _ := startCLIDevnet(ctx, t, 5)
	bob, err := keys.FromURI("//Bob")
	if err != nil {
		t.Fatal(err)
	}
	alice, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}

	// The other signer: one transfer of Bob's after another, each waited for.
	other, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var sent int
	s := dial(t, rpc).Signer(bob)
	msg, err := accounts.NewTransfer(alice.Public(), 1)
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for other.Err() == nil {
			if _, err := s.Send(other, msg); err == nil {
				sent++
			} else if !errors.Is(err, context.Canceled) {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}()
	for i := range 8 {
		var v struct {
			Nonce uint64 `json:"nonce"`
		}
		run(&v, "tx", "transfer", "--from-uri", "//Bob", "--to", alice.Public().String(), "--amount", "0.001")
		t.Logf("transfer %d: nonce %d", i, v.Nonce)
	}
	stop()
	wg.Wait()
	if sent < 4 {
		t.Fatalf("the other signer got only %d transactions in: the CLI did not sign beside a busy key", sent)
	}
}
