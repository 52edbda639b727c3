package server

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

func chatParams(prompt string, seed int64) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:       "tessera-random",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage(prompt)},
		MaxTokens:   openai.Int(40),
		Seed:        openai.Int(seed),
		Temperature: openai.Float(0.8),
		Logprobs:    openai.Bool(true),
		TopLogprobs: openai.Int(3),
	}
}

// isQ16 reports whether f is a whole number of 2^-16, as every logprob must be.
func isQ16(f float64) bool { v := f * 65536; return v == math.Trunc(v) && f <= 0 }

// Chat through the official client, whole and streamed: the same seed gives the same
// text, logprobs and token count either way; the logprobs are Q16 values, the top
// ones in descending order with the chosen token's among them when it is likely
// enough; another seed gives another text.
func TestChatWithOpenAIClient(t *testing.T) {
	ts := startServer(t, tiny(t), Options{})
	c := ts.client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	res, err := c.Chat.Completions.New(ctx, chatParams("Tell me about bridges.", 7))
	if err != nil {
		t.Fatal(err)
	}
	ch := res.Choices[0]
	if res.Object != "chat.completion" || res.Model != "tessera-random" || !strings.HasPrefix(res.ID, "chatcmpl-") ||
		ch.Message.Role != "assistant" || ch.Message.Content == "" || (ch.FinishReason != "length" && ch.FinishReason != "stop") {
		t.Fatalf("answer %+v", res)
	}
	lp := ch.Logprobs.Content
	if int64(len(lp)) != res.Usage.CompletionTokens || res.Usage.PromptTokens == 0 ||
		res.Usage.TotalTokens != res.Usage.PromptTokens+res.Usage.CompletionTokens {
		t.Fatalf("%d logprobs, usage %+v", len(lp), res.Usage)
	}
	var text strings.Builder
	for i, l := range lp {
		if !isQ16(l.Logprob) || len(l.TopLogprobs) != 3 {
			t.Fatalf("token %d: %+v", i, l)
		}
		for k, top := range l.TopLogprobs {
			if !isQ16(top.Logprob) || k > 0 && top.Logprob > l.TopLogprobs[k-1].Logprob {
				t.Fatalf("token %d: top %+v", i, l.TopLogprobs)
			}
		}
		if l.Logprob > l.TopLogprobs[2].Logprob && !slices.ContainsFunc(l.TopLogprobs, func(x openai.ChatCompletionTokenLogprobTopLogprob) bool {
			return x.Token == l.Token && x.Logprob == l.Logprob
		}) {
			t.Fatalf("token %d %q (%v) is likelier than the third but not among the top: %+v", i, l.Token, l.Logprob, l.TopLogprobs)
		}
		for _, b := range l.Bytes {
			text.WriteByte(byte(b))
		}
	}
	if got := string([]rune(text.String())); got != ch.Message.Content {
		t.Fatalf("the tokens' bytes %q do not spell the content %q", got, ch.Message.Content)
	}

	again, err := c.Chat.Completions.New(ctx, chatParams("Tell me about bridges.", 7))
	if err != nil || again.Choices[0].Message.Content != ch.Message.Content || again.Choices[0].Logprobs.Content[0].Logprob != lp[0].Logprob {
		t.Fatalf("same seed, other answer: %q vs %q (%v)", again.Choices[0].Message.Content, ch.Message.Content, err)
	}
	other, err := c.Chat.Completions.New(ctx, chatParams("Tell me about bridges.", 8))
	if err != nil || other.Choices[0].Message.Content == ch.Message.Content {
		t.Fatalf("seeds 7 and 8 give the same answer %q (%v)", ch.Message.Content, err)
	}

	params := chatParams("Tell me about bridges.", 7)
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := c.Chat.Completions.NewStreaming(ctx, params)
	var streamed strings.Builder
	var slp []openai.ChatCompletionTokenLogprob
	var finish string
	var usage openai.CompletionUsage
	chunks := 0
	for stream.Next() {
		chunk := stream.Current()
		chunks++
		if chunk.Object != "chat.completion.chunk" {
			t.Fatalf("chunk %+v", chunk)
		}
		for _, cc := range chunk.Choices {
			streamed.WriteString(cc.Delta.Content)
			slp = append(slp, cc.Logprobs.Content...)
			if cc.FinishReason != "" {
				finish = cc.FinishReason
			}
		}
		if chunk.Usage.TotalTokens > 0 {
			usage = chunk.Usage
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if streamed.String() != ch.Message.Content || finish != ch.FinishReason || usage.TotalTokens != res.Usage.TotalTokens || chunks < 5 {
		t.Fatalf("streamed %q (finish %q, usage %+v, %d chunks), want %q (%q, %+v)", streamed.String(), finish, usage, chunks,
			ch.Message.Content, ch.FinishReason, res.Usage)
	}
	if len(slp) != len(lp) {
		t.Fatalf("streamed %d logprobs, want %d", len(slp), len(lp))
	}
	for i := range lp {
		if slp[i].Token != lp[i].Token || slp[i].Logprob != lp[i].Logprob || len(slp[i].TopLogprobs) != 3 {
			t.Fatalf("logprob %d streamed %+v, whole %+v", i, slp[i], lp[i])
		}
	}

	page, err := c.Models.List(ctx)
	if err != nil || len(page.Data) != 1 || page.Data[0].ID != "tessera-random" {
		t.Fatalf("models %+v %v", page, err)
	}
	if m, err := c.Models.Get(ctx, "tessera-random"); err != nil || m.ID != "tessera-random" || m.OwnedBy != "tessera-lm" {
		t.Fatalf("model %+v %v", m, err)
	}
	if got := ts.metricReaches(t, "tessera_lm_requests_total", map[string]string{"endpoint": "chat", "status": "200"}, 4); got != 4 {
		t.Fatalf("%v chat requests counted, want 4", got)
	}
	wantTokens := float64(4*len(lp)) - float64(len(lp)) + float64(len(other.Choices[0].Logprobs.Content))
	if got := ts.metricReaches(t, "tessera_lm_tokens_total", map[string]string{"kind": "completion"}, wantTokens); got != wantTokens {
		t.Fatalf("%v completion tokens counted", got)
	}
	if ts.metric(t, "tessera_lm_tokens_per_second", nil) != 4 {
		t.Fatal("tokens per second not observed for each completion")
	}
	if log := ts.logText(); !strings.Contains(log, "path=/v1/chat/completions status=200") || !strings.Contains(log, "completion_tokens=") {
		t.Fatalf("log:\n%s", log)
	}
}

// Legacy completions: a text prompt and the same prompt as token ids give the same
// answer, whole and streamed, with the legacy logprobs (tokens, token_logprobs,
// top_logprobs, text_offset) and vLLM's token ids.
func TestCompletionsWithOpenAIClient(t *testing.T) {
	m := tiny(t)
	ts := startServer(t, m, Options{})
	c := ts.client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	params := openai.CompletionNewParams{
		Model:       "tessera-random",
		Prompt:      openai.CompletionNewParamsPromptUnion{OfString: openai.String("the bridge over the river")},
		MaxTokens:   openai.Int(30),
		Temperature: openai.Float(0),
		Logprobs:    openai.Int(2),
	}
	res, err := c.Completions.New(ctx, params, option.WithJSONSet("return_token_ids", true))
	if err != nil {
		t.Fatal(err)
	}
	ch := res.Choices[0]
	l := ch.Logprobs
	n := int(res.Usage.CompletionTokens)
	if res.Object != "text_completion" || !strings.HasPrefix(res.ID, "cmpl-") || ch.Text == "" || n == 0 ||
		len(l.Tokens) != n || len(l.TokenLogprobs) != n || len(l.TopLogprobs) != n || len(l.TextOffset) != n || l.TextOffset[0] != 0 {
		t.Fatalf("completion %+v", res)
	}
	for i := range n {
		if !isQ16(l.TokenLogprobs[i]) || len(l.TopLogprobs[i]) == 0 || len(l.TopLogprobs[i]) > 2 ||
			i > 0 && l.TextOffset[i] < l.TextOffset[i-1] {
			t.Fatalf("token %d: %q %v %v %v", i, l.Tokens[i], l.TokenLogprobs[i], l.TopLogprobs[i], l.TextOffset)
		}
		// Each token whose text is whole characters stands at its offset in the text.
		if tok := []rune(l.Tokens[i]); !strings.HasPrefix(l.Tokens[i], "bytes:") && l.Tokens[i] != "</s>" {
			text := []rune(ch.Text)
			if off := int(l.TextOffset[i]); off+len(tok) > len(text) || string(text[off:off+len(tok)]) != l.Tokens[i] {
				t.Fatalf("token %d %q is not at its offset %d in %q", i, l.Tokens[i], off, ch.Text)
			}
		}
		// Greedy: the chosen token is the likeliest.
		if best := slices.Max(mapValues(l.TopLogprobs[i])); l.TokenLogprobs[i] != best {
			t.Fatalf("token %d: greedy chose %v, the best is %v", i, l.TokenLogprobs[i], best)
		}
	}
	var tokenIDs, promptIDs []int64
	json.Unmarshal([]byte(ch.JSON.ExtraFields["token_ids"].Raw()), &tokenIDs)
	json.Unmarshal([]byte(res.JSON.ExtraFields["prompt_token_ids"].Raw()), &promptIDs)
	want := m.Tokenizer.EncodeSpecial("the bridge over the river", true)
	if len(tokenIDs) != n || len(promptIDs) != len(want) || int(res.Usage.PromptTokens) != len(want) {
		t.Fatalf("token ids %v, prompt ids %v (want %v)", tokenIDs, promptIDs, want)
	}
	for i := range want {
		if promptIDs[i] != int64(want[i]) {
			t.Fatalf("prompt ids %v, want %v", promptIDs, want)
		}
	}

	byIDs := params
	byIDs.Prompt = openai.CompletionNewParamsPromptUnion{OfArrayOfTokens: promptIDs}
	res2, err := c.Completions.New(ctx, byIDs)
	if err != nil || res2.Choices[0].Text != ch.Text {
		t.Fatalf("token-id prompt: %q, want %q (%v)", res2.Choices[0].Text, ch.Text, err)
	}

	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := c.Completions.NewStreaming(ctx, params)
	var text strings.Builder
	var toks []string
	var offs []int64
	var finish string
	var usage int64
	for stream.Next() {
		chunk := stream.Current()
		for _, cc := range chunk.Choices {
			text.WriteString(cc.Text)
			toks = append(toks, cc.Logprobs.Tokens...)
			offs = append(offs, cc.Logprobs.TextOffset...)
			if cc.FinishReason != "" {
				finish = string(cc.FinishReason)
			}
		}
		usage += chunk.Usage.TotalTokens
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != ch.Text || finish != string(ch.FinishReason) || usage != res.Usage.TotalTokens ||
		!slices.Equal(toks, l.Tokens) || !slices.Equal(offs, l.TextOffset) {
		t.Fatalf("streamed %q %q %d %v %v, want %q %q %d %v %v", text.String(), finish, usage, toks, offs,
			ch.Text, ch.FinishReason, res.Usage.TotalTokens, l.Tokens, l.TextOffset)
	}
}

func mapValues(m map[string]float64) []float64 {
	var out []float64
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
