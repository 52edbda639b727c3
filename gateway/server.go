package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tessera-net/tessera/subnets/textgen"
	"github.com/tessera-net/tessera/wire"
)

// Config configures a Gateway. Fields without a default are required.
type Config struct {
	// Models are the model names served and the subnet behind each.
	Models []Model
	// Source lists each subnet's miners.
	Source Source
	// Dendrite signs and sends the queries to miners.
	Dendrite *wire.Dendrite
	// Keys authenticates callers and limits their rates. nil serves without API keys
	// (for a private deployment or a devnet).
	Keys *KeyStore
	// Route tunes ranking and failover.
	Route RouteConfig
	// RequestTimeout bounds a whole request (default 60 s): past it the caller gets 504,
	// or a stream ends with an error event.
	RequestTimeout time.Duration
	// AttemptTimeout bounds how long one miner may take to its first byte (the whole
	// answer when not streamed) before the request fails over (default 20 s).
	AttemptTimeout time.Duration
	// RefreshInterval is how often the miners are read from the Source (default 12 s).
	RefreshInterval time.Duration
	// RerankInterval is how often the cached ranking is recomputed without a failure
	// (default 100 ms).
	RerankInterval time.Duration
	// MaxBodyBytes bounds a request body (default 4 MiB).
	MaxBodyBytes int64
	// Registerer receives the gateway's metrics; when it is also a prometheus.Gatherer
	// (a *prometheus.Registry), /metrics serves it. nil uses a registry of its own.
	Registerer prometheus.Registerer
	// Logger receives the gateway's logs (discarded when nil).
	Logger *slog.Logger
}

// Gateway is the OpenAI-compatible API server. It is an http.Handler.
type Gateway struct {
	cfg     Config
	models  map[string]Model
	list    []byte // the /v1/models answer
	router  *router
	m       *metrics
	log     *slog.Logger
	mux     *http.ServeMux
	started time.Time
	refresh sync.Mutex
}

// New checks the configuration and makes a gateway. Call Refresh (or Serve, which
// refreshes) before it can route.
func New(cfg Config) (*Gateway, error) {
	if len(cfg.Models) == 0 {
		return nil, errors.New("gateway: no models configured")
	}
	if cfg.Source == nil {
		return nil, errors.New("gateway: no miner source configured")
	}
	if cfg.Dendrite == nil {
		return nil, errors.New("gateway: no dendrite configured")
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 60 * time.Second
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 20 * time.Second
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = 12 * time.Second
	}
	if cfg.RerankInterval <= 0 {
		cfg.RerankInterval = 100 * time.Millisecond
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 4 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var gatherer prometheus.Gatherer
	if cfg.Registerer == nil {
		reg := prometheus.NewRegistry()
		cfg.Registerer, gatherer = reg, reg
	} else if g, ok := cfg.Registerer.(prometheus.Gatherer); ok {
		gatherer = g
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	g := &Gateway{cfg: cfg, models: map[string]Model{}, router: newRouter(cfg.Route, cfg.RerankInterval), m: m,
		log: cfg.Logger.With("component", "gateway"), mux: http.NewServeMux(), started: time.Now()}
	list := modelList{Object: "list", Data: []modelObject{}}
	for _, md := range cfg.Models {
		if md.ID == "" {
			return nil, errors.New("gateway: a model has an empty id")
		}
		if _, dup := g.models[md.ID]; dup {
			return nil, fmt.Errorf("gateway: model %q configured twice", md.ID)
		}
		if md.Created == 0 {
			md.Created = g.started.Unix()
		}
		g.models[md.ID] = md
		list.Data = append(list.Data, modelObject{ID: md.ID, Object: "model", Created: md.Created, OwnedBy: fmt.Sprintf("tessera-subnet-%d", md.Netuid)})
	}
	g.list, _ = json.Marshal(list)
	g.mux.HandleFunc("/v1/chat/completions", g.chatCompletions)
	g.mux.HandleFunc("/v1/models", g.listModels)
	g.mux.HandleFunc("/v1/models/{id...}", g.getModel)
	g.mux.HandleFunc("/healthz", g.healthz)
	if gatherer != nil {
		g.mux.Handle("/metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	}
	g.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, apiErr(http.StatusNotFound, "invalid_request_error", "unknown_url", "", "Unknown request URL: %s %s.", r.Method, r.URL.Path))
	})
	return g, nil
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.mux.ServeHTTP(w, r) }

// Refresh reads the miners of every subnet behind a model from the Source, each read
// bounded by max(RefreshInterval, 5 s). A subnet that cannot be read keeps the miners
// it had; the errors are joined.
func (g *Gateway) Refresh(ctx context.Context) error {
	g.refresh.Lock()
	defer g.refresh.Unlock()
	seen := map[uint16]bool{}
	var errs []error
	for _, md := range g.cfg.Models {
		if seen[md.Netuid] {
			continue
		}
		seen[md.Netuid] = true
		// A node that does not answer must not hold the refresh (or Serve's start) up.
		sctx, cancel := context.WithTimeout(ctx, max(g.cfg.RefreshInterval, 5*time.Second))
		ms, err := g.cfg.Source.Miners(sctx, md.Netuid)
		cancel()
		if err != nil {
			g.m.refreshErrs.Inc()
			errs = append(errs, err)
			continue
		}
		g.router.setMiners(md.Netuid, ms)
		g.m.miners.WithLabelValues(strconv.Itoa(int(md.Netuid))).Set(float64(len(ms)))
	}
	return errors.Join(errs...)
}

// Run refreshes the miners every RefreshInterval until ctx ends.
func (g *Gateway) Run(ctx context.Context) {
	t := time.NewTicker(g.cfg.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := g.Refresh(ctx); err != nil && ctx.Err() == nil {
				g.log.Warn("refreshing miners failed; keeping the last list", "err", err)
			}
		}
	}
}

