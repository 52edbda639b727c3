package gateway

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/subnets/inference/signed"
)

// This file is the inference network's Upstream: participants' API nodes, which take
// OpenAI requests signed by a funded account, hold the worst-case price in escrow on
// chain and route each request to an executor chosen by weight.

// InferenceConfig configures an InferenceUpstream. Fields without a default are
// required.
type InferenceConfig struct {
	// APINodes are the base URLs of API nodes of the inference network
	// (http://host:port; a trailing /v1 is accepted), tried in turn.
	APINodes []string
	// Discover, when set, is asked at every Refresh for API node URLs; those not yet
	// known are added (none is removed: a node that stops answering is tried last). It
	// lets a gateway start before the network's API nodes do.
	Discover func() []string
	// Key is the gateway's funded account: it signs every request (package signed),
	// and the network charges it for all the gateway's callers, whose usage the gateway
	// keeps by API key.
	Key *keys.Pair
	// HTTP sends the requests (default: a client of its own; attempts are bounded by
	// AttemptTimeout, not by the client).
	HTTP *http.Client
	// AttemptTimeout bounds how long one API node may take to its first byte (the
	// whole answer when not streamed) before the request fails over (default 20 s).
	AttemptTimeout time.Duration
	// RefreshTimeout bounds one API node's GET /v1/models in Refresh (default 5 s).
	RefreshTimeout time.Duration
	// MaxAnswerBytes bounds an API node's whole answer, and one event of a stream
	// (default 16 MiB).
	MaxAnswerBytes int
	// Now is the clock requests are signed by (default time.Now).
	Now func() time.Time
}

// InferenceUpstream is the inference network as an Upstream: its models are those the
// API nodes list at GET /v1/models, and a request for one goes to an API node listing
// it, signed by the gateway's account, failing over to the next API node before the
// first byte of the answer. API nodes take turns being first; one that failed is tried
// after the others until it answers again. A node that refuses streams (400 on
// "stream") is asked for whole answers, which are streamed to the caller as chunks.
// Log-probabilities (logprobs, top_logprobs)
// come back in OpenAI's shapes, as many as the caller asked for.
type InferenceUpstream struct {
	cfg   InferenceConfig
	list  atomic.Pointer[[]*apiNode] // the nodes, replaced whole when Discover adds some
	addMu sync.Mutex                 // serialises additions
	seq   atomic.Uint64
	m     atomic.Pointer[metrics] // the gateway's, once New has seen the upstream
}

// attach makes the upstream count its attempts, failovers and healthy nodes in a
// gateway's metrics (the first gateway's, when several share it).
func (u *InferenceUpstream) attach(m *metrics) { u.m.CompareAndSwap(nil, m) }

// healthy counts the nodes that answered their last refresh or request.
func (u *InferenceUpstream) healthy() int {
	n := 0
	for _, nd := range u.nodes() {
		if _, ok := nd.state(); ok {
			n++
		}
	}
	return n
}

// observed counts one attempt's outcome and a failover after it, and the healthy nodes.
func (u *InferenceUpstream) observed(ae *attemptError, failover bool) {
	m := u.m.Load()
	if m == nil {
		return
	}
	outcome := "ok"
	switch {
	case ae == nil:
	case errors.Is(ae.err, errFirstByte) || errors.Is(ae.err, context.DeadlineExceeded):
		outcome = "timeout"
	case ae.status != 0 && ae.status < 500 && ae.status != http.StatusTooManyRequests:
		outcome = "refused"
	default:
		outcome = "error"
	}
	m.apiAttempts.WithLabelValues(outcome).Inc()
	if failover {
		m.failovers.Inc()
	}
	m.apiNodes.Set(float64(u.healthy()))
}

// apiNode is one API node and what the gateway last saw of it.
type apiNode struct {
	url     string // the base URL, without a trailing slash or /v1
	mu      sync.Mutex
	models  []ModelInfo // from its last answered GET /v1/models
	healthy bool        // its last refresh or request succeeded
	// unaryOnly is set once the node refused a stream ("stream" 400): streamed
	// requests then go to it unstreamed, and its whole answer is streamed as chunks.
	unaryOnly atomic.Bool
}

