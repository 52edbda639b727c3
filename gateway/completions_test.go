package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/tessera-net/tessera/subnets/textgen"
)

// The legacy completions endpoint through the official OpenAI Go client: a prompt is
// answered by the same miners, as text, whole and streamed.
func TestOpenAIClientLegacyCompletions(t *testing.T) {
	m := startMiner(t, "//Alpha", 1, builtin(t, textgen.BuiltinConfig{}))
	gw := startGateway(t, []*testMiner{m}, nil)
	client := openaiClient(gw, gw.Secret)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gen, _ := textgen.NewGenerator(textgen.GeneratorConfig{Seed: 7})
	task := gen.Make(textgen.Sort)
	params := openai.CompletionNewParams{
		Model:  openai.CompletionNewParamsModel("tessera-textgen"),
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String(task.Prompt)},
	}
	res, err := client.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if res.Object != "text_completion" || !strings.HasPrefix(res.ID, "cmpl-") || len(res.Choices) != 1 ||
		textgen.Check(task, res.Choices[0].Text) != 1 || res.Choices[0].FinishReason != "stop" || res.Usage.TotalTokens == 0 {
		t.Fatalf("completion %+v", res)
	}

	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := client.Completions.NewStreaming(ctx, params)
	var text strings.Builder
	var finish string
	var usage int64
	chunks := 0
	for stream.Next() {
		c := stream.Current()
		chunks++
		if c.Object != "text_completion" {
			t.Fatalf("chunk %+v", c)
		}
		for _, ch := range c.Choices {
			text.WriteString(ch.Text)
			if ch.FinishReason != "" {
				finish = string(ch.FinishReason)
			}
		}
		usage += c.Usage.TotalTokens
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if textgen.Check(task, text.String()) != 1 || finish != "stop" || usage == 0 || chunks < 3 {
		t.Fatalf("streamed %q in %d chunks, finish %q, usage %d", text.String(), chunks, finish, usage)
	}

	// A prompt of token ids is refused as OpenAI refuses what it cannot take.
	_, err = client.Completions.New(ctx, openai.CompletionNewParams{Model: "tessera-textgen",
		Prompt: openai.CompletionNewParamsPromptUnion{OfArrayOfTokens: []int64{1, 2}}})
	if apiErr, ok := err.(*openai.Error); !ok || apiErr.StatusCode != 400 || apiErr.Param != "prompt" {
		t.Fatalf("token prompt: %v", err)
	}
}
