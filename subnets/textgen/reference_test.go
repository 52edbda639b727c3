package textgen

import (
	"bytes"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/sdk/subnet"
)

func TestDrawKinds(t *testing.T) {
	builtin, _ := NewBuiltin(BuiltinConfig{})
	model, _ := NewHTTPBackend(HTTPConfig{BaseURL: "http://127.0.0.1:1/v1"})
	checkable := Kinds[:len(Kinds)-1]
	for _, tc := range []struct {
		name    string
		kinds   []Kind
		ref     Backend
		want    []Kind
		freeOff bool
		err     error
	}{
		{"no reference, default kinds", nil, nil, checkable, true, nil},
		{"built-in, default kinds", nil, builtin, checkable, true, nil},
		{"built-in, checkable kinds asked", []Kind{Sort, Capital}, builtin, []Kind{Sort, Capital}, false, nil},
		{"built-in, free asked", []Kind{Sort, Free}, builtin, nil, false, ErrNoReferenceModel},
		{"model, default kinds", nil, model, nil, false, nil},
		{"model, free asked", []Kind{Free}, model, []Kind{Free}, false, nil},
	} {
		got, off, err := DrawKinds(tc.kinds, tc.ref)
		if !slices.Equal(got, tc.want) || off != tc.freeOff || !errors.Is(err, tc.err) {
			t.Errorf("%s: DrawKinds = %v, %v, %v; want %v, %v, %v", tc.name, got, off, err, tc.want, tc.freeOff, tc.err)
		}
	}
	if JudgesFreeText(nil) || JudgesFreeText(builtin) || !JudgesFreeText(model) {
		t.Error("JudgesFreeText: want false for nil and the built-in backend, true for an http backend")
	}
}

// freeQueries counts the Free tasks among n rounds' queries of def.
func freeQueries(t *testing.T, def *subnet.Definition[*ChatCompletion], n uint64) (free int, prompt string) {
	t.Helper()
	for step := range n {
		q, err := def.Query(t.Context(), subnet.Round{Step: step, Rand: rand.New(rand.NewPCG(7, step))})
		if err != nil {
			t.Fatal(err)
		}
		req := q.Request()
		if task, _ := ParseTask(req.LastUser(), DefaultCorpus()); task.Kind == Free {
			free, prompt = free+1, task.Prompt
		}
	}
	return free, prompt
}

