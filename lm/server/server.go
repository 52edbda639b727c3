package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/internal/prom"
	"github.com/tessera-net/tessera/lm"
	"github.com/tessera-net/tessera/lm/tokenizer"
)

// Options configure a Server; every field has a default.
type Options struct {
	// Name is the model's name in requests ("model") and in /v1/models (default: the
	// model's general.name, else "model").
	Name string
	// MaxTokens caps one completion's tokens (default and at most: the model's context
	// less one, the fewest tokens a prompt has).
	MaxTokens int
	// MaxBodyBytes bounds a request body (default 4 MiB); a longer one is a 413.
	MaxBodyBytes int64
	// Registerer receives the server's metrics (nil: none registered; they still
	// count). When it is also a prometheus.Gatherer (a *prometheus.Registry), GET
	// /metrics serves it.
	Registerer prometheus.Registerer
	// Logger receives one Info line for each request (discarded when nil).
	Logger *slog.Logger
	// Created is the Unix time /v1/models reports (0: when New ran).
	Created int64
	// ShutdownGrace is how long Serve lets requests in flight finish once its context
	// ends before it cancels them (default 10 s).
	ShutdownGrace time.Duration
}

// Server is the OpenAI-compatible HTTP server of one model. It is an http.Handler.
type Server struct {
	e    *lm.Engine
	m    *lm.Model
	tok  *tokenizer.Tokenizer // nil: the model has no vocabulary
	o    Options
	mux  *http.ServeMux
	met  *metrics
	log  *slog.Logger
	list []byte // the /v1/models answer
}

// New makes a server answering with e's model. The server does not own e: close the
// engine after the server has stopped.
func New(e *lm.Engine, o Options) (*Server, error) {
	if e == nil {
		return nil, errors.New("lm/server: no engine")
	}
	m := e.Model()
	if o.Name == "" {
		o.Name = m.Config.Name
	}
	if o.Name == "" {
		o.Name = "model"
	}
	if o.MaxTokens < 0 {
		return nil, fmt.Errorf("lm/server: max tokens %d is negative", o.MaxTokens)
	}
	if limit := m.Config.Context - 1; o.MaxTokens == 0 || o.MaxTokens > limit {
		o.MaxTokens = limit
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 4 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Created == 0 {
		o.Created = time.Now().Unix()
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 10 * time.Second
	}
	met, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{e: e, m: m, tok: m.Tokenizer, o: o, mux: http.NewServeMux(), met: met, log: o.Logger.With("component", "lm-server")}
	s.list, _ = json.Marshal(openai.ModelList{Object: "list", Data: []openai.ModelObject{s.modelObject()}})
	s.mux.HandleFunc("/v1/models", s.listModels)
	s.mux.HandleFunc("/v1/models/{id...}", s.getModel)
	s.mux.HandleFunc("/v1/chat/completions", s.chatCompletions)
	s.mux.HandleFunc("/v1/completions", s.completions)
	s.mux.HandleFunc("/v1/score", s.score)
	s.mux.HandleFunc("/v1/health", s.health)
	if g, ok := o.Registerer.(prometheus.Gatherer); ok {
		h := promhttp.HandlerFor(g, promhttp.HandlerOpts{})
		s.mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				openai.WriteError(w, openai.MethodNotAllowed(w, r, http.MethodGet))
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { openai.WriteError(w, openai.UnknownURL(r)) })
	return s, nil
}

// Name is the model name the server answers to.
func (s *Server) Name() string { return s.o.Name }

func (s *Server) modelObject() openai.ModelObject {
	return openai.ModelObject{ID: s.o.Name, Object: "model", Created: s.o.Created, OwnedBy: "tessera-lm"}
}

// record is what a handler tells its request's log line and metrics.
type record struct {
	prompt, completion int
	finish             string
}

type recordKey struct{}

func recordOf(ctx context.Context) *record {
	if r, ok := ctx.Value(recordKey{}).(*record); ok {
		return r
	}
	return &record{}
}

// endpoint is the metrics label of a path.
func endpoint(path string) string {
	switch {
	case path == "/v1/chat/completions":
		return "chat"
	case path == "/v1/completions":
		return "completions"
	case path == "/v1/score":
		return "score"
	case path == "/v1/models" || strings.HasPrefix(path, "/v1/models/"):
		return "models"
	case path == "/v1/health":
		return "health"
	case path == "/metrics":
		return "metrics"
	}
	return "other"
}

// ServeHTTP implements http.Handler: it gives the request its x-request-id, serves
// it, counts it and logs one line for it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := openai.RequestID(r.Header.Get("X-Request-Id"))
	w.Header().Set("X-Request-Id", id)
	sw := &openai.StatusWriter{ResponseWriter: w}
	rec := &record{}
	ep := endpoint(r.URL.Path)
	s.met.inFlight.Inc()
	s.mux.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), recordKey{}, rec)))
	s.met.inFlight.Dec()
	d := time.Since(start)
	if sw.Status == 0 {
		sw.Status = http.StatusOK
	}
	s.met.requests.WithLabelValues(ep, fmt.Sprint(sw.Status)).Inc()
	s.met.duration.WithLabelValues(ep).Observe(d.Seconds())
	attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", sw.Status),
		slog.Duration("duration", d), slog.String("request_id", id)}
	if rec.prompt > 0 {
		attrs = append(attrs, slog.Int("prompt_tokens", rec.prompt), slog.Int("completion_tokens", rec.completion))
	}
	if rec.finish != "" {
		attrs = append(attrs, slog.String("finish_reason", rec.finish))
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}

