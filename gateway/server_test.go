package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/subnets/textgen"
	"github.com/tessera-net/tessera/wire"
)

const sortPrompt = "Sort these numbers in ascending order and answer with them separated by single spaces: 9 -1 4"

func post(t testing.TB, url, key, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

type errorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func chatBody(prompt string, extra string) string {
	m, _ := json.Marshal(prompt)
	return `{"model":"tessera-textgen","messages":[{"role":"user","content":` + string(m) + `}]` + extra + `}`
}

func TestBadRequests(t *testing.T) {
	m := startMiner(t, "//M1", 1, builtin(t, textgen.BuiltinConfig{}))
	gw := startGateway(t, []*testMiner{m}, nil)
	ctx := context.Background()
	limited, _, err := gw.Keys.Create(ctx, "limited", 60, 2)
	if err != nil {
		t.Fatal(err)
	}
	revoked, _, _ := gw.Keys.Create(ctx, "gone", 0, 0)
	if _, err := gw.Keys.Revoke(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	ok := chatBody("hi", "")
	for _, tc := range []struct {
		name       string
		key, body  string
		status     int
		typ, code  string
		param, msg string
	}{
		{"malformed JSON", gw.Secret, `{"model":`, 400, "invalid_request_error", "invalid_json", "", "could not parse the JSON"},
		{"not an object", gw.Secret, `[1,2]`, 400, "invalid_request_error", "invalid_json", "", "could not parse"},
		{"wrong type", gw.Secret, `{"model":"tessera-textgen","messages":"hi"}`, 400, "invalid_request_error", "invalid_type", "messages", "Invalid type"},
		{"unknown model", gw.Secret, `{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}`, 404, "invalid_request_error", "model_not_found", "model", "'gpt-9' does not exist"},
		{"missing model", gw.Secret, `{"messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error", "missing_required_parameter", "model", "'model'"},
		{"missing messages", gw.Secret, `{"model":"tessera-textgen"}`, 400, "invalid_request_error", "missing_required_parameter", "messages", "'messages'"},
		{"empty messages", gw.Secret, `{"model":"tessera-textgen","messages":[]}`, 400, "invalid_request_error", "empty_array", "messages", "empty array"},
		{"bad role", gw.Secret, `{"model":"tessera-textgen","messages":[{"role":"robot","content":"x"}]}`, 400, "invalid_request_error", "invalid_value", "messages[0].role", "robot"},
		{"image part", gw.Secret, `{"model":"tessera-textgen","messages":[{"role":"user","content":[{"type":"image_url"}]}]}`, 400, "invalid_request_error", "invalid_json", "", "only text parts"},
		{"temperature", gw.Secret, chatBody("x", `,"temperature":3`), 400, "invalid_request_error", "invalid_value", "temperature", "not in [0, 2]"},
		{"n", gw.Secret, chatBody("x", `,"n":2`), 400, "invalid_request_error", "invalid_value", "n", "n must be 1"},
		{"stream options without stream", gw.Secret, chatBody("x", `,"stream_options":{"include_usage":true}`), 400, "invalid_request_error", "invalid_value", "stream_options", "only allowed"},
		{"no key", "", ok, 401, "invalid_request_error", "", "", "didn't provide an API key"},
		{"wrong key", "tsk-wrong-key-000000000000000", ok, 401, "invalid_request_error", "invalid_api_key", "", "Incorrect API key"},
		{"not our key format", "sk-abc", ok, 401, "invalid_request_error", "invalid_api_key", "", "Incorrect API key"},
		{"revoked key", revoked, ok, 401, "invalid_request_error", "invalid_api_key", "", "revoked"},
		{"too large", gw.Secret, chatBody(strings.Repeat("x", 5<<20), ""), 413, "invalid_request_error", "request_too_large", "", "exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := post(t, gw.URL, tc.key, tc.body)
			var e errorBody
			if err := json.Unmarshal(data, &e); err != nil {
				t.Fatalf("%d %s: not an error body: %v", resp.StatusCode, data, err)
			}
			code, param := "", ""
			if e.Error.Code != nil {
				code = *e.Error.Code
			}
			if e.Error.Param != nil {
				param = *e.Error.Param
			}
			if resp.StatusCode != tc.status || e.Error.Type != tc.typ || code != tc.code || param != tc.param || !strings.Contains(e.Error.Message, tc.msg) {
				t.Fatalf("got %d %s, want %d type %s code %q param %q message ~%q", resp.StatusCode, data, tc.status, tc.typ, tc.code, tc.param, tc.msg)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
		})
	}

	// Over the rate limit: a burst of 2, then 429 with Retry-After.
	for i := range 3 {
		resp, data := post(t, gw.URL, limited, ok)
		want := 200
		if i == 2 {
			want = 429
		}
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, data)
		}
		if i == 2 {
			var e errorBody
			json.Unmarshal(data, &e)
			if e.Error.Type != "requests" || *e.Error.Code != "rate_limit_exceeded" || resp.Header.Get("Retry-After") != "1" {
				t.Fatalf("429 body %s, Retry-After %q", data, resp.Header.Get("Retry-After"))
			}
		}
	}

	// The auth scheme is case-insensitive; another scheme is no key.
	for _, tc := range []struct {
		header string
		status int
	}{{"bearer " + gw.Secret, 200}, {"BEARER " + gw.Secret, 200}, {"Basic " + gw.Secret, 401}, {gw.Secret, 401}} {
		req, _ := http.NewRequest(http.MethodPost, gw.URL+"/v1/chat/completions", strings.NewReader(ok))
		req.Header.Set("Authorization", tc.header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Fatalf("Authorization %.12q…: %d, want %d", tc.header, resp.StatusCode, tc.status)
		}
	}

	// Wrong method and unknown path.
	resp, err := http.Get(gw.URL + "/v1/chat/completions")
	if err != nil || resp.StatusCode != 405 {
		t.Fatalf("GET chat: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	resp, _ = http.Get(gw.URL + "/v2/nothing")
	if resp.StatusCode != 404 {
		t.Fatalf("unknown path: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestUnaryAndStream(t *testing.T) {
	m := startMiner(t, "//M1", 1, builtin(t, textgen.BuiltinConfig{}))
	gw := startGateway(t, []*testMiner{m}, nil)

	resp, data := post(t, gw.URL, gw.Secret, chatBody(sortPrompt, `,"max_tokens":50,"temperature":0.5,"seed":3`))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
	var cr openai.ChatCompletion
	if err := json.Unmarshal(data, &cr); err != nil {
		t.Fatal(err)
	}
	if cr.Choices[0].Message.Content != "-1 4 9" || cr.Object != "chat.completion" || cr.Usage.CompletionTokens != 3 ||
		!strings.HasPrefix(cr.ID, "chatcmpl-") || resp.Header.Get("X-Tessera-Miner") != m.Axon.Hotkey {
		t.Fatalf("answer %s", data)
	}

	resp, data = post(t, gw.URL, gw.Secret, chatBody(sortPrompt, `,"stream":true,"stream_options":{"include_usage":true}`))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
	var text strings.Builder
	var events []openai.ChatChunk
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	done := false
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if line == "[DONE]" {
			done = true
			continue
		}
		var c openai.ChatChunk
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatal(err)
		}
		events = append(events, c)
		if len(c.Choices) > 0 && c.Choices[0].Delta.Content != nil {
			text.WriteString(*c.Choices[0].Delta.Content)
		}
	}
	last := events[len(events)-1]
	if !done || text.String() != "-1 4 9" || last.Usage == nil || last.Usage.CompletionTokens != 3 ||
		*events[len(events)-2].Choices[0].FinishReason != "stop" || events[0].Choices[0].Delta.Role != "assistant" {
		t.Fatalf("stream %s", data)
	}

	// Models and health.
	req, _ := http.NewRequest(http.MethodGet, gw.URL+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+gw.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(data), `"id":"tessera-textgen"`) {
		t.Fatalf("models: %d %s", resp.StatusCode, data)
	}
	resp, _ = http.Get(gw.URL + "/healthz")
	if resp.StatusCode != 200 {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	resp.Body.Close()
	resp, _ = http.Get(gw.URL + "/metrics")
	data, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(data), `tessera_gateway_requests_total{mode="unary",model="tessera-textgen",status="200"} 1`) {
		t.Fatalf("metrics:\n%s", data)
	}
}

// TestFailover: failing, stuck and killed miners; the request moves on or gets a clean
// error, and nothing outlives its deadline.
func TestFailover(t *testing.T) {
	t.Run("failing miner", func(t *testing.T) {
		bad := startMiner(t, "//Bad", 0.9, builtin(t, textgen.BuiltinConfig{FailRate: 1}))
		good := startMiner(t, "//Good", 0.1, builtin(t, textgen.BuiltinConfig{}))
		gw := startGateway(t, []*testMiner{bad, good}, func(c *Config) { c.Route = RouteConfig{TopK: 1} })
		for _, stream := range []string{"", `,"stream":true`} {
			resp, data := post(t, gw.URL, gw.Secret, chatBody(sortPrompt, stream))
			if resp.StatusCode != 200 || resp.Header.Get("X-Tessera-Miner") != good.Axon.Hotkey || answerText(t, data) != "-1 4 9" {
				t.Fatalf("stream=%q: %d %s", stream, resp.StatusCode, data)
			}
		}
	})
	t.Run("miner killed mid-request", func(t *testing.T) {
		stuck := blocking{started: make(chan struct{}, 1)}
		victim := startMiner(t, "//Victim", 0.9, stuck)
		good := startMiner(t, "//Good", 0.1, builtin(t, textgen.BuiltinConfig{}))
		gw := startGateway(t, []*testMiner{victim, good}, func(c *Config) { c.Route = RouteConfig{TopK: 1} })
		for _, stream := range []string{"", `,"stream":true`} {
			go func() { <-stuck.started; victim.kill() }()
			start := time.Now()
			resp, data := post(t, gw.URL, gw.Secret, chatBody(sortPrompt, stream))
			if resp.StatusCode != 200 || resp.Header.Get("X-Tessera-Miner") != good.Axon.Hotkey || answerText(t, data) != "-1 4 9" {
				t.Fatalf("stream=%q: %d %s", stream, resp.StatusCode, data)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("failover took %v", d)
			}
			// Restart nothing: the next request must skip the dead miner quickly.
		}
	})
	t.Run("every miner killed", func(t *testing.T) {
		stuck := blocking{started: make(chan struct{}, 1)}
		only := startMiner(t, "//Only", 1, stuck)
		gw := startGateway(t, []*testMiner{only}, nil)
		go func() { <-stuck.started; only.kill() }()
		resp, data := post(t, gw.URL, gw.Secret, chatBody(sortPrompt, ""))
		var e errorBody
		json.Unmarshal(data, &e)
		if resp.StatusCode != 502 || e.Error.Type != "server_error" || *e.Error.Code != "miners_unavailable" {
			t.Fatalf("%d %s", resp.StatusCode, data)
		}
	})
	t.Run("stuck miners hit the deadline", func(t *testing.T) {
		a := startMiner(t, "//StuckA", 0.5, blocking{started: make(chan struct{}, 1)})
		b := startMiner(t, "//StuckB", 0.5, blocking{started: make(chan struct{}, 1)})
		gw := startGateway(t, []*testMiner{a, b}, func(c *Config) {
			c.RequestTimeout = 600 * time.Millisecond
			c.AttemptTimeout = 200 * time.Millisecond
			c.Route = RouteConfig{Attempts: 5}
		})
		for _, stream := range []string{"", `,"stream":true`} {
			start := time.Now()
			resp, data := post(t, gw.URL, gw.Secret, chatBody(sortPrompt, stream))
			took := time.Since(start)
			var e errorBody
			json.Unmarshal(data, &e)
			if resp.StatusCode != 502 && resp.StatusCode != 504 || e.Error.Type != "server_error" {
				t.Fatalf("stream=%q: %d %s", stream, resp.StatusCode, data)
			}
			if took > 900*time.Millisecond {
				t.Fatalf("stream=%q: answered after %v, past the 600 ms deadline", stream, took)
			}
		}
		// With a short request deadline and a long attempt timeout: 504.
		gw2 := startGateway(t, []*testMiner{a}, func(c *Config) { c.RequestTimeout = 300 * time.Millisecond })
		start := time.Now()
		resp, data := post(t, gw2.URL, gw2.Secret, chatBody(sortPrompt, ""))
		if resp.StatusCode != 504 || !strings.Contains(string(data), `"code":"timeout"`) || time.Since(start) > 700*time.Millisecond {
			t.Fatalf("%d %s after %v", resp.StatusCode, data, time.Since(start))
		}
	})
	t.Run("miners refuse the gateway's hotkey", func(t *testing.T) {
		refuse := wire.AttachOptions{Blacklist: func(context.Context, *wire.Call) (bool, string) { return true, "not registered" }}
		a := startMinerWith(t, "//PickyA", 0.5, builtin(t, textgen.BuiltinConfig{}), refuse)
		b := startMinerWith(t, "//PickyB", 0.5, builtin(t, textgen.BuiltinConfig{}), refuse)
		gw := startGateway(t, []*testMiner{a, b}, nil)
		for _, stream := range []string{"", `,"stream":true`} {
			resp, data := post(t, gw.URL, gw.Secret, chatBody(sortPrompt, stream))
			if resp.StatusCode != 502 || !strings.Contains(string(data), `"code":"gateway_not_admitted"`) || !strings.Contains(string(data), "must be registered on subnet 1") {
				t.Fatalf("stream=%q: %d %s", stream, resp.StatusCode, data)
			}
		}
	})
	t.Run("no miners", func(t *testing.T) {
		gw := startGateway(t, nil, nil)
		resp, data := post(t, gw.URL, gw.Secret, chatBody(sortPrompt, ""))
		if resp.StatusCode != 503 || !strings.Contains(string(data), "no_miners_available") {
			t.Fatalf("%d %s", resp.StatusCode, data)
		}
	})
}

func TestUsageSurvivesRestart(t *testing.T) {
	m := startMiner(t, "//M1", 1, builtin(t, textgen.BuiltinConfig{}))
	gw := startGateway(t, []*testMiner{m}, nil)
	for range 3 {
		if resp, data := post(t, gw.URL, gw.Secret, chatBody(sortPrompt, "")); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, data)
		}
	}
	post(t, gw.URL, gw.Secret, `{`)
	ctx := context.Background()
	if err := gw.Keys.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ks, err := OpenKeyStore(ctx, gw.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close(ctx)
	if _, err := ks.Authenticate(gw.Secret); err != nil {
		t.Fatalf("key lost across a restart: %v", err)
	}
	list := ks.List()
	if len(list) != 1 {
		t.Fatalf("keys %+v", list)
	}
	u := list[0].Usage
	if u.Requests != 4 || u.Errors != 1 || u.CompletionTokens != 9 || u.PromptTokens == 0 || list[0].LastUsed.IsZero() {
		t.Fatalf("usage %+v", list[0])
	}
}

// answerText is the completion in a chat answer, streamed or not.
func answerText(t testing.TB, data []byte) string {
	t.Helper()
	var cr openai.ChatCompletion
	if json.Unmarshal(data, &cr) == nil && len(cr.Choices) > 0 {
		return cr.Choices[0].Message.Content
	}
	var text strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		line, ok := strings.CutPrefix(line, "data: ")
		if !ok || line == "[DONE]" {
			continue
		}
		var c openai.ChatChunk
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("bad event %q: %v", line, err)
		}
		if len(c.Choices) > 0 && c.Choices[0].Delta.Content != nil {
			text.WriteString(*c.Choices[0].Delta.Content)
		}
	}
	return text.String()
}

// A miner that serves ChatCompletion only (as the SDK's miner runtime attaches one
// route) still answers streamed requests, as one chunk.
func TestStreamFromUnaryOnlyMiner(t *testing.T) {
	pair, _ := keys.FromURI("//UnaryOnly")
	ax, err := wire.NewAxon(pair, wire.AxonConfig{RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	tm, _ := textgen.NewMiner(builtin(t, textgen.BuiltinConfig{}), textgen.MinerConfig{})
	if err := ax.Attach("", wire.Handle(tm.Handle), wire.AttachOptions{}); err != nil {
		t.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ax.Serve(ctx, l); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	m := &testMiner{Miner: Miner{UID: 9, Axon: wire.AxonInfo{IP: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Hotkey: ax.Hotkey()}}}
	gw := startGateway(t, []*testMiner{m}, nil)
	resp, data := post(t, gw.URL, gw.Secret, chatBody(sortPrompt, `,"stream":true,"stream_options":{"include_usage":true}`))
	if resp.StatusCode != 200 || answerText(t, data) != "-1 4 9" || !strings.Contains(string(data), `"completion_tokens":3`) || !strings.HasSuffix(string(data), "data: [DONE]\n\n") {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
}

// A miner killed after the first chunk of a stream: the stream cannot fail over any
// more, so it ends at once with an OpenAI-style error event.
func TestStreamBrokenAfterFirstChunk(t *testing.T) {
	h := halfway{started: make(chan struct{}, 1)}
	victim := startMiner(t, "//Halfway", 1, h)
	gw := startGateway(t, []*testMiner{victim}, nil)
	go func() { <-h.started; victim.kill() }()
	start := time.Now()
	resp, data := post(t, gw.URL, gw.Secret, chatBody(sortPrompt, `,"stream":true`))
	if resp.StatusCode != 200 || !strings.Contains(string(data), `"content":"The first words"`) ||
		!strings.Contains(string(data), `data: {"error":{`) || !strings.Contains(string(data), `"code":"stream_interrupted"`) ||
		strings.Contains(string(data), "[DONE]") {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the broken stream ended after %v", d)
	}
}