func (n *apiNode) state() ([]ModelInfo, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.models, n.healthy
}

func (n *apiNode) setHealthy(ok bool) {
	n.mu.Lock()
	n.healthy = ok
	n.mu.Unlock()
}

// NewInferenceUpstream checks cfg and makes the upstream; call Refresh (the gateway
// does) before it knows any model.
func NewInferenceUpstream(cfg InferenceConfig) (*InferenceUpstream, error) {
	if len(cfg.APINodes) == 0 && cfg.Discover == nil {
		return nil, errors.New("gateway: the inference network needs at least one API node URL")
	}
	if cfg.Key == nil {
		return nil, errors.New("gateway: the inference network needs the gateway's funded account key to sign requests")
	}
	if cfg.HTTP == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		cfg.HTTP = &http.Client{Transport: tr}
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 20 * time.Second
	}
	if cfg.RefreshTimeout <= 0 {
		cfg.RefreshTimeout = 5 * time.Second
	}
	if cfg.MaxAnswerBytes <= 0 {
		cfg.MaxAnswerBytes = 16 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	u := &InferenceUpstream{cfg: cfg}
	seen := map[string]bool{}
	var nodes []*apiNode
	for _, raw := range cfg.APINodes {
		base, err := apiNodeURL(raw)
		if err != nil {
			return nil, err
		}
		if seen[base] {
			return nil, fmt.Errorf("gateway: API node %s given twice", base)
		}
		seen[base] = true
		nodes = append(nodes, &apiNode{url: base})
	}
	u.list.Store(&nodes)
	return u, nil
}

// nodes is the current list of API nodes (never modified in place).
func (u *InferenceUpstream) nodes() []*apiNode { return *u.list.Load() }

// discover adds the URLs Discover names that are not known yet; a malformed one is
// reported and skipped.
func (u *InferenceUpstream) discover() error {
	if u.cfg.Discover == nil {
		return nil
	}
	u.addMu.Lock()
	defer u.addMu.Unlock()
	old := u.nodes()
	known := map[string]bool{}
	for _, n := range old {
		known[n.url] = true
	}
	next := slices.Clone(old)
	var errs []error
	for _, raw := range u.cfg.Discover() {
		base, err := apiNodeURL(raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !known[base] {
			known[base] = true
			next = append(next, &apiNode{url: base})
		}
	}
	if len(next) > len(old) {
		u.list.Store(&next)
	}
	return errors.Join(errs...)
}

// apiNodeURL checks an API node's URL and returns its base: scheme and host, and a
// path without a trailing slash or /v1.
func apiNodeURL(raw string) (string, error) {
	p, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" || p.Fragment != "" {
		return "", fmt.Errorf("gateway: API node URL %q: want http(s)://host:port", raw)
	}
	path := strings.TrimSuffix(strings.TrimSuffix(p.Path, "/"), "/v1")
	return p.Scheme + "://" + p.Host + strings.TrimSuffix(path, "/"), nil
}

// Account is the account that signs the gateway's requests and pays for them.
func (u *InferenceUpstream) Account() keys.PublicKey { return u.cfg.Key.Public() }

// Name implements Upstream.
func (u *InferenceUpstream) Name() string { return "inference" }

// Refresh implements Upstream: it reads every API node's GET /v1/models at once, each
// bounded by RefreshTimeout. A node that cannot be read keeps the models it had and is
// tried after the others until it answers again; the errors are joined, in the order
// of the nodes.
func (u *InferenceUpstream) Refresh(ctx context.Context) error {
	derr := u.discover()
	nodes := u.nodes()
	errs := make([]error, len(nodes), len(nodes)+1)
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ms, err := u.models(ctx, n)
			n.mu.Lock()
			defer n.mu.Unlock()
			if err != nil {
				n.healthy = false
				errs[i] = fmt.Errorf("gateway: models of API node %s: %w", n.url, err)
				return
			}
			n.models, n.healthy = ms, true
		}()
	}
	wg.Wait()
	if m := u.m.Load(); m != nil {
		m.apiNodes.Set(float64(u.healthy()))
	}
	return errors.Join(append(errs, derr)...)
}

