package arith_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-net/tessera/devnet"
	"github.com/tessera-net/tessera/examples/arith"
	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/sdk/validator"
	"github.com/tessera-net/tessera/wire"
)

// binary is the arith command built by TestMain for the end-to-end test.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "arith-e2e-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "arith")
	out, err := exec.Command("go", "build", "-o", binary, "./cmd/arith").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/arith: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running arith process.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan error
}

func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	log := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p := &proc{name: name, cmd: cmd, log: log, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if p.running() {
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(log)
			t.Logf("--- %s log ---\n%s", name, tail(string(b), 3000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func (p *proc) running() bool {
	select {
	case err := <-p.done:
		p.done <- err
		return false
	default:
		return true
	}
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p.done <- nil
}

// count returns how many JSON log lines of p have msg as their msg.
func (p *proc) count(msg string) int {
	raw, err := os.ReadFile(p.log)
	if err != nil {
		return 0
	}
	return strings.Count(string(raw), `"msg":"`+msg+`"`)
}

// logLine returns the first JSON log line of p whose msg is msg.
func (p *proc) logLine(msg string) map[string]any {
	f, err := os.Open(p.log)
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == msg {
			return m
		}
	}
	return nil
}

// TestEndToEnd runs the arith subnet on a real devnet node with real miner and
// validator processes: weights land on chain and incentive follows the scores; a miner
// killed mid-round does not stop the validator and its score decays; a restarted
// validator resumes its scores.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: a devnet and four processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	layout := devnet.DefaultSubnetLayout()
	layout.Tempo = 10
	d, err := devnet.Start(ctx, devnet.Options{BasePort: 0, BlockTime: 200 * time.Millisecond, Subnet: &layout})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	node := d.Node.RPCAddress()
	const dave, eve, ferdie, bob = 3, 4, 5, 1

	common := []string{"--node", node, "--netuid", "1", "--neuron.epoch_length", "5", "--log.format", "json"}
	miner := func(name, mode string) (*proc, string) {
		port := strconv.Itoa(testutil.FreePorts(t, 1))
		args := append([]string{"miner", "--from-uri", "//" + name, "--axon.ip", "127.0.0.1", "--axon.port", port, "--mode", mode, "--delay", "300ms", "--log.level", "debug"}, common...)
		return start(t, name, args...), port
	}
	_, davePort := miner("Dave", "good")
	miner("Eve", "wrong")
	ferdieProc, _ := miner("Ferdie", "slow")
	stateDir := t.TempDir()
	validatorArgs := append([]string{"validator", "--from-uri", "//Bob", "--state-dir", stateDir,
		"--neuron.step_interval", "200ms", "--neuron.timeout", "3s", "--log.level", "debug"}, common...)
	bobProc := start(t, "Bob", validatorArgs...)

	metagraph := func() *subnets.Metagraph {
		var mg subnets.Metagraph
		if _, err := d.Client.Query(ctx, "/subnets/metagraph/1", 0, &mg); err != nil {
			t.Fatal(err)
		}
		return &mg
	}

	// 1. Weights land on chain and incentive ranks the good miner first, the wrong one
	// last.
	testutil.Eventually(t, 45*time.Second, "weights on chain and incentive following quality", func() (bool, string) {
		mg := metagraph()
		inc := mg.Incentive
		state := fmt.Sprintf("bob's weights %v, incentive %v", mg.Weights[bob], inc)
		if !bobProc.running() {
			t.Fatalf("the validator exited")
		}
		return len(mg.Weights[bob]) > 0 && inc[dave] > inc[ferdie] && inc[ferdie] > inc[eve] && inc[dave] == slicesMax(inc), state
	})

	// The miner refuses callers that are not registered on the subnet.
	stranger, _ := keys.FromURI("//Stranger")
	dd, err := wire.NewDendrite(stranger, wire.DendriteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(davePort)
	daveHot, _ := keys.FromURI("//Dave")
	r := dd.Call(ctx, wire.AxonInfo{IP: "127.0.0.1", Port: port, Hotkey: daveHot.Public().String()}, &arith.Problem{A: 1, B: 2, Op: "+"})
	if r.StatusCode != 403 || !strings.Contains(r.StatusMessage, "not registered on subnet 1") {
		t.Fatalf("an unregistered caller got %d %q, want 403 not registered", r.StatusCode, r.StatusMessage)
	}

	// 2. Kill the slow miner in the middle of a round: as soon as it logs a new problem
	// (it then works on it for 300 ms, while the validator waits for it). The validator
	// goes on and the miner's score decays.
	seen := ferdieProc.count("problem received")
	deadline := time.Now().Add(20 * time.Second)
	for ferdieProc.count("problem received") == seen {
		if time.Now().After(deadline) {
			t.Fatal("the slow miner received no problem in 20 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ferdieProc.kill(t)
	before := loadState(t, stateDir)
	testutil.Eventually(t, 30*time.Second, "the killed miner's score decays", func() (bool, string) {
		if !bobProc.running() {
			t.Fatalf("the validator exited after a miner was killed")
		}
		st := loadState(t, stateDir)
		return st.Step >= before.Step+5 && st.Scores[ferdie] < 0.7*before.Scores[ferdie],
			fmt.Sprintf("step %d→%d, ferdie's score %.4f→%.4f", before.Step, st.Step, before.Scores[ferdie], st.Scores[ferdie])
	})

	// 3. Restart the validator (killed outright): it resumes its scores.
	bobProc.kill(t)
	saved := loadState(t, stateDir)
	bob2 := start(t, "Bob-restarted", validatorArgs...)
	testutil.Eventually(t, 20*time.Second, "the restarted validator resumes", func() (bool, string) {
		line := bob2.logLine("resumed saved state")
		if line == nil {
			return false, "no \"resumed saved state\" log line yet"
		}
		st := loadState(t, stateDir)
		return st.Step > saved.Step, fmt.Sprintf("resumed at step %v, now step %d", line["step"], st.Step)
	})
	line := bob2.logLine("resumed saved state")
	if step, _ := line["step"].(float64); uint64(step) != saved.Step {
		t.Fatalf("resumed at step %v, the state saved step %d", line["step"], saved.Step)
	}
	st := loadState(t, stateDir)
	// One more round moves a score by at most α per round; a reset would have dropped it
	// to at most α.
	if rounds := float64(st.Step - saved.Step); st.Scores[dave] < saved.Scores[dave]*(1-0.1*rounds)-1e-9 || st.Scores[dave] <= 0.5 {
		t.Fatalf("dave's score went from %.4f to %.4f over %v rounds: not resumed", saved.Scores[dave], st.Scores[dave], rounds)
	}
	t.Logf("saved step %d, scores %.3f; resumed to step %d, scores %.3f", saved.Step, saved.Scores, st.Step, st.Scores)
}

func slicesMax(v []uint16) uint16 {
	var m uint16
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func loadState(t *testing.T, dir string) *validator.State {
	t.Helper()
	st, ok, err := validator.LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return &validator.State{Scores: make([]float64, 6)}
	}
	if len(st.Scores) < 6 {
		st.Scores = append(st.Scores, make([]float64, 6-len(st.Scores))...)
	}
	return st
}
