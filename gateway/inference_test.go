package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/subnets/inference/signed"
)

// chatReq is a checked chat request for the inference network's tiny model.
func chatReq(t *testing.T, extra string) *Request {
	t.Helper()
	body := `{"model":"tessera-tiny","messages":[{"role":"user","content":"hello"}],"max_tokens":8` + extra + `}`
	p, e := parseChatRequest([]byte(body), map[string]Model{"tessera-tiny": {ID: "tessera-tiny"}})
	if e != nil {
		t.Fatal(e)
	}
	return &p.Request
}

func TestInferenceUpstreamModelsAndPlan(t *testing.T) {
	a := startAPINode(t, gatewayAccount(), nil)
	b := startAPINode(t, gatewayAccount(), nil)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	u := inferenceUpstream(t, nil, a.URL+"/v1/", b.URL, dead.URL)
	ms := u.Models()
	if len(ms) != 1 || ms[0].ID != "tessera-tiny" || ms[0].OwnedBy != "tessera-inference" {
		t.Fatalf("models %+v", ms)
	}
	err := u.Refresh(t.Context())
	if err == nil || !strings.Contains(err.Error(), dead.URL) {
		t.Fatalf("refresh error %v, want one naming the dead node", err)
	}
	// The two live nodes take turns being first; the dead one lists nothing.
	firsts := map[string]int{}
	for seq := range uint64(4) {
		plan := u.plan("tessera-tiny", seq)
		if len(plan) != 2 {
			t.Fatalf("plan %d nodes", len(plan))
		}
		firsts[plan[0].url]++
	}
	if firsts[a.URL] != 2 || firsts[b.URL] != 2 {
		t.Fatalf("first attempts %v", firsts)
	}
	if ex := u.Executors("tessera-tiny"); len(ex) != 2 || !ex[0].Healthy || ex[0].UID != -1 {
		t.Fatalf("executors %+v", ex)
	}
	if ex := u.Executors("other"); len(ex) != 0 {
		t.Fatalf("executors of an unknown model %+v", ex)
	}

	for _, bad := range []InferenceConfig{
		{Key: nil, APINodes: []string{a.URL}},
		{Key: &keys.Pair{}, APINodes: nil},
		{Key: &keys.Pair{}, APINodes: []string{"ftp://x"}},
		{Key: &keys.Pair{}, APINodes: []string{a.URL, a.URL + "/v1"}},
	} {
		if _, err := NewInferenceUpstream(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestInferenceUpstreamDiscover: a gateway may start before the API nodes; the ones
// Discover names later are added at a refresh, once each, and a malformed one is
// reported.
func TestInferenceUpstreamDiscover(t *testing.T) {
	var found []string
	u := inferenceUpstream(t, func(c *InferenceConfig) { c.Discover = func() []string { return found } })
	if ms := u.Models(); len(ms) != 0 {
		t.Fatalf("models before any API node: %+v", ms)
	}
	a := startAPINode(t, gatewayAccount(), nil)
	found = []string{a.URL, a.URL + "/v1", "ftp://x"}
	err := u.Refresh(t.Context())
	if err == nil || !strings.Contains(err.Error(), "ftp://x") {
		t.Fatalf("refresh error %v, want one naming the malformed URL", err)
	}
	if ms := u.Models(); len(ms) != 1 || ms[0].ID != "tessera-tiny" {
		t.Fatalf("models %+v", ms)
	}
	if n := len(u.nodes()); n != 1 {
		t.Fatalf("%d nodes, want the one discovered once", n)
	}
	if _, err := u.Complete(t.Context(), chatReq(t, "")); err != nil {
		t.Fatal(err)
	}
}

func TestInferenceUpstreamComplete(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := startAPINode(t, gatewayAccount(), nil)
	b := startAPINode(t, gatewayAccount(), nil)
	u := inferenceUpstream(t, nil, a.URL, b.URL)

	// Unary, with 3 top logprobs though the executor computes 5.
	ans, err := u.Complete(ctx, chatReq(t, `,"logprobs":true,"top_logprobs":3`))
	if err != nil {
		t.Fatal(err)
	}
	cc := ans.Body.(*openai.ChatCompletion)
	lp := cc.Choices[0].Logprobs
	if lp == nil || len(lp.Content) == 0 || len(lp.Content) != ans.Usage.CompletionTokens {
		t.Fatalf("logprobs %+v, usage %+v", lp, ans.Usage)
	}
	for _, tok := range lp.Content {
		if len(tok.TopLogprobs) != 3 || tok.Logprob > 0 || tok.TopLogprobs[0].Logprob < tok.TopLogprobs[2].Logprob {
			t.Fatalf("token %+v", tok)
		}
	}
	if cc.Choices[0].TokenIDs != nil || cc.PromptTokenIDs != nil {
		t.Fatal("token ids the caller did not ask for")
	}
	if ans.Header.Get("X-Tessera-Inference-Id") == "" || ans.Header.Get("X-Tessera-Seed") != "7" || ans.By != "API node" {
		t.Fatalf("answer headers %v", ans.Header)
	}
	// The body the API node got is the caller's, signed as it was sent.
	last := a.lastBody.Load()
	if last == nil {
		last = b.lastBody.Load()
	}
	if last == nil || !strings.Contains(string(*last), `"top_logprobs":3`) {
		t.Fatalf("API node got %v", last)
	}

	// Without logprobs: none in the answer.
	ans, err = u.Complete(ctx, chatReq(t, ``))
	if err != nil || ans.Body.(*openai.ChatCompletion).Choices[0].Logprobs != nil {
		t.Fatalf("%v %+v", err, ans)
	}

	// Streamed, without include_usage: the gateway still learns the usage, and the
	// caller gets no usage chunk.
	ans, err = u.Complete(ctx, chatReq(t, `,"stream":true,"logprobs":true,"top_logprobs":1`))
	if err != nil || ans.Stream == nil {
		t.Fatalf("%v %+v", err, ans)
	}
	var events []*openai.ChatChunk
	usage, err := ans.Stream(func(ev any) bool { events = append(events, ev.(*openai.ChatChunk)); return true })
	if err != nil || usage.CompletionTokens == 0 {
		t.Fatalf("stream: %v, usage %+v", err, usage)
	}
	var tokens int
	for _, ev := range events {
		if ev.Usage != nil {
			t.Fatalf("a usage chunk the caller did not ask for: %+v", ev)
		}
		for _, ch := range ev.Choices {
			if ch.Logprobs != nil {
				for _, tok := range ch.Logprobs.Content {
					tokens++
					if len(tok.TopLogprobs) != 1 {
						t.Fatalf("streamed token %+v", tok)
					}
				}
			}
		}
	}
	if tokens != usage.CompletionTokens {
		t.Fatalf("%d streamed tokens with logprobs, usage %d", tokens, usage.CompletionTokens)
	}
	if a.refused.Load()+b.refused.Load() != 0 {
		t.Fatal("a signed request refused")
	}
}

func TestInferenceUpstreamFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	good := startAPINode(t, gatewayAccount(), nil)
	busy := startAPINode(t, gatewayAccount(), nil)
	stranger, _ := keys.FromURI("//Stranger")
	other := startAPINode(t, stranger.Public(), nil) // admits another account only
	u := inferenceUpstream(t, nil, busy.URL, other.URL, good.URL)
	busy.status.Store(http.StatusServiceUnavailable)
	for range 3 { // whichever node is first, the request ends on the good one
		ans, err := u.Complete(ctx, chatReq(t, ``))
		if err != nil || ans.Executor != good.URL {
			t.Fatalf("%v %+v", err, ans)
		}
	}
	if other.refused.Load() == 0 {
		t.Fatal("the node admitting another account was never tried")
	}
	// The busy node is now tried last.
	if plan := u.plan("tessera-tiny", 0); plan[len(plan)-1].url != busy.URL {
		t.Fatalf("plan %v", plan)
	}

	// The caller's fault ends the request at once with the node's error: 402 from the
	// first node tried, no failover.
	good.status.Store(http.StatusPaymentRequired)
	busy.status.Store(http.StatusPaymentRequired)
	only := inferenceUpstream(t, nil, good.URL)
	before := good.accepted.Load()
	_, err := only.Complete(ctx, chatReq(t, ``))
	var ae *openai.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusPaymentRequired || !strings.Contains(ae.Message, "cannot pay") || good.accepted.Load() != before {
		t.Fatalf("%v", err)
	}

	// Every node refusing the gateway's account: 502 naming it.
	u2 := inferenceUpstream(t, nil, other.URL)
	_, err = u2.Complete(ctx, chatReq(t, ``))
	if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway || *ae.Code != "gateway_not_admitted" || !strings.Contains(ae.Message, gatewayAccount().String()) {
		t.Fatalf("%v", err)
	}
	// A model no node lists: 503.
	r := chatReq(t, ``)
	r.Model = "nobody-serves-it"
	if _, err = u2.Complete(ctx, r); !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Fatalf("%v", err)
	}
	// A stale clock: the node refuses the signature (401 stale_timestamp) and the
	// request fails over, here to no one.
	u3 := inferenceUpstream(t, func(c *InferenceConfig) { c.Now = func() time.Time { return time.Now().Add(-time.Hour) } }, good.URL)
	good.status.Store(0)
	refused := good.refused.Load()
	if _, err = u3.Complete(ctx, chatReq(t, ``)); !errors.As(err, &ae) || ae.Status != http.StatusBadGateway || !strings.Contains(ae.Message, string(signed.CodeStale)) || good.refused.Load() != refused+1 {
		t.Fatalf("%v", err)
	}
}

// A node that answers a stream request with a whole JSON answer (one that does not
// stream) is streamed to the caller as chunks.
func TestInferenceUpstreamWholeAnswerToStream(t *testing.T) {
	eng := engineServer(t)
	unstreamed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			var f map[string]any
			json.NewDecoder(r.Body).Decode(&f)
			f["stream"] = false
			delete(f, "stream_options")
			body, _ := json.Marshal(f)
			r = httptest.NewRequest(r.Method, r.URL.Path, strings.NewReader(string(body)))
		}
		eng.ServeHTTP(w, r)
	})
	n := startAPINode(t, gatewayAccount(), unstreamed)
	u := inferenceUpstream(t, nil, n.URL)
	ans, err := u.Complete(t.Context(), chatReq(t, `,"stream":true,"stream_options":{"include_usage":true},"logprobs":true`))
	if err != nil || ans.Stream == nil {
		t.Fatalf("%v %+v", err, ans)
	}
	var events []*openai.ChatChunk
	usage, err := ans.Stream(func(ev any) bool { events = append(events, ev.(*openai.ChatChunk)); return true })
	if err != nil || len(events) != 2 || events[1].Usage == nil || *events[1].Usage != usage || usage.CompletionTokens == 0 ||
		events[0].Choices[0].Logprobs == nil || len(events[0].Choices[0].Logprobs.Content[0].TopLogprobs) != 0 {
		t.Fatalf("%v %d events, usage %+v", err, len(events), usage)
	}
}

