package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/modules/subnets"
)

var (
	textgenOnce sync.Once
	textgenBin  string
	textgenErr  error
)

// textgenBinary builds the textgen command once for the package's tests.
func textgenBinary(t *testing.T) string {
	t.Helper()
	textgenOnce.Do(func() {
		textgenBin = filepath.Join(filepath.Dir(binary), "textgen")
		out, err := exec.Command("go", "build", "-o", textgenBin, "github.com/tessera-net/tessera/subnets/textgen/cmd/textgen").CombinedOutput()
		if err != nil {
			textgenErr = fmt.Errorf("build textgen: %v\n%s", err, out)
		}
	})
	if textgenErr != nil {
		t.Fatal(textgenErr)
	}
	return textgenBin
}

// bgProc is a long-running process of the test, its output in a log file that the test
// shows when it fails; it gets SIGTERM (then SIGKILL) when the test ends.
type bgProc struct {
	name string
	log  string
	cmd  *exec.Cmd
}

func startBG(t *testing.T, name, bin string, args ...string) (*bgProc, io.Reader) {
	t.Helper()
	p := &bgProc{name: name, log: filepath.Join(t.TempDir(), name+".log")}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, args...)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("log of %s:\n%s", name, b)
		}
	})
	return p, stdout
}

// logText is what the process has logged so far.
func (p *bgProc) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// lmServer is a running `tessera lm serve`.
type lmServer struct {
	*bgProc
	URL string // the API root, http://127.0.0.1:PORT/v1
}

// startLMServe runs `tessera lm serve` on a free port and returns once it prints its URL.
func startLMServe(t *testing.T, name, model string) *lmServer {
	t.Helper()
	p, stdout := startBG(t, name, binary, "lm", "serve", "--model", model, "--addr", "127.0.0.1:0", "--name", "tiny",
		"--threads", "1", "-o", "json")
	var info struct{ URL string }
	if err := json.NewDecoder(stdout).Decode(&info); err != nil || info.URL == "" {
		t.Fatalf("%s printed no URL (%v):\n%s", name, err, p.logText())
	}
	go io.Copy(io.Discard, stdout)
	return &lmServer{bgProc: p, URL: info.URL}
}

var chatRequests = regexp.MustCompile(`(?m)^tessera_lm_requests_total\{endpoint="chat",status="200"\} (\d+)$`)

// chats is how many chat completions the server has answered, from its /metrics.
func (s *lmServer) chats(t *testing.T) int {
	t.Helper()
	resp, err := http.Get(strings.TrimSuffix(s.URL, "/v1") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := chatRequests.FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// A miner serving a GGUF model with `tessera lm serve` behind `textgen miner --backend
// http` on a devnet, and a validator whose reference model is the same file served by
// another `tessera lm serve`: the validator asks free prompts, the miner's answers come
// from its lm server (its request counter and log say so), and since the engine is
// deterministic the two servers answer a prompt word for word alike, so the validator
// scores the miner (a wrong answer would earn nothing), sets weights on it, and an epoch
// later it has the subnet's incentive.
func TestLMServeBehindTextgenMiner(t *testing.T) {
	ctx := binaryTest(t, 4*time.Minute)
	textgen := textgenBinary(t)
	model := filepath.Join(t.TempDir(), "model.gguf")
	// The tiny preset's shape with a context long enough for the validator's answers.
	tessera(t, "lm", "random", "--dims", "vocab=512,dim=64,layers=2,heads=4,kv-heads=2,ffn=128,context=1024", "--seed", "e2e", "--out", model)
	minerLM := startLMServe(t, "lm-miner", model)
	refLM := startLMServe(t, "lm-reference", model)

	run, rpc, _ := startCLIDevnet(ctx, t, 5)
	node := "tcp://" + rpc
	axonPort := testutil.FreePorts(t, 1)
	miner, _ := startBG(t, "textgen-miner", textgen, "miner", "--node", node, "--netuid", "1", "--from-uri", "//Dave",
		"--axon.ip", "127.0.0.1", "--axon.port", strconv.Itoa(axonPort),
		"--backend", "http", "--backend.url", minerLM.URL, "--backend.model", "tiny", "--backend.timeout", "30s")
	validator, _ := startBG(t, "textgen-validator", textgen, "validator", "--node", node, "--netuid", "1", "--from-uri", "//Bob",
		"--state-dir", t.TempDir(), "--reference.backend", "http", "--reference.url", refLM.URL, "--reference.model", "tiny",
		"--kinds", "free", "--max-tokens", "48", "--neuron.step_interval", "1s", "--neuron.epoch_length", "5")

	dave := strings.TrimSpace(string(tessera(t, "keys", "inspect", "//Dave", "-o", "json")))
	var key struct {
		SS58 string `json:"ss58_address"`
	}
	json.Unmarshal([]byte(dave), &key)
	var mg subnets.Metagraph
	uid := -1
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("the miner got no incentive: miner's lm server answered %d chats, the reference's %d; incentive %v\nvalidator:\n%s\nminer:\n%s",
				minerLM.chats(t), refLM.chats(t), mg.Incentive, tail(validator.logText()), tail(miner.logText()))
		}
		run(&mg, "metagraph", "--netuid", "1")
		for i, h := range mg.Hotkeys {
			if h == key.SS58 {
				uid = i
			}
		}
		if uid >= 0 && mg.Incentive[uid] > 0 && strings.Contains(validator.logText(), "weights set") {
			break
		}
	}
	// Dave is the only miner that answers: all the incentive is his, from Bob's weights.
	for i, inc := range mg.Incentive {
		if i != uid && inc > 0 {
			t.Fatalf("uid %d has incentive %d; only Dave (uid %d) answers: %v", i, inc, uid, mg.Incentive)
		}
	}
	if n := minerLM.chats(t); n == 0 {
		t.Fatal("the miner's lm server answered no chat completion")
	}
	if n := refLM.chats(t); n == 0 {
		t.Fatal("the reference's lm server answered no chat completion")
	}
	if !strings.Contains(minerLM.logText(), "path=/v1/chat/completions status=200") {
		t.Fatalf("the miner's lm server logged no chat completion:\n%s", tail(minerLM.logText()))
	}
	// The two processes answer the validator's kind of request identically.
	ask := func(s *lmServer) string {
		resp, err := http.Post(s.URL+"/chat/completions", "application/json", strings.NewReader(
			`{"model":"tiny","max_tokens":48,"messages":[{"role":"user","content":"Write a short paragraph about bridges."}]}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var c struct {
			Choices []struct{ Message struct{ Content string } }
		}
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || len(c.Choices) != 1 || c.Choices[0].Message.Content == "" {
			t.Fatalf("%s: %d %v %+v", s.name, resp.StatusCode, err, c)
		}
		return c.Choices[0].Message.Content
	}
	if a, b := ask(minerLM), ask(refLM); a != b {
		t.Fatalf("the miner's and the reference's servers answer differently:\n%q\n%q", a, b)
	}
	t.Logf("Dave (uid %d) has incentive %d; the miner's lm server answered %d chats, the reference's %d",
		uid, mg.Incentive[uid], minerLM.chats(t), refLM.chats(t))
}

// tail is the end of a log.
func tail(s string) string {
	if len(s) > 3000 {
		return s[len(s)-3000:]
	}
	return s
}