// models reads one API node's model list.
func (u *InferenceUpstream) models(ctx context.Context, n *apiNode) ([]ModelInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, u.cfg.RefreshTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.url+"/v1/models", nil)
	if err != nil {
		return nil, err
	}
	resp, err := u.cfg.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, int64(u.cfg.MaxAnswerBytes)))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, errorMessage(data))
	}
	var list openai.ModelList
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("not a model list: %w", err)
	}
	out := make([]ModelInfo, 0, len(list.Data))
	for _, m := range list.Data {
		if m.ID != "" {
			out = append(out, ModelInfo{ID: m.ID, Created: m.Created, OwnedBy: "tessera-inference"})
		}
	}
	return out, nil
}

// Models implements Upstream: the models the API nodes list, each once, in the order
// of the nodes and of their lists.
func (u *InferenceUpstream) Models() []ModelInfo {
	var out []ModelInfo
	seen := map[string]bool{}
	for _, n := range u.nodes() {
		ms, _ := n.state()
		for _, m := range ms {
			if !seen[m.ID] {
				seen[m.ID] = true
				out = append(out, m)
			}
		}
	}
	return out
}

// Executors implements Upstream: the API nodes listing model, in the order the next
// request would try them.
func (u *InferenceUpstream) Executors(model string) []Executor {
	plan := u.plan(model, u.seq.Load()+1)
	out := make([]Executor, len(plan))
	for i, n := range plan {
		_, ok := n.state()
		out[i] = Executor{ID: n.url, UID: -1, Healthy: ok}
	}
	return out
}

// plan is the order request seq tries the API nodes listing model: the healthy ones
// taking turns being first, then those that failed.
func (u *InferenceUpstream) plan(model string, seq uint64) []*apiNode {
	var healthy, failed []*apiNode
	for _, n := range u.nodes() {
		ms, ok := n.state()
		if !slices.ContainsFunc(ms, func(m ModelInfo) bool { return m.ID == model }) {
			continue
		}
		if ok {
			healthy = append(healthy, n)
		} else {
			failed = append(failed, n)
		}
	}
	if k := len(healthy); k > 1 {
		first := int(seq % uint64(k))
		healthy = append(healthy[first:], healthy[:first]...)
	}
	return append(healthy, failed...)
}

// attemptError is why one API node did not answer, and whether the next may.
type attemptError struct {
	err      error
	status   int              // the node's HTTP status (0: none)
	api      *openai.APIError // the node's error body, when it sent one
	failover bool             // another API node may answer
}

func (e *attemptError) Error() string { return e.err.Error() }

// Complete implements Upstream: it signs the request by the gateway's account and
// POSTs it to the API nodes listing its model in turn, until one answers. An API node's
// refusal of the request itself (400, 402 insufficient_quota, 413, 422) is the caller's
// answer at once; an error, a timeout, a 5xx, a 429, a refused signature (401, 403) or a
// model it no longer serves (404) fails over to the next node.
func (u *InferenceUpstream) Complete(ctx context.Context, req *Request) (*Answer, error) {
	plan := u.plan(req.Model, u.seq.Add(1))
	if len(plan) == 0 {
		return nil, openai.Errorf(http.StatusServiceUnavailable, openai.TypeServer, "no_api_nodes_available", "",
			"No API node of the inference network serves model '%s' right now. Please try again later.", req.Model)
	}
	path := "/v1/chat/completions"
	if req.Legacy {
		path = "/v1/completions"
	}
	body, err := forwardBody(req)
	if err != nil {
		return nil, openai.Invalid("", "invalid_json", "We could not parse the JSON body of your request: %v", err)
	}
	var unary []byte // body, unstreamed, for nodes that do not stream
	if req.Stream {
		if unary, err = unstreamed(req.Body); err != nil {
			return nil, openai.Invalid("", "invalid_json", "We could not parse the JSON body of your request: %v", err)
		}
	}
	var errs []*attemptError
	for _, n := range plan {
		if ctx.Err() != nil {
			break
		}
		var a *Answer
		var ae *attemptError
		if req.Stream && n.unaryOnly.Load() {
			a, ae = u.attempt(ctx, n, path, unary, req)
		} else {
			a, ae = u.attempt(ctx, n, path, body, req)
			if ae != nil && req.Stream && ae.status == http.StatusBadRequest && ae.api.Param != nil && *ae.api.Param == "stream" {
				// The node does not stream: ask it for the whole answer.
				n.unaryOnly.Store(true)
				a, ae = u.attempt(ctx, n, path, unary, req)
			}
		}
		if ae == nil {
			n.setHealthy(true)
			u.observed(nil, false)
			return a, nil
		}
		if !ae.failover {
			u.observed(ae, false)
			return nil, ae.api
		}
		if ae.status == 0 || ae.status >= 500 {
			n.setHealthy(false)
		}
		errs = append(errs, ae)
		u.observed(ae, len(errs) < len(plan) && ctx.Err() == nil)
	}
	return nil, u.noAnswer(ctx, req, len(plan), errs)
}

