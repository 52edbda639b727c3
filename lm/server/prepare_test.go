package server

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestPrepare: Prepare gives what the endpoint runs — the prompt tokens it answers in
// prompt_token_ids, the sampling, limits and flags — or the error it answers; Text
// gives the answer's text of the tokens and where a stop string ended it.
func TestPrepare(t *testing.T) {
	ts := startServer(t, tiny(t), Options{Name: "tiny"})
	for _, c := range []struct {
		path, body string
	}{
		{"/v1/chat/completions", `{"messages":[{"role":"user","content":"hello"}],"seed":3,"max_tokens":9,"logprobs":true,"top_logprobs":2,"return_token_ids":true,"stop":["x"]}`},
		{"/v1/completions", `{"prompt":"once upon","seed":-1,"max_tokens":7,"logprobs":3,"return_token_ids":true,"temperature":0.5}`},
	} {
		p, e := ts.Prepare(c.path, []byte(c.body))
		if e != nil {
			t.Fatalf("%s: %v", c.path, e)
		}
		_, body := ts.post(t, c.path, c.body)
		var a struct {
			PromptTokenIDs []int32 `json:"prompt_token_ids"`
			Choices        []struct {
				TokenIDs []int32 `json:"token_ids"`
				Text     *string `json:"text"`
				Message  *struct {
					Content string `json:"content"`
				} `json:"message"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(body, &a); err != nil || len(a.Choices) != 1 {
			t.Fatalf("%s: %v %s", c.path, err, body)
		}
		if !slices.Equal(p.Request.Prompt, a.PromptTokenIDs) || !p.TokenIDs || !p.Logprobs || p.Chat != (c.path == "/v1/chat/completions") {
			t.Fatalf("%s: prepared %+v, answered prompt %v", c.path, p, a.PromptTokenIDs)
		}
		text, stopAt := ts.Text(p, a.Choices[0].TokenIDs)
		want := ""
		if p.Chat {
			want = a.Choices[0].Message.Content
		} else {
			want = *a.Choices[0].Text
		}
		if text != want || (stopAt >= 0 && stopAt < len(a.Choices[0].TokenIDs)-1) {
			t.Fatalf("%s: text %q (stop at %d), answered %q", c.path, text, stopAt, want)
		}
	}
	p, _ := ts.Prepare("/v1/completions", []byte(`{"prompt":"a","seed":-1,"temperature":0.5,"top_p":0.25,"top_k":3,"max_tokens":2}`))
	if p.Request.Sampling.Seed != 1<<64-1 || p.Request.Sampling.Temperature != 1<<15 || p.Request.Sampling.TopP != 1<<28 || p.Request.Sampling.TopK != 3 || p.Request.MaxTokens != 2 {
		t.Fatalf("sampling %+v", p.Request)
	}
	for _, c := range []struct{ path, body, code string }{
		{"/v1/score", `{}`, "unknown_url"},
		{"/v1/chat/completions", `{"messages":[]}`, "empty_array"},
		{"/v1/completions", `{"prompt":"a","max_tokens":0}`, "invalid_value"},
		{"/v1/completions", `{"model":"other","prompt":"a"}`, "model_not_found"},
	} {
		if _, e := ts.Prepare(c.path, []byte(c.body)); e == nil || e.Code == nil || *e.Code != c.code {
			t.Errorf("%s %s: %v, want %s", c.path, c.body, e, c.code)
		}
	}
	// A stop string: the text is cut before it and stopAt is the token that completed it.
	m := tiny(t)
	ids := m.Tokenizer.Encode("ab cd ef", false)
	full, at := ts.Text(Prepared{}, ids)
	if at != -1 || full == "" {
		t.Fatalf("no stops: %q %d", full, at)
	}
	cut, at := ts.Text(Prepared{Stops: []string{"cd"}}, ids)
	if cut == full || at < 0 || at >= len(ids) {
		t.Fatalf("stop cd: %q at %d (full %q)", cut, at, full)
	}
}
