package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/modules/accounts"
)

// btcli habits through the binary, the node named once in TESSERA_NODE: balance by wallet
// name, `subnet lock-cost` (the devnet's lock doubled and decaying), `subnet create`
// stating its lock cost and refusing without --yes when it cannot ask, `subnet register`
// telling the uid and the burn, `stake move` between two hotkeys, `stake set-take`
// bounded by the chain's maximum, `wallet overview`, and `stake claimable` and
// `stake claim-root` with nothing accrued.
func TestCLIBtcliHabits(t *testing.T) {
	ctx := binaryTest(t, 2*time.Minute)
	_, rpc, _ := startCLIDevnet(ctx, t, 5)
	home := t.TempDir()
	cli := func(args ...string) (string, string, int) {
		t.Helper()
		var out, errb bytes.Buffer
		cmd := exec.CommandContext(ctx, binary, append([]string{"--home", home}, args...)...)
		cmd.Env = append(os.Environ(), "TESSERA_NODE="+rpc)
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("tessera %v: %v", args, err)
		}
		return out.String(), errb.String(), cmd.ProcessState.ExitCode()
	}
	ok := func(want string, args ...string) string {
		t.Helper()
		out, errs, code := cli(args...)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("tessera %v: exit %d, stdout %q (want %q), stderr %q", args, code, out, want, errs)
		}
		return out
	}
	fails := func(want string, args ...string) {
		t.Helper()
		out, errs, code := cli(args...)
		if code != 2 || !strings.Contains(errs, want) {
			t.Fatalf("tessera %v: exit %d, stderr %q (want exit 2 and %q), stdout %q", args, code, errs, want, out)
		}
	}
	var w walletJSON
	if err := json.Unmarshal([]byte(ok("", "wallet", "new", "--wallet.name", "w", "--no-password", "-o", "json")), &w); err != nil {
		t.Fatal(err)
	}
	var h2 struct {
		SS58 string `json:"ss58_address"`
	}
	if err := json.Unmarshal([]byte(ok("", "wallet", "new-hotkey", "--wallet.name", "w", "--wallet.hotkey", "h2", "-o", "json")), &h2); err != nil {
		t.Fatal(err)
	}
	ok("transferred", "tx", "transfer", "--from-uri", "//Alice", "--to", w.Coldkey.SS58, "--amount", "3000")
	ok("3000.000000000", "query", "balance", "--wallet.name", "w")

	// The devnet's subnet 1 locked 1000 tokens: the next lock doubles that, less the
	// decay since (1000/100_800 tokens a block).
	var lv struct {
		LockCost      string `json:"lock_cost"`
		LastLock      string `json:"last_lock"`
		DecayPerBlock string `json:"decay_per_block"`
		Dynamic       bool   `json:"dynamic"`
	}
	if err := json.Unmarshal([]byte(ok("", "subnet", "lock-cost", "-o", "json")), &lv); err != nil {
		t.Fatal(err)
	}
	cost, _ := strconv.ParseUint(lv.LockCost, 10, 64)
	if !lv.Dynamic || lv.LastLock != "1000000000000" || lv.DecayPerBlock != "9920634" || cost <= 1_900_000_000_000 || cost > 2_000_000_000_000 {
		t.Fatalf("lock cost %+v: want the devnet's 1000-token lock doubled, decaying by 9920634 a block", lv)
	}
	ok("falls by 0.009920634 a block", "subnet", "lock-cost")
	fails("pass --yes", "subnet", "create", "--wallet.name", "w")
	out := ok(" tokens locked", "subnet", "create", "--wallet.name", "w", "--yes")
	var created struct {
		Locked string `json:"locked"`
	}
	if err := json.Unmarshal([]byte(ok("", "subnet", "show", "2", "-o", "json")), &created); err != nil {
		t.Fatal(err)
	}
	locked, _ := strconv.ParseUint(created.Locked, 10, 64)
	if locked > cost || locked <= 1_900_000_000_000 || !strings.Contains(out, accounts.FormatAmount(locked)+" tokens locked") {
		t.Fatalf("create said %q, subnet 2 locked %s: want the lock cost, at most the %d quoted", out, created.Locked, cost)
	}
	// The owner runs subnet 2's next epoch early (trigger_epoch): it fires ten blocks on;
	// a second trigger while it is pending, or one on a subnet the wallet does not own,
	// is refused with the reason.
	out = ok("the epoch of subnet 2 fires at block", "subnet", "trigger-epoch", "2", "--wallet.name", "w")
	var trig struct {
		Pending uint64 `json:"pending_epoch_at"`
	}
	if err := json.Unmarshal([]byte(ok("", "subnet", "show", "2", "-o", "json")), &trig); err != nil || trig.Pending == 0 ||
		!strings.Contains(out, "fires at block "+strconv.FormatUint(trig.Pending, 10)+" ") {
		t.Fatalf("trigger-epoch said %q, subnet 2 shows pending_epoch_at %d (%v)", out, trig.Pending, err)
	}
	ok(fmt.Sprintf("next epoch:      block %d (triggered by the owner)", trig.Pending), "subnet", "show", "2")
	for args, want := range map[[2]string]string{{"2", "w"}: "already has an epoch triggered", {"1", "w"}: "only the owner of subnet 1"} {
		if _, errs, code := cli("subnet", "trigger-epoch", args[0], "--wallet.name", args[1]); code == 0 || !strings.Contains(errs, want) {
			t.Fatalf("trigger-epoch %s: exit %d, stderr %q (want %q)", args[0], code, errs, want)
		}
	}
	ok("as uid ", "subnet", "register", "--netuid", "1", "--wallet.name", "w")
	out = ok("as uid ", "subnet", "register", "--netuid", "1", "--wallet.name", "w", "--wallet.hotkey", "h2")
	if !strings.Contains(out, "burning ") {
		t.Fatalf("register did not tell the burn: %q", out)
	}

	ok("staked 5.000000000", "stake", "add", "--wallet.name", "w", "--amount", "5")
	ok("moved 2.000000000", "stake", "move", "--wallet.name", "w", "--to-hotkey", h2.SS58, "--amount", "2")
	ok("take of", "stake", "set-take", "--wallet.name", "w", "--take", "9%")
	fails("maximum take", "stake", "set-take", "--wallet.name", "w", "--take", "0.5")

	var o struct {
		Balance       string `json:"balance"`
		TotalStake    string `json:"total_stake"`
		Stake         []struct{ Hotkey, Stake string }
		Registrations []struct {
			Netuid uint16 `json:"netuid"`
			UID    uint16 `json:"uid"`
			Hotkey string `json:"hotkey"`
		} `json:"registrations"`
	}
	if err := json.Unmarshal([]byte(ok("", "wallet", "overview", "--wallet.name", "w", "-o", "json")), &o); err != nil {
		t.Fatal(err)
	}
	staked := map[string]string{}
	for _, p := range o.Stake {
		staked[p.Hotkey] = p.Stake
	}
	if o.TotalStake != "5000000000" || staked[w.Hotkey.SS58] != "3000000000" || staked[h2.SS58] != "2000000000" {
		t.Fatalf("overview stake %s, positions %v: want 5 in all, 3 on the first hotkey and 2 on h2", o.TotalStake, staked)
	}
	regs := map[uint16][]string{}
	for _, r := range o.Registrations {
		regs[r.Netuid] = append(regs[r.Netuid], r.Hotkey)
	}
	if len(regs[1]) != 2 || len(regs[2]) != 1 || regs[2][0] != w.Hotkey.SS58 {
		t.Fatalf("overview registrations %+v: want both hotkeys on subnet 1 and the first owning subnet 2", o.Registrations)
	}
	// Root dividends accrue only once the subnets' moving prices sum past 1: none yet.
	ok("no root dividends to claim", "stake", "claimable", "--wallet.name", "w")
	if _, errs, code := cli("stake", "claim-root", "--wallet.name", "w", "--yes"); code == 0 || !strings.Contains(errs, "no root dividends to claim") {
		t.Fatalf("claim-root with nothing owed: exit %d, stderr %q", code, errs)
	}
	ok("", "wallet", "new", "--wallet.name", "empty", "--no-password")
	ok("no registrations", "wallet", "overview", "--wallet.name", "empty")
}
