package kernelbench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/devnet"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/subnets/kernelbench"
)

// wrongKernel drops the state carried between chunks: fast and wrong.
func wrongKernel() string {
	raw, _ := os.ReadFile("target/kernel/kernel.go")
	return strings.Replace(string(raw), "ot[j] = g * acc", "ot[j] = 0 * g * acc", 1)
}

// The whole loop on a real chain: miners commit and reveal, the judge evaluates,
// ranks and sets weights that follow the payout; the wrong miner gets nothing, a copy
// gets nothing, and a challenger within the margin does not dethrone the leader.
func TestJudgeOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a devnet")
	}
	w := newWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	layout := devnet.SubnetLayout{Netuid: 1, Tempo: 1000, Owner: "Alice", Validators: []string{"Bob"},
		Miners: []string{"Charlie", "Dave", "Eve", "Ferdie"}, Stake: 1_000_000_000_000}
	d, err := devnet.Start(ctx, devnet.Options{BlockTime: 200 * time.Millisecond, Subnet: &layout, NoExplorer: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	chainOf := func(name string) (subnet.Chain, keys.PublicKey) {
		for _, a := range d.Accounts {
			if a.Name == name {
				return subnet.ClientChain{Client: d.Client, Signer: d.Client.Signer(a.Pair)}, a.Pair.Public()
			}
		}
		t.Fatalf("no account %s", name)
		return nil, keys.PublicKey{}
	}
	def := *w.def
	def.Margin = 0.5
	raw, _ := json.MarshalIndent(def, "", "  ")
	owner, _ := chainOf("Alice")
	if err := kernelbench.Define(ctx, owner, 1, raw, "file:///definition.json", 2); err != nil {
		t.Fatal(err)
	}
	publish := func(name, url, commit string) {
		t.Helper()
		c, hk := chainOf(name)
		if _, err := kernelbench.Publish(ctx, c, hk, 1, url, commit, 4096); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	fastURL, fastCommit := w.miner(t, "dev-fast", map[string]string{"kernel/knobs.go": knobs("16", "2")})
	slowURL, slowCommit := w.miner(t, "dev-slow", map[string]string{"kernel/knobs.go": knobs("256", "1")})
	wrongURL, wrongCommit := w.miner(t, "dev-wrong", map[string]string{"kernel/knobs.go": knobs("16", "2"), "kernel/kernel.go": wrongKernel()})
	publish("Dave", fastURL, fastCommit)
	publish("Eve", slowURL, slowCommit)
	publish("Ferdie", wrongURL, wrongCommit)

	store, err := kernelbench.OpenStore(ctx, filepath.Join(t.TempDir(), "judge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	_, alice := chainOf("Alice")
	j, err := kernelbench.NewJudge(kernelbench.JudgeConfig{Netuid: 1, Definition: raw, Work: w.runner.Work, StateDir: t.TempDir(), Hotkey: alice.String()}, owner, store)
	if err != nil {
		t.Fatal(err)
	}
	// A judge with another definition than the chain's refuses to judge.
	other := strings.Replace(string(raw), `"margin": 0.5`, `"margin": 9`, 1)
	if jo, err := kernelbench.NewJudge(kernelbench.JudgeConfig{Netuid: 1, Definition: []byte(other), Work: w.runner.Work}, owner, store); err != nil {
		t.Fatal(err)
	} else if _, err := jo.Round(ctx); err == nil || !strings.Contains(err.Error(), "the chain records definition") {
		t.Fatalf("a judge with another definition: %v", err)
	}
	rd, err := j.Round(ctx)
	if err != nil {
		t.Fatal(err)
	}
	uidOf := map[string]uint16{}
	var mg subnets.Metagraph
	if _, err := d.Client.Query(ctx, "/subnets/metagraph/1", 0, &mg); err != nil {
		t.Fatal(err)
	}
	for uid, h := range mg.Hotkeys {
		uidOf[h] = uint16(uid)
	}
	name := map[string]string{}
	for _, n := range []string{"Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"} {
		_, pk := chainOf(n)
		name[pk.String()] = n
	}
	describe := func(rd *kernelbench.Round) string {
		var parts []string
		for _, s := range rd.Standings {
			parts = append(parts, fmt.Sprintf("%s:%d:%v", name[s.Hotkey], s.Rank, s.Share))
		}
		return strings.Join(parts, " ")
	}
	if got := describe(rd); got != "Dave:1:0.5 Eve:2:0.3 Ferdie:0:0" {
		t.Fatalf("round 1: %s (%+v)", got, rd.Standings)
	}
	// The weights on chain: the judge's row follows 50/30 and burns 20 % on uid 0.
	weightsOnChain := func() map[string]uint16 {
		var mg subnets.Metagraph
		if _, err := d.Client.Query(ctx, "/subnets/metagraph/1", 0, &mg); err != nil {
			t.Fatal(err)
		}
		out := map[string]uint16{}
		for _, p := range mg.Weights[uidOf[alice.String()]] {
			out[name[mg.Hotkeys[p[0]]]] = p[1]
		}
		return out
	}
	if got := fmt.Sprint(weightsOnChain()); got != "map[Alice:26214 Dave:65535 Eve:39321]" || rd.WeightsError != "" {
		t.Fatalf("weights on chain: %s (error %q)", got, rd.WeightsError)
	}

	// Round 2: Charlie copies Dave's submission; Bob challenges with a slower kernel.
	// Dave's stored time is made a thousand times longer, as if the machine had been
	// that busy when it was taken: Bob and Eve then seem to beat him by far more than
	// the margin, the judge measures the first of them beside Dave, and Dave keeps
	// first place on the side-by-side times. The copy earns nothing.
	daveSub := kernelbench.SubmissionKey{DefHash: kernelbench.Hash(raw), Hotkey: dave(t, chainOf), Repo: fastURL, Commit: fastCommit, TargetLength: 4096}
	slowed, err := store.Evaluation(ctx, daveSub)
	if err != nil || slowed == nil {
		t.Fatalf("Dave's evaluation: %v %v", slowed, err)
	}
	slowed.Score /= 1000
	if err := store.PutEvaluation(ctx, daveSub, slowed); err != nil {
		t.Fatal(err)
	}
	bobURL, bobCommit := w.miner(t, "dev-challenger", map[string]string{"kernel/knobs.go": knobs("32", "2")})
	publish("Bob", bobURL, bobCommit)
	copyURL, copyCommit := w.miner(t, "dev-copy", map[string]string{"kernel/knobs.go": knobs("16", "2")})
	publish("Charlie", copyURL, copyCommit)
	// Past the weights rate limit (1 block on the devnet's subnet).
	time.Sleep(500 * time.Millisecond)
	rd, err = j.Round(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Bob's and Eve's kernels are both well behind Dave's, and close to each other: on a
	// machine busy with other tests either may time second, so the test takes both
	// orders.
	got := describe(rd)
	bobSecond := strings.HasPrefix(got, "Dave:1:0.5 Bob:2:0.3 Eve:3:0.15 Charlie:0:0")
	if !bobSecond && !strings.HasPrefix(got, "Dave:1:0.5 Eve:2:0.3 Bob:3:0.15 Charlie:0:0") {
		t.Fatalf("round 2: %s", got)
	}
	rival := slices.IndexFunc(rd.Standings, func(s kernelbench.Standing) bool { return s.Hotkey == rd.Standings[0].Beside })
	if rival < 1 || rival > 2 || rd.Standings[rival].Beside != dave(t, chainOf) {
		t.Fatalf("Dave was not measured beside the challenger that seemed first: %+v", rd.Standings[:3])
	}
	if ev, err := store.Evaluation(ctx, daveSub); err != nil || ev.Score < slowed.Score*100 || ev.Beside != rd.Standings[rival].Hotkey {
		t.Fatalf("Dave's stored evaluation after the side-by-side run: %+v %v", ev, err)
	}
	if rd.Standings[3].CopyOf != dave(t, chainOf) {
		t.Fatalf("Charlie's copy is not marked as Dave's: %+v", rd.Standings[3])
	}
	want := "map[Alice:6553 Bob:39321 Dave:65535 Eve:19660]"
	if !bobSecond {
		want = "map[Alice:6553 Bob:19660 Dave:65535 Eve:39321]"
	}
	if got := fmt.Sprint(weightsOnChain()); got != want {
		t.Fatalf("round 2 weights on chain: %s, want %s (error %q)", got, want, rd.WeightsError)
	}

	// The leaderboard API serves the round.
	srv := httptest.NewServer(kernelbench.API(store, 1))
	defer srv.Close()
	lb, err := kernelbench.FetchLeaderboard(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if lb.Round.Round != rd.Round || lb.Leader != rd.Leader || len(lb.Standings) != 5 {
		t.Fatalf("leaderboard: %+v", lb)
	}
}

func dave(t *testing.T, chainOf func(string) (subnet.Chain, keys.PublicKey)) string {
	_, pk := chainOf("Dave")
	return pk.String()
}
