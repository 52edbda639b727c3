package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/modules/stake"
)

// A btcli user's stake moves on a dTAO devnet, through the binary: `subnet list` shows
// subnet 1's pool; `stake add --netuid 1 --safe` shows a quote and buys alpha (refused
// without --yes when it cannot ask, and refused by the chain below the price with the
// price named); `stake list` shows the alpha and its TAO value; `stake move` to another
// hotkey, `stake swap` to root (with a limit that caps it: refused naming the most it
// admits, or with --partial cut to that), `stake transfer` to another coldkey and `stake
// remove` each go through; `wallet overview` values the stake in TAO; `stake remove
// --all --netuid 1` empties one position, `--all-alpha` and `--all` all of the hotkey's.
func TestDTAOStakeMovesThroughCLI(t *testing.T) {
	ctx := binaryTest(t, 2*time.Minute)
	run, rpc, home := startCLIDevnet(ctx, t, 5)
	w := newRegisteredWallet(t, run, "w", "100")
	cli := func(args ...string) (string, string, int) {
		t.Helper()
		var out, errb bytes.Buffer
		cmd := exec.CommandContext(ctx, binary, append([]string{"--home", home}, args...)...)
		cmd.Env = append(os.Environ(), "TESSERA_NODE="+rpc)
		cmd.Stdin = strings.NewReader("")
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("tessera %v: %v", args, err)
		}
		return out.String(), errb.String(), cmd.ProcessState.ExitCode()
	}
	ok := func(want string, args ...string) (string, string) {
		t.Helper()
		out, errs, code := cli(args...)
		if code != 0 || !strings.Contains(out+errs, want) {
			t.Fatalf("tessera %v: exit %d, stdout %q, stderr %q (want %q)", args, code, out, errs, want)
		}
		return out, errs
	}
	fails := func(want string, args ...string) {
		t.Helper()
		out, errs, code := cli(args...)
		if code == 0 || !strings.Contains(errs, want) {
			t.Fatalf("tessera %v: exit %d, stderr %q (want a failure with %q), stdout %q", args, code, errs, want, out)
		}
	}

	var rows []struct {
		Netuid uint16          `json:"netuid"`
		Pool   *stake.PoolView `json:"pool"`
	}
	run(&rows, "subnet", "list")
	if len(rows) < 2 || rows[1].Netuid != 1 || rows[1].Pool == nil || rows[1].Pool.PriceRao == 0 || rows[1].Pool.TAO < 1000_000_000_000 {
		t.Fatalf("subnet 1 has no pool in `subnet list`: %+v", rows)
	}
	out, _ := ok("PRICE", "subnet", "list")
	if !strings.Contains(out, "TAO IN") || !strings.Contains(out, "SHARE") {
		t.Fatalf("subnet list lacks the dTAO columns:\n%s", out)
	}

	fails("pass --yes", "stake", "add", "--wallet.name", "w", "--netuid", "1", "--amount", "2", "--safe")
	fails("limit price not met", "stake", "add", "--wallet.name", "w", "--netuid", "1", "--amount", "2", "--limit-price", "0.01", "--yes")
	// The devnet's pool is small and its price moves every block (the chain buys alpha
	// with the emission it does not inject), by about 0.1 % a block; the 2 TAO move it
	// another 0.3 %. The default 0.5 % tolerance is then met only if the transaction
	// lands within a block or two of the quote, which a busy machine does not promise.
	_, quote := ok("staked 2.000000000 TAO", "stake", "add", "--wallet.name", "w", "--netuid", "1", "--amount", "2", "--safe", "--tolerance", "0.05", "--yes")
	if !strings.Contains(quote, "Stake: pay 2.000000000 TAO, receive") || !strings.Contains(quote, "limit") {
		t.Fatalf("no quote before signing: %q", quote)
	}

	alpha := func(netuid uint16, hotkey, cold string) (a, value uint64) {
		t.Helper()
		var ps []stake.Position
		run(&ps, "stake", "list", cold)
		for _, p := range ps {
			if p.Netuid == netuid && p.Hotkey == hotkey {
				return p.Stake, p.TAOValue
			}
		}
		return 0, 0
	}
	a, v := alpha(1, w.hotkey, w.coldkey)
	if a == 0 || v == 0 || v >= 2_000_000_000 {
		t.Fatalf("after staking 2 TAO: %d alpha worth %d rao", a, v)
	}
	out, _ = ok("α1", "stake", "list", "--wallet.name", "w")
	if !strings.Contains(out, "TAO VALUE") {
		t.Fatalf("stake list does not show the TAO value:\n%s", out)
	}

	const bob = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty" // a validator's hotkey
	const alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
	ok("moved 0.300000000 α1", "stake", "move", "--wallet.name", "w", "--origin-netuid", "1", "--dest-netuid", "1", "--to-hotkey", bob, "--amount", "0.3")
	if got, _ := alpha(1, bob, w.coldkey); got+1 < 300_000_000 {
		t.Fatalf("after the move the wallet has %d alpha on Bob's hotkey", got)
	}
	// A swap's limit (here --safe's, 10 ppm under the ratio) caps its amount: 0.2 alpha
	// would take the ratio further, so the quote is refused naming the most the limit
	// admits, and --partial swaps at most that much on the quote's pool. (The chain's
	// price rises a little each block, which lets the limit admit more by the time the
	// transaction lands: the test asks only that some alpha and no more than 0.2 moved.)
	swap := []string{"stake", "swap", "--wallet.name", "w", "--origin-netuid", "1", "--dest-netuid", "0", "--amount", "0.2", "--yes"}
	fails("the swap may take at most", append(swap, "--safe", "--tolerance", "0.00001")...)
	before, _ := alpha(1, w.hotkey, w.coldkey)
	ok("swapped", append(swap, "--safe", "--tolerance", "0.00001", "--partial")...)
	if after, _ := alpha(1, w.hotkey, w.coldkey); after >= before || before-after > 200_000_000 {
		t.Fatalf("a partial swap of at most 0.2 alpha at 10 ppm took %d alpha", before-after)
	}
	ok("swapped 0.200000000 α1", swap...)
	if root, _ := alpha(0, w.hotkey, w.coldkey); root == 0 {
		t.Fatal("the swap to root staked nothing on root")
	}
	ok("transferred 0.100000000 α1", "stake", "transfer", "--wallet.name", "w", "--dest", alice, "--origin-netuid", "1", "--dest-netuid", "1", "--amount", "0.1", "--yes")
	if got, _ := alpha(1, w.hotkey, alice); got+1 < 100_000_000 {
		t.Fatalf("Alice received %d alpha", got)
	}
	rest, _ := alpha(1, w.hotkey, w.coldkey)
	ok("unstaked", "stake", "remove", "--wallet.name", "w", "--netuid", "1", "--amount", formatRao(rest), "--yes")
	// What is left is what the hotkey earned since (it is registered on subnet 1).
	if left, _ := alpha(1, w.hotkey, w.coldkey); left >= rest/10 {
		t.Fatalf("%d alpha left after removing %d", left, rest)
	}
	var o struct {
		Stake []stake.Position `json:"stake"`
		Total string           `json:"total_stake"`
	}
	js, _ := ok("", "wallet", "overview", "--wallet.name", "w", "-o", "json")
	if err := json.Unmarshal([]byte(js), &o); err != nil {
		t.Fatal(err)
	}
	if len(o.Stake) < 2 || o.Total == "0" {
		t.Fatalf("overview: %+v", o)
	}

	// `stake remove --all-alpha` sells every alpha position of the hotkey into root stake,
	// `--all` then brings everything back to the balance; each says what it sold first.
	// `--all --netuid 1` unstakes that subnet's whole position as it is when it runs.
	ok("staked 1.000000000 TAO", "stake", "add", "--wallet.name", "w", "--netuid", "1", "--amount", "1", "--safe", "--tolerance", "0.05", "--yes")
	ok("unstaked", "stake", "remove", "--wallet.name", "w", "--netuid", "1", "--all", "--yes")
	if a1, _ := alpha(1, w.hotkey, w.coldkey); a1 > 100_000_000 {
		t.Fatalf("%d alpha left on subnet 1 after --all --netuid 1", a1)
	}
	ok("staked 1.000000000 TAO", "stake", "add", "--wallet.name", "w", "--netuid", "1", "--amount", "1", "--safe", "--tolerance", "0.05", "--yes")
	root0, _ := alpha(0, w.hotkey, w.coldkey)
	fails("pass --yes", "stake", "remove", "--wallet.name", "w", "--all-alpha")
	ok("staked on root", "stake", "remove", "--wallet.name", "w", "--all-alpha", "--yes")
	if a1, _ := alpha(1, w.hotkey, w.coldkey); a1 > 100_000_000 { // at most what was earned since
		t.Fatalf("%d alpha left on subnet 1 after --all-alpha", a1)
	}
	if root1, _ := alpha(0, w.hotkey, w.coldkey); root1 <= root0 {
		t.Fatalf("root stake %d after --all-alpha, %d before", root1, root0)
	}
	ok("TAO to the balance", "stake", "remove", "--wallet.name", "w", "--all", "--yes")
	if root2, _ := alpha(0, w.hotkey, w.coldkey); root2 != 0 {
		t.Fatalf("root stake %d after --all", root2)
	}
	fails("--all and --all-alpha", "stake", "remove", "--wallet.name", "w", "--all", "--amount", "1")
}

// formatRao writes rao as a decimal token amount.
func formatRao(v uint64) string {
	return strconv.FormatUint(v/1_000_000_000, 10) + "." + strings.TrimRight(strconv.FormatUint(1_000_000_000+v%1_000_000_000, 10)[1:], "0")
}
