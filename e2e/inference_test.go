package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/gov"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/modules/subnets"
)

// The inference network on a real node, through the binary, over at least two whole
// epochs: `tessera devnet --inference-in-process` runs the inference subnet with three in-process participants,
// the third forging its nonces (--inference-forger 3). The test checks, with the CLI a
// user has:
//   - an MLNode declaring unknown models is refused, the unknown ids named;
//   - the forger is rejected by the validators and paid nothing, epoch after epoch;
//   - the participant with an MLNode in every model subgroup (Inference1) is covered
//     and is paid its weight with the 10 % bonus, the others without;
//   - a model added by a governance vote mid-epoch, and an MLNode declared for it, take
//     effect only at the next formation: the group in force keeps its snapshot.
func TestInferenceNetworkEpochs(t *testing.T) {
	ctx := binaryTest(t, 4*time.Minute)
	base := testutil.FreePorts(t, 4)
	home := t.TempDir()
	stdout := startDevnet(ctx, t, base, "--block-time", "250ms", "--tempo", "10", "--chain-only", "--inference-forger", "3", "--inference-in-process", "--log-level", "warn")
	var mu sync.Mutex
	var commentary bytes.Buffer
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.Contains(sc.Text(), "Press Ctrl-C") {
	}
	go func() {
		for sc.Scan() {
			mu.Lock()
			commentary.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	rpc := "127.0.0.1:" + strconv.Itoa(base+1)
	run := cliRunner(t, rpc, home)
	netuid := findPoCSubnet(t, run)
	n := strconv.Itoa(int(netuid))
	pub := func(uri string) inference.Account {
		p, err := keys.FromURI(uri)
		if err != nil {
			t.Fatal(err)
		}
		return inference.Account(p.Public())
	}
	p1, p2, p3 := pub("//Inference1"), pub("//Inference2"), pub("//Inference3")

	// An MLNode with unknown models is refused by the mempool, every unknown id named.
	var stderr bytes.Buffer
	cmd := exec.Command(binary, "--home", home, "mlnode", "add", "--node="+rpc, "--from-uri", "//Inference2", "--netuid", n, "--id", "node-x",
		"--host", "127.0.0.1", "--inference-port", "9300", "--poc-port", "9301", "--hardware", "cpu:1", "--model", "devnet-small,llama-3.1-8b,no-such-model")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "unknown model ids: llama-3.1-8b, no-such-model") {
		t.Fatalf("an MLNode with unknown models: %v\n%s", err, stderr.String())
	}

	// Governance adds a model mid-epoch: the docs' example, with a PoC shape as small as
	// the devnet's models (three participants mine on the test machine's cores).
	spec, err := os.ReadFile("../docs/examples/model-llama.json")
	if err != nil {
		t.Fatal(err)
	}
	var llama models.Spec
	if err := json.Unmarshal(spec, &llama); err != nil {
		t.Fatal(err)
	}
	llama.PoC = models.PoC{Layers: 1, Width: 64, Heads: 4, KVHeads: 2, FFN: 128, Vocab: 4096, SeqLen: 4}
	spec, _ = json.Marshal(llama)
	specFile := filepath.Join(t.TempDir(), "llama.json")
	if err := os.WriteFile(specFile, spec, 0o600); err != nil {
		t.Fatal(err)
	}
	run(nil, "gov", "propose", "--from-uri", "//Alice", "--title", "Add Llama 3.1 8B", "--add-model", specFile)
	run(nil, "gov", "vote", "--from-uri", "//Bob", "--proposal", "1", "--option", "yes")
	run(nil, "gov", "vote", "--from-uri", "//Charlie", "--proposal", "1", "--option", "yes")

	// Wait for the first group in force and check it: the forger rejected and unpaid,
	// Inference1 covered.
	epoch := func() inference.EpochView {
		var v inference.EpochView
		run(&v, "inference", "epoch", "--netuid", n)
		return v
	}
	var first *inference.Group
	for deadline := time.Now().Add(90 * time.Second); first == nil; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no group in force after 90 s:\n%s", commentary.String())
		}
		first = epoch().Current
	}
	checkGroup(t, first, p1, p2, p3, false)

	// The model passes; it is in the registry but not in the group in force, and now an
	// MLNode may declare it.
	var all []gov.ProposalView
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		run(&all, "gov", "list")
		if len(all) == 1 && all[0].Status != "voting" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("proposal 1 still open: %+v", all)
		}
	}
	if all[0].Status != "passed" {
		t.Fatalf("proposal 1: %+v", all[0])
	}
	var snapshot []models.ModelView
	run(&snapshot, "model", "list", "--netuid", n)
	for _, m := range snapshot {
		if m.ID == "llama-3.1-8b" {
			t.Fatalf("the model voted in is in the epoch snapshot at once: %+v", snapshot)
		}
	}
	var declared struct {
		Height int64 `json:"height"`
	}
	run(&declared, "mlnode", "add", "--from-uri", "//Inference2", "--netuid", n, "--id", "node-llama", "--host", "127.0.0.1",
		"--inference-port", "9310", "--poc-port", "9311", "--hardware", "cpu:1", "--model", "llama-3.1-8b")

	// Every group formed from a PoC that started before the declaration lacks the model;
	// the first formed after has it, and the group in force changes only at its switch.
	seen := map[uint64]bool{first.Epoch: true}
	var withModel *inference.Group
	for deadline := time.Now().Add(120 * time.Second); withModel == nil; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no group with the new model after 120 s:\n%s", commentary.String())
		}
		v := epoch()
		for _, g := range []*inference.Group{v.Current, v.Upcoming} {
			if g == nil || seen[g.Epoch] && g != v.Current {
				continue
			}
			has := hasModel(g, "llama-3.1-8b")
			pocStart := g.Epoch * 30 // the devnet's 30-block epochs
			if has != (pocStart >= uint64(declared.Height)) {
				t.Fatalf("group %d (PoC start %d) has the model: %v; declared at %d", g.Epoch, pocStart, has, declared.Height)
			}
			if g == v.Current && has {
				withModel = g
			}
			if !seen[g.Epoch] && g.Epoch != first.Epoch {
				checkGroup(t, g, p1, p2, p3, true)
			}
			seen[g.Epoch] = true
		}
	}
	if len(seen) < 3 {
		t.Fatalf("only groups %v seen", seen)
	}
	run(&snapshot, "model", "list", "--netuid", n)
	if !func() bool {
		for _, m := range snapshot {
			if m.ID == "llama-3.1-8b" {
				return true
			}
		}
		return false
	}() {
		t.Fatalf("the epoch snapshot lacks the model once its group is in force: %+v", snapshot)
	}

	// Paid: the forger's emission is 0 and the others' follow their weights, Inference1's
	// with the bonus in the first group.
	var mg subnets.Metagraph
	run(&mg, "metagraph", "--netuid", n)
	for uid, h := range mg.Hotkeys {
		if h == p3.String() && mg.Emission[uid] != 0 {
			t.Fatalf("the forger was paid %d", mg.Emission[uid])
		}
	}
	// The latest round's verdicts on the forger: every validator found failures and the
	// chain computed a rejection.
	var round struct {
		Verdicts []inference.JudgementView `json:"verdicts"`
	}
	run(&round, "inference", "round", "--netuid", n, "--epoch", strconv.FormatUint(withModel.Epoch, 10))
	judged := 0
	for _, j := range round.Verdicts {
		if j.Participant == p3 {
			judged++
			if j.Accept || j.Failures == 0 {
				t.Fatalf("a verdict on the forger: %+v", j)
			}
		}
	}
	if judged < 2 {
		t.Fatalf("%d verdicts on the forger: %+v", judged, round.Verdicts)
	}
	mu.Lock()
	out := commentary.String()
	mu.Unlock()
	for _, want := range []string{"PoC starts", "validation starts", "group formed", "Inference3  REJECTED", "+coverage bonus", "emission paid"} {
		if !strings.Contains(out, want) {
			t.Fatalf("the devnet's commentary lacks %q:\n%s", want, out)
		}
	}
}

