package kernelbench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera-net/tessera/subnets/kernelbench"
)

func TestKnobs(t *testing.T) {
	raw, _ := os.ReadFile("target/kernel/knobs.go")
	files := map[string]string{"kernel/knobs.go": string(raw)}
	ks := kernelbench.FindKnobs(files)
	if len(ks) != 2 || ks[0].Name != "ChunkSize" || ks[0].Value != 64 || ks[0].Min != 4 || ks[0].Max != 512 || ks[1].Name != "Workers" {
		t.Fatalf("knobs: %+v", ks)
	}
	set := kernelbench.SetKnob(string(raw), "Workers", 4)
	if ks := kernelbench.FindKnobs(map[string]string{"k": set}); ks[1].Value != 4 || ks[0].Value != 64 {
		t.Fatalf("after SetKnob: %+v", ks)
	}
	p := &kernelbench.KnobProposer{}
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		out, what, err := p.Propose(context.Background(), files, "")
		if err != nil {
			t.Fatal(err)
		}
		if seen[what] {
			t.Fatalf("proposed %q twice", what)
		}
		seen[what] = true
		_ = out
	}
}

// mineWorld clones the target as a miner's working copy.
func mineWorld(t *testing.T, w *world, name string) string {
	dir := filepath.Join(w.root, "mine", name)
	os.RemoveAll(dir)
	os.MkdirAll(filepath.Dir(dir), 0o755)
	if err := kernelbench.CloneWork(context.Background(), "file://"+w.target, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The knob search publishes an improvement. Its scores are timings, so on a machine
// busy with other tests a run can find its candidates no faster than the baseline: the
// search is given three runs to publish one.
func TestMineWithKnobs(t *testing.T) {
	w := newWorld(t)
	raw, _ := json.Marshal(w.def)
	var res *kernelbench.MineResult
	for run := 1; run <= 3; run++ {
		repo := mineWorld(t, w, fmt.Sprintf("knobs-%d", run))
		var published []string
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		r, err := kernelbench.Mine(ctx, kernelbench.MinerConfig{Repo: repo, Definition: raw, Work: w.runner.Work, TargetLength: 4096,
			Iterations: 4, Proposer: &kernelbench.KnobProposer{},
			Publish: func(_ context.Context, commit string, _ *kernelbench.Evaluation) error {
				published = append(published, commit)
				return nil
			}})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		res = r
		t.Logf("run %d: best %s score %.0f after %d attempts, %d published", run, r.Commit, r.Evaluation.Score, r.Attempts, r.Published)
		if r.Published > 0 {
			if published[len(published)-1] != r.Commit {
				t.Fatalf("the last published commit %s is not the best %s", published[len(published)-1], r.Commit)
			}
			return
		}
	}
	t.Fatalf("the knob search found nothing better than the baseline in three runs: %+v", res)
}

// A model behind an OpenAI-compatible endpoint: its first answer does not build, the
// error goes back to it, its second answer is a real improvement.
func TestMineWithModel(t *testing.T) {
	w := newWorld(t)
	raw, _ := json.Marshal(w.def)
	repo := mineWorld(t, w, "model")
	var mu sync.Mutex
	var prompts []string
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(rw, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		prompts = append(prompts, string(body))
		n := len(prompts)
		mu.Unlock()
		answer := "Here:\n```go file=kernel/knobs.go\npackage kernel\n\nthis does not compile\n```\n"
		if n > 1 {
			answer = "Fixed:\n```go file=kernel/knobs.go\n" + knobs("16", "2") + "\n```\n"
		}
		json.NewEncoder(rw).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]string{"role": "assistant", "content": answer}}}})
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := kernelbench.Mine(ctx, kernelbench.MinerConfig{Repo: repo, Definition: raw, Work: w.runner.Work, TargetLength: 4096,
		Iterations: 1, Retries: 2, Proposer: &kernelbench.OpenAIProposer{Endpoint: srv.URL, Model: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(prompts) != 2 || !strings.Contains(prompts[1], "build") {
		t.Fatalf("the build error was not fed back: %d prompts", len(prompts))
	}
	if res.Attempts != 2 || res.Evaluation == nil || !res.Evaluation.OK {
		t.Fatalf("result: %+v", res)
	}
}