// A validator whose reference is the built-in test backend never asks a free prompt,
// says so once at start, and refuses to score one; asking for free prompts explicitly
// is refused.
func TestBuiltinReferenceAsksCheckableTasksOnly(t *testing.T) {
	builtin, _ := NewBuiltin(BuiltinConfig{})
	for _, ref := range []Backend{nil, builtin} {
		var logs bytes.Buffer
		def, err := NewSubnet(SubnetConfig{Reference: ref, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if n, p := freeQueries(t, def, 400); n != 0 {
			t.Fatalf("reference %T: %d of 400 rounds asked a free prompt, e.g. %q", ref, n, p)
		}
		if c := strings.Count(logs.String(), "free prompts are off"); c != 1 || strings.Count(logs.String(), "\n") != 1 {
			t.Fatalf("reference %T: start-up log %q, want one line saying free prompts are off", ref, logs.String())
		}
		q := NewChatCompletion(userReq("Write a short paragraph about bees."), 0)
		filler := &ChatCompletion{Completion: FreeText("Write a short paragraph about bees.", 0, DefaultCorpus())}
		if _, err := def.Score(t.Context(), q, []subnet.Response[*ChatCompletion]{{Hotkey: "m", Synapse: filler}}); !errors.Is(err, ErrNoReferenceModel) {
			t.Fatalf("reference %T: a free prompt scored against filler: %v", ref, err)
		}
	}
	if _, err := NewSubnet(SubnetConfig{Kinds: []Kind{Sort, Free}}); !errors.Is(err, ErrNoReferenceModel) {
		t.Fatalf("free kind without a reference model: %v", err)
	}

	// The lower-level Validator: its rounds skip the free tasks its generator draws, and
	// a generator of free tasks only is refused.
	gen, _ := NewGenerator(GeneratorConfig{Seed: 3})
	v, err := NewValidator(ValidatorConfig{Generator: gen, Reference: builtin})
	if err != nil {
		t.Fatal(err)
	}
	for range 400 {
		if task := v.next(); task.Kind == Free {
			t.Fatalf("validator with the built-in reference drew %q", task.Prompt)
		}
	}
	if _, err := v.Evaluate(t.Context(), Task{Kind: Free, Prompt: "Describe rain in plain words."}, nil); !errors.Is(err, ErrNoReferenceModel) {
		t.Fatalf("free task evaluated against the built-in backend: %v", err)
	}
	onlyFree, _ := NewGenerator(GeneratorConfig{Kinds: []Kind{Free}})
	if _, err := NewValidator(ValidatorConfig{Generator: onlyFree, Reference: builtin}); !errors.Is(err, ErrNoReferenceModel) {
		t.Fatalf("free-only generator with the built-in reference: %v", err)
	}
}

// With an http reference (an OpenAI-compatible server on loopback) free prompts are
// asked, and miners' answers, over real axons, are scored against the server's answer.
func TestHTTPReferenceScoresFreeTasks(t *testing.T) {
	srv := fakeOpenAI(t, "ref-key")
	ref, err := NewHTTPBackend(HTTPConfig{BaseURL: srv.URL + "/v1", APIKey: "ref-key", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	def, err := NewSubnet(SubnetConfig{Reference: ref, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "free prompts are on") {
		t.Fatalf("start-up log %q", logs.String())
	}
	n, prompt := freeQueries(t, def, 400)
	if n < 20 {
		t.Fatalf("%d of 400 rounds asked a free prompt, want about 50", n)
	}

	// Miner 0 answers from the same model as the reference; miner 1 with canned filler.
	builtin, _ := NewBuiltin(BuiltinConfig{})
	targets := []Target{{UID: 0, Axon: startMiner(t, "//ModelMiner", ref)}, {UID: 1, Axon: startMiner(t, "//FillerMiner", builtin)}}
	d := newDendrite(t)
	gen, _ := NewGenerator(GeneratorConfig{Seed: 5, Kinds: []Kind{Free}})
	v, err := NewValidator(ValidatorConfig{Generator: gen, Reference: ref, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r, err := v.Round(t.Context(), d, targets)
	if err != nil {
		t.Fatal(err)
	}
	if r.Task.Kind != Free || r.Reference != "echo: "+r.Task.Prompt {
		t.Fatalf("task %+v judged against %q, want the server's answer", r.Task, r.Reference)
	}
	if r.Scores[0].Quality != 1 || r.Scores[1].Quality >= 0.5 {
		t.Fatalf("qualities: model %.2f, filler %.2f", r.Scores[0].Quality, r.Scores[1].Quality)
	}

	// The Definition's Score, as the SDK's validator runtime calls it, on a free query.
	q := NewChatCompletion(userReq(prompt), 0)
	rs := []subnet.Response[*ChatCompletion]{
		{UID: 0, Hotkey: "model", Synapse: &ChatCompletion{Completion: "echo: " + prompt}, Latency: 20 * time.Millisecond},
		{UID: 1, Hotkey: "filler", Synapse: &ChatCompletion{Completion: FreeText(prompt, 0, DefaultCorpus())}, Latency: 20 * time.Millisecond},
	}
	rewards, err := def.Score(t.Context(), q, rs)
	if err != nil {
		t.Fatal(err)
	}
	if !(rewards[0] > 0.85 && rewards[1] < rewards[0]-0.3) {
		t.Fatalf("rewards: model %.2f, filler %.2f", rewards[0], rewards[1])
	}
}
