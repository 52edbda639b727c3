package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/subnets"
)

// waitLog waits for a line of the log at path that matches re and returns its
// submatches.
func waitLog(ctx context.Context, t *testing.T, path string, re *regexp.Regexp) []string {
	t.Helper()
	for {
		raw, _ := os.ReadFile(path)
		if m := re.FindAllStringSubmatch(string(raw), -1); len(m) > 0 {
			return m[len(m)-1]
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no log line matching %s", re)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// The kernel league on `tessera devnet --league`, through the CLI: the fast and correct
// miner is first, the slow one second, the fast and wrong one gets nothing; the weights
// on chain follow 50/30 of the ranking with the rest burnt on the owner's uid; a
// challenger submitted with `tessera kernelbench submit`, as fast as the leader, does
// not dethrone it (the devnet's margin is 50 %, and the judge measures a challenger that
// seems to beat the leader by more beside it before it may take first place).
func TestKernelLeagueOnDevnet(t *testing.T) {
	ctx := binaryTest(t, 8*time.Minute)
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("the kernel league needs git")
	}
	if err := exec.Command("unshare", "--user", "--map-root-user", "--net", "--mount", "true").Run(); err != nil {
		t.Skipf("the kernel league's sandbox needs user namespaces: %v", err)
	}
	base := testutil.FreePorts(t, 4)
	logPath := filepath.Join(t.TempDir(), "devnet.log")
	stdout := startDevnetLog(ctx, t, base, logPath, "--block-time", "500ms", "--chain-only", "--league", "--no-inference", "--no-faucet", "--quiet")
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := stdout.Read(buf); err != nil {
				return
			}
		}
	}()
	rpc := "127.0.0.1:" + strconv.Itoa(base+1)
	run := cliRunner(t, rpc, t.TempDir())
	ready := waitLog(ctx, t, logPath, regexp.MustCompile(`kernel league ready.* netuid=(\d+) definition=(\S+) leaderboard=(\S+)/v1/leaderboard`))
	netuid, defPath, api := ready[1], ready[2], ready[3]
	round := waitLog(ctx, t, logPath, regexp.MustCompile(`league round.*leaderboard="(1\. LeagueFast [^"]*)"`))
	if !strings.Contains(round[1], "2. LeagueSlow") || !strings.Contains(round[1], "LeagueWrong failed (wrong)") {
		t.Fatalf("round: %s", round[1])
	}

	// The leaderboard through the CLI.
	var lb struct {
		Leader    string `json:"leader"`
		Standings []struct {
			Hotkey string  `json:"hotkey"`
			UID    uint16  `json:"uid"`
			Rank   int     `json:"rank"`
			Share  float64 `json:"share"`
			Reason string  `json:"reason"`
			Note   string  `json:"note"`
			Score  float64 `json:"score"`
		} `json:"standings"`
		Weights struct {
			UIDs   []uint16 `json:"uids"`
			Values []uint16 `json:"values"`
		} `json:"weights"`
	}
	run(&lb, "kernelbench", "leaderboard", "--judge", api)
	hk := func(name string) string {
		p, err := keys.FromURI("//" + name)
		if err != nil {
			t.Fatal(err)
		}
		return p.Public().String()
	}
	fast, slow, wrong := hk("LeagueFast"), hk("LeagueSlow"), hk("LeagueWrong")
	if len(lb.Standings) != 3 || lb.Leader != fast || lb.Standings[0].Hotkey != fast || lb.Standings[0].Share != 0.5 ||
		lb.Standings[1].Hotkey != slow || lb.Standings[1].Share != 0.3 || lb.Standings[2].Hotkey != wrong || lb.Standings[2].Share != 0 ||
		lb.Standings[2].Reason != "wrong" {
		t.Fatalf("leaderboard: %+v", lb)
	}

	// The judge's (Alice's, uid 0) weights on chain.
	var mg subnets.Metagraph
	if _, err := dial(t, rpc).Query(ctx, "/subnets/metagraph/"+netuid, 0, &mg); err != nil {
		t.Fatal(err)
	}
	row := map[string]uint16{}
	for _, p := range mg.Weights[0] {
		row[mg.Hotkeys[p[0]]] = p[1]
	}
	if row[fast] != 65535 || row[slow] != 39321 || row[mg.Hotkeys[0]] != 26214 || row[wrong] != 0 {
		t.Fatalf("weights on chain: %v", mg.Weights[0])
	}

	// A challenger as fast as the leader, with other code.
	root := filepath.Dir(defPath)
	dir := filepath.Join(root, "miners", "Challenger")
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "user.name=t", "-c", "user.email=t@t", "-C", dir}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if out, err := exec.CommandContext(ctx, "git", "clone", "-q", filepath.Join(root, "miners", "LeagueFast"), dir).CombinedOutput(); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "kernel", "extra.go"), []byte("package kernel\n\nconst challenger = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "-A")
	git("commit", "-q", "-m", "challenger")
	commit := git("rev-parse", "HEAD")
	run(nil, "subnet", "register", "--netuid", netuid, "--from-uri", "//Charlie", "--hotkey", hk("Charlie"))
	run(nil, "kernelbench", "submit", "--netuid", netuid, "--repo", "file://"+dir, "--commit", commit, "--length", "100000", "--from-uri", "//Charlie")
	charlie := hk("Charlie")
	for {
		run(&lb, "kernelbench", "leaderboard", "--judge", api)
		if len(lb.Standings) == 4 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the challenger was never judged")
		case <-time.After(time.Second):
		}
	}
	if lb.Standings[0].Hotkey != fast || lb.Standings[1].Hotkey != charlie {
		t.Fatalf("the challenger dethroned the leader or was not second: %+v", lb.Standings)
	}
	t.Logf("leader %.0f, challenger %.0f: %s", lb.Standings[0].Score, lb.Standings[1].Score, lb.Standings[1].Note)
}