// noAnswer is the error when no API node answered: 504 past the deadline, the nodes'
// 404 when none serves the model any more, 502 when every node refused the gateway's
// account (saying so) or could not answer.
func (u *InferenceUpstream) noAnswer(ctx context.Context, req *Request, tried int, errs []*attemptError) *openai.APIError {
	if ctx.Err() != nil || len(errs) == 0 {
		return openai.Errorf(http.StatusGatewayTimeout, openai.TypeServer, "timeout", "",
			"No API node answered within the request's deadline (%d tried).", tried)
	}
	all := func(f func(*attemptError) bool) bool {
		return !slices.ContainsFunc(errs, func(e *attemptError) bool { return !f(e) })
	}
	last := errs[len(errs)-1]
	switch {
	case all(func(e *attemptError) bool { return e.status == http.StatusNotFound }):
		return openai.ModelNotFound(req.Model)
	case all(func(e *attemptError) bool {
		return e.status == http.StatusUnauthorized || e.status == http.StatusForbidden
	}):
		return openai.Errorf(http.StatusBadGateway, openai.TypeServer, "gateway_not_admitted", "",
			"The API nodes refused the gateway's account %s (%v).", u.Account(), last.err)
	}
	return openai.Errorf(http.StatusBadGateway, openai.TypeServer, "api_nodes_unavailable", "",
		"None of the %d API nodes tried could answer (last error: %v). Please try again.", len(errs), last.err)
}

// forwardBody is the body sent to the API nodes: the caller's, asking a stream for its
// usage chunk when the caller did not (the gateway charges the key by it, and drops
// the chunk the caller did not ask for).
func forwardBody(req *Request) ([]byte, error) {
	if !req.Stream || req.IncludeUsage {
		return req.Body, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(req.Body, &fields); err != nil {
		return nil, err
	}
	fields["stream_options"] = json.RawMessage(`{"include_usage":true}`)
	return json.Marshal(fields)
}

// unstreamed is body asking for a whole answer: "stream" false, no "stream_options".
func unstreamed(body []byte) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, err
	}
	fields["stream"] = json.RawMessage("false")
	delete(fields, "stream_options")
	return json.Marshal(fields)
}

// The headers of an API node's answer the caller gets.
var passHeaders = []string{"X-Tessera-Inference-Id", "X-Tessera-Seed", "X-Tessera-Executor"}

