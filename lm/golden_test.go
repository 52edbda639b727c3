package lm

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixturePath is the small llama fixture, ../shared/models next to the repository; the
// test is skipped (with the reason) when it is absent.
func fixturePath(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(d, "..", "shared", "models", "llama-2-tiny-random.gguf")
			if _, err := os.Stat(p); err != nil {
				t.Skipf("the model fixture is absent (%v): it lives in ../shared/models beside the repository", err)
			}
			return p
		}
		if filepath.Dir(d) == d {
			t.Skip("no go.mod above the test directory, so no ../shared/models fixture")
		}
	}
}

func loadFixture(t testing.TB, o Options) *Model {
	t.Helper()
	m, err := Load(fixturePath(t), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// testSeed is the random test model's seed.
var testSeed = [32]byte{'t', 'e', 's', 's', 'e', 'r', 'a'}

func randomModel(t testing.TB, o Options) *Model {
	t.Helper()
	m, err := Random(Presets["tiny"], testSeed, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// goldenCase is one prompt of a golden file and what the engine made of it.
type goldenCase struct {
	Name        string       `json:"name"`
	Prompt      string       `json:"prompt"`
	Temperature float64      `json:"temperature"`
	TopK        int          `json:"top_k"`
	TopP        float64      `json:"top_p"`
	Seed        uint64       `json:"seed"`
	MaxTokens   int          `json:"max_tokens"`
	PromptIDs   []int32      `json:"prompt_tokens,omitempty"`
	Tokens      []int32      `json:"tokens,omitempty"`
	Text        string       `json:"text"`
	Logprobs    []int32      `json:"logprobs_q16,omitempty"`
	Top         [][][2]int32 `json:"top_logprobs_q16,omitempty"`
	Finish      string       `json:"finish_reason,omitempty"`
}

var goldenPrompts = []goldenCase{
	{Name: "greedy", Prompt: "Hello world", MaxTokens: 12},
	{Name: "sampled", Prompt: "The quick brown fox", Temperature: 0.8, TopK: 40, TopP: 0.95, Seed: 42, MaxTokens: 16},
	{Name: "hot", Prompt: "日本語 and emoji 🙂", Temperature: 1.5, Seed: 7, MaxTokens: 16},
	{Name: "top-p", Prompt: "Once upon a time", Temperature: 1, TopP: 0.5, Seed: 3, MaxTokens: 8},
}

// runGolden generates every golden prompt. With an engine the prompts run concurrently,
// batched together; without, one after another.
func runGolden(t testing.TB, m *Model, e *Engine) []goldenCase {
	t.Helper()
	out := make([]goldenCase, len(goldenPrompts))
	var wg sync.WaitGroup
	for i, g := range goldenPrompts {
		wg.Add(1)
		run := func() {
			defer wg.Done()
			s, err := SamplingFromFloats(g.Temperature, g.TopP, g.TopK, g.Seed)
			if err != nil {
				t.Error(err)
				return
			}
			g.PromptIDs = m.Tokenizer.Encode(g.Prompt, true)
			r := Request{Prompt: g.PromptIDs, MaxTokens: g.MaxTokens, Sampling: s, TopLogprobs: 3, IgnoreEOS: true}
			var steps []Step
			if e != nil {
				steps, g.Finish, err = e.Generate(context.Background(), r, nil)
			} else {
				steps, g.Finish, err = m.Generate(context.Background(), r, nil)
			}
			if err != nil {
				t.Error(err)
				return
			}
			for _, s := range steps {
				g.Tokens = append(g.Tokens, s.ID)
				g.Logprobs = append(g.Logprobs, s.Logprob)
				var top [][2]int32
				for _, a := range s.Top {
					top = append(top, [2]int32{a.ID, a.Logprob})
				}
				g.Top = append(g.Top, top)
			}
			g.Text = m.Tokenizer.Decode(g.Tokens)
			out[i] = g
		}
		if e != nil {
			go run()
		} else {
			run()
		}
	}
	wg.Wait()
	return out
}

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, file string, got []goldenCase) {
	t.Helper()
	path := filepath.Join("testdata", file)
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./lm -run %s -update to write it)", err, t.Name())
	}
	if string(want) != string(b) {
		var w []goldenCase
		_ = json.Unmarshal(want, &w)
		for i := range got {
			if i < len(w) {
				gj, _ := json.Marshal(got[i])
				wj, _ := json.Marshal(w[i])
				if string(gj) != string(wj) {
					t.Errorf("case %s differs:\n got %s\nwant %s", got[i].Name, gj, wj)
				}
			}
		}
		t.Fatalf("%s differs from this run", path)
	}
}

// TestGoldenFixture is the fixture's golden file: the same bits in every process, with
// the assembly kernels on or off, with one thread or two, batched or alone, and on
// arm64 (TestArm64Golden runs this test there).
func TestGoldenFixture(t *testing.T) {
	m := loadFixture(t, Options{Threads: 2})
	checkGolden(t, "fixture_golden.json", runGolden(t, m, nil))
}

// TestGoldenRandom pins a random model's outputs: the weights from a seed, and the
// forward pass over them, with no file at all.
func TestGoldenRandom(t *testing.T) {
	m := randomModel(t, Options{Threads: 2})
	checkGolden(t, "random_golden.json", runGolden(t, m, nil))
}