// Serve refreshes the miners, then serves the API on l until ctx ends, refreshing
// miners (and, with a key store, flushing usage) in the background; then it shuts down
// gracefully, letting requests in flight finish for up to RequestTimeout.
func (g *Gateway) Serve(ctx context.Context, l net.Listener) error {
	if err := g.Refresh(ctx); err != nil {
		g.log.Warn("first read of the miners failed; retrying every refresh interval", "err", err)
	}
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(g.log.Handler(), slog.LevelDebug)}
	bg, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); g.Run(bg) }()
	if g.cfg.Keys != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.cfg.Keys.Run(bg, 5*time.Second, func(err error) { g.log.Error("key store", "err", err) })
		}()
	}
	g.log.Info("gateway serving", "addr", l.Addr().String(), "models", len(g.models))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	var err error
	select {
	case err = <-errc:
		err = fmt.Errorf("gateway serve: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.RequestTimeout)
		if serr := srv.Shutdown(sctx); serr != nil {
			srv.Close()
			err = fmt.Errorf("gateway shutdown: %w", serr)
		}
		cancel()
		<-errc
	}
	stop()
	wg.Wait()
	g.log.Info("gateway stopped")
	return err
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}

func writeError(w http.ResponseWriter, e *APIError) {
	body, _ := json.Marshal(struct {
		Error *APIError `json:"error"`
	}{e})
	writeJSON(w, e.Status, body)
}

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
	writeJSON(w, status, body)
}

// authenticate checks the caller's API key and rate limit; nil key state means no key
// store is configured.
func (g *Gateway) authenticate(w http.ResponseWriter, r *http.Request, now time.Time) (*keyState, *APIError) {
	if g.cfg.Keys == nil {
		return nil, nil
	}
	scheme, secret, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return nil, apiErr(http.StatusUnauthorized, "invalid_request_error", "", "",
			"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
	}
	st, err := g.cfg.Keys.Authenticate(strings.TrimSpace(secret))
	if err != nil {
		hint := secret
		if len(hint) > 10 {
			hint = hint[:6] + "…" + hint[len(hint)-4:]
		}
		return nil, apiErr(http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "",
			"Incorrect API key provided: %s (%v).", hint, err)
	}
	if ok, wait, k := st.allow(now); !ok {
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		st.record(Usage{Errors: 1}, now)
		return nil, apiErr(http.StatusTooManyRequests, "requests", "rate_limit_exceeded", "",
			"Rate limit reached for key %q: %g requests per minute, burst %d. Please try again in %s.",
			k.Name, k.RatePerMinute, k.Burst, wait.Round(time.Millisecond))
	}
	return st, nil
}

