package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-net/tessera/internal/openai"
)

// This file holds the HTTP endpoints: /v1/models, /v1/chat/completions and
// /v1/completions (routed by model to an Upstream, whose committed answer is written
// here, whole or streamed) and /healthz, with API-key authentication and the JSON
// answers they share.

// healthz answers 200 when every subnet behind a model has miners and every other
// upstream has a healthy executor, else 503, with each subnet's miner count and each
// other upstream's models and healthy executors.
func (g *Gateway) healthz(w http.ResponseWriter, r *http.Request) {
	type sub struct {
		Netuid uint16 `json:"netuid"`
		Miners int    `json:"miners"`
	}
	type upstream struct {
		Name      string `json:"name"`
		Models    int    `json:"models"`
		Executors int    `json:"executors"` // healthy ones, counted once across models
	}
	subs := []sub{}
	ok := true
	if g.textgen != nil {
		seen := map[uint16]bool{}
		for _, md := range g.textgen.order {
			if !seen[md.Netuid] {
				seen[md.Netuid] = true
				n := g.router.count(md.Netuid)
				ok = ok && n > 0
				subs = append(subs, sub{md.Netuid, n})
			}
		}
	}
	ups := []upstream{}
	for _, up := range g.cfg.Upstreams {
		u := upstream{Name: up.Name()}
		seen := map[string]bool{}
		for _, mi := range up.Models() {
			u.Models++
			for _, ex := range up.Executors(mi.ID) {
				if ex.Healthy && !seen[ex.ID] {
					seen[ex.ID] = true
					u.Executors++
				}
			}
		}
		ok = ok && u.Executors > 0
		ups = append(ups, u)
	}
	body, _ := json.Marshal(map[string]any{"ok": ok, "subnets": subs, "upstreams": ups})
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	openai.WriteJSON(w, status, body)
}

// authenticate checks the caller's API key and rate limit; nil key state means no key
// store is configured.
func (g *Gateway) authenticate(w http.ResponseWriter, r *http.Request, now time.Time) (*keyState, *openai.APIError) {
	if g.cfg.Keys == nil {
		return nil, nil
	}
	scheme, secret, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return nil, openai.Errorf(http.StatusUnauthorized, openai.TypeInvalidRequest, "", "",
			"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
	}
	st, err := g.cfg.Keys.Authenticate(strings.TrimSpace(secret))
	if err != nil {
		hint := secret
		if len(hint) > 10 {
			hint = hint[:6] + "…" + hint[len(hint)-4:]
		}
		return nil, openai.Errorf(http.StatusUnauthorized, openai.TypeInvalidRequest, "invalid_api_key", "",
			"Incorrect API key provided: %s (%v).", hint, err)
	}
	recordOf(r.Context()).keyID = st.key.ID // the id never changes: no lock needed
	ok, wait, k, lim := st.allow(now)
	if lim.perMinute > 0 {
		rateLimitHeaders(w.Header(), lim.perMinute, lim.remaining, lim.reset)
	}
	if !ok {
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		g.charge(r.Context(), st, Usage{Errors: 1}, now)
		return nil, openai.Errorf(http.StatusTooManyRequests, openai.TypeRequests, "rate_limit_exceeded", "",
			"Rate limit reached for key %q: %g requests per minute, burst %d. Please try again in %s.",
			k.Name, k.RatePerMinute, k.Burst, wait.Round(time.Millisecond))
	}
	return st, nil
}

// admitModelsRequest checks that a /v1/models request is a GET by an authenticated
// caller; when it is not, it answers the error and returns false.
func (g *Gateway) admitModelsRequest(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet {
		g.done(w, "", "models", openai.MethodNotAllowed(w, r, http.MethodGet))
		return false
	}
	if _, e := g.authenticate(w, r, time.Now()); e != nil {
		g.done(w, "", "models", e)
		return false
	}
	return true
}

// listModels answers GET /v1/models with the models of every upstream.
func (g *Gateway) listModels(w http.ResponseWriter, r *http.Request) {
	if !g.admitModelsRequest(w, r) {
		return
	}
	openai.WriteJSON(w, http.StatusOK, g.catalog().list)
	g.m.requests.WithLabelValues("", "models", "200").Inc()
}

// getModel answers GET /v1/models/{id} with the model, or 404.
func (g *Gateway) getModel(w http.ResponseWriter, r *http.Request) {
	if !g.admitModelsRequest(w, r) {
		return
	}
	md, ok := g.catalog().models[r.PathValue("id")]
	if !ok {
		g.done(w, "", "models", openai.ModelNotFound(r.PathValue("id")))
		return
	}
	body, _ := json.Marshal(md.object())
	openai.WriteJSON(w, http.StatusOK, body)
	g.m.requests.WithLabelValues("", "models", "200").Inc()
}

// done answers an error and counts it.
func (g *Gateway) done(w http.ResponseWriter, model, mode string, e *openai.APIError) {
	openai.WriteError(w, e)
	g.m.requests.WithLabelValues(model, mode, strconv.Itoa(e.Status)).Inc()
}

// chatCompletions answers POST /v1/chat/completions.
func (g *Gateway) chatCompletions(w http.ResponseWriter, r *http.Request) {
	g.complete(w, r, parseChatRequest)
}

