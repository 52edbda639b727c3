package mlnode

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/lm"
	lmserver "github.com/tessera-net/tessera/lm/server"
)

func completionBody(seed int64, maxTokens int) []byte {
	return []byte(fmt.Sprintf(`{"model":"tiny","prompt":"Once upon a time","seed":%d,"max_tokens":%d,"logprobs":5,`+
		`"return_token_ids":true,"temperature":0.8,"top_p":0.9}`, seed, maxTokens))
}

// TestValidateExact: an honest executor's completions replay exactly on another
// MLNode; the cheater's altered ones fail at the altered token; edits to any reported
// field fail.
func TestValidateExact(t *testing.T) {
	honest := newNode(t, Config{}, tinyModel)
	cheat := newNode(t, Config{AlterEvery: 2}, tinyModel)
	validator := newNode(t, Config{}, tinyModel) // checks with a model it loads for checks
	ctx := context.Background()
	for _, n := range []*node{honest, cheat} {
		if err := n.c.InferenceUp(ctx, "tiny", nil); err != nil {
			t.Fatal(err)
		}
	}
	type req struct {
		path string
		body []byte
	}
	reqs := []req{{PathChat, chatBody(11, 40)}, {PathCompletion, completionBody(12, 30)}, {PathChat, chatBody(-3, 1)},
		{PathChat, []byte(`{"messages":[{"role":"user","content":"stop at e"}],"seed":5,"max_tokens":60,"stop":["e"],"logprobs":true,"return_token_ids":true}`)}}
	for i, rq := range reqs {
		t.Run(fmt.Sprintf("%d%s", i, rq.path), func(t *testing.T) {
			code, resp := forward(t, honest.c, rq.path, rq.body)
			if code != 200 {
				t.Fatalf("%d %s", code, resp)
			}
			check := InferenceCheck{Model: "tiny", Path: rq.path, Request: rq.body, Response: resp}
			res, err := validator.c.Validate(ctx, check)
			if err != nil || !res.Valid || !res.Exact || res.Position != -1 || res.SimilarityPPM != 1e6 {
				t.Fatalf("honest: %+v %v", res, err)
			}
			// The executor's own MLNode, serving the model, agrees.
			if res, _ := honest.c.Validate(ctx, check); !res.Valid {
				t.Fatalf("honest on the serving node: %+v", res)
			}
			// The cheater alters every second answer.
			var altered []byte
			for k := range 2 {
				code, b := forward(t, cheat.c, rq.path, rq.body)
				if code != 200 {
					t.Fatalf("cheater %d: %d %s", k, code, b)
				}
				if k == 0 && string(b) != string(resp) && !sameExceptID(b, resp) {
					t.Fatalf("the cheater's first answer differs from the honest one:\n%s\n%s", b, resp)
				}
				altered = b
			}
			ids := tokenIDs(t, altered)
			res, err = validator.c.Validate(ctx, InferenceCheck{Model: "tiny", Path: rq.path, Request: rq.body, Response: altered})
			if err != nil || res.Valid || res.Position != len(ids)/2 || res.Reason == "" {
				t.Fatalf("altered: %+v %v; want invalid at %d", res, err, len(ids)/2)
			}
		})
	}
	if cheat.s.Altered() != len(reqs) {
		t.Fatalf("%d alterations counted", cheat.s.Altered())
	}

	// Edits of an honest answer, each caught.
	body := chatBody(21, 24)
	_, resp := forward(t, honest.c, PathChat, body)
	edits := []struct {
		name string
		edit func(map[string]any)
	}{
		{"logprob", func(a map[string]any) {
			lp(a)[3].(map[string]any)["logprob"] = lp(a)[3].(map[string]any)["logprob"].(float64) - 1.0/65536
		}},
		{"top entry", func(a map[string]any) {
			top := lp(a)[5].(map[string]any)["top_logprobs"].([]any)
			top[1].(map[string]any)["logprob"] = 0.0
		}},
		{"token text", func(a map[string]any) { lp(a)[2].(map[string]any)["token"] = "zzz" }},
		{"content", func(a map[string]any) { choice(a)["message"].(map[string]any)["content"] = "something else" }},
		{"finish", func(a map[string]any) { choice(a)["finish_reason"] = "stop" }},
		{"usage", func(a map[string]any) { a["usage"].(map[string]any)["completion_tokens"] = 3.0 }},
		{"truncated", func(a map[string]any) {
			c := choice(a)
			c["token_ids"] = c["token_ids"].([]any)[:10]
		}},
		{"no token ids", func(a map[string]any) { delete(choice(a), "token_ids") }},
		{"prompt ids", func(a map[string]any) { a["prompt_token_ids"] = []any{1.0, 2.0} }},
		{"two choices", func(a map[string]any) { a["choices"] = append(a["choices"].([]any), a["choices"].([]any)[0]) }},
	}
	for _, e := range edits {
		var a map[string]any
		if err := json.Unmarshal(resp, &a); err != nil {
			t.Fatal(err)
		}
		e.edit(a)
		b, _ := json.Marshal(a)
		res, err := validator.c.Validate(ctx, InferenceCheck{Model: "tiny", Path: PathChat, Request: body, Response: b})
		if err != nil || res.Valid {
			t.Errorf("%s: %+v %v", e.name, res, err)
		}
	}
	// Another seed than the one the executor ran is another completion.
	res, _ := validator.c.Validate(ctx, InferenceCheck{Model: "tiny", Path: PathChat, Request: chatBody(22, 24), Response: resp})
	if res.Valid {
		t.Error("the answer validated under another seed")
	}
	// Checks that cannot run are errors, not verdicts.
	for _, ic := range []InferenceCheck{{Model: "nope", Path: PathChat, Request: body, Response: resp}, {Model: "tiny", Path: "/v1/x", Request: body, Response: resp}} {
		if _, err := validator.c.Validate(ctx, ic); err == nil {
			t.Errorf("%s %s: checked", ic.Model, ic.Path)
		}
	}
}

