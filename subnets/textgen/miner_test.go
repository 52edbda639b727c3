package textgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/wire"
)

// startMiner serves a Miner with backend on an axon on 127.0.0.1 and returns its address.
func startMiner(t *testing.T, uri string, b Backend) wire.AxonInfo {
	t.Helper()
	pair, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	ax, err := wire.NewAxon(pair, wire.AxonConfig{RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMiner(b, MinerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Attach(ax, wire.AttachOptions{}); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ax.Serve(ctx, l); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return wire.AxonInfo{IP: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Hotkey: ax.Hotkey()}
}

func newDendrite(t *testing.T) *wire.Dendrite {
	t.Helper()
	pair, _ := keys.FromURI("//Validator")
	d, err := wire.NewDendrite(pair, wire.DendriteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

func userReq(prompt string) Request {
	return Request{Model: "m", Messages: []Message{{Role: "user", Content: prompt}}}
}

func TestMinerUnaryAndStream(t *testing.T) {
	b, _ := NewBuiltin(BuiltinConfig{})
	ax := startMiner(t, "//MinerA", b)
	d := newDendrite(t)
	ctx := context.Background()

	prompt := leadArithmetic + "6 * 7."
	res := d.Call(ctx, ax, NewChatCompletion(userReq(prompt), 5))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	c := res.Synapse.(*ChatCompletion)
	if c.Completion != "42" || c.FinishReason != "stop" || c.Usage.CompletionTokens != 1 || c.BackendModel != "tessera-builtin" {
		t.Fatalf("answer %+v", c)
	}

	free := "Write a short paragraph about bridges."
	st, err := d.Stream(ctx, ax, &ChatCompletionStream{*NewChatCompletion(userReq(free), 5)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var text strings.Builder
	var last StreamChunk
	n := 0
	for ev, err := range st.Events() {
		if err != nil {
			t.Fatal(err)
		}
		var ch StreamChunk
		if err := json.Unmarshal(ev, &ch); err != nil {
			t.Fatal(err)
		}
		text.WriteString(ch.Delta)
		last = ch
		n++
	}
	if want := FreeText(free, 0, DefaultCorpus()); text.String() != want {
		t.Fatalf("streamed %q, want %q", text.String(), want)
	}
	if n < 5 || last.FinishReason != "stop" || last.Usage == nil || last.Usage.CompletionTokens != n-1 {
		t.Fatalf("%d events, last %+v", n, last)
	}

	// A request with no messages is refused with 400 before the backend runs.
	res = d.Call(ctx, ax, NewChatCompletion(Request{}, 5))
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("empty request: %d %s", res.StatusCode, res.StatusMessage)
	}
}

func TestBuiltinFaults(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		cfg       BuiltinConfig
		wantErr   error
		wantRight bool
		minTime   time.Duration
	}{
		{"right", BuiltinConfig{}, nil, true, 0},
		{"wrong", BuiltinConfig{WrongRate: 1}, nil, false, 0},
		{"fail", BuiltinConfig{FailRate: 1}, ErrInjected, false, 0},
		{"slow", BuiltinConfig{Latency: 30 * time.Millisecond}, nil, true, 30 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := NewBuiltin(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			task := Task{Kind: Sort, Answer: "1 2 3"}
			start := time.Now()
			res, err := b.Generate(ctx, userReq(leadSort+"3 1 2"), nil)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if err == nil && (Check(task, res.Text) == 1) != tc.wantRight {
				t.Fatalf("answer %q, right=%v", res.Text, tc.wantRight)
			}
			if time.Since(start) < tc.minTime {
				t.Fatalf("answered in %v, want at least %v", time.Since(start), tc.minTime)
			}
		})
	}
	// Rates are honoured over many calls, and reproducibly for a seed.
	b, _ := NewBuiltin(BuiltinConfig{WrongRate: 0.3, FailRate: 0.2, Seed: 11})
	wrong, fail := 0, 0
	for range 2000 {
		res, err := b.Generate(ctx, userReq(leadReverse+"abcd"), nil)
		switch {
		case err != nil:
			fail++
		case res.Text != "dcba":
			wrong++
		}
	}
	if fail < 330 || fail > 470 || wrong < 400 || wrong > 560 {
		t.Fatalf("fail %d / wrong %d of 2000, want about 400 / 480", fail, wrong)
	}
	// Limits: max_tokens cuts the answer, a stop sequence ends it, a cancelled call ends.
	b2, _ := NewBuiltin(BuiltinConfig{})
	res, _ := b2.Generate(ctx, Request{Messages: []Message{{Role: "user", Content: leadSort + "5 4 3 2 1"}}, MaxTokens: 2}, nil)
	if res.Text != "1 2" || res.FinishReason != "length" || res.Usage.CompletionTokens != 2 {
		t.Fatalf("max_tokens: %+v", res)
	}
	res, _ = b2.Generate(ctx, Request{Messages: []Message{{Role: "user", Content: leadSort + "5 4 3 2 1"}}, Stop: []string{" 4"}}, nil)
	if res.Text != "1 2 3" || res.FinishReason != "stop" {
		t.Fatalf("stop: %+v", res)
	}
	slow, _ := NewBuiltin(BuiltinConfig{Latency: time.Hour})
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := slow.Generate(cctx, userReq("x"), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := NewBuiltin(BuiltinConfig{WrongRate: 2}); err == nil {
		t.Fatal("WrongRate 2 accepted")
	}
}

// fakeOpenAI is an OpenAI-compatible server that answers "echo: <last message>".
func fakeOpenAI(t *testing.T, wantKey string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer "+wantKey {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"message":"bad key or path"}}`)
			return
		}
		var req oaRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		text := "echo: " + req.Messages[len(req.Messages)-1].Content
		if !req.Stream {
			fmt.Fprintf(w, `{"model":%q,"choices":[{"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`, req.Model, text)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, p := range strings.SplitAfter(text, " ") {
			fmt.Fprintf(w, "data: {\"model\":%q,\"choices\":[{\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", req.Model, p)
		}
		fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n")
		fmt.Fprint(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\ndata: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPBackend(t *testing.T) {
	srv := fakeOpenAI(t, "sekret")
	ctx := context.Background()
	b, err := NewHTTPBackend(HTTPConfig{BaseURL: srv.URL + "/v1/", Model: "llama", APIKey: "sekret"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.Generate(ctx, userReq("hi there"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "echo: hi there" || res.Model != "llama" || res.Usage.TotalTokens != 7 || res.FinishReason != "stop" {
		t.Fatalf("unary %+v", res)
	}
	var deltas []string
	res, err = b.Generate(ctx, userReq("hi there"), func(d string) error { deltas = append(deltas, d); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "echo: hi there" || len(deltas) != 3 || res.Usage.TotalTokens != 5 || res.FinishReason != "stop" {
		t.Fatalf("stream %+v %q", res, deltas)
	}
	bad, _ := NewHTTPBackend(HTTPConfig{BaseURL: srv.URL + "/v1", APIKey: "wrong"})
	if _, err := bad.Generate(ctx, userReq("x"), nil); err == nil || !strings.Contains(err.Error(), "401: bad key or path") {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := NewHTTPBackend(HTTPConfig{BaseURL: "localhost:8080"}); err == nil {
		t.Fatal("URL without scheme accepted")
	}
	// Through a miner: an HTTP backend behind an axon.
	ax := startMiner(t, "//MinerHTTP", b)
	r := newDendrite(t).Call(ctx, ax, NewChatCompletion(userReq("via axon"), 5))
	if r.Err != nil || r.Synapse.(*ChatCompletion).Completion != "echo: via axon" {
		t.Fatalf("%v %+v", r.Err, r.Synapse)
	}
}

// An HTTP backend's Timeout bounds a request to a server that never answers.
func TestHTTPBackendTimeout(t *testing.T) {
	stalled := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stalled:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stalled) })
	b, err := NewHTTPBackend(HTTPConfig{BaseURL: srv.URL + "/v1", Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err = b.Generate(ctx, userReq("hello"), nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("after %v: %v, want the backend's timeout", time.Since(start), err)
	}
	if _, err := NewHTTPBackend(HTTPConfig{BaseURL: srv.URL, Timeout: -time.Second}); err == nil {
		t.Fatal("negative timeout accepted")
	}
}

func TestValidatorRanksMiners(t *testing.T) {
	good, _ := NewBuiltin(BuiltinConfig{})
	slow, _ := NewBuiltin(BuiltinConfig{Latency: 150 * time.Millisecond})
	wrong, _ := NewBuiltin(BuiltinConfig{WrongRate: 1, Seed: 5})
	failing, _ := NewBuiltin(BuiltinConfig{FailRate: 1})
	targets := []Target{
		{UID: 0, Axon: startMiner(t, "//Good", good)},
		{UID: 1, Axon: startMiner(t, "//Slow", slow)},
		{UID: 2, Axon: startMiner(t, "//Wrong", wrong)},
		{UID: 3, Axon: startMiner(t, "//Failing", failing)},
	}
	gen, _ := NewGenerator(GeneratorConfig{Seed: 1})
	ref, _ := NewBuiltin(BuiltinConfig{})
	sc, err := NewValidator(ValidatorConfig{Generator: gen, Reference: ref, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	v := sc
	d := newDendrite(t)
	total := make([]float64, len(targets))
	for range 12 {
		r, err := v.Round(context.Background(), d, targets)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range r.Scores {
			total[i] += s.Score
		}
	}
	if !(total[0] > total[1] && total[1] > total[2] && total[2] > total[3]) {
		t.Fatalf("scores good %.2f slow %.2f wrong %.2f failing %.2f: want that order", total[0], total[1], total[2], total[3])
	}
	w := WeightsU16(total)
	if w[0] != 65535 || w[3] >= w[2] {
		t.Fatalf("weights %v", w)
	}
}

func TestBuiltinPacing(t *testing.T) {
	b, _ := NewBuiltin(BuiltinConfig{TokensPerSecond: 2000})
	prompt := "Write a short paragraph about maps."
	n := len(splitTokens(FreeText(prompt, 0, DefaultCorpus())))
	start := time.Now()
	res, err := b.Generate(t.Context(), userReq(prompt), func(string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := time.Duration(n-1) * time.Second / 2000
	if took := time.Since(start); took < want || took > want+50*time.Millisecond || res.Usage.CompletionTokens != n {
		t.Fatalf("%d tokens at 2000/s took %v, want about %v", n, took, want)
	}
}

// A free prompt answered by the built-in backend, through a miner's axon, says that it
// comes from a test backend; a checkable task's answer is the bare answer.
func TestBuiltinFreeTextIsMarked(t *testing.T) {
	b, _ := NewBuiltin(BuiltinConfig{})
	ax := startMiner(t, "//MinerMarked", b)
	d := newDendrite(t)
	for _, prompt := range []string{"Write a short paragraph about bridges.", "Give three facts about bees."} {
		res := d.Call(t.Context(), ax, NewChatCompletion(userReq(prompt), 5))
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if got := res.Synapse.(*ChatCompletion).Completion; !strings.HasPrefix(got, TestBackendMarker+" ") {
			t.Fatalf("free answer %q does not start with %q", got, TestBackendMarker)
		}
	}
	res := d.Call(t.Context(), ax, NewChatCompletion(userReq(leadReverse+"abc"), 5))
	if res.Err != nil || res.Synapse.(*ChatCompletion).Completion != "cba" {
		t.Fatalf("checkable answer: %v %+v", res.Err, res.Synapse)
	}
}
