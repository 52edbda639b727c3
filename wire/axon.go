package wire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tessera-net/tessera/keys"
)

type route struct {
	name    string
	schema  *schema
	handler Handler
	opts    AttachOptions
	reqs    map[int]prometheus.Counter // status → counter, filled lazily
	reqMu   sync.RWMutex
	dur     prometheus.Observer
}

// Axon is the server side of the wire protocol: it authenticates signed requests and
// runs the handler attached for the synapse. It is an http.Handler and is safe for
// concurrent use.
type Axon struct {
	terminal
	cfg     AxonConfig
	routes  atomic.Pointer[map[string]*route]
	attach  sync.Mutex
	nonces  *nonceTracker
	limiter *rateLimiter
	sched   *scheduler
	bufs    bufPool
	metrics *axonMetrics
	log     *slog.Logger
}

// NewAxon makes an axon that answers as the hotkey pair. It has Bittensor's default
// "Synapse" route (a ping that echoes the synapse) attached.
func NewAxon(pair *keys.Pair, cfg AxonConfig) (*Axon, error) {
	cfg.defaults()
	t, err := newTerminal(pair, "axon")
	if err != nil {
		return nil, err
	}
	m, err := newAxonMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	a := &Axon{
		terminal: t,
		cfg:      cfg,
		nonces:   newNonceTracker(cfg.NonceSessions, cfg.NonceSessionsPerHotkey, cfg.NonceHistory, AllowedDelta, cfg.MaxTimeout),
		limiter:  newRateLimiter(cfg.RateLimit, cfg.RateBurst, 65536),
		sched:    newScheduler(cfg.Concurrency, cfg.MaxQueue, m.queued),
		metrics:  m,
		log:      cfg.Logger.With("component", "axon"),
	}
	a.routes.Store(&map[string]*route{})
	ping := Handle(func(ctx context.Context, c *Call, syn *Base) error { return nil })
	if err := a.Attach("Synapse", ping, AttachOptions{}); err != nil {
		return nil, err
	}
	return a, nil
}

// Hotkey returns the axon's hotkey as SS58.
func (a *Axon) Hotkey() string { return a.hotkey }

// Attach routes POST /{name} to h. An empty name means the synapse type's name.
// Attaching a name again replaces its route.
func (a *Axon) Attach(name string, h Handler, opts AttachOptions) error {
	if h.proto == nil || (h.unary == nil && h.stream == nil) {
		return errors.New("attach: handler is empty; make it with wire.Handle or wire.HandleStream")
	}
	s, err := schemaOf(h.proto)
	if err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	if name == "" {
		name = s.name
	}
	if len(name) > maxNameLen || strings.ContainsAny(name, "/?# ") {
		return fmt.Errorf("attach: %q is not a usable synapse name", name)
	}
	r := &route{name: name, schema: s, handler: h, opts: opts, reqs: map[int]prometheus.Counter{},
		dur: a.metrics.duration.WithLabelValues(name)}
	a.attach.Lock()
	defer a.attach.Unlock()
	old := *a.routes.Load()
	next := make(map[string]*route, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[name] = r
	a.routes.Store(&next)
	return nil
}

func (a *Axon) routeNames() string {
	m := *a.routes.Load()
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	b := []byte{'['}
	for i, n := range names {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = AppendPyRepr(b, n)
	}
	return string(append(b, ']'))
}

// ServeContext listens on the configured address and serves until ctx ends, then shuts
// down gracefully.
func (a *Axon) ServeContext(ctx context.Context) error {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", a.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("axon listen on %s: %w", a.cfg.ListenAddr, err)
	}
	return a.Serve(ctx, l)
}

// Serve serves on l until ctx ends, then stops accepting, lets requests in flight
// finish for up to ShutdownTimeout, and closes what is left. It returns nil after a
// shutdown caused by ctx.
func (a *Axon) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           a,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    a.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
	}
	a.log.Info("axon serving", "addr", l.Addr().String(), "hotkey", a.hotkey)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("axon serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close()
		err = fmt.Errorf("axon shutdown: %w", err)
	}
	<-errc
	a.log.Info("axon stopped", "addr", l.Addr().String())
	return err
}
