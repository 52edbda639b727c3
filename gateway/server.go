package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/wire"
)

// Config configures a Gateway. Fields without a default are required.
type Config struct {
	// Models are the model names the textgen subnet serves and the subnet behind each;
	// they make the gateway's first upstream.
	Models []Model
	// Source lists each subnet's miners (required with Models).
	Source Source
	// Dendrite signs and sends the queries to miners (required with Models).
	Dendrite *wire.Dendrite
	// Upstreams are further networks behind the gateway, after the textgen subnet: an
	// *InferenceUpstream for the inference network. A model two upstreams serve goes
	// to the first (the textgen subnet's models first).
	Upstreams []Upstream
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
	// Logger receives the gateway's logs (discarded when nil): one Info line for each
	// request, with its method, path, status, duration, key id, request id and the uid
	// of the miner that answered (-1: none).
	Logger *slog.Logger
	// CORSOrigins are the origins browsers may call the gateway from; "*" admits any.
	// None by default: a browser page holding an API key gives it away, so a browser
	// app is a deliberate choice.
	CORSOrigins []string
	// StatsWindow is how many of the latest requests, and of the latest attempts on
	// miners, GET /v1/stats computes latencies and shares over (default
	// DefaultStatsWindow).
	StatsWindow int
}

// Gateway is the OpenAI-compatible API server. It is an http.Handler.
type Gateway struct {
	cfg     Config
	textgen *textgenUpstream // nil without Models
	ups     []Upstream       // textgen first, then Config.Upstreams
	cat     atomic.Pointer[catalog]
	router  *router
	m       *metrics
	stats   *stats
	log     *slog.Logger
	mux     *http.ServeMux
	started time.Time
	refresh sync.Mutex
}

// New checks the configuration and makes a gateway. Call Refresh (or Serve, which
// refreshes) before it can route.
func New(cfg Config) (*Gateway, error) {
	if len(cfg.Models) == 0 && len(cfg.Upstreams) == 0 {
		return nil, errors.New("gateway: no models configured and no upstream")
	}
	if len(cfg.Models) > 0 && cfg.Source == nil {
		return nil, errors.New("gateway: no miner source configured")
	}
	if len(cfg.Models) > 0 && cfg.Dendrite == nil {
		return nil, errors.New("gateway: no dendrite configured")
	}
	for i, up := range cfg.Upstreams {
		if up == nil {
			return nil, fmt.Errorf("gateway: upstream %d is nil", i)
		}
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
	if cfg.StatsWindow <= 0 {
		cfg.StatsWindow = DefaultStatsWindow
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
	now := time.Now()
	g := &Gateway{cfg: cfg, router: newRouter(cfg.Route, cfg.RerankInterval), m: m,
		stats: newStats(cfg.StatsWindow, now), log: cfg.Logger.With("component", "gateway"), mux: http.NewServeMux(), started: now}
	if len(cfg.Models) > 0 {
		if g.textgen, err = newTextgenUpstream(g, cfg.Models); err != nil {
			return nil, err
		}
		g.ups = append(g.ups, g.textgen)
	}
	g.ups = append(g.ups, cfg.Upstreams...)
	for _, up := range cfg.Upstreams {
		if iu, ok := up.(*InferenceUpstream); ok {
			iu.attach(m)
		}
	}
	g.cat.Store(buildCatalog(g.ups, g.started))
	g.mux.HandleFunc("/v1/chat/completions", g.chatCompletions)
	g.mux.HandleFunc("/v1/completions", g.completions)
	g.mux.HandleFunc("/v1/models", g.listModels)
	g.mux.HandleFunc("/v1/models/{id...}", g.getModel)
	g.mux.HandleFunc("/healthz", g.healthz)
	g.mux.HandleFunc("/v1/stats", g.getStats)
	if gatherer != nil {
		g.mux.Handle("/metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	}
	g.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		openai.WriteError(w, openai.UnknownURL(r))
	})
	return g, nil
}

// Refresh refreshes every upstream — the miners of every subnet behind a model, read
// from the Source with each read bounded by max(RefreshInterval, 5 s); the inference
// network's API nodes and their models — then rebuilds the models the gateway routes.
// An upstream (or a subnet, or an API node) that cannot be read keeps what it had; the
// errors are joined.
func (g *Gateway) Refresh(ctx context.Context) error {
	g.refresh.Lock()
	defer g.refresh.Unlock()
	var errs []error
	for _, up := range g.ups {
		if err := up.Refresh(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	g.cat.Store(buildCatalog(g.ups, g.started))
	return errors.Join(errs...)
}

// catalog returns the models the gateway routes now.
func (g *Gateway) catalog() *catalog { return g.cat.Load() }

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
	g.log.Info("gateway serving", "addr", l.Addr().String(), "models", len(g.catalog().order))
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