func TestSSEReader(t *testing.T) {
	in := ": comment\n\ndata: {\"a\":1}\n\nevent: x\ndata: one\ndata: two\r\n\r\ndata:[DONE]\n\ndata: tail"
	r := newSSEReader(strings.NewReader(in), 64)
	for _, want := range []string{`{"a":1}`, "one\ntwo", "[DONE]", "tail"} {
		got, err := r.next()
		if err != nil || string(got) != want {
			t.Fatalf("got %q %v, want %q", got, err, want)
		}
	}
	if _, err := r.next(); err == nil {
		t.Fatal("no end")
	}
	long := newSSEReader(strings.NewReader("data: "+strings.Repeat("x", 100)+"\n\n"), 64)
	if _, err := long.next(); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("%v", err)
	}
}

func TestTopOf(t *testing.T) {
	m := map[string]float64{"a": -1, "b": -0.5, "c": -1, "d": -3}
	for _, tc := range []struct {
		k    int
		want string
	}{{1, "b"}, {2, "a b"}, {3, "a b c"}, {9, "a b c d"}} {
		got := topOf(m, tc.k)
		var keys []string
		for _, k := range []string{"a", "b", "c", "d"} {
			if _, ok := got[k]; ok {
				keys = append(keys, k)
			}
		}
		if strings.Join(keys, " ") != tc.want {
			t.Errorf("top %d: %v, want %s", tc.k, keys, tc.want)
		}
	}
}

