package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/subnets/textgen"
)

// This file holds the gateway's upstreams: the networks that answer its requests. A
// request is routed by its model to the upstream that serves it; GET /v1/models lists
// the models of all of them.

// Upstream is a network the gateway sends completion requests to: the text-generation
// subnet (its miners behind signed axons, built from Config.Models) or the inference
// network (InferenceUpstream: participants' API nodes). An Upstream is safe for
// concurrent use.
type Upstream interface {
	// Name names the upstream in /healthz and the logs ("textgen", "inference").
	Name() string
	// Refresh re-reads what the upstream serves and who serves it (a subnet's
	// metagraph, the API nodes' model lists). The gateway calls it every
	// RefreshInterval; an upstream that cannot be read keeps what it had.
	Refresh(ctx context.Context) error
	// Models lists the models the upstream serves, as of the last Refresh; no I/O.
	Models() []ModelInfo
	// Executors lists who would serve a request for model now (miners, API nodes), in
	// the order a request would try them; no I/O.
	Executors(model string) []Executor
	// Complete sends req to one executor after another until one answers, each bounded
	// by the attempt timeout, and returns the answer once it is committed: a whole
	// answer (Answer.Body), or a stream whose first event has arrived (Answer.Stream).
	// Nothing is written to the caller before it returns, so a failure before that is
	// failed over. Its error is an *openai.APIError for the caller (a request the
	// upstream cannot serve, or why no executor answered).
	Complete(ctx context.Context, req *Request) (*Answer, error)
}

// ModelInfo is one model an upstream serves, as GET /v1/models lists it.
type ModelInfo struct {
	ID      string // the name in the "model" field of requests
	Created int64  // Unix time (0: the gateway's start)
	OwnedBy string // "tessera-subnet-N" for the textgen subnet, "tessera-inference" for the inference network
}

// Executor is who can answer a request: a miner of the textgen subnet, or an API node
// of the inference network.
type Executor struct {
	ID      string // the miner's hotkey, or the API node's URL
	UID     int    // the miner's uid; -1 for an API node
	Healthy bool   // not cooling down after failures (a miner), or answered the last refresh (an API node)
}

// Request is a completion request checked by the gateway, as an Upstream gets it.
type Request struct {
	// Model is the model asked for.
	Model string
	// Legacy is set for /v1/completions: answered as text completions.
	Legacy bool
	// Stream and IncludeUsage are "stream" and "stream_options.include_usage".
	Stream, IncludeUsage bool
	// Logprobs asks for each token's log-probability ("logprobs": true in a chat, any
	// "logprobs" in a legacy completion).
	Logprobs bool
	// TopLogprobs is how many of the most likely tokens at each position to return:
	// "top_logprobs" of a chat, the integer "logprobs" of a legacy completion.
	TopLogprobs int
	// ReturnTokenIDs is "return_token_ids" (vLLM's extension).
	ReturnTokenIDs bool
	// Chat is the request as fields: the messages (a legacy prompt as one user
	// message) and the sampling, checked by textgen's Validate.
	Chat textgen.Request
	// Body is the caller's JSON body as it came.
	Body []byte
	// Start is when the gateway received the request.
	Start time.Time
}

// Answer is an upstream's answer, committed: the gateway writes it to the caller.
type Answer struct {
	// By names what answered, for error messages: "miner", "API node".
	By string
	// Executor is the answering miner's hotkey or API node's URL.
	Executor string
	// UID is the answering miner's uid for the request's log line (-1: not a miner).
	UID int
	// Header holds headers the caller gets with the answer (X-Tessera-Miner,
	// X-Tessera-Executor, X-Tessera-Inference-Id, …).
	Header http.Header
	// Body is a whole answer: an openai.ChatCompletion or openai.TextCompletion
	// (legacy), JSON-encoded as is; nil for a stream.
	Body any
	// Usage is a whole answer's token usage.
	Usage openai.Usage
	// Stream, for a streamed answer, sends the stream's events (each JSON-encoded as a
	// data event) with send until the stream ends, and returns its usage. send reports
	// false when the caller is gone: Stream then stops and returns a nil error. A
	// non-nil error means the stream broke off after it was committed. The gateway
	// calls Stream exactly once for a streamed answer; it releases what the answer
	// holds.
	Stream func(send func(event any) bool) (openai.Usage, error)
}

// catalog is the routable models: each model id with the upstream that serves it, and
// the /v1/models answer. It is rebuilt after each refresh and read without locks.
type catalog struct {
	models map[string]Model
	list   []byte
	order  []string // model ids in /v1/models order
}

// buildCatalog lists the models of ups in order; a model two upstreams serve goes to
// the first of them.
func buildCatalog(ups []Upstream, started time.Time) *catalog {
	c := &catalog{models: map[string]Model{}}
	list := openai.ModelList{Object: "list", Data: []openai.ModelObject{}}
	for _, up := range ups {
		for _, mi := range up.Models() {
			if _, dup := c.models[mi.ID]; dup || mi.ID == "" {
				continue
			}
			created := mi.Created
			if created == 0 {
				created = started.Unix()
			}
			md := Model{ID: mi.ID, Created: created, up: up, ownedBy: mi.OwnedBy}
			if tu, ok := up.(*textgenUpstream); ok {
				md.Netuid = tu.models[mi.ID].Netuid
			}
			c.models[mi.ID] = md
			c.order = append(c.order, mi.ID)
			list.Data = append(list.Data, md.object())
		}
	}
	c.list, _ = json.Marshal(list)
	return c
}

// object is the model as /v1/models lists it.
func (m Model) object() openai.ModelObject {
	return openai.ModelObject{ID: m.ID, Object: "model", Created: m.Created, OwnedBy: m.ownedBy}
}