func lp(a map[string]any) []any {
	return choice(a)["logprobs"].(map[string]any)["content"].([]any)
}

func choice(a map[string]any) map[string]any { return a["choices"].([]any)[0].(map[string]any) }

func tokenIDs(t testing.TB, resp []byte) []int32 {
	var a answer
	if err := json.Unmarshal(resp, &a); err != nil || len(a.Choices) != 1 {
		t.Fatalf("%v %s", err, resp)
	}
	return a.Choices[0].TokenIDs
}

// sameExceptID: two answers equal but for their ids and creation times.
func sameExceptID(a, b []byte) bool {
	var x, y map[string]any
	json.Unmarshal(a, &x)
	json.Unmarshal(b, &y)
	for _, k := range []string{"id", "created"} {
		delete(x, k)
		delete(y, k)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// backend is an OpenAI-compatible server over the engine that also scores prompts as
// vLLM does (a legacy completion with echo and logprobs).
func backend(t testing.TB) *httptest.Server {
	t.Helper()
	sp, _ := ParseSpec(tinyModel)
	m, err := sp.load(1)
	if err != nil {
		t.Fatal(err)
	}
	e := lm.NewEngine(m, 4)
	srv, err := lmserver.New(e, lmserver.Options{Name: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == PathCompletion {
			body, _ := openai.ReadBody(w, r, 1<<20)
			var q struct {
				Echo     bool    `json:"echo"`
				Prompt   []int32 `json:"prompt"`
				Logprobs int     `json:"logprobs"`
			}
			if json.Unmarshal(body, &q) == nil && q.Echo {
				steps, err := m.Score(r.Context(), q.Prompt[:1], q.Prompt[1:], q.Logprobs)
				if err != nil {
					http.Error(w, err.Error(), 400)
					return
				}
				top := []map[string]float64{nil}
				for _, st := range steps {
					mp := map[string]float64{}
					for _, tt := range st.Top {
						s, _ := lmserver.TokenText(m.Tokenizer, tt.ID)
						if _, dup := mp[s]; !dup {
							mp[s] = lmserver.Logprob(tt.Logprob)
						}
					}
					top = append(top, mp)
				}
				b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"logprobs": map[string]any{"top_logprobs": top}}}})
				w.Header().Set("Content-Type", "application/json")
				w.Write(b)
				return
			}
			r.Body = readCloser(body)
		}
		srv.ServeHTTP(w, r)
	})
	ts := httptest.NewServer(h)
	t.Cleanup(func() { ts.Close(); e.Close(); m.Close() })
	return ts
}