// An API node whose stream breaks off after its first chunk: the caller's stream ends
// with an OpenAI-style error event, and the key is charged an error.
func TestInferenceStreamBroken(t *testing.T) {
	breaking := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"tessera-tiny","choices":[{"index":0,"delta":{"role":"assistant","content":"The first"},"finish_reason":null}]}`+"\n\n")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the connection is cut
	})
	models := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			engineServer(t).ServeHTTP(w, r)
			return
		}
		breaking(w, r)
	})
	n := startAPINode(t, gatewayAccount(), models)
	up := inferenceUpstream(t, nil, n.URL)
	gw := startGateway(t, nil, func(c *Config) { c.Models, c.Upstreams = nil, []Upstream{up} })
	resp, data := post(t, gw.URL, gw.Secret, `{"model":"tessera-tiny","messages":[{"role":"user","content":"x"}],"stream":true}`)
	if resp.StatusCode != 200 || !strings.Contains(string(data), `"content":"The first"`) || !strings.Contains(string(data), `"code":"stream_interrupted"`) ||
		!strings.Contains(string(data), "The API node's stream broke off") || strings.Contains(string(data), "[DONE]") {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
	if u := gw.Keys.List()[0].Usage; u.Requests != 1 || u.Errors != 1 {
		t.Fatalf("usage %+v", u)
	}
}

// An API node that refuses streams (400 on "stream", as the API node does until it
// streams) is asked for whole answers, streamed to the caller as chunks; after the
// first refusal it is asked unstreamed at once.
func TestInferenceUpstreamNodeThatDoesNotStream(t *testing.T) {
	eng := engineServer(t)
	var calls, refusals int
	noStreams := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			calls++
			body, _ := io.ReadAll(r.Body)
			var f struct{ Stream bool }
			json.Unmarshal(body, &f)
			if f.Stream {
				refusals++
				openai.WriteError(w, openai.InvalidValue("stream", "streamed answers are not offered by the inference network's API node yet; send \"stream\": false"))
				return
			}
			r = httptest.NewRequest(r.Method, r.URL.Path, strings.NewReader(string(body)))
		}
		eng.ServeHTTP(w, r)
	})
	n := startAPINode(t, gatewayAccount(), noStreams)
	u := inferenceUpstream(t, nil, n.URL)
	for i := range 2 {
		ans, err := u.Complete(t.Context(), chatReq(t, `,"stream":true,"logprobs":true,"top_logprobs":2`))
		if err != nil || ans.Stream == nil {
			t.Fatalf("%d: %v %+v", i, err, ans)
		}
		var events []*openai.ChatChunk
		usage, err := ans.Stream(func(ev any) bool { events = append(events, ev.(*openai.ChatChunk)); return true })
		if err != nil || len(events) != 1 || usage.CompletionTokens == 0 || *events[0].Choices[0].FinishReason == "" ||
			len(events[0].Choices[0].Logprobs.Content) != usage.CompletionTokens || len(events[0].Choices[0].Logprobs.Content[0].TopLogprobs) != 2 {
			t.Fatalf("%d: %v %d events, usage %+v", i, err, len(events), usage)
		}
	}
	if calls != 3 || refusals != 1 {
		t.Fatalf("%d calls, %d refused streams; want 3 and 1", calls, refusals)
	}
}

// FuzzSSEReader: any byte stream reads as events within the bound, then an error (EOF
// or a bound), without a panic or an endless loop.
func FuzzSSEReader(f *testing.F) {
	f.Add([]byte("data: {\"a\":1}\n\ndata: [DONE]\n\n"))
	f.Add([]byte(": c\r\n\r\ndata:x\ndata: y\n\nevent: e\n\ndata: tail"))
	f.Add([]byte("data: " + strings.Repeat("z", 200) + "\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := newSSEReader(strings.NewReader(string(in)), 128)
		for i := 0; ; i++ {
			data, err := r.next()
			if err != nil {
				return
			}
			if len(data) > 128 {
				t.Fatalf("an event of %d bytes past the bound", len(data))
			}
			if i > len(in) {
				t.Fatal("more events than bytes")
			}
		}
	})
}
