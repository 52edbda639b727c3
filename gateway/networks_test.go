package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/tessera-net/tessera/subnets/textgen"
)

// The official OpenAI Go client against one gateway serving both networks: the
// textgen subnet's model from miners behind signed axons, and the inference network's
// model from API nodes that verify the gateway account's signature and answer with the
// engine, log-probabilities included.

// startBothGateway is a gateway over one textgen miner and the given API nodes.
func startBothGateway(t *testing.T, nodes ...string) *testGateway {
	t.Helper()
	m := startMiner(t, "//Alpha", 1, builtin(t, textgen.BuiltinConfig{}))
	up := inferenceUpstream(t, nil, nodes...)
	return startGateway(t, []*testMiner{m}, func(c *Config) { c.Upstreams = []Upstream{up} })
}

func TestOpenAIClientBothNetworks(t *testing.T) {
	node := startAPINode(t, gatewayAccount(), nil)
	busy := startAPINode(t, gatewayAccount(), nil)
	gw := startBothGateway(t, busy.URL, node.URL)
	busy.status.Store(http.StatusServiceUnavailable) // it lists the model, then fails every request
	client := openaiClient(gw, gw.Secret)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// One model list for both networks.
	page, err := client.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids, owners []string
	for _, m := range page.Data {
		ids, owners = append(ids, m.ID), append(owners, m.OwnedBy)
	}
	if !slices.Equal(ids, []string{"tessera-textgen", "tessera-tiny"}) || !slices.Equal(owners, []string{"tessera-subnet-1", "tessera-inference"}) {
		t.Fatalf("models %v owned by %v", ids, owners)
	}
	if m, err := client.Models.Get(ctx, "tessera-tiny"); err != nil || m.OwnedBy != "tessera-inference" {
		t.Fatalf("%+v %v", m, err)
	}

	// The textgen subnet answers its model.
	gen, _ := textgen.NewGenerator(textgen.GeneratorConfig{Seed: 3})
	task := gen.Make(textgen.Sort)
	res, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model: "tessera-textgen", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(task.Prompt)},
	})
	if err != nil || textgen.Check(task, res.Choices[0].Message.Content) != 1 {
		t.Fatalf("textgen: %v %+v", err, res)
	}

	// The inference network answers its model, with logprobs, through the API node
	// (the busy one fails over before the first byte).
	var httpResp *http.Response
	res, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:       "tessera-tiny",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("hello")},
		MaxTokens:   openai.Int(6),
		Logprobs:    openai.Bool(true),
		TopLogprobs: openai.Int(2),
		Seed:        openai.Int(11),
	}, option.WithResponseInto(&httpResp))
	if err != nil {
		t.Fatal(err)
	}
	lp := res.Choices[0].Logprobs.Content
	if res.Model != "tessera-tiny" || len(lp) == 0 || int64(len(lp)) != res.Usage.CompletionTokens {
		t.Fatalf("inference answer %+v", res)
	}
	var text []byte
	for _, tok := range lp {
		for _, b := range tok.Bytes {
			text = append(text, byte(b))
		}
		if len(tok.TopLogprobs) != 2 || tok.Logprob > 0 || len(tok.Bytes) == 0 {
			t.Fatalf("token %+v", tok)
		}
	}
	if got := strings.ToValidUTF8(string(text), "\uFFFD"); got != res.Choices[0].Message.Content {
		t.Fatalf("tokens %q, content %q", got, res.Choices[0].Message.Content)
	}
	if httpResp.Header.Get("X-Tessera-Inference-Id") == "" || httpResp.Header.Get("X-Tessera-Api-Node") != node.URL {
		t.Fatalf("headers %v", httpResp.Header)
	}

	// Streamed, accumulated the way the client's docs show; the same seed gives the
	// same answer.
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:         "tessera-tiny",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("hello")},
		MaxTokens:     openai.Int(6),
		Logprobs:      openai.Bool(true),
		TopLogprobs:   openai.Int(2),
		Seed:          openai.Int(11),
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if acc.Choices[0].Message.Content != res.Choices[0].Message.Content || acc.Usage.CompletionTokens != res.Usage.CompletionTokens ||
		len(acc.Choices[0].Logprobs.Content) != len(lp) || acc.Choices[0].Logprobs.Content[0].Logprob != lp[0].Logprob {
		t.Fatalf("streamed %+v, want %+v", acc.Choices, res.Choices)
	}

	// The legacy completions endpoint, with its logprobs.
	cres, err := client.Completions.New(ctx, openai.CompletionNewParams{
		Model:     "tessera-tiny",
		Prompt:    openai.CompletionNewParamsPromptUnion{OfString: openai.String("Once upon a time")},
		MaxTokens: openai.Int(5),
		Logprobs:  openai.Int(3),
	})
	if err != nil {
		t.Fatal(err)
	}
	clp := cres.Choices[0].Logprobs
	if cres.Object != "text_completion" || len(clp.Tokens) == 0 || len(clp.TokenLogprobs) != len(clp.Tokens) || len(clp.TopLogprobs) != len(clp.Tokens) {
		t.Fatalf("legacy %+v", cres)
	}
	for _, top := range clp.TopLogprobs {
		if n := len(top); n != 3 {
			t.Fatalf("legacy top logprobs %d, want 3: %+v", n, top)
		}
	}

	// What each network cannot do is refused clearly.
	for _, tc := range []struct {
		name   string
		params openai.ChatCompletionNewParams
		status int
		code   string
		param  string
	}{
		{"logprobs from textgen", openai.ChatCompletionNewParams{Model: "tessera-textgen", Logprobs: openai.Bool(true),
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}, 400, "unsupported_parameter", "logprobs"},
		{"top_logprobs without logprobs", openai.ChatCompletionNewParams{Model: "tessera-tiny", TopLogprobs: openai.Int(2),
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}, 400, "invalid_value", "top_logprobs"},
		{"too many top_logprobs", openai.ChatCompletionNewParams{Model: "tessera-tiny", Logprobs: openai.Bool(true), TopLogprobs: openai.Int(21),
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}, 400, "invalid_value", "top_logprobs"},
		{"a model neither serves", openai.ChatCompletionNewParams{Model: "gpt-unknown",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}, 404, "model_not_found", "model"},
	} {
		_, err := client.Chat.Completions.New(ctx, tc.params)
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.status || apiErr.Code != tc.code || apiErr.Param != tc.param || apiErr.Message == "" {
			t.Errorf("%s: %v", tc.name, err)
		}
	}

	// The key was charged for both networks' tokens.
	for _, k := range gw.Keys.List() {
		if k.Usage.Requests != 8 || k.Usage.Errors != 4 || k.Usage.CompletionTokens < 3+2*res.Usage.CompletionTokens {
			t.Fatalf("usage %+v", k.Usage)
		}
	}
	if node.refused.Load() != 0 || node.accepted.Load() != 3 {
		t.Fatalf("API node accepted %d, refused %d", node.accepted.Load(), node.refused.Load())
	}
	// The API nodes' attempts are in the metrics: 3 answered; one healthy node (the
	// busy one failed).
	mresp, err := http.Get(gw.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{`tessera_gateway_api_node_attempts_total{outcome="ok"} 3`, "\ntessera_gateway_api_nodes 1\n"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}
}