func findPoCSubnet(t *testing.T, run cliRun) uint16 {
	t.Helper()
	var list []subnets.SubnetView
	run(&list, "subnet", "list")
	for _, s := range list {
		if s.Mechanism == inference.Mechanism {
			return s.Netuid
		}
	}
	t.Fatalf("no poc subnet on the devnet: %+v", list)
	return 0
}

func hasModel(g *inference.Group, id string) bool {
	for _, sg := range g.Models {
		if sg.Model.ID == id {
			return true
		}
	}
	return false
}

// checkGroup checks a group of the devnet's participants: the forger rejected with no
// weight; Inference1, with MLNodes in both genesis models, covered unless a later model
// has a subgroup it is not in; Inference2 never covered.
func checkGroup(t *testing.T, g *inference.Group, p1, p2, p3 inference.Account, late bool) {
	t.Helper()
	byKey := map[inference.Account]inference.Member{}
	for _, m := range g.Members {
		byKey[m.Hotkey] = m
	}
	m1, m2, m3 := byKey[p1], byKey[p2], byKey[p3]
	if m3.Accepted || m3.Weight != 0 {
		t.Fatalf("group %d: the forger: %+v", g.Epoch, m3)
	}
	committed := uint64(0)
	for _, nd := range m3.Nodes {
		committed += nd.Committed
	}
	if committed == 0 {
		t.Fatalf("group %d: the forger committed nothing: %+v", g.Epoch, m3)
	}
	if !m1.Accepted || !m2.Accepted || m1.Weight == 0 || m2.Weight == 0 {
		t.Fatalf("group %d: honest participants: %+v / %+v", g.Epoch, m1, m2)
	}
	if m2.Covered {
		t.Fatalf("group %d: Inference2 covered: %+v", g.Epoch, m2)
	}
	if want := !hasModel(g, "llama-3.1-8b"); m1.Covered != want {
		t.Fatalf("group %d (late %v): Inference1 covered %v, want %v: %s", g.Epoch, late, m1.Covered, want, fmt.Sprint(g.Models))
	}
}
