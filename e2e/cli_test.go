package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/subnets"
)

// The README's journey, through the real binary: `tessera devnet` runs, and the CLI
// transfers, queries, registers a wallet's hotkey, stakes, sets weights, and reads the
// metagraph after an epoch — each command's --output json parsed.
func TestDevnetCLIJourney(t *testing.T) {
	ctx := binaryTest(t, 2*time.Minute)
	run, _, _ := startCLIDevnet(ctx, t, 5)

	// A wallet, funded by Alice, registers its hotkey and stakes on it.
	w := newRegisteredWallet(t, run, "w", "50")
	run(nil, "stake", "add", "--wallet.name", "w", "--amount", "5")

	// Bob weights the miners (uids 3-5); an epoch later they have incentive.
	var v struct {
		Height int64 `json:"height"`
	}
	run(&v, "weights", "set", "--from-uri", "//Bob", "--netuid", "1", "--uids", "3,4,5", "--weights", "1,0.5,0.2")
	var mg subnets.Metagraph
	for deadline := time.Now().Add(60 * time.Second); ; {
		run(&mg, "metagraph", "--netuid", "1")
		if mg.Incentive[3] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no incentive after the weights: %+v", mg.Incentive)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !(mg.Incentive[3] > mg.Incentive[4] && mg.Incentive[4] > mg.Incentive[5]) {
		t.Fatalf("incentive %v does not follow the weights 1, 0.5, 0.2", mg.Incentive)
	}
	found := false
	for _, h := range mg.Hotkeys {
		found = found || h == w.hotkey
	}
	if !found {
		t.Fatal("the wallet's hotkey is not in the metagraph")
	}
	var blk struct {
		Height int64 `json:"height"`
		NumTxs int   `json:"num_txs"`
	}
	run(&blk, "query", "block", strconv.FormatInt(v.Height, 10))
	if blk.NumTxs < 1 {
		t.Fatalf("block %d: %+v", v.Height, blk)
	}
}

// walletJSON is what `tessera wallet new -o json` prints of a new wallet's keys.
type walletJSON struct {
	Coldkey struct {
		SS58 string `json:"ss58_address"`
	} `json:"coldkey"`
	Hotkey struct {
		SS58 string `json:"ss58_address"`
	} `json:"hotkey"`
}

// cliWallet is a wallet the test made: its coldkey and hotkey addresses.
type cliWallet struct{ coldkey, hotkey string }

// newRegisteredWallet makes a wallet without a password, has Alice send its coldkey
// tokens (checked on chain), and registers its hotkey on subnet 1, the coldkey paying.
func newRegisteredWallet(t *testing.T, run cliRun, name, tokens string) cliWallet {
	t.Helper()
	var w walletJSON
	run(&w, "wallet", "new", "--wallet.name", name, "--no-password")
	run(nil, "tx", "transfer", "--from-uri", "//Alice", "--to", w.Coldkey.SS58, "--amount", tokens)
	var acct struct {
		Balance string `json:"balance"`
	}
	run(&acct, "query", "balance", w.Coldkey.SS58)
	if want, _ := accounts.ParseAmount(tokens); acct.Balance != strconv.FormatUint(want, 10) {
		t.Fatalf("balance of the new wallet %s, want %s tokens", acct.Balance, tokens)
	}
	run(nil, "subnet", "register", "--netuid", "1", "--wallet.name", name)
	return cliWallet{w.Coldkey.SS58, w.Hotkey.SS58}
}

// cliRun runs a tessera command with --output json against the devnet (wallet commands
// go to the test's home only) and decodes its answer into out unless out is nil.
type cliRun func(out any, args ...string)

// startCLIDevnet runs `tessera devnet --chain-only` with subnet 1 at tempo and 200 ms
// blocks, waits until subnet 1 is ready, and returns a runner of CLI commands against it,
// the devnet's RPC address and the runner's --home (its wallets).
func startCLIDevnet(ctx context.Context, t *testing.T, tempo int) (run cliRun, rpc, home string) {
	t.Helper()
	base := testutil.FreePorts(t, 3)
	home = t.TempDir()
	stdout := startDevnet(ctx, t, base, "--block-time", "200ms", "--tempo", strconv.Itoa(tempo), "--chain-only", "--no-inference", "--log-level", "warn")
	// The devnet prints its summary once subnet 1 is ready.
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.Contains(sc.Text(), "Press Ctrl-C") {
	}
	go func() {
		for sc.Scan() {
		}
	}()
	rpc = "127.0.0.1:" + strconv.Itoa(base+1)
	return cliRunner(t, rpc, home), rpc, home
}

// cliRunner is a cliRun against the node at rpc (host:port), its wallets in home.
func cliRunner(t *testing.T, rpc, home string) cliRun {
	return func(out any, args ...string) {
		t.Helper()
		all := append([]string{"--home", home}, args...)
		if args[0] != "wallet" {
			all = append(all, "--node="+rpc)
		}
		raw := tessera(t, append(all, "-o", "json")...)
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				t.Fatalf("tessera %v: %v\n%s", args, err, raw)
			}
		}
	}
}