// Serve serves the API on l until ctx ends; then it stops taking requests and lets
// those in flight finish for up to ShutdownGrace, after which it cancels them.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	base, cancelAll := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelAll()
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		BaseContext: func(net.Listener) context.Context { return base },
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.log.Info("lm server serving", "addr", l.Addr().String(), "model", s.o.Name)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	var err error
	select {
	case err = <-errc:
		err = fmt.Errorf("lm server: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), s.o.ShutdownGrace)
		stop := context.AfterFunc(sctx, cancelAll) // past the grace: cancel the generations
		if serr := srv.Shutdown(sctx); serr != nil {
			srv.Close()
		}
		stop()
		cancel()
		<-errc
	}
	s.log.Info("lm server stopped")
	return err
}

// listModels answers GET /v1/models.
func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		openai.WriteError(w, openai.MethodNotAllowed(w, r, http.MethodGet))
		return
	}
	openai.WriteJSON(w, http.StatusOK, s.list)
}

// getModel answers GET /v1/models/{id}.
func (s *Server) getModel(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		openai.WriteError(w, openai.MethodNotAllowed(w, r, http.MethodGet))
		return
	}
	if r.PathValue("id") != s.o.Name {
		openai.WriteError(w, openai.ModelNotFound(r.PathValue("id")))
		return
	}
	body, _ := json.Marshal(s.modelObject())
	openai.WriteJSON(w, http.StatusOK, body)
}

// health answers GET /v1/health: the model and its shape.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		openai.WriteError(w, openai.MethodNotAllowed(w, r, http.MethodGet))
		return
	}
	c := s.m.Config
	body, _ := json.Marshal(map[string]any{"status": "ok", "model": s.o.Name, "context": c.Context, "vocab": c.Vocab,
		"max_tokens": s.o.MaxTokens, "chat_template": s.templateName()})
	openai.WriteJSON(w, http.StatusOK, body)
}

func (s *Server) templateName() string {
	if s.tok == nil {
		return ""
	}
	return s.tok.TemplateName()
}

type metrics struct {
	requests *prometheus.CounterVec   // endpoint, status
	duration *prometheus.HistogramVec // endpoint
	tokens   *prometheus.CounterVec   // kind
	rate     prometheus.Histogram
	inFlight prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	s := prom.NewSet(nil)
	m := &metrics{
		requests: s.CounterVec("tessera_lm_requests_total",
			"Requests answered, by endpoint (chat, completions, score, models, health, metrics, other) and HTTP status.", "endpoint", "status"),
		duration: s.HistogramVec("tessera_lm_request_duration_seconds",
			"Time to answer a request, to its last byte, by endpoint.",
			[]float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}, "endpoint"),
		tokens: s.CounterVec("tessera_lm_tokens_total",
			"Tokens processed, by kind: prompt (read), completion (generated), scored.", "kind"),
		rate: s.Histogram("tessera_lm_tokens_per_second",
			"Generated tokens a second of each completion, from its request's arrival to its last token.",
			[]float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}),
		inFlight: s.Gauge("tessera_lm_requests_in_flight", "Requests being answered."),
	}
	if err := s.Register(reg); err != nil {
		return nil, fmt.Errorf("lm/server: %w", err)
	}
	return m, nil
}
