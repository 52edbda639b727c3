package mlnode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/poc"
	"github.com/tessera-net/tessera/subnets/inference/participant"
	"github.com/tessera-net/tessera/subnets/inference/signed"
)

// node is an MLNode on loopback with its API node's client.
type node struct {
	s      *Server
	c      *Client
	mg, in *httptest.Server
}

func keyOf(t testing.TB, uri string) *keys.Pair {
	t.Helper()
	k, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newNode(t testing.TB, cfg Config, specs ...string) *node {
	t.Helper()
	api := keyOf(t, "//Alice")
	cfg.APINode = api.Public()
	for _, sp := range specs {
		s, err := ParseSpec(sp)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Models = append(cfg.Models, s)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{s: s, mg: httptest.NewServer(s.Management()), in: httptest.NewServer(s.Inference())}
	n.c = &Client{Management: n.mg.URL, Inference: n.in.URL, Key: api}
	t.Cleanup(func() { n.mg.Close(); n.in.Close(); s.Close() })
	return n
}

const tinyModel = "tiny=random:tiny:mlnode-test"

func chatBody(seed int64, maxTokens int) []byte {
	return []byte(fmt.Sprintf(`{"model":"tiny","messages":[{"role":"user","content":"Check me, validator"}],`+
		`"seed":%d,"max_tokens":%d,"logprobs":true,"top_logprobs":5,"return_token_ids":true,"ignore_eos":true}`, seed, maxTokens))
}

func forward(t testing.TB, c *Client, path string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := c.Forward(context.Background(), path, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func codeOf(t testing.TB, body []byte) string {
	t.Helper()
	e := ErrorOf(0, body)
	return e.Code
}

// TestRefusals: every unsigned, replayed, stale, future or foreign request to either
// listener is refused with its code and has no effect.
func TestRefusals(t *testing.T) {
	n := newNode(t, Config{}, tinyModel)
	ctx := context.Background()
	upBody, _ := json.Marshal(InferenceUp{Model: "tiny"})
	now := time.Now()

	// A request signed once, sent twice: the second is a replay.
	replay := func(base, path string) (*http.Request, *http.Request) {
		mk := func() *http.Request {
			req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(upBody))
			return req
		}
		a, b := mk(), mk()
		sig := signedHeaders(t, keyOf(t, "//Alice"), path, upBody, now)
		a.Header, b.Header = sig.Clone(), sig.Clone()
		return a, b
	}
	first, again := replay(n.mg.URL, PathStop)
	if resp, err := http.DefaultClient.Do(first); err != nil || resp.StatusCode != 200 {
		t.Fatalf("a signed stop: %v %v", resp, err)
	}

	cases := []struct {
		name   string
		client *Client
		req    *http.Request
		status int
		code   string
	}{
		{"unsigned", nil, mustReq(n.mg.URL+PathInferenceUp, upBody), 401, "missing_signature"},
		{"replayed", nil, again, 401, "replayed_request"},
		{"stale", &Client{Management: n.mg.URL, Key: keyOf(t, "//Alice"), Now: func() time.Time { return now.Add(-2 * time.Minute) }}, nil, 401, "stale_timestamp"},
		{"future", &Client{Management: n.mg.URL, Key: keyOf(t, "//Alice"), Now: func() time.Time { return now.Add(2 * time.Minute) }}, nil, 401, "future_timestamp"},
		{"wrong signer", &Client{Management: n.mg.URL, Key: keyOf(t, "//Bob")}, nil, 403, "forbidden_signer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.client != nil {
				err = c.client.InferenceUp(ctx, "tiny", nil)
			} else {
				resp, derr := http.DefaultClient.Do(c.req)
				if derr != nil {
					t.Fatal(derr)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				err = ErrorOf(resp.StatusCode, b)
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != c.status || e.Code != c.code {
				t.Fatalf("got %v, want %d %s", err, c.status, c.code)
			}
			if st := n.s.State(); st.State != StateStopped {
				t.Fatalf("a refused request had an effect: state %s", st.State)
			}
		})
	}
	// The inference listener refuses the same way.
	bob := &Client{Inference: n.in.URL, Key: keyOf(t, "//Bob")}
	if st, b := forward(t, bob, PathChat, chatBody(1, 4)); st != 403 || codeOf(t, b) != "forbidden_signer" {
		t.Fatalf("inference by another signer: %d %s", st, b)
	}
	stale := &Client{Inference: n.in.URL, Key: keyOf(t, "//Alice"), Now: func() time.Time { return now.Add(-time.Hour) }}
	if st, b := forward(t, stale, PathChat, chatBody(1, 4)); st != 401 || codeOf(t, b) != "stale_timestamp" {
		t.Fatalf("stale inference: %d %s", st, b)
	}
	// The same signed request twice: the second is a replay.
	h := signedHeaders(t, keyOf(t, "//Alice"), PathChat, chatBody(1, 4), now)
	for i, want := range []string{"model_not_loaded", "replayed_request"} {
		req := mustReq(n.in.URL+PathChat, chatBody(1, 4))
		req.Header = h.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if codeOf(t, b) != want {
			t.Fatalf("inference request %d: %d %s, want %s", i, resp.StatusCode, b, want)
		}
	}
	resp, _ := http.Post(n.in.URL+PathChat, "application/json", bytes.NewReader(chatBody(1, 4)))
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || codeOf(t, b) != "missing_signature" {
		t.Fatalf("unsigned inference: %d %s", resp.StatusCode, b)
	}
}

func signedHeaders(t testing.TB, k *keys.Pair, path string, body []byte, now time.Time) http.Header {
	h := http.Header{}
	signed.Sign(k, http.MethodPost, path, body, now).Headers(h)
	return h
}

func mustReq(u string, body []byte) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	return req
}

// TestInferenceUpDown: the state follows up and down; the inference listener serves
// only while a model is up; an unknown model is a 404 naming the configured ones.
func TestInferenceUpDown(t *testing.T) {
	n := newNode(t, Config{LocalArgs: []string{"--max-batch", "2", "--local-only"}}, tinyModel, "other=random:tiny:other")
	ctx := context.Background()
	if st, b := forward(t, n.c, PathChat, chatBody(1, 4)); st != 503 || codeOf(t, b) != "model_not_loaded" {
		t.Fatalf("before up: %d %s", st, b)
	}
	err := n.c.InferenceUp(ctx, "nope", nil)
	var e *Error
	if !errors.As(err, &e) || e.Status != 404 || e.Code != "model_not_found" || !strings.Contains(e.Message, "other, tiny") {
		t.Fatalf("unknown model: %v", err)
	}
	if err := n.c.InferenceUp(ctx, "tiny", []string{"--max-batch", "4"}); err != nil {
		t.Fatal(err)
	}
	st, err := n.c.State(ctx)
	if err != nil || st.State != StateInference || st.Model != "tiny" || st.Backend != BackendEngine ||
		strings.Join(st.Args, " ") != "--max-batch 4 --local-only" {
		t.Fatalf("state after up: %+v %v", st, err)
	}
	if err := n.c.InferenceUp(ctx, "tiny", []string{"--max-batch", "4"}); err != nil { // idempotent
		t.Fatal(err)
	}
	code, b := forward(t, n.c, PathChat, chatBody(1, 4))
	if code != 200 || !strings.Contains(string(b), `"token_ids"`) {
		t.Fatalf("chat: %d %s", code, b)
	}
	if err := n.c.InferenceDown(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := n.c.State(ctx); st.State != StateStopped {
		t.Fatalf("after down: %+v", st)
	}
	if code, _ := forward(t, n.c, PathChat, chatBody(1, 4)); code != 503 {
		t.Fatalf("after down: %d", code)
	}
	if err := n.c.InferenceUp(ctx, "tiny", []string{"--max-batch", "zero"}); err == nil {
		t.Fatal("a bad --max-batch was taken")
	}
}

var testPoC = models.PoC{Layers: 1, Width: 64, Heads: 2, KVHeads: 1, FFN: 64, Vocab: 512, SeqLen: 2}

// TestPoC: generate → status → proofs that verify against the root; validate re-runs
// the nonces; while mining the inference listener answers 503 poc_in_progress and
// inference/up ends the round.
func TestPoC(t *testing.T) {
	n := newNode(t, Config{Threads: 1}, tinyModel)
	ctx := context.Background()
	hot := inference.Account(keyOf(t, "//Alice").Public())
	seed := inference.Hash{1, 2, 3}
	job := PoCJob{Epoch: 7, Seed: seed, Model: "tiny", PoC: testPoC, Threshold: 1 << 62, Hotkey: hot, MLNode: "gpu-0", Budget: 96}
	if err := n.c.PoCGenerate(ctx, job); err != nil {
		t.Fatal(err)
	}
	ps := waitDone(t, n.c, 7)
	if ps.Tried != 96 || ps.Valid == 0 || ps.Count != ps.Valid || ps.Root == (inference.Hash{}) {
		t.Fatalf("status %+v", ps)
	}
	// The same leaves participant.Mine finds.
	r, err := poc.NewRunner(participant.DimsOf(testPoC), seed, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := participant.Mine(r, hot, "gpu-0", 0, 96, 1<<62)
	tree, _ := poc.NewTree(want)
	if c := tree.Commitment(); c.Root != ps.Root || c.Count != ps.Count {
		t.Fatalf("root %x count %d, participant.Mine's %x %d", ps.Root, ps.Count, c.Root, c.Count)
	}
	leaves := []uint64{0, ps.Count - 1, ps.Count}
	proofs, err := n.c.Proofs(ctx, 7, leaves)
	if err != nil {
		t.Fatal(err)
	}
	com := poc.Commitment{Root: ps.Root, Count: ps.Count}
	var nonces []uint64
	for i, l := range leaves[:2] {
		var p poc.Proof
		if err := p.UnmarshalBinary(proofs[i]); err != nil {
			t.Fatal(err)
		}
		if err := com.Verify(l, p); err != nil {
			t.Fatalf("leaf %d: %v", l, err)
		}
		nonces = append(nonces, p.Nonce)
	}
	if proofs[2] != nil {
		t.Fatal("a proof for a leaf past the count")
	}
	if ps, _ := n.c.Proofs(ctx, 99, []uint64{0}); ps[0] != nil {
		t.Fatal("a proof for an epoch never mined")
	}
	// Re-running: the tree's nonces are valid; the first invalid one is not.
	var bad uint64
	for i := uint64(0); ; i++ {
		if !containsU(want, i) {
			bad = i
			break
		}
	}
	valid, err := n.c.PoCValidate(ctx, NonceCheck{Seed: seed, PoC: testPoC, Threshold: 1 << 62, Hotkey: hot, MLNode: "gpu-0", Nonces: append(nonces, bad)})
	if err != nil || !valid[0] || !valid[1] || valid[2] {
		t.Fatalf("validate: %v %v", valid, err)
	}
	if _, err := n.c.PoCValidate(ctx, NonceCheck{Seed: seed, PoC: models.PoC{}, Threshold: 1, MLNode: "x"}); err == nil {
		t.Fatal("a PoC shape of zeros was taken")
	}

	// Mining stops serving; inference/up ends the round and serves again.
	if err := n.c.InferenceUp(ctx, "tiny", nil); err != nil {
		t.Fatal(err)
	}
	long := job
	long.Epoch, long.Budget = 8, 1<<40
	if err := n.c.PoCGenerate(ctx, long); err != nil {
		t.Fatal(err)
	}
	if st, _ := n.c.State(ctx); st.State != StatePoC || st.Model != "tiny" {
		t.Fatalf("while mining: %+v", st)
	}
	if code, b := forward(t, n.c, PathChat, chatBody(1, 4)); code != 503 || codeOf(t, b) != "poc_in_progress" {
		t.Fatalf("inference while mining: %d %s", code, b)
	}
	other := long
	other.Epoch = 9
	var e *Error
	if err := n.c.PoCGenerate(ctx, other); !errors.As(err, &e) || e.Code != "poc_in_progress" {
		t.Fatalf("a second round while mining: %v", err)
	}
	if err := n.c.InferenceUp(ctx, "tiny", nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := n.c.PoCStatus(ctx, 8); st.State != PoCDone {
		t.Fatalf("the round after inference/up: %+v", st)
	}
	if code, _ := forward(t, n.c, PathChat, chatBody(1, 4)); code != 200 {
		t.Fatalf("inference after the round: %d", code)
	}
	if st, _ := n.c.PoCStatus(ctx, 3); st.State != PoCIdle {
		t.Fatalf("an epoch never mined: %+v", st)
	}
}

func TestPoCForge(t *testing.T) {
	n := newNode(t, Config{}, tinyModel)
	ctx := context.Background()
	hot := inference.Account(keyOf(t, "//Bob").Public())
	job := PoCJob{Epoch: 1, Seed: inference.Hash{9}, PoC: testPoC, Threshold: 1 << 62, Hotkey: hot, MLNode: "n", Budget: 64, Forge: 3}
	if err := n.c.PoCGenerate(ctx, job); err != nil {
		t.Fatal(err)
	}
	ps := waitDone(t, n.c, 1)
	if ps.Count != 4*ps.Valid {
		t.Fatalf("forging 3 per valid nonce: %+v", ps)
	}
	proofs, _ := n.c.Proofs(ctx, 1, []uint64{ps.Count - 1})
	var p poc.Proof
	if err := p.UnmarshalBinary(proofs[0]); err != nil {
		t.Fatal(err)
	}
	v, err := n.c.PoCValidate(ctx, NonceCheck{Seed: job.Seed, PoC: testPoC, Threshold: 1 << 62, Hotkey: hot, MLNode: "n", Nonces: []uint64{p.Nonce}})
	if err != nil {
		t.Fatal(err)
	}
	_ = v // a forged nonce is valid with probability 1/4: what validators sample catches
}

func containsU(s []uint64, v uint64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func waitDone(t testing.TB, c *Client, epoch uint64) PoCStatus {
	t.Helper()
	for range 3000 {
		ps, err := c.PoCStatus(context.Background(), epoch)
		if err != nil {
			t.Fatal(err)
		}
		if ps.State == PoCDone {
			return ps
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the round did not finish")
	return PoCStatus{}
}

// TestStopWhileMining: stop ends the round (it keeps what it mined), unloads the model
// and leaves the node STOPPED; the client reads a non-JSON refusal as an Error too.
func TestStopWhileMining(t *testing.T) {
	n := newNode(t, Config{}, tinyModel)
	ctx := context.Background()
	if err := n.c.InferenceUp(ctx, "tiny", nil); err != nil {
		t.Fatal(err)
	}
	job := PoCJob{Epoch: 3, Seed: inference.Hash{4}, PoC: testPoC, Threshold: 1 << 62, MLNode: "m", Budget: 1 << 40}
	if err := n.c.PoCGenerate(ctx, job); err != nil {
		t.Fatal(err)
	}
	if err := n.c.PoCGenerate(ctx, job); err != nil { // the same epoch again: no effect
		t.Fatal(err)
	}
	if err := n.c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := n.c.State(ctx)
	if err != nil || st.State != StateStopped || st.Model != "" || st.PoC == nil || st.PoC.State != PoCDone || st.PoC.Epoch != 3 {
		t.Fatalf("after stop: %+v %v", st, err)
	}
	if e := ErrorOf(502, []byte("<html>bad gateway</html>")); e.Status != 502 || e.Code != "" || !strings.Contains(e.Message, "bad gateway") {
		t.Fatalf("%+v", e)
	}
	if _, err := (&Client{Management: n.mg.URL}).State(ctx); err == nil {
		t.Fatal("a client without a key sent a request")
	}
}
