package e2e

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
)

type testnetOut struct {
	Nodes []struct {
		Home string `json:"home"`
		RPC  string `json:"rpc"`
	} `json:"nodes"`
}

// appHashAt returns the app hash recorded in block h+1's header, the state after h.
func appHashAt(ctx context.Context, t *testing.T, c *client.Client, h int64) string {
	t.Helper()
	b, err := c.Block(ctx, h+1)
	if err != nil {
		t.Fatalf("block %d: %v", h+1, err)
	}
	return b.AppHash
}

func sendTransfer(ctx context.Context, t *testing.T, s *client.Signer, to keys.PublicKey, amount uint64) *client.TxView {
	t.Helper()
	m, err := accounts.NewTransfer(to, amount)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Send(ctx, m)
	if err != nil {
		t.Fatalf("transfer: %v", err)
	}
	return v
}

// A 4-validator network commits transfers, keeps going with one validator killed, and the
// restarted validator catches up to the same app hash as the others.
func TestFourValidatorsSurviveAKilledValidator(t *testing.T) {
	ctx := binaryTest(t, 4*time.Minute)
	dir := t.TempDir()
	base := testutil.FreePorts(t, 40)
	var out testnetOut
	raw := tessera(t, "testnet", "--validators", "4", "--out", dir, "--base-port", strconv.Itoa(base), "--block-time", "300ms", "--output", "json")
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("testnet output: %v\n%s", err, raw)
	}
	procs := make([]*proc, 4)
	clients := make([]*client.Client, 4)
	for k, n := range out.Nodes {
		procs[k] = startNode(t, n.Home)
		clients[k] = dial(t, n.RPC)
	}
	defer func() {
		if t.Failed() {
			for _, p := range procs {
				p.dumpLog()
			}
		}
	}()
	for _, c := range clients {
		waitHeight(ctx, t, c, 2)
	}

	alice, _ := keys.FromURI("//Alice")
	bob, _ := keys.FromURI("//Bob")
	signer := clients[0].Signer(alice)
	before, err := clients[0].Account(ctx, bob.Public())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		sendTransfer(ctx, t, signer, bob.Public(), 1000)
	}

	// Kill validator 3: the other three hold 3/4 of the power (> 2/3) and go on.
	procs[3].kill()
	h0 := waitHeight(ctx, t, clients[0], 0)
	for i := 0; i < 3; i++ {
		sendTransfer(ctx, t, signer, bob.Public(), 1000)
	}
	waitHeight(ctx, t, clients[1], h0+3)
	after, err := clients[1].Account(ctx, bob.Public())
	if err != nil {
		t.Fatal(err)
	}
	if after.Balance != before.Balance+6000 {
		t.Fatalf("bob's balance on node1: %d, want %d", after.Balance, before.Balance+6000)
	}

	// Restart it: it replays what it missed and agrees with the others.
	procs[3] = startNode(t, out.Nodes[3].Home)
	target := waitHeight(ctx, t, clients[0], 0)
	waitHeight(ctx, t, clients[3], target+1)
	for k := 1; k < 4; k++ {
		waitHeight(ctx, t, clients[k], target+1)
		if a, b := appHashAt(ctx, t, clients[0], target), appHashAt(ctx, t, clients[k], target); a != b {
			t.Fatalf("app hash after height %d: node0 %s, node%d %s", target, a, k, b)
		}
	}
	caught, err := clients[3].Account(ctx, bob.Public())
	if err != nil {
		t.Fatal(err)
	}
	if caught.Balance != after.Balance {
		t.Fatalf("restarted node3 sees bob with %d, the others %d", caught.Balance, after.Balance)
	}
}