// TestBackend: a model on an OpenAI-compatible backend is served through the proxy
// (without the API node's signature headers) and checked by similarity.
func TestBackend(t *testing.T) {
	be := backend(t)
	exec := newNode(t, Config{}, "tiny="+be.URL+"/v1")
	validator := newNode(t, Config{SimilarityPPM: 990000}, "tiny="+be.URL+"/v1")
	ctx := context.Background()
	if err := exec.c.InferenceUp(ctx, "tiny", nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := exec.c.State(ctx); st.Backend != BackendOpenAI || st.State != StateInference {
		t.Fatalf("%+v", st)
	}
	body := chatBody(31, 30)
	code, resp := forward(t, exec.c, PathChat, body)
	if code != 200 {
		t.Fatalf("%d %s", code, resp)
	}
	res, err := validator.c.Validate(ctx, InferenceCheck{Model: "tiny", Path: PathChat, Request: body, Response: resp})
	if err != nil || !res.Valid || res.Exact || res.SimilarityPPM != 1e6 {
		t.Fatalf("honest on a backend: %+v %v", res, err)
	}
	// Shifted log-probabilities lower the similarity below the threshold.
	var a map[string]any
	json.Unmarshal(resp, &a)
	for _, p := range lp(a) {
		for _, tp := range p.(map[string]any)["top_logprobs"].([]any) {
			tp.(map[string]any)["logprob"] = tp.(map[string]any)["logprob"].(float64) * 0.5
		}
	}
	b, _ := json.Marshal(a)
	res, err = validator.c.Validate(ctx, InferenceCheck{Model: "tiny", Path: PathChat, Request: body, Response: b})
	if err != nil || res.Valid || res.SimilarityPPM >= 990000 || !strings.Contains(res.Reason, "similarity") {
		t.Fatalf("shifted: %+v %v", res, err)
	}
	// The model's own threshold from the epoch snapshot overrides the MLNode's: the same
	// answer passes a lower one and names a higher one it fails.
	low, err := validator.c.Validate(ctx, InferenceCheck{Model: "tiny", Path: PathChat, Request: body, Response: b, ThresholdPPM: res.SimilarityPPM})
	if err != nil || !low.Valid {
		t.Fatalf("at its own similarity as the threshold: %+v %v", low, err)
	}
	high, err := validator.c.Validate(ctx, InferenceCheck{Model: "tiny", Path: PathChat, Request: body, Response: b, ThresholdPPM: 999999})
	if err != nil || high.Valid || !strings.Contains(high.Reason, "threshold of 999999 ppm") {
		t.Fatalf("a threshold of 999999: %+v %v", high, err)
	}
	// A backend that is down: inference/up refuses with backend_unavailable.
	down := newNode(t, Config{}, "tiny=http://127.0.0.1:1/v1")
	if err := down.c.InferenceUp(ctx, "tiny", nil); err == nil || !strings.Contains(err.Error(), "backend_unavailable") {
		t.Fatalf("a backend down: %v", err)
	}
}

func TestParseSpec(t *testing.T) {
	cases := []struct {
		in, backend, err string
	}{
		{"a=/models/x.gguf", BackendEngine, ""},
		{"a=random:tiny", BackendEngine, ""},
		{"a=random:tiny:seed", BackendEngine, ""},
		{"a=random:vocab=64,dim=16,layers=1,heads=2,ffn=32,context=64:7", BackendEngine, ""},
		{"Qwen/Qwen2.5-7B=http://10.0.0.1:8000/v1", BackendOpenAI, ""},
		{"a=https://h/v1/", BackendOpenAI, ""},
		{"a=http://h:8000", "", "must end in /v1"},
		{"a=random:huge", "", "not one of"},
		{"=x.gguf", "", "want ID="},
		{"a", "", "want ID="},
	}
	for _, c := range cases {
		sp, err := ParseSpec(c.in)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: err %v, want %q", c.in, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.in, err)
		case c.err == "" && sp.Backend() != c.backend:
			t.Errorf("%s: backend %s", c.in, sp.Backend())
		}
	}
	a, _ := ParseSpec("a=random:tiny:x")
	b, _ := ParseSpec("b=random:tiny:x")
	c, _ := ParseSpec("c=random:tiny")
	if a.Seed != b.Seed || a.Seed == c.Seed {
		t.Error("seeds: the same string must give the same seed, the default another")
	}
}

func readCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