// completions answers POST /v1/completions, OpenAI's legacy endpoint: the prompt goes
// to the same miners as the one message of a chat, and the answer comes back as text.
func (g *Gateway) completions(w http.ResponseWriter, r *http.Request) {
	g.complete(w, r, parseCompletionRequest)
}

// complete answers a completion request: it authenticates the caller, reads the request
// and checks it with parse, routes it by its model to the upstream that serves it, and
// runs it there within RequestTimeout, streamed or not as the request asks.
func (g *Gateway) complete(w http.ResponseWriter, r *http.Request, parse func([]byte, map[string]Model) (parsedRequest, *openai.APIError)) {
	start := time.Now()
	if r.Method != http.MethodPost {
		g.done(w, "", "unary", openai.MethodNotAllowed(w, r, http.MethodPost))
		return
	}
	key, e := g.authenticate(w, r, start)
	if e != nil {
		g.done(w, "", "unary", e)
		return
	}
	body, e := openai.ReadBody(w, r, g.cfg.MaxBodyBytes)
	if e != nil {
		g.fail(r.Context(), w, key, "", "unary", e, start)
		return
	}
	p, e := parse(body, g.catalog().models)
	if e != nil {
		g.fail(r.Context(), w, key, "", "unary", e, start)
		return
	}
	p.Start = start
	mode := "unary"
	if p.Stream {
		mode = "stream"
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.RequestTimeout)
	defer cancel()
	a, err := p.model.up.Complete(ctx, &p.Request)
	if err != nil {
		g.fail(ctx, w, key, p.model.ID, mode, asAPIError(err), start)
		return
	}
	for k, vs := range a.Header {
		w.Header()[k] = vs
	}
	recordOf(ctx).miner = a.UID
	if a.Stream != nil {
		g.stream(ctx, w, key, p, a, start)
		return
	}
	body, err = json.Marshal(a.Body)
	if err != nil {
		g.fail(ctx, w, key, p.model.ID, "unary", openai.Errorf(http.StatusInternalServerError, openai.TypeServer, "", "", "encode the answer: %v", err), start)
		return
	}
	g.settle(ctx, key, p, "unary", a.Usage, start)
	openai.WriteJSON(w, http.StatusOK, body)
}

// asAPIError is an upstream's error for the caller: the upstream's *openai.APIError,
// else a 502.
func asAPIError(err error) *openai.APIError {
	var e *openai.APIError
	if errors.As(err, &e) {
		return e
	}
	return openai.Errorf(http.StatusBadGateway, openai.TypeServer, "upstream_error", "", "The upstream could not answer: %v", err)
}

// stream writes a committed streamed answer as server-sent events, and settles it when
// it ends; a stream that breaks off ends with an OpenAI-style error event.
func (g *Gateway) stream(ctx context.Context, w http.ResponseWriter, key *keyState, p parsedRequest, a *Answer, start time.Time) {
	sse := openai.NewSSE(w)
	sse.Start()
	gone := false
	u, err := a.Stream(func(ev any) bool {
		if sse.Send(ev) != nil {
			gone = true
		}
		return !gone
	})
	if gone {
		return
	}
	if err != nil {
		e := openai.Errorf(http.StatusBadGateway, openai.TypeServer, "stream_interrupted", "", "The %s's stream broke off: %v", a.By, err)
		if ctx.Err() != nil {
			e = openai.Errorf(http.StatusGatewayTimeout, openai.TypeServer, "timeout", "", "The answer did not finish within the request's deadline of %s.", g.cfg.RequestTimeout)
		}
		recordOf(ctx).broken = true
		g.charge(ctx, key, Usage{Requests: 1, Errors: 1}, start)
		sse.Error(e)
		g.m.requests.WithLabelValues(p.model.ID, "stream", strconv.Itoa(e.Status)).Inc()
		return
	}
	g.settle(ctx, key, p, "stream", u, start)
	sse.Done()
}

// settle counts a served request and charges it to the key; the answer's last byte
// follows it.
func (g *Gateway) settle(ctx context.Context, key *keyState, p parsedRequest, mode string, u openai.Usage, start time.Time) {
	g.m.requests.WithLabelValues(p.model.ID, mode, "200").Inc()
	g.m.duration.WithLabelValues(mode).Observe(time.Since(start).Seconds())
	g.m.tokens.WithLabelValues("prompt").Add(float64(u.PromptTokens))
	g.m.tokens.WithLabelValues("completion").Add(float64(u.CompletionTokens))
	g.charge(ctx, key, Usage{Requests: 1, PromptTokens: int64(u.PromptTokens), CompletionTokens: int64(u.CompletionTokens)}, start)
}

// fail charges an error to the key, then answers it and counts it.
func (g *Gateway) fail(ctx context.Context, w http.ResponseWriter, key *keyState, model, mode string, e *openai.APIError, start time.Time) {
	g.charge(ctx, key, Usage{Requests: 1, Errors: 1}, start)
	g.done(w, model, mode, e)
}

// charge writes usage u to the key's record before the request is answered (nothing
// without a key); a failed write is logged, and the usage kept for the next flush.
func (g *Gateway) charge(ctx context.Context, key *keyState, u Usage, at time.Time) {
	if key == nil {
		return
	}
	if err := g.cfg.Keys.Charge(ctx, key, u, at); err != nil {
		g.log.Error("writing usage failed; it is kept for the next flush", "key_id", key.key.ID, "err", err)
	}
}