func (g *Gateway) listModels(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		g.done(w, "", "models", apiErr(http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed", "", "Use GET for %s.", r.URL.Path))
		return
	}
	if _, e := g.authenticate(w, r, time.Now()); e != nil {
		g.done(w, "", "models", e)
		return
	}
	writeJSON(w, http.StatusOK, g.list)
	g.m.requests.WithLabelValues("", "models", "200").Inc()
}

func (g *Gateway) getModel(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		g.done(w, "", "models", apiErr(http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed", "", "Use GET for %s.", r.URL.Path))
		return
	}
	if _, e := g.authenticate(w, r, time.Now()); e != nil {
		g.done(w, "", "models", e)
		return
	}
	md, ok := g.models[r.PathValue("id")]
	if !ok {
		g.done(w, "", "models", apiErr(http.StatusNotFound, "invalid_request_error", "model_not_found", "model",
			"The model '%s' does not exist or you do not have access to it.", r.PathValue("id")))
		return
	}
	body, _ := json.Marshal(modelObject{ID: md.ID, Object: "model", Created: md.Created, OwnedBy: fmt.Sprintf("tessera-subnet-%d", md.Netuid)})
	writeJSON(w, http.StatusOK, body)
	g.m.requests.WithLabelValues("", "models", "200").Inc()
}

// done answers an error and counts it.
func (g *Gateway) done(w http.ResponseWriter, model, mode string, e *APIError) {
	writeError(w, e)
	g.m.requests.WithLabelValues(model, mode, strconv.Itoa(e.Status)).Inc()
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return "chatcmpl-" + hex.EncodeToString(b[:])
}

func (g *Gateway) chatCompletions(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodPost {
		g.done(w, "", "unary", apiErr(http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed", "", "Use POST for %s.", r.URL.Path))
		return
	}
	key, e := g.authenticate(w, r, start)
	if e != nil {
		g.done(w, "", "unary", e)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			e = apiErr(http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large", "", "The request body exceeds %d bytes.", g.cfg.MaxBodyBytes)
		} else {
			e = invalid("", "", "Could not read the request body: %v", err)
		}
		g.fail(w, key, "", "unary", e, start)
		return
	}
	p, e := parseChatRequest(body, g.models)
	if e != nil {
		g.fail(w, key, "", "unary", e, start)
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

// fail answers an error, counts it, and charges it to the key.
func (g *Gateway) fail(w http.ResponseWriter, key *keyState, model, mode string, e *APIError, start time.Time) {
	g.done(w, model, mode, e)
	if key != nil {
		key.record(Usage{Requests: 1, Errors: 1}, start)
	}
}

// failures tallies a request's failed attempts.
type failures struct {
	n         int // attempts that failed
	invalid   int // refused as an invalid request (400, 413): the caller's fault
	forbidden int // refused the gateway's hotkey (401, 403)
	last      error
}

// add classifies a failed attempt and reports whether the miner is to blame (and so
// cooled down) and the outcome for metrics.
func (f *failures) add(err error) (blame bool, outcome string) {
	f.n++
	f.last = err
	var se *wire.StatusError
	if errors.As(err, &se) {
		switch se.Code {
		case http.StatusRequestTimeout:
			return true, "timeout"
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			f.invalid++
			return false, "refused"
		case http.StatusUnauthorized, http.StatusForbidden:
			f.forbidden++
			return false, "refused"
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errFirstByte) {
		return true, "timeout"
	}
	return true, "error"
}

// noAnswer is the error when no miner answered: 503 when there were no miners, 504
// past the deadline, 400 when every miner refused the request as invalid, 502
// otherwise (saying so when every miner refused the gateway's hotkey).
func (g *Gateway) noAnswer(ctx context.Context, p parsedRequest, tried int, f *failures) *APIError {
	timeout := g.cfg.RequestTimeout
	var se *wire.StatusError
	lastStatus := errors.As(f.last, &se)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < 10*time.Millisecond && lastStatus && se.Code == http.StatusRequestTimeout {
		// The last attempt ran out of the request's own time: the dendrite's timeout
		// (the request's remaining time) fired just before the request's context.
		return apiErr(http.StatusGatewayTimeout, "server_error", "timeout", "",
			"No miner answered within the request's deadline of %s (%d tried).", timeout, tried)
	}
	switch {
	case tried == 0:
		return apiErr(http.StatusServiceUnavailable, "server_error", "no_miners_available", "",
			"No miner of subnet %d serves model '%s' right now. Please try again later.", p.model.Netuid, p.model.ID)
	case ctx.Err() != nil || f.n == 0:
		return apiErr(http.StatusGatewayTimeout, "server_error", "timeout", "",
			"No miner answered within the request's deadline of %s (%d tried).", timeout, tried)
	case f.invalid == f.n:
		msg := f.last.Error()
		if lastStatus {
			msg = se.Message
		}
		return invalid("", "invalid_value", "The miners refused the request: %s", msg)
	case f.forbidden == f.n:
		return apiErr(http.StatusBadGateway, "server_error", "gateway_not_admitted", "",
			"The miners refused the gateway's hotkey %s (%v); it must be registered on subnet %d.", g.cfg.Dendrite.Hotkey(), f.last, p.model.Netuid)
	}
	return apiErr(http.StatusBadGateway, "server_error", "miners_unavailable", "",
		"None of the %d miners tried could answer (last error: %v). Please try again.", tried, f.last)
}

func (g *Gateway) unary(ctx context.Context, w http.ResponseWriter, key *keyState, p parsedRequest, start time.Time) {
	plan := g.router.plan(p.model.Netuid, start)
	var f failures
	for i, m := range plan {
		if ctx.Err() != nil {
			break
		}
		if i > 0 {
			g.m.failovers.Inc()
		}
		budget := g.cfg.AttemptTimeout
		if dl, ok := ctx.Deadline(); ok {
			budget = min(budget, time.Until(dl))
		}
		syn := textgen.NewChatCompletion(p.req, budget.Seconds())
		res := g.cfg.Dendrite.Call(ctx, m.Axon, syn)
		now := time.Now()
		if res.Err == nil {
			c := res.Synapse.(*textgen.ChatCompletion)
			g.router.observe(m.Axon.Hotkey, res.Latency, true, now)
			g.m.attempts.WithLabelValues("ok").Inc()
			g.answer(w, key, p, m, c, start)
			return
		}
		blame, outcome := f.add(res.Err)
		if blame && (ctx.Err() == nil || errors.Is(context.Cause(ctx), context.DeadlineExceeded)) {
			g.router.observe(m.Axon.Hotkey, res.Latency, false, now)
		}
		g.m.attempts.WithLabelValues(outcome).Inc()
		g.log.Debug("miner failed", "uid", m.UID, "hotkey", m.Axon.Hotkey, "err", res.Err)
	}
	g.fail(w, key, p.model.ID, "unary", g.noAnswer(ctx, p, len(plan), &f), start)
}

func (g *Gateway) answer(w http.ResponseWriter, key *keyState, p parsedRequest, m Miner, c *textgen.ChatCompletion, start time.Time) {
	finish := c.FinishReason
	if finish == "" {
		finish = "stop"
	}
	resp := chatResponse{ID: newID(), Object: "chat.completion", Created: start.Unix(), Model: p.model.ID,
		Choices:           []respChoice{{Message: respMessage{Role: "assistant", Content: c.Completion}, FinishReason: finish}},
		Usage:             usageOf(c.Usage),
		SystemFingerprint: fmt.Sprintf("tessera-%d-%d", p.model.Netuid, m.UID)}
	body, err := json.Marshal(resp)
	if err != nil {
		g.fail(w, key, p.model.ID, "unary", apiErr(http.StatusInternalServerError, "server_error", "", "", "encode the answer: %v", err), start)
		return
	}
	w.Header()["X-Tessera-Miner"] = []string{m.Axon.Hotkey}
	writeJSON(w, http.StatusOK, body)
	g.settle(key, p, "unary", c.Usage, start)
}

// settle counts a served request.
func (g *Gateway) settle(key *keyState, p parsedRequest, mode string, u textgen.Usage, start time.Time) {
	g.m.requests.WithLabelValues(p.model.ID, mode, "200").Inc()
	g.m.duration.WithLabelValues(mode).Observe(time.Since(start).Seconds())
	g.m.tokens.WithLabelValues("prompt").Add(float64(u.PromptTokens))
	g.m.tokens.WithLabelValues("completion").Add(float64(u.CompletionTokens))
	if key != nil {
		key.record(Usage{Requests: 1, PromptTokens: int64(u.PromptTokens), CompletionTokens: int64(u.CompletionTokens)}, start)
	}
}

// errFirstByte is the cause of an attempt cancelled for taking too long to its first byte.
var errFirstByte = errors.New("no first byte within the attempt timeout")

func (g *Gateway) stream(ctx context.Context, w http.ResponseWriter, key *keyState, p parsedRequest, start time.Time) {
	plan := g.router.plan(p.model.Netuid, start)
	var f failures
	for i, m := range plan {
		if ctx.Err() != nil {
			break
		}
		if i > 0 {
			g.m.failovers.Inc()
		}
		committed, err := g.streamFrom(ctx, w, key, p, m, start)
		if committed {
			return
		}
		blame, outcome := f.add(err)
		if blame && ctx.Err() == nil {
			g.router.observe(m.Axon.Hotkey, time.Since(start), false, time.Now())
		}
		g.m.attempts.WithLabelValues(outcome).Inc()
		g.log.Debug("miner failed before its first byte", "uid", m.UID, "hotkey", m.Axon.Hotkey, "err", err)
	}
	g.fail(w, key, p.model.ID, "stream", g.noAnswer(ctx, p, len(plan), &f), start)
}

// streamFrom streams one miner's answer to the caller. Until the miner's first event
// nothing is written and a failure returns committed=false, so the caller can fail
// over; after it the answer is the caller's, and a failure ends the stream with an
// error event.
func (g *Gateway) streamFrom(ctx context.Context, w http.ResponseWriter, key *keyState, p parsedRequest, m Miner, start time.Time) (committed bool, err error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(g.cfg.AttemptTimeout, func() { cancel(errFirstByte) })
	defer timer.Stop()
	budget := g.cfg.RequestTimeout
	if dl, ok := ctx.Deadline(); ok {
		budget = time.Until(dl)
	}
	syn := &textgen.ChatCompletionStream{ChatCompletion: *textgen.NewChatCompletion(p.req, budget.Seconds())}
	attemptStart := time.Now()
	var events iter.Seq2[[]byte, error]
	st, err := g.cfg.Dendrite.Stream(actx, m.Axon, syn)
	var se *wire.StatusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		// The miner serves ChatCompletion only (a subnet binary whose definition has
		// no streaming route): ask for the whole answer and stream it as one chunk.
		res := g.cfg.Dendrite.Call(actx, m.Axon, textgen.NewChatCompletion(p.req, budget.Seconds()))
		if err = res.Err; err == nil {
			events = wholeAnswer(res.Synapse.(*textgen.ChatCompletion))
		}
	} else if err == nil {
		defer st.Close()
		events = st.Events()
	}
	if err != nil {
		if context.Cause(actx) == errFirstByte {
			return false, errFirstByte
		}
		return false, err
	}

	id, created := newID(), start.Unix()
	fp := fmt.Sprintf("tessera-%d-%d", p.model.Netuid, m.UID)
	rc := http.NewResponseController(w)
	var buf []byte
	send := func(c chatChunk) error {
		c.ID, c.Object, c.Created, c.Model, c.SystemFingerprint = id, "chat.completion.chunk", created, p.model.ID, fp
		if c.Choices == nil {
			c.Choices = []chunkChoice{}
		}
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		buf = append(append(append(buf[:0], "data: "...), data...), "\n\n"...)
		if _, err := w.Write(buf); err != nil {
			return err
		}
		return rc.Flush()
	}
	var final textgen.StreamChunk
	for ev, err := range events {
		if err == nil && !committed {
			if !timer.Stop() { // the first byte came too late: the attempt is cancelled
				return false, errFirstByte
			}
		}
		if err != nil {
			if !committed {
				if context.Cause(actx) == errFirstByte {
					return false, errFirstByte
				}
				return false, err
			}
			g.streamBroken(ctx, w, rc, key, p, m, err, start)
			return true, nil
		}
		var ch textgen.StreamChunk
		if jerr := json.Unmarshal(ev, &ch); jerr != nil {
			if !committed {
				return false, fmt.Errorf("miner sent an event that is not a stream chunk: %w", jerr)
			}
			g.streamBroken(ctx, w, rc, key, p, m, jerr, start)
			return true, nil
		}
		if !committed {
			committed = true
			g.router.observe(m.Axon.Hotkey, time.Since(attemptStart), true, time.Now())
			g.m.attempts.WithLabelValues("ok").Inc()
			h := w.Header()
			h["Content-Type"] = []string{"text/event-stream"}
			h["Cache-Control"] = []string{"no-cache"}
			h["X-Accel-Buffering"] = []string{"no"}
			h["X-Tessera-Miner"] = []string{m.Axon.Hotkey}
			w.WriteHeader(http.StatusOK)
			if err := send(chatChunk{Choices: []chunkChoice{{Delta: chunkDelta{Role: "assistant", Content: new(string)}}}}); err != nil {
				return true, nil // the caller went away
			}
		}
		if ch.Delta != "" {
			d := ch.Delta
			if err := send(chatChunk{Choices: []chunkChoice{{Delta: chunkDelta{Content: &d}}}}); err != nil {
				return true, nil
			}
		}
		if ch.FinishReason != "" {
			final = ch
		}
	}
	if !committed {
		return false, errors.New("the miner's stream ended without a chunk")
	}
	if final.FinishReason == "" {
		g.streamBroken(ctx, w, rc, key, p, m, errors.New("the miner's stream ended without a finish reason"), start)
		return true, nil
	}
	fr := final.FinishReason
	if err := send(chatChunk{Choices: []chunkChoice{{Delta: chunkDelta{}, FinishReason: &fr}}}); err != nil {
		return true, nil
	}
	var u textgen.Usage
	if final.Usage != nil {
		u = *final.Usage
	}
	if p.includeUsage {
		ru := usageOf(u)
		if err := send(chatChunk{Usage: &ru}); err != nil {
			return true, nil
		}
	}
	w.Write([]byte("data: [DONE]\n\n"))
	rc.Flush()
	g.settle(key, p, "stream", u, start)
	return true, nil
}

// wholeAnswer yields a complete answer as the events of a stream: the text, then the
// finish reason and usage.
func wholeAnswer(c *textgen.ChatCompletion) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		usage := c.Usage
		for _, ch := range []textgen.StreamChunk{{Delta: c.Completion}, {FinishReason: c.FinishReason, Usage: &usage, Model: c.BackendModel}} {
			if ch.FinishReason == "" && ch.Usage != nil {
				ch.FinishReason = "stop"
			}
			data, err := json.Marshal(ch)
			if !yield(data, err) || err != nil {
				return
			}
		}
	}
}

// streamBroken ends a stream already under way with an OpenAI-style error event.
func (g *Gateway) streamBroken(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, key *keyState, p parsedRequest, m Miner, err error, start time.Time) {
	e := apiErr(http.StatusBadGateway, "server_error", "stream_interrupted", "", "The miner's stream broke off: %v", err)
	if ctx.Err() != nil {
		e = apiErr(http.StatusGatewayTimeout, "server_error", "timeout", "", "The answer did not finish within the request's deadline of %s.", g.cfg.RequestTimeout)
	}
	g.router.observe(m.Axon.Hotkey, time.Since(start), false, time.Now())
	g.m.attempts.WithLabelValues("error").Inc()
	body, _ := json.Marshal(struct {
		Error *APIError `json:"error"`
	}{e})
	w.Write(append(append([]byte("data: "), body...), "\n\n"...))
	rc.Flush()
	g.m.requests.WithLabelValues(p.model.ID, "stream", strconv.Itoa(e.Status)).Inc()
	if key != nil {
		key.record(Usage{Requests: 1, Errors: 1}, start)
	}
}
