package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/tessera-net/tessera/lm"
)

// Bad requests get OpenAI's error shape with the status, code and parameter at fault.
func TestBadRequests(t *testing.T) {
	ts := startServer(t, tiny(t), Options{MaxBodyBytes: 4096, MaxTokens: 100})
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	long := strings.Repeat("word ", 300) // more tokens than the context of 256
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code, param, msg         string
	}{
		{"unknown model", "POST", "/v1/chat/completions", `{"model":"gpt-9",` + msgs + `}`, 404, "model_not_found", "model", "'gpt-9' does not exist"},
		{"unknown model id", "GET", "/v1/models/gpt-9", ``, 404, "model_not_found", "model", "gpt-9"},
		{"bad json", "POST", "/v1/chat/completions", `{"messages":`, 400, "invalid_json", "", "could not parse"},
		{"wrong type", "POST", "/v1/chat/completions", `{` + msgs + `,"max_tokens":"ten"}`, 400, "invalid_type", "max_tokens", "expected int"},
		{"no messages", "POST", "/v1/chat/completions", `{}`, 400, "missing_required_parameter", "messages", "'messages'"},
		{"empty messages", "POST", "/v1/chat/completions", `{"messages":[]}`, 400, "empty_array", "messages", "empty array"},
		{"no role", "POST", "/v1/chat/completions", `{"messages":[{"content":"x"}]}`, 400, "invalid_value", "messages[0].role", "missing"},
		{"template roles", "POST", "/v1/chat/completions", `{"messages":[{"role":"assistant","content":"x"}]}`, 400, "invalid_value", "messages", "llama-2"},
		{"image part", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}`, 400, "invalid_json", "", "only text parts"},
		{"n", "POST", "/v1/chat/completions", `{` + msgs + `,"n":2}`, 400, "invalid_value", "n", "n must be 1"},
		{"temperature", "POST", "/v1/chat/completions", `{` + msgs + `,"temperature":2.5}`, 400, "invalid_value", "temperature", "not in [0, 2]"},
		{"top_p", "POST", "/v1/chat/completions", `{` + msgs + `,"top_p":1.5}`, 400, "invalid_value", "top_p", "not in [0, 1]"},
		{"top_k", "POST", "/v1/chat/completions", `{` + msgs + `,"top_k":-2}`, 400, "invalid_value", "top_k", "negative"},
		{"top_logprobs range", "POST", "/v1/chat/completions", `{` + msgs + `,"logprobs":true,"top_logprobs":21}`, 400, "invalid_value", "top_logprobs", "not in [0, 20]"},
		{"top_logprobs alone", "POST", "/v1/chat/completions", `{` + msgs + `,"top_logprobs":2}`, 400, "invalid_value", "top_logprobs", "'logprobs' must be true"},
		{"legacy logprobs", "POST", "/v1/completions", `{"prompt":"x","logprobs":30}`, 400, "invalid_value", "logprobs", "not in [0, 20]"},
		{"stop count", "POST", "/v1/chat/completions", `{` + msgs + `,"stop":["a","b","c","d","e"]}`, 400, "invalid_value", "stop", "at most 4"},
		{"empty stop", "POST", "/v1/chat/completions", `{` + msgs + `,"stop":""}`, 400, "invalid_value", "stop", "1 to 256 bytes"},
		{"stream options", "POST", "/v1/chat/completions", `{` + msgs + `,"stream_options":{"include_usage":true}}`, 400, "invalid_value", "stream_options", "only allowed when 'stream'"},
		{"zero max tokens", "POST", "/v1/chat/completions", `{` + msgs + `,"max_tokens":0}`, 400, "invalid_value", "max_tokens", "less than 1"},
		{"over the cap", "POST", "/v1/chat/completions", `{` + msgs + `,"max_completion_tokens":101}`, 400, "invalid_value", "max_completion_tokens", "limit of 100"},
		{"over the context", "POST", "/v1/completions", `{"prompt":[` + strings.Repeat("300,", 199) + `300],"max_tokens":100}`, 400, "context_length_exceeded", "max_tokens", "maximum context length is 256"},
		{"prompt fills the context", "POST", "/v1/completions", `{"prompt":"` + long + `"}`, 400, "context_length_exceeded", "prompt", "leaves no room"},
		{"no prompt", "POST", "/v1/completions", `{}`, 400, "missing_required_parameter", "prompt", "'prompt'"},
		{"two prompts", "POST", "/v1/completions", `{"prompt":["a","b"]}`, 400, "invalid_value", "prompt", "one prompt"},
		{"bad token id", "POST", "/v1/completions", `{"prompt":[1,2,512]}`, 400, "invalid_value", "prompt", "token id 512 at index 2"},
		{"empty token prompt", "POST", "/v1/completions", `{"prompt":[]}`, 400, "invalid_value", "prompt", "no tokens"},
		{"prompt object", "POST", "/v1/completions", `{"prompt":{"a":1}}`, 400, "invalid_value", "prompt", "expected a string"},
		{"echo", "POST", "/v1/completions", `{"prompt":"x","echo":true}`, 400, "invalid_value", "", "'echo' and 'suffix'"},
		{"score two prompts", "POST", "/v1/score", `{"prompt":"a","prompt_tokens":[1],"completion":"b"}`, 400, "invalid_value", "prompt", "exactly one of"},
		{"score no completion", "POST", "/v1/score", `{"prompt":"a"}`, 400, "invalid_value", "completion", "exactly one of"},
		{"score bad id", "POST", "/v1/score", `{"prompt":"a","completion_tokens":[-1]}`, 400, "invalid_value", "completion_tokens", "token id -1"},
		{"score top", "POST", "/v1/score", `{"prompt":"a","completion":"b","top_logprobs":99}`, 400, "invalid_value", "top_logprobs", "not in [0, 20]"},
		{"score too long", "POST", "/v1/score", `{"prompt":"` + strings.Repeat("word ", 200) + `","completion":"` + strings.Repeat("word ", 100) + `"}`, 400, "context_length_exceeded", "completion", "maximum context length"},
		{"body too large", "POST", "/v1/completions", `{"prompt":"` + strings.Repeat("x", 5000) + `"}`, 413, "request_too_large", "", "exceeds 4096 bytes"},
		{"get a post endpoint", "GET", "/v1/chat/completions", ``, 405, "method_not_allowed", "", "Use POST"},
		{"post models", "POST", "/v1/models", `{}`, 405, "method_not_allowed", "", "Use GET"},
		{"unknown url", "GET", "/v2/anything", ``, 404, "unknown_url", "", "Unknown request URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, ts.URL+tc.path, strings.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Error struct {
					Message string  `json:"message"`
					Type    string  `json:"type"`
					Param   *string `json:"param"`
					Code    *string `json:"code"`
				} `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			e := body.Error
			param := ""
			if e.Param != nil {
				param = *e.Param
			}
			if resp.StatusCode != tc.status || e.Code == nil || *e.Code != tc.code || param != tc.param ||
				!strings.Contains(strings.ToLower(e.Message), strings.ToLower(tc.msg)) || e.Type == "" {
				t.Fatalf("got %d %v param %q %q, want %d %s param %q containing %q", resp.StatusCode, e.Code, param, e.Message,
					tc.status, tc.code, tc.param, tc.msg)
			}
			if tc.status == 405 && resp.Header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
		})
	}
	if got := ts.metric(t, "tessera_lm_requests_total", map[string]string{"status": "400"}); got < 30 {
		t.Fatalf("%v 400s counted", got)
	}

	// The official client sees them as *openai.Error.
	c := ts.client()
	_, err := c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-9",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" {
		t.Fatalf("client error %v", err)
	}
}

