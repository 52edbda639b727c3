package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/modules/stake"
)

// Block authors and root claim types through the binary on a devnet: the devnet binds its
// validator to //Alice at genesis (`/stake/authors`); `tessera node bind-author --home
// <devnet home>` rebinds it to //Dave with a real stake/set_author, after which a stake
// on subnet 1 pays its TAO fee to Dave's balance; `stake claim-type --set keep-subnets`
// sets a coldkey's claim type and `stake claim-type` shows it; `subnet lock-cost` tells
// when the next registration is allowed.
func TestBlockAuthorAndClaimTypeThroughCLI(t *testing.T) {
	ctx := binaryTest(t, 2*time.Minute)
	base := testutil.FreePorts(t, 3)
	stdout := startDevnet(ctx, t, base, "-o", "json", "--block-time", "200ms", "--tempo", "10", "--chain-only", "--no-inference", "--quiet", "--log-level", "warn")
	var info struct {
		Home string `json:"home"`
		RPC  string `json:"rpc"`
	}
	readSummary(t, stdout, &info)
	cli := func(args ...string) (string, string, int) {
		t.Helper()
		var out, errb bytes.Buffer
		cmd := exec.CommandContext(ctx, binary, append(args, "--node", info.RPC)...)
		cmd.Stdin = strings.NewReader("")
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
		if code != 0 || !strings.Contains(out+errs, want) {
			t.Fatalf("tessera %v: exit %d, stdout %q, stderr %q (want %q)", args, code, out, errs, want)
		}
		return out
	}
	const alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
	const dave = "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy"
	const bob = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty" // a validator's hotkey on subnet 1
	c := dial(t, info.RPC)
	var authors []stake.AuthorView
	if _, err := c.Query(ctx, "/stake/authors", 0, &authors); err != nil || len(authors) != 1 || authors[0].Account != alice {
		t.Fatalf("the devnet's authors: %+v %v", authors, err)
	}
	consAddr := authors[0].ConsensusAddress

	if _, errs, code := cli("--home", info.Home, "node", "bind-author", "--from-uri", "//Dave"); code != 2 || !strings.Contains(errs, "is bound to "+alice) || !strings.Contains(errs, "pass --yes") {
		t.Fatalf("bind-author without --yes: exit %d, %q", code, errs)
	}
	ok("bound to "+dave+" as block author", "--home", info.Home, "node", "bind-author", "--from-uri", "//Dave", "--yes")
	if _, err := c.Query(ctx, "/stake/authors", 0, &authors); err != nil || len(authors) != 1 || authors[0].Account != dave || authors[0].ConsensusAddress != consAddr {
		t.Fatalf("after the rebinding: %+v %v", authors, err)
	}

	balance := func(who string) uint64 {
		t.Helper()
		var a struct {
			Balance string `json:"balance"`
		}
		if err := json.Unmarshal([]byte(ok("", "query", "account", who, "-o", "json")), &a); err != nil {
			t.Fatal(err)
		}
		v, _ := strconv.ParseUint(a.Balance, 10, 64)
		return v
	}
	before := balance(dave)
	var added struct {
		Events []struct {
			Type       string            `json:"type"`
			Attributes map[string]string `json:"attributes"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(ok("", "stake", "add", "--from-uri", "//Eve", "--netuid", "1", "--hotkey", bob, "--amount", "10", "--yes", "-o", "json")), &added); err != nil {
		t.Fatal(err)
	}
	var fee uint64
	for _, e := range added.Events {
		if e.Type == "author_fee" && e.Attributes["account"] == dave {
			fee, _ = strconv.ParseUint(e.Attributes["amount"], 10, 64)
		}
	}
	if fee == 0 {
		t.Fatalf("no fee to Dave in %+v", added.Events)
	}
	// Dave signs nothing meanwhile, but his own blocks may carry other fees (the devnet's
	// validators stake too): his balance grows by at least this fee.
	if got := balance(dave) - before; got < fee {
		t.Fatalf("Dave's balance grew by %d, less than the %d fee", got, fee)
	}

	ok("swap", "stake", "claim-type", "--from-uri", "//Eve")
	ok("set to keep-subnets [1]", "stake", "claim-type", "--from-uri", "//Eve", "--set", "keep-subnets", "--netuids", "1", "--yes")
	var ct stake.RootClaimTypeView
	if err := json.Unmarshal([]byte(ok("", "stake", "claim-type", "--from-uri", "//Eve", "-o", "json")), &ct); err != nil || ct.Type != "keep-subnets" || len(ct.Netuids) != 1 || ct.Netuids[0] != 1 {
		t.Fatalf("claim type %+v %v", ct, err)
	}
	ok("next registration", "subnet", "lock-cost")
}
