package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/lm"
)

// Serve answers on a real listener and returns once its context ends.
func TestServe(t *testing.T) {
	e := lm.NewEngine(tiny(t), 2)
	defer e.Close()
	s, err := New(e, Options{Name: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	resp, err := http.Get("http://" + l.Addr().String() + "/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if resp.StatusCode != 200 || h["status"] != "ok" || h["model"] != "tiny" || h["context"] != 256.0 || h["chat_template"] != "llama-2" {
		t.Fatalf("health %d %v", resp.StatusCode, h)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
}

// Concurrent requests, batched by the engine, get the answers they get alone.
func TestConcurrentRequestsAnswerAsAlone(t *testing.T) {
	ts := startServer(t, tiny(t), Options{})
	body := func(i int) string {
		return fmt.Sprintf(`{"prompt":"request %d","max_tokens":%d,"seed":%d,"logprobs":1}`, i, 10+i*3, i)
	}
	alone := make([]string, 8)
	for i := range alone {
		var c openai.TextCompletion
		ts.postJSON(t, "/v1/completions", body(i), &c)
		b, _ := json.Marshal(c.Choices[0].Logprobs)
		alone[i] = c.Choices[0].Text + string(b)
	}
	var wg sync.WaitGroup
	together := make([]string, 8)
	for i := range together {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c openai.TextCompletion
			ts.postJSON(t, "/v1/completions", body(i), &c)
			b, _ := json.Marshal(c.Choices[0].Logprobs)
			together[i] = c.Choices[0].Text + string(b)
		}()
	}
	wg.Wait()
	for i := range alone {
		if alone[i] != together[i] {
			t.Fatalf("request %d alone %q, in a batch %q", i, alone[i], together[i])
		}
	}
}

// A model without a vocabulary takes token ids only.
func TestNoVocabulary(t *testing.T) {
	m, err := lm.Random(lm.Dims{Vocab: 64, Dim: 32, Layers: 1, Heads: 2, KVHeads: 2, FFN: 64, Context: 64}, [32]byte{3}, lm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Tokenizer != nil {
		t.Skip("the random model of vocabulary 64 has a tokenizer")
	}
	ts := startServer(t, m, Options{})
	resp, body := ts.post(t, "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}]}`)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "no vocabulary") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var c openai.TextCompletion
	ts.postJSON(t, "/v1/completions", `{"prompt":[1,2,3],"max_tokens":5,"return_token_ids":true,"logprobs":2}`, &c)
	if len(c.Choices[0].TokenIDs) != 5 || len(c.Choices[0].Logprobs.TokenLogprobs) != 5 || c.Choices[0].Text != "" {
		t.Fatalf("%+v", c)
	}
	var sr ScoreResponse
	ts.postJSON(t, "/v1/score", `{"prompt_tokens":[1,2,3],"completion_tokens":[4,5]}`, &sr)
	if len(sr.Tokens) != 2 {
		t.Fatalf("%+v", sr)
	}
}

// The shared llama-2 fixture (real vocabulary, llama-2 chat template) through the
// official client.
func TestFixtureModel(t *testing.T) {
	path := fixture(t)
	if path == "" {
		t.Skip("../shared/models/llama-2-tiny-random.gguf is absent")
	}
	m, err := lm.Load(path, lm.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ts := startServer(t, m, Options{Name: "llama-tiny"})
	c := ts.client()
	ctx := context.Background()
	res, err := c.Chat.Completions.New(ctx, oai.ChatCompletionNewParams{Model: "llama-tiny",
		Messages:  []oai.ChatCompletionMessageParamUnion{oai.UserMessage("What is the capital of France?")},
		MaxTokens: oai.Int(12), Temperature: oai.Float(0), Logprobs: oai.Bool(true), TopLogprobs: oai.Int(2)})
	if err != nil {
		t.Fatal(err)
	}
	want := m.Tokenizer.EncodeSpecial("[INST] What is the capital of France? [/INST]", true)
	if int(res.Usage.PromptTokens) != len(want) || len(res.Choices[0].Logprobs.Content) != int(res.Usage.CompletionTokens) {
		t.Fatalf("usage %+v, want %d prompt tokens; %+v", res.Usage, len(want), res.Choices[0])
	}
	t.Logf("fixture answered %q", res.Choices[0].Message.Content)
}