// attempt sends the request to one API node and returns its answer once committed.
func (u *InferenceUpstream) attempt(ctx context.Context, n *apiNode, path string, body []byte, req *Request) (a *Answer, ae *attemptError) {
	actx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(u.cfg.AttemptTimeout, func() { cancel(errFirstByte) })
	var resp *http.Response
	release := func() {
		timer.Stop()
		if resp != nil {
			resp.Body.Close()
		}
		cancel(nil)
	}
	defer func() {
		if ae != nil {
			release()
		}
	}()
	fail := func(err error) *attemptError {
		if context.Cause(actx) == errFirstByte {
			err = errFirstByte
		}
		return &attemptError{err: fmt.Errorf("API node %s: %w", n.url, err), failover: true}
	}
	hreq, err := http.NewRequestWithContext(actx, http.MethodPost, n.url+path, bytes.NewReader(body))
	if err != nil {
		return nil, fail(err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	signed.SignRequest(hreq, body, u.cfg.Key, u.cfg.Now())
	resp, err = u.cfg.HTTP.Do(hreq)
	if err != nil {
		return nil, fail(err)
	}
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return nil, refusal(n, resp.StatusCode, data)
	}
	hdr := http.Header{"X-Tessera-Api-Node": {n.url}}
	for _, h := range passHeaders {
		if v := resp.Header.Get(h); v != "" {
			hdr.Set(h, v)
		}
	}
	a = &Answer{By: "API node", Executor: n.url, UID: -1, Header: hdr}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// A whole answer (also to a stream request, from a node that does not stream).
		data, err := io.ReadAll(io.LimitReader(resp.Body, int64(u.cfg.MaxAnswerBytes)+1))
		if err != nil {
			return nil, fail(err)
		}
		if len(data) > u.cfg.MaxAnswerBytes {
			return nil, fail(fmt.Errorf("the answer exceeds %d bytes", u.cfg.MaxAnswerBytes))
		}
		if !timer.Stop() {
			return nil, fail(errFirstByte)
		}
		if err := wholeInferenceAnswer(a, req, data); err != nil {
			return nil, fail(err)
		}
		release()
		return a, nil
	}
	if !req.Stream {
		return nil, fail(errors.New("answered a stream to a request that is not streamed"))
	}
	events := newSSEReader(resp.Body, u.cfg.MaxAnswerBytes)
	first, err := events.next()
	if err == io.EOF {
		err = errors.New("the stream ended without an event")
	}
	if err != nil {
		return nil, fail(err)
	}
	if !timer.Stop() {
		return nil, fail(errFirstByte)
	}
	if string(first) == "[DONE]" {
		return nil, fail(errors.New("the stream ended without a chunk"))
	}
	firstEv, firstUsage, err := inferenceEvent(first, req)
	if err != nil {
		return nil, fail(err)
	}
	a.Stream = func(send func(any) bool) (usage openai.Usage, err error) {
		defer release()
		if firstUsage != nil {
			usage = *firstUsage
		}
		ev := firstEv
		for {
			if ev != nil && !send(ev) {
				return usage, nil
			}
			data, err := events.next()
			if err == io.EOF {
				return usage, errors.New("the stream ended without [DONE]")
			}
			if err != nil {
				return usage, err
			}
			if string(data) == "[DONE]" {
				return usage, nil
			}
			var u *openai.Usage
			if ev, u, err = inferenceEvent(data, req); err != nil {
				return usage, err
			}
			if u != nil {
				usage = *u
			}
		}
	}
	return a, nil
}

// refusal is an API node's non-200 answer as an attempt error: the caller's own fault
// (400, 402, 413, 422) ends the request with the node's error; anything else fails over.
func refusal(n *apiNode, status int, data []byte) *attemptError {
	var body struct {
		Error *openai.APIError `json:"error"`
	}
	api := &openai.APIError{}
	if json.Unmarshal(data, &body) == nil && body.Error != nil && body.Error.Message != "" {
		api = body.Error
	} else {
		api.Type, api.Message = openai.TypeServer, strings.TrimSpace(string(data))
		if api.Message == "" {
			api.Message = http.StatusText(status)
		}
	}
	api.Status = status
	switch status {
	case http.StatusBadRequest, http.StatusPaymentRequired, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		if status == http.StatusPaymentRequired {
			api.Message = "The gateway's inference account cannot pay for this request: " + api.Message
		}
		return &attemptError{err: api, status: status, api: api}
	}
	code := ""
	if api.Code != nil {
		code = " " + *api.Code
	}
	return &attemptError{err: fmt.Errorf("API node %s: %d%s: %s", n.url, status, code, api.Message), status: status, api: api, failover: true}
}

// errorMessage is the message of an OpenAI-style error body, or the body.
func errorMessage(data []byte) string {
	var body struct {
		Error *openai.APIError `json:"error"`
	}
	if json.Unmarshal(data, &body) == nil && body.Error != nil {
		return body.Error.Message
	}
	return strings.TrimSpace(string(data))
}