// The healthz answer counts the inference network's healthy API nodes.
func TestHealthzBothNetworks(t *testing.T) {
	node := startAPINode(t, gatewayAccount(), nil)
	gw := startBothGateway(t, node.URL)
	resp, err := http.Get(gw.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		OK        bool `json:"ok"`
		Upstreams []struct {
			Name      string `json:"name"`
			Models    int    `json:"models"`
			Executors int    `json:"executors"`
		} `json:"upstreams"`
	}
	if err := jsonDecode(resp, &h); err != nil || resp.StatusCode != 200 || !h.OK || len(h.Upstreams) != 1 ||
		h.Upstreams[0].Name != "inference" || h.Upstreams[0].Models != 1 || h.Upstreams[0].Executors != 1 {
		t.Fatalf("%d %+v %v", resp.StatusCode, h, err)
	}
}

// A gateway of the inference network alone needs no miners, source or dendrite.
func TestGatewayInferenceOnly(t *testing.T) {
	node := startAPINode(t, gatewayAccount(), nil)
	up := inferenceUpstream(t, nil, node.URL)
	g, err := New(Config{Upstreams: []Upstream{up}})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()
	client := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	res, err := client.Chat.Completions.New(t.Context(), openai.ChatCompletionNewParams{Model: "tessera-tiny", MaxTokens: openai.Int(3),
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	if err != nil || res.Choices[0].Logprobs.Content != nil || res.Usage.CompletionTokens == 0 {
		t.Fatalf("%v %+v", err, res)
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("a gateway with nothing to serve")
	}
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