// TestValidateServerCap: an executor whose model args cap completions (--max-tokens)
// answers a request without max_tokens at its cap; a validator without that cap still
// replays it as valid, and truncating a request's own limit is still caught.
func TestValidateServerCap(t *testing.T) {
	exec := newNode(t, Config{LocalArgs: []string{"--max-tokens", "12"}}, tinyModel)
	validator := newNode(t, Config{}, tinyModel)
	ctx := context.Background()
	if err := exec.c.InferenceUp(ctx, "tiny", nil); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"messages":[{"role":"user","content":"no limit given"}],"seed":4,"logprobs":true,"top_logprobs":2,"return_token_ids":true,"ignore_eos":true}`)
	code, resp := forward(t, exec.c, PathChat, body)
	if code != 200 || len(tokenIDs(t, resp)) != 12 {
		t.Fatalf("%d %s", code, resp)
	}
	if res, err := validator.c.Validate(ctx, InferenceCheck{Model: "tiny", Path: PathChat, Request: body, Response: resp}); err != nil || !res.Valid {
		t.Fatalf("capped by the executor's args: %+v %v", res, err)
	}
	// The executor checks with a model of its own without the cap, and agrees.
	if res, err := exec.c.Validate(ctx, InferenceCheck{Model: "tiny", Path: PathChat, Request: body, Response: resp}); err != nil || !res.Valid {
		t.Fatalf("on the capped node: %+v %v", res, err)
	}
	limited := []byte(`{"messages":[{"role":"user","content":"no limit given"}],"seed":4,"max_tokens":20,"logprobs":true,"top_logprobs":2,"return_token_ids":true,"ignore_eos":true}`)
	if res, _ := validator.c.Validate(ctx, InferenceCheck{Model: "tiny", Path: PathChat, Request: limited, Response: resp}); res.Valid {
		t.Fatal("12 tokens for a request of 20 validated")
	}
}

// TestBackendTesseraServer: `tessera lm serve`'s server as the backend: it refuses echo,
// so the check scores through its /v1/score.
func TestBackendTesseraServer(t *testing.T) {
	sp, _ := ParseSpec(tinyModel)
	m, err := sp.load(1)
	if err != nil {
		t.Fatal(err)
	}
	e := lm.NewEngine(m, 4)
	srv, err := lmserver.New(e, lmserver.Options{Name: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	be := httptest.NewServer(srv)
	t.Cleanup(func() { be.Close(); e.Close(); m.Close() })
	exec := newNode(t, Config{}, "tiny="+be.URL+"/v1")
	validator := newNode(t, Config{}, "tiny="+be.URL+"/v1")
	ctx := context.Background()
	if err := exec.c.InferenceUp(ctx, "tiny", nil); err != nil {
		t.Fatal(err)
	}
	for _, rq := range []struct {
		path string
		body []byte
	}{{PathChat, chatBody(41, 20)}, {PathCompletion, completionBody(42, 20)}} {
		code, resp := forward(t, exec.c, rq.path, rq.body)
		if code != 200 {
			t.Fatalf("%d %s", code, resp)
		}
		res, err := validator.c.Validate(ctx, InferenceCheck{Model: "tiny", Path: rq.path, Request: rq.body, Response: resp})
		if err != nil || !res.Valid || res.Exact || res.SimilarityPPM != 1e6 {
			t.Fatalf("%s: %+v %v", rq.path, res, err)
		}
	}
}

// TestValidateFixture: the shared tiny llama (a real vocabulary and chat template), when
// ../shared/models beside the repository has it: honest replays, altered fails.
func TestValidateFixture(t *testing.T) {
	path := "../../../../shared/models/llama-2-tiny-random.gguf"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("the model fixture is absent (%v): it lives in ../shared/models beside the repository", err)
	}
	honest := newNode(t, Config{}, "llama="+path)
	cheat := newNode(t, Config{AlterEvery: 1}, "llama="+path)
	ctx := context.Background()
	for _, n := range []*node{honest, cheat} {
		if err := n.c.InferenceUp(ctx, "llama", nil); err != nil {
			t.Fatal(err)
		}
	}
	body := []byte(`{"model":"llama","messages":[{"role":"user","content":"Hello there"}],"seed":9,"max_tokens":48,"logprobs":true,"top_logprobs":5,"return_token_ids":true}`)
	_, resp := forward(t, honest.c, PathChat, body)
	if res, err := honest.c.Validate(ctx, InferenceCheck{Model: "llama", Path: PathChat, Request: body, Response: resp}); err != nil || !res.Valid {
		t.Fatalf("honest: %+v %v", res, err)
	}
	_, bad := forward(t, cheat.c, PathChat, body)
	if res, err := honest.c.Validate(ctx, InferenceCheck{Model: "llama", Path: PathChat, Request: body, Response: bad}); err != nil || res.Valid || res.Position != len(tokenIDs(t, bad))/2 {
		t.Fatalf("altered: %+v %v", res, err)
	}
}
