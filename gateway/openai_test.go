package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/tessera-net/tessera/subnets/textgen"
)

// The official OpenAI Go client against the gateway, with answers from real miners
// behind signed axons.

func openaiClient(gw *testGateway, key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(gw.URL+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0))
}

func TestOpenAIClient(t *testing.T) {
	m1 := startMiner(t, "//Alpha", 0.6, builtin(t, textgen.BuiltinConfig{}))
	m2 := startMiner(t, "//Beta", 0.4, builtin(t, textgen.BuiltinConfig{}))
	gw := startGateway(t, []*testMiner{m1, m2}, nil)
	client := openaiClient(gw, gw.Secret)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	gen, _ := textgen.NewGenerator(textgen.GeneratorConfig{Seed: 42})
	for _, kind := range []textgen.Kind{textgen.Arithmetic, textgen.Sort, textgen.Capital, textgen.Upper} {
		task := gen.Make(kind)
		res, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:       "tessera-textgen",
			Messages:    []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be exact."), openai.UserMessage(task.Prompt)},
			MaxTokens:   openai.Int(64),
			Temperature: openai.Float(0),
			Seed:        openai.Int(1),
		})
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if got := res.Choices[0].Message.Content; textgen.Check(task, got) != 1 {
			t.Fatalf("%s: %q is not the answer %q", kind, got, task.Answer)
		}
		if res.Object != "chat.completion" || res.Model != "tessera-textgen" || res.Usage.CompletionTokens == 0 || res.Choices[0].FinishReason != "stop" {
			t.Fatalf("%s: answer %+v", kind, res)
		}
	}

	// Streaming, accumulated the way the client's docs show.
	task := gen.Make(textgen.Free)
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:         "tessera-textgen",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage(task.Prompt)},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	acc := openai.ChatCompletionAccumulator{}
	chunks := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	want := textgen.FreeText(task.Prompt, 0, textgen.DefaultCorpus())
	if got := acc.Choices[0].Message.Content; got != want || chunks < 5 {
		t.Fatalf("streamed %q in %d chunks, want %q", got, chunks, want)
	}
	if acc.Usage.CompletionTokens == 0 || acc.Choices[0].FinishReason != "stop" {
		t.Fatalf("stream usage %+v finish %q", acc.Usage, acc.Choices[0].FinishReason)
	}

	// Models.
	page, err := client.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 || page.Data[0].ID != "tessera-textgen" {
		t.Fatalf("models %+v", page.Data)
	}
	model, err := client.Models.Get(ctx, "tessera-textgen")
	if err != nil || model.ID != "tessera-textgen" {
		t.Fatalf("model %+v %v", model, err)
	}
}

func TestOpenAIClientErrors(t *testing.T) {
	m := startMiner(t, "//Alpha", 1, builtin(t, textgen.BuiltinConfig{}))
	gw := startGateway(t, []*testMiner{m}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	limited, _, _ := gw.Keys.Create(ctx, "limited", 6, 1)
	params := openai.ChatCompletionNewParams{
		Model:    "tessera-textgen",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
	}
	unknown := params
	unknown.Model = "gpt-unknown"
	empty := params
	empty.Messages = nil

	for _, tc := range []struct {
		name   string
		key    string
		params openai.ChatCompletionNewParams
		status int
		code   string
	}{
		{"wrong key", "tsk-not-a-real-key", params, http.StatusUnauthorized, "invalid_api_key"},
		{"unknown model", gw.Secret, unknown, http.StatusNotFound, "model_not_found"},
		{"missing messages", gw.Secret, empty, http.StatusBadRequest, "missing_required_parameter"},
		{"within the rate limit", limited, params, 0, ""},
		{"over the rate limit", limited, params, http.StatusTooManyRequests, "rate_limit_exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := openaiClient(gw, tc.key)
			_, err := c.Chat.Completions.New(ctx, tc.params)
			if tc.status == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v is not an *openai.Error", err)
			}
			if apiErr.StatusCode != tc.status || apiErr.Code != tc.code || apiErr.Message == "" {
				t.Fatalf("got %d %q %q, want %d %q", apiErr.StatusCode, apiErr.Code, apiErr.Message, tc.status, tc.code)
			}
		})
	}

	// A stream whose miners all fail before the first byte: a clean error, not a hang.
	bad := startMiner(t, "//Bad", 1, builtin(t, textgen.BuiltinConfig{FailRate: 1}))
	gw2 := startGateway(t, []*testMiner{bad}, nil)
	c2 := openaiClient(gw2, gw2.Secret)
	stream := c2.Chat.Completions.NewStreaming(ctx, params)
	for stream.Next() {
		t.Fatal("a chunk from a failing miner")
	}
	var apiErr *openai.Error
	if err := stream.Err(); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadGateway || !strings.Contains(apiErr.Message, "could answer") {
		t.Fatalf("stream error %v", err)
	}
}

// The OpenAI client sees a stream broken by a dying miner as an error, after the text
// it had.
func TestOpenAIClientBrokenStream(t *testing.T) {
	h := halfway{started: make(chan struct{}, 1)}
	victim := startMiner(t, "//Halfway", 1, h)
	gw := startGateway(t, []*testMiner{victim}, nil)
	go func() { <-h.started; victim.kill() }()
	c := openaiClient(gw, gw.Secret)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model: "tessera-textgen", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
	})
	var text strings.Builder
	for stream.Next() {
		if ch := stream.Current(); len(ch.Choices) > 0 {
			text.WriteString(ch.Choices[0].Delta.Content)
		}
	}
	if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "stream_interrupted") || text.String() != "The first words" {
		t.Fatalf("text %q, error %v", text.String(), err)
	}
}