// A client that goes away mid-stream stops its generation: the engine is not left
// generating tokens nobody reads.
func TestDisconnectCancels(t *testing.T) {
	if testing.Short() {
		t.Skip("makes a larger random model")
	}
	// A model with a long context, so that the whole completion would take seconds.
	m, err := lm.Random(lm.Dims{Vocab: 512, Dim: 256, Layers: 4, Heads: 4, KVHeads: 4, FFN: 768, Context: 4096}, [32]byte{9}, lm.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ts := startServer(t, m, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	body := `{"prompt":"a","max_tokens":4000,"ignore_eos":true,"stream":true}`
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/v1/completions", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cancel()
	resp.Body.Close()
	for ts.metric(t, "tessera_lm_requests_in_flight", nil) != 0 {
		if time.Since(start) > 10*time.Second {
			t.Fatal("the request is still in flight 10 s after its client went away")
		}
		time.Sleep(5 * time.Millisecond)
	}
	n := ts.metric(t, "tessera_lm_tokens_total", map[string]string{"kind": "completion"})
	if n >= 4000 || !strings.Contains(ts.logText(), "finish_reason=cancelled") {
		t.Fatalf("%v tokens generated for a client that left; log:\n%s", n, ts.logText())
	}
	t.Logf("stopped %v after the client left, at %v tokens", time.Since(start), n)
}
