package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-net/tessera/internal/openai"
)

// This file holds the HTTP endpoints: /v1/models, /v1/chat/completions (up to the
// point where failover.go runs the request on miners) and /healthz, with API-key
// authentication and the JSON answers they share.

// healthz answers 200 when every subnet behind a model has miners, else 503, with
// each subnet's miner count.
func (g *Gateway) healthz(w http.ResponseWriter, r *http.Request) {
	type sub struct {
		Netuid uint16 `json:"netuid"`
		Miners int    `json:"miners"`
	}
	var subs []sub
	seen := map[uint16]bool{}
	ok := true
	for _, md := range g.cfg.Models {
		if !seen[md.Netuid] {
			seen[md.Netuid] = true
			n := g.router.count(md.Netuid)
			ok = ok && n > 0
			subs = append(subs, sub{md.Netuid, n})
		}
	}
	body, _ := json.Marshal(map[string]any{"ok": ok, "subnets": subs})
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

// listModels answers GET /v1/models with the configured models.
func (g *Gateway) listModels(w http.ResponseWriter, r *http.Request) {
	if !g.admitModelsRequest(w, r) {
		return
	}
	openai.WriteJSON(w, http.StatusOK, g.list)
	g.m.requests.WithLabelValues("", "models", "200").Inc()
}

// getModel answers GET /v1/models/{id} with the model, or 404.
func (g *Gateway) getModel(w http.ResponseWriter, r *http.Request) {
	if !g.admitModelsRequest(w, r) {
		return
	}
	md, ok := g.models[r.PathValue("id")]
	if !ok {
		g.done(w, "", "models", openai.ModelNotFound(r.PathValue("id")))
		return
	}
	body, _ := json.Marshal(openai.ModelObject{ID: md.ID, Object: "model", Created: md.Created, OwnedBy: fmt.Sprintf("tessera-subnet-%d", md.Netuid)})
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
// and checks it with parse, and runs it on the miners within RequestTimeout, streamed
// or not as the request asks.
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
	p, e := parse(body, g.models)
	if e != nil {
		g.fail(r.Context(), w, key, "", "unary", e, start)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.RequestTimeout)
	defer cancel()
	if p.stream {
		g.stream(ctx, w, key, p, start)
	} else {
		g.unary(ctx, w, key, p, start)
	}
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
