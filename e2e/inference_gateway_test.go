package e2e

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/subnets/inference/infdev"
)

// The official OpenAI Go client against the devnet's gateway, which serves both networks
// behind one API: the text-generation subnet's model from its miners over signed axons,
// and the inference network's models from its API nodes (real processes), each request
// signed by the gateway's funded account and recorded on chain as that account's.
func TestGatewayServesBothNetworks(t *testing.T) {
	ctx := binaryTest(t, 4*time.Minute)
	base := testutil.FreePorts(t, 4)
	var info struct {
		Gateway struct {
			URL    string `json:"url"`
			APIKey string `json:"api_key"`
			Model  string `json:"model"`
		} `json:"gateway"`
		servingDevnet
	}
	readSummary(t, startDevnet(ctx, t, base, "--block-time", "250ms", "--tempo", "10", "--gateway", "127.0.0.1:0", "--quiet", "--log-level", "warn", "-o", "json"), &info)
	client := openai.NewClient(option.WithBaseURL(strings.TrimSuffix(info.Gateway.URL, "/")+"/"), option.WithAPIKey(info.Gateway.APIKey), option.WithMaxRetries(0))

	// One model list for both, once the inference network's first group is in force.
	var ids []string
	waitFor(ctx, t, "the gateway listing both networks' models", func() bool {
		page, err := client.Models.List(ctx)
		if err != nil {
			return false
		}
		ids = ids[:0]
		for _, m := range page.Data {
			ids = append(ids, m.ID)
		}
		return slices.Contains(ids, info.Gateway.Model) && slices.Contains(ids, "devnet-small") && slices.Contains(ids, "devnet-large")
	})

	// The textgen subnet answers its model (its miners may be slow or wrong; one of
	// several attempts answers).
	waitFor(ctx, t, "a textgen answer", func() bool {
		res, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: info.Gateway.Model,
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Sort these words: pear apple fig")}})
		return err == nil && len(res.Choices) == 1 && res.Choices[0].Message.Content != ""
	})

	// The inference network answers with every token's log-probability and top tokens,
	// and the request is on chain, paid by the gateway's account.
	var httpResp *http.Response
	var res *openai.ChatCompletion
	waitFor(ctx, t, "an inference answer", func() bool {
		var err error
		res, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "devnet-small",
			Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")},
			MaxTokens: openai.Int(8), Logprobs: openai.Bool(true), TopLogprobs: openai.Int(2), Seed: openai.Int(7),
		}, option.WithResponseInto(&httpResp))
		return err == nil
	})
	lp := res.Choices[0].Logprobs.Content
	if len(lp) == 0 || int64(len(lp)) != res.Usage.CompletionTokens {
		t.Fatalf("inference answer without a log-probability per token: %+v", res)
	}
	for _, tok := range lp {
		if len(tok.TopLogprobs) != 2 || tok.Logprob > 0 {
			t.Fatalf("token %+v", tok)
		}
	}
	id := httpResp.Header.Get("X-Tessera-Inference-Id")
	if id == "" || httpResp.Header.Get("X-Tessera-Executor") == "" {
		t.Fatalf("the answer does not name its inference and executor: %v", httpResp.Header)
	}
	r := settled(ctx, t, dial(t, "127.0.0.1:"+strconv.Itoa(base+1)), id)
	pay, _ := keys.FromURI(infdev.GatewayURI)
	var user struct {
		User string `json:"user"`
	}
	if _, err := dial(t, "127.0.0.1:"+strconv.Itoa(base+1)).Query(context.Background(), "/inference/record/"+id, 0, &user); err != nil || user.User != pay.Public().String() {
		t.Fatalf("record %s (%s): user %q, want the gateway's account %s (%v)", id, r.Status, user.User, pay.Public(), err)
	}
}