// wholeInferenceAnswer decodes an API node's whole answer into a (Body and Usage) — or,
// for a stream request, into a Stream of the answer as chunks — keeping the
// log-probabilities and token ids the caller asked for.
func wholeInferenceAnswer(a *Answer, req *Request, data []byte) error {
	if req.Legacy {
		var tc openai.TextCompletion
		if err := json.Unmarshal(data, &tc); err != nil {
			return fmt.Errorf("the answer is not a text completion: %w", err)
		}
		if tc.Usage != nil {
			a.Usage = *tc.Usage
		}
		filterText(&tc, req)
		if !req.Stream {
			a.Body = &tc
			return nil
		}
		u := a.Usage
		a.Stream = func(send func(any) bool) (openai.Usage, error) {
			chunk := tc
			chunk.Usage = nil
			if !send(&chunk) {
				return u, nil
			}
			if req.IncludeUsage {
				send(&openai.TextCompletion{ID: tc.ID, Object: tc.Object, Created: tc.Created, Model: tc.Model,
					Choices: []openai.TextChoice{}, Usage: &u, SystemFingerprint: tc.SystemFingerprint})
			}
			return u, nil
		}
		return nil
	}
	var cc openai.ChatCompletion
	if err := json.Unmarshal(data, &cc); err != nil {
		return fmt.Errorf("the answer is not a chat completion: %w", err)
	}
	a.Usage = cc.Usage
	filterChat(&cc, req)
	if !req.Stream {
		a.Body = &cc
		return nil
	}
	u := a.Usage
	a.Stream = func(send func(any) bool) (openai.Usage, error) {
		chunk := openai.ChatChunk{ID: cc.ID, Object: "chat.completion.chunk", Created: cc.Created, Model: cc.Model,
			SystemFingerprint: cc.SystemFingerprint, Choices: []openai.ChunkChoice{}, PromptTokenIDs: cc.PromptTokenIDs}
		for _, ch := range cc.Choices {
			content, fr := ch.Message.Content, ch.FinishReason
			chunk.Choices = append(chunk.Choices, openai.ChunkChoice{Index: ch.Index, Delta: openai.ChunkDelta{Role: ch.Message.Role, Content: &content},
				FinishReason: &fr, Logprobs: ch.Logprobs, TokenIDs: ch.TokenIDs})
		}
		if !send(&chunk) {
			return u, nil
		}
		if req.IncludeUsage {
			send(&openai.ChatChunk{ID: cc.ID, Object: "chat.completion.chunk", Created: cc.Created, Model: cc.Model,
				SystemFingerprint: cc.SystemFingerprint, Choices: []openai.ChunkChoice{}, Usage: &u})
		}
		return u, nil
	}
	return nil
}

// inferenceEvent decodes one event of an API node's stream: the chunk to send the
// caller (nil for a usage chunk the caller did not ask for) and the usage it carries.
// An error event ({"error": …}) is returned as the error.
func inferenceEvent(data []byte, req *Request) (any, *openai.Usage, error) {
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte(`{"error"`)) {
		return nil, nil, fmt.Errorf("the stream sent an error: %s", errorMessage(data))
	}
	if req.Legacy {
		var tc openai.TextCompletion
		if err := json.Unmarshal(data, &tc); err != nil {
			return nil, nil, fmt.Errorf("an event that is not a text completion chunk: %w", err)
		}
		u := tc.Usage
		filterText(&tc, req)
		if u != nil && !req.IncludeUsage {
			if len(tc.Choices) == 0 {
				return nil, u, nil
			}
			tc.Usage = nil
		}
		return &tc, u, nil
	}
	var cc openai.ChatChunk
	if err := json.Unmarshal(data, &cc); err != nil {
		return nil, nil, fmt.Errorf("an event that is not a chat completion chunk: %w", err)
	}
	u := cc.Usage
	if cc.Choices == nil {
		cc.Choices = []openai.ChunkChoice{}
	}
	for i := range cc.Choices {
		cc.Choices[i].Logprobs = filterChatLogprobs(cc.Choices[i].Logprobs, req)
		if !req.ReturnTokenIDs {
			cc.Choices[i].TokenIDs = nil
		}
	}
	if !req.ReturnTokenIDs {
		cc.PromptTokenIDs = nil
	}
	if u != nil && !req.IncludeUsage {
		if len(cc.Choices) == 0 {
			return nil, u, nil
		}
		cc.Usage = nil
	}
	return &cc, u, nil
}

// filterChat keeps in a chat completion the log-probabilities and token ids req asks
// for: none without logprobs, top_logprobs of the most likely tokens at each position.
func filterChat(cc *openai.ChatCompletion, req *Request) {
	for i := range cc.Choices {
		cc.Choices[i].Logprobs = filterChatLogprobs(cc.Choices[i].Logprobs, req)
		if !req.ReturnTokenIDs {
			cc.Choices[i].TokenIDs = nil
		}
	}
	if !req.ReturnTokenIDs {
		cc.PromptTokenIDs = nil
	}
}

func filterChatLogprobs(lp *openai.ChatLogprobs, req *Request) *openai.ChatLogprobs {
	if lp == nil || !req.Logprobs {
		return nil
	}
	for i := range lp.Content {
		t := &lp.Content[i]
		if len(t.TopLogprobs) > req.TopLogprobs {
			t.TopLogprobs = t.TopLogprobs[:req.TopLogprobs]
		}
		if t.TopLogprobs == nil {
			t.TopLogprobs = []openai.TopLogprob{}
		}
	}
	if lp.Content == nil {
		lp.Content = []openai.TokenLogprob{}
	}
	return lp
}

// filterText is filterChat for a legacy completion: the top logprobs maps keep the
// TopLogprobs most likely tokens (ties by token), none for logprobs 0.
func filterText(tc *openai.TextCompletion, req *Request) {
	for i := range tc.Choices {
		ch := &tc.Choices[i]
		if !req.ReturnTokenIDs {
			ch.TokenIDs = nil
		}
		if ch.Logprobs == nil {
			continue
		}
		if !req.Logprobs {
			ch.Logprobs = nil
			continue
		}
		if req.TopLogprobs == 0 {
			ch.Logprobs.TopLogprobs = nil
			continue
		}
		for j, m := range ch.Logprobs.TopLogprobs {
			ch.Logprobs.TopLogprobs[j] = topOf(m, req.TopLogprobs)
		}
	}
	if !req.ReturnTokenIDs {
		tc.PromptTokenIDs = nil
	}
}

// topOf is the k most likely tokens of m (ties by token).
func topOf(m map[string]float64, k int) map[string]float64 {
	if len(m) <= k {
		return m
	}
	type kv struct {
		tok string
		lp  float64
	}
	all := make([]kv, 0, len(m))
	for t, lp := range m {
		all = append(all, kv{t, lp})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if c := cmp.Compare(b.lp, a.lp); c != 0 {
			return c
		}
		return strings.Compare(a.tok, b.tok)
	})
	out := make(map[string]float64, k)
	for _, e := range all[:k] {
		out[e.tok] = e.lp
	}
	return out
}

// sseReader reads the data of server-sent events: the "data:" lines of each event
// joined by newlines; comments, other fields and events without data are skipped.
type sseReader struct {
	r   *bufio.Reader
	max int
}

func newSSEReader(r io.Reader, max int) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next event's data; io.EOF at the end of the stream.
func (s *sseReader) next() ([]byte, error) {
	var data []byte
	has := false
	for {
		line, err := s.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: gather it whole, within the bound.
			buf := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) && len(buf) <= s.max {
				line, err = s.r.ReadSlice('\n')
				buf = append(buf, line...)
			}
			if len(buf) > s.max {
				return nil, fmt.Errorf("an event exceeds %d bytes", s.max)
			}
			line = buf
		}
		if err != nil && !(err == io.EOF && len(line) > 0) {
			if err == io.EOF && has {
				return data, nil
			}
			return nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			if has {
				return data, nil
			}
			if err == io.EOF {
				return nil, io.EOF
			}
			continue
		}
		if v, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			v = bytes.TrimPrefix(v, []byte(" "))
			if has {
				data = append(data, '\n')
			}
			data = append(data, v...)
			has = true
			if len(data) > s.max {
				return nil, fmt.Errorf("an event exceeds %d bytes", s.max)
			}
		}
		if err == io.EOF {
			if has {
				return data, nil
			}
			return nil, io.EOF
		}
	}
}
