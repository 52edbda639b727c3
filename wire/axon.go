package wire

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tessera-net/tessera/keys"
)

// BittensorVersion is the version integer Tessera sends and answers with:
// Bittensor 10.2.0 as major·10⁶ + minor·10³ + patch. Python axons apply their nonce
// window only to dendrites at 7.2.0 or later, so it must stay at least 7002000.
const BittensorVersion = 10002000

// AxonConfig configures an Axon. The zero value of every field means the default given
// beside it.
type AxonConfig struct {
	// ListenAddr is where ServeContext listens (default ":8091", Bittensor's port).
	ListenAddr string
	// ExternalIP and ExternalPort are the address the axon tells peers in its response
	// headers (bt_header_axon_ip/port); optional.
	ExternalIP   string
	ExternalPort int // see ExternalIP

	// MaxBodyBytes bounds request bodies (default 8 MiB); larger ones get 413.
	MaxBodyBytes int64
	// MaxHeaderBytes bounds request headers (default 64 KiB).
	MaxHeaderBytes int
	// MaxTimeout caps the timeout a request asks for (default 60 s). The axon enforces
	// min(request timeout, MaxTimeout) on the handler.
	MaxTimeout time.Duration

	// NonceSessions bounds the (hotkey, uuid) sessions whose nonces are remembered
	// (default 100 000); NonceHistory the nonces remembered per session (default 1024).
	NonceSessions int
	NonceHistory  int // see NonceSessions

	// RateLimit is the requests a second each hotkey may make (default 100), with
	// bursts of RateBurst (default 2×RateLimit). A negative RateLimit disables it.
	RateLimit float64
	RateBurst int // see RateLimit

	// Concurrency is how many handlers run at once (default 256); MaxQueue how many
	// requests may wait for a slot, in priority order (default 4096).
	Concurrency int
	MaxQueue    int // see Concurrency

	// SignResponses makes the axon sign "{axon_nonce}.{dendrite_hotkey}.{axon_hotkey}.
	// {axon_uuid}" on every response, as a Bittensor axon does, so a dendrite can check
	// who answered. It costs one signature per request.
	SignResponses bool

	// ShutdownTimeout bounds how long a graceful shutdown waits for requests in flight
	// (default 10 s).
	ShutdownTimeout time.Duration

	// Registerer receives the axon's metrics (none registered when nil).
	Registerer prometheus.Registerer
	// Logger receives the axon's logs (discarded when nil).
	Logger *slog.Logger
	// Now is the clock (time.Now when nil); tests move it.
	Now func() time.Time
}

func (c *AxonConfig) defaults() {
	if c.ListenAddr == "" {
		c.ListenAddr = ":8091"
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 8 << 20
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = 64 << 10
	}
	if c.MaxTimeout <= 0 {
		c.MaxTimeout = 60 * time.Second
	}
	if c.NonceSessions <= 0 {
		c.NonceSessions = 100_000
	}
	if c.NonceHistory <= 0 {
		c.NonceHistory = 1024
	}
	if c.RateLimit == 0 {
		c.RateLimit = 100
	}
	if c.RateBurst <= 0 {
		c.RateBurst = int(math.Max(1, 2*c.RateLimit))
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 256
	}
	if c.MaxQueue <= 0 {
		c.MaxQueue = 4096
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Call is what an axon knows about a request once it is authenticated: the hooks and
// the handler get it. Hotkey, UUID and Nonce are covered by the dendrite's signature;
// Version and DendriteIP are what the dendrite claims.
type Call struct {
	Synapse    string         // the route (synapse name)
	Hotkey     string         // the dendrite's hotkey, SS58, verified
	PublicKey  keys.PublicKey // the dendrite's public key
	UUID       string         // the dendrite session
	Nonce      int64          // the request nonce (ns)
	Version    int64          // the dendrite's version integer (0 if not sent)
	DendriteIP string         // the IP the dendrite claims (informational)
	RemoteAddr string         // the TCP peer
	Timeout    time.Duration  // the timeout the axon enforces
	Deadline   time.Time      // when the handler is cut off
}

// AttachOptions are the per-route hooks. All are optional.
type AttachOptions struct {
	// Blacklist runs after the signature is verified and before the body is read;
	// returning true refuses the request with 403 "Forbidden. Key is blacklisted:
	// {reason}.". (Bittensor runs it before verification, on an unverified hotkey.)
	Blacklist func(ctx context.Context, c *Call) (blocked bool, reason string)
	// Verify runs after the body is decoded and checked against its hash; an error
	// refuses the request with 401 "Not Verified with error: {err}".
	Verify func(ctx context.Context, c *Call, syn Synapse) error
	// Priority orders requests that wait for a handler slot: higher runs first.
	Priority func(ctx context.Context, c *Call) float64
}

// Handler is a route's handler, made by Handle or HandleStream.
type Handler struct {
	proto  Synapse
	unary  func(ctx context.Context, c *Call, syn Synapse) error
	stream func(ctx context.Context, c *Call, syn Synapse, w *StreamWriter) error
}

// Handle makes a Handler from a function that answers a synapse of type *S in place:
// it reads the request fields and fills in the response fields. The function should
// return when ctx ends (the axon has answered 408 by then). An *Error it returns sets
// the status; any other error answers 500.
func Handle[S any, P interface {
	*S
	Synapse
}](fn func(ctx context.Context, c *Call, syn P) error) Handler {
	return Handler{
		proto: P(new(S)),
		unary: func(ctx context.Context, c *Call, syn Synapse) error { return fn(ctx, c, syn.(P)) },
	}
}

// Error is a handler error with the HTTP status to answer with, like Bittensor's
// RunException with axon.status_code set.
type Error struct {
	Code    int    // HTTP status, 400–599
	Message string // sent as {"message": …}
}

// Error returns the status and message.
func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Message) }

// Errorf returns an *Error with the given status and formatted message.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

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
	cfg     AxonConfig
	signer  *keys.Signer
	hotkey  string
	uuid    string
	routes  atomic.Pointer[map[string]*route]
	attach  sync.Mutex
	keys    *verifierCache
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
	signer, err := keys.NewSigner(pair)
	if err != nil {
		return nil, fmt.Errorf("axon key: %w", err)
	}
	m, err := newAxonMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	a := &Axon{
		cfg:     cfg,
		signer:  signer,
		hotkey:  pair.Public().String(),
		uuid:    newUUID4(),
		keys:    newVerifierCache(65536),
		nonces:  newNonceTracker(cfg.NonceSessions, cfg.NonceHistory, AllowedDelta, cfg.MaxTimeout),
		limiter: newRateLimiter(cfg.RateLimit, cfg.RateBurst, 65536),
		sched:   newScheduler(cfg.Concurrency, cfg.MaxQueue, m.queued),
		metrics: m,
		log:     cfg.Logger.With("component", "axon"),
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

// reject is a refusal: an HTTP status, the message sent to the dendrite, and the reason
// label for metrics.
type reject struct {
	status  int
	message string
	reason  string
}

func (a *Axon) refuse(w http.ResponseWriter, rt *route, name string, rej reject, start time.Time) {
	a.metrics.rejected.WithLabelValues(rej.reason).Inc()
	a.log.Debug("request refused", "synapse", name, "status", rej.status, "reason", rej.reason, "message", rej.message)
	a.writeError(w, rt, name, rej.status, rej.message, start)
}

// writeError answers {"message": …} with the status, as Bittensor's create_error_response
// does, with the axon status headers a Python dendrite merges into its synapse.
func (a *Axon) writeError(w http.ResponseWriter, rt *route, name string, status int, message string, start time.Time) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	setRaw(h, hdrName, name)
	setRaw(h, hdrAxonStatusCode, strconv.Itoa(status))
	setRaw(h, hdrAxonStatusMessage, message)
	setRaw(h, hdrAxonHotkey, a.hotkey)
	setRaw(h, hdrAxonProcessTime, pyFloatString(time.Since(start).Seconds()))
	body, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{message})
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
	a.count(rt, name, status, start)
}

func (a *Axon) count(rt *route, name string, status int, start time.Time) {
	if rt == nil {
		a.metrics.requests.WithLabelValues(name, strconv.Itoa(status)).Inc()
		return
	}
	rt.reqMu.RLock()
	c := rt.reqs[status]
	rt.reqMu.RUnlock()
	if c == nil {
		c = a.metrics.requests.WithLabelValues(rt.name, strconv.Itoa(status))
		rt.reqMu.Lock()
		rt.reqs[status] = c
		rt.reqMu.Unlock()
	}
	c.Inc()
	rt.dur.Observe(time.Since(start).Seconds())
}

// ServeHTTP runs the request pipeline. The order is the hardening: everything before
// the signature check is syntax and arithmetic (no state changes, nothing a forger can
// learn or spend), the signature is checked before any hook, state or body, and the
// handler runs only for an authenticated, fresh, unreplayed, allowed request whose body
// matches the hash it signed.
func (a *Axon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now() // deadlines and latency: the real clock
	name := strings.TrimPrefix(r.URL.Path, "/")
	if i := strings.IndexByte(name, '/'); i >= 0 {
		name = name[:i]
	}
	rt := (*a.routes.Load())[name]
	if rt == nil {
		if len(name) > maxNameLen {
			name = name[:maxNameLen]
		}
		a.refuse(w, nil, "unknown", reject{http.StatusNotFound,
			fmt.Sprintf("Synapse name '%s' not found. Available synapses %s", name, a.routeNames()), "unknown_synapse"}, start)
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header()["Allow"] = []string{"POST, GET"}
		a.refuse(w, rt, name, reject{http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed; use POST", r.Method), "method"}, start)
		return
	}

	hdr, err := parseRequestHeaders(r.Header)
	if err != nil {
		var he *HeaderError
		if errors.As(err, &he) && he.Missing {
			a.refuse(w, rt, name, reject{http.StatusUnauthorized, "Not Verified with error: " + he.Reason, "unsigned"}, start)
		} else {
			a.refuse(w, rt, name, reject{http.StatusBadRequest, err.Error(), "bad_header"}, start)
		}
		return
	}
	if r.ContentLength > a.cfg.MaxBodyBytes {
		a.refuse(w, rt, name, reject{http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, a.cfg.MaxBodyBytes), "body_too_large"}, start)
		return
	}
	if hdr.axonHotkey != "" && hdr.axonHotkey != a.hotkey {
		a.refuse(w, rt, name, reject{http.StatusUnauthorized,
			fmt.Sprintf("Not Verified with error: request is addressed to axon hotkey %s, this axon is %s", hdr.axonHotkey, a.hotkey), "wrong_axon"}, start)
		return
	}
	timeout := a.cfg.MaxTimeout // compared in float first: a huge header must not overflow
	if hdr.timeout < timeout.Seconds() {
		timeout = time.Duration(hdr.timeout * float64(time.Second))
	}
	now := a.cfg.Now().UnixNano() // nonce windows: the configurable clock
	if err := a.nonces.checkFresh(now, hdr.nonce, timeout); err != nil {
		a.refuse(w, rt, name, reject{http.StatusUnauthorized, "Not Verified with error: " + err.Error(), "nonce"}, start)
		return
	}

	// The signature, over our own hotkey (as Bittensor's default_verify builds it) and
	// the body hash the dendrite signed. The body is checked against that hash later.
	v, err := a.keys.get(hdr.hotkey)
	if err != nil {
		a.refuse(w, rt, name, reject{http.StatusBadRequest, fmt.Sprintf("malformed header %s: %v", hdrDendriteHotkey, err), "bad_header"}, start)
		return
	}
	var msgBuf [320]byte
	msg := appendSignedMessage(msgBuf[:0], hdr.nonce, hdr.hotkey, a.hotkey, hdr.uuid, hdr.bodyHash)
	if !verifySignedMessage(v, msg, hdr.signature[:]) {
		a.refuse(w, rt, name, reject{http.StatusUnauthorized,
			fmt.Sprintf("Not Verified with error: Signature mismatch with %s and 0x%s", msg, hex.EncodeToString(hdr.signature[:])), "bad_signature"}, start)
		return
	}

	deadline := start.Add(timeout)
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()
	call := &Call{
		Synapse: name, Hotkey: hdr.hotkey, PublicKey: v.PublicKey(), UUID: hdr.uuid, Nonce: hdr.nonce,
		Version: hdr.version, DendriteIP: hdr.dendriteIP, RemoteAddr: r.RemoteAddr, Timeout: timeout, Deadline: deadline,
	}
	if rt.opts.Blacklist != nil {
		if blocked, reason := rt.opts.Blacklist(ctx, call); blocked {
			a.refuse(w, rt, name, reject{http.StatusForbidden, fmt.Sprintf("Forbidden. Key is blacklisted: %s.", reason), "blacklisted"}, start)
			return
		}
	}
	if err := a.nonces.record(now, hdr.hotkey, hdr.uuid, hdr.nonce, timeout); err != nil {
		if errors.Is(err, errNonceTableFull) {
			a.refuse(w, rt, name, reject{http.StatusServiceUnavailable, err.Error(), "nonce_table_full"}, start)
		} else {
			a.refuse(w, rt, name, reject{http.StatusUnauthorized, "Not Verified with error: " + err.Error(), "nonce"}, start)
		}
		return
	}
	if !a.limiter.allow(hdr.hotkey, now) {
		w.Header()["Retry-After"] = []string{"1"}
		a.refuse(w, rt, name, reject{http.StatusTooManyRequests,
			fmt.Sprintf("Too many requests from hotkey %s: the limit is %g a second", hdr.hotkey, a.cfg.RateLimit), "rate_limited"}, start)
		return
	}

	// The body: bounded, read before the deadline, checked against the signed hash.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(deadline)
	body, err := readBody(r.Body, r.ContentLength, a.cfg.MaxBodyBytes, &a.bufs)
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe) || errors.Is(err, errBodyTooLarge):
			a.refuse(w, rt, name, reject{http.StatusRequestEntityTooLarge,
				fmt.Sprintf("request body exceeds the limit of %d bytes", a.cfg.MaxBodyBytes), "body_too_large"}, start)
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ioTimeout):
			a.refuse(w, rt, name, reject{http.StatusRequestTimeout, "timed out reading the request body", "timeout"}, start)
		default:
			a.refuse(w, rt, name, reject{http.StatusBadRequest, "reading the request body: " + err.Error(), "bad_body"}, start)
		}
		return
	}
	got, body, err := rt.schema.bodyHashAndWipe(body)
	if err != nil {
		a.refuse(w, rt, name, reject{http.StatusBadRequest, fmt.Sprintf("body is not a valid %s synapse: %v", name, err), "bad_body"}, start)
		return
	}
	if got != hdr.bodyHash {
		a.refuse(w, rt, name, reject{http.StatusBadRequest,
			fmt.Sprintf("body hash mismatch: the signed computed_body_hash is %s but the body hashes to %s", hdr.bodyHash, got), "body_hash"}, start)
		return
	}
	syn := reflect.New(rt.schema.typ).Interface().(Synapse)
	err = json.Unmarshal(body, syn)
	a.bufs.put(body) // the decoder copies what it keeps
	if err != nil {
		a.refuse(w, rt, name, reject{http.StatusBadRequest, fmt.Sprintf("body is not a valid %s synapse: %v", name, err), "bad_body"}, start)
		return
	}
	a.authenticate(syn.SynapseBase(), name, &hdr, timeout)
	if rt.opts.Verify != nil {
		if err := rt.opts.Verify(ctx, call, syn); err != nil {
			a.refuse(w, rt, name, reject{http.StatusUnauthorized, "Not Verified with error: " + err.Error(), "verify_hook"}, start)
			return
		}
	}

	prio := 0.0
	if rt.opts.Priority != nil {
		prio = rt.opts.Priority(ctx, call)
	}
	if err := a.sched.acquire(ctx, prio); err != nil {
		if errors.Is(err, errQueueFull) {
			a.refuse(w, rt, name, reject{http.StatusServiceUnavailable, err.Error(), "queue_full"}, start)
		} else {
			a.refuse(w, rt, name, reject{http.StatusRequestTimeout,
				fmt.Sprintf("Request timeout after %s seconds: no handler slot came free", pyFloatString(timeout.Seconds())), "timeout"}, start)
		}
		return
	}
	// The slot is released when the handler really returns, not when the axon stops
	// waiting for it, so Concurrency bounds running handlers even when some overrun.
	if rt.handler.stream != nil {
		a.serveStream(ctx, w, rc, rt, call, syn, start)
		return
	}
	a.serveUnary(ctx, w, rt, call, syn, start)
}

// authenticate replaces what the body says about the two ends with what the signed
// headers and the axon itself say. (In Bittensor the handler sees the body's copy,
// whose dendrite.hotkey nothing checks.)
func (a *Axon) authenticate(b *Base, name string, hdr *requestHeaders, timeout time.Duration) {
	b.Name = name
	b.Timeout = Float(timeout.Seconds())
	b.ComputedBodyHash = hdr.bodyHash
	b.Dendrite = TerminalInfo{Hotkey: &hdr.hotkey, Nonce: &hdr.nonce, UUID: &hdr.uuid, Signature: &hdr.sigText}
	if hdr.hasVersion {
		b.Dendrite.Version = &hdr.version
	}
	if hdr.dendriteIP != "" {
		b.Dendrite.IP = &hdr.dendriteIP
	}
	if hdr.hasPort {
		b.Dendrite.Port = &hdr.dendritePrt
	}
	hk := a.hotkey
	b.Axon = TerminalInfo{Hotkey: &hk}
	if a.cfg.ExternalIP != "" {
		ip := a.cfg.ExternalIP
		b.Axon.IP = &ip
	}
	if a.cfg.ExternalPort != 0 {
		p := a.cfg.ExternalPort
		b.Axon.Port = &p
	}
}

// runHandler runs fn in its own goroutine, turning a panic into an error, and returns a
// channel that yields its result. The slot is released when fn returns.
func (a *Axon) runHandler(fn func() error) <-chan error {
	done := make(chan error, 1)
	a.metrics.inflight.Inc()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("handler panicked: %v", p)
			}
			a.metrics.inflight.Dec()
			a.sched.release()
		}()
		done <- fn()
	}()
	return done
}

func (a *Axon) serveUnary(ctx context.Context, w http.ResponseWriter, rt *route, call *Call, syn Synapse, start time.Time) {
	done := a.runHandler(func() error { return rt.handler.unary(ctx, call, syn) })
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		// Cut off: answer now; the handler's context is cancelled and whatever it still
		// does to syn is never read.
		a.refuse(w, rt, call.Synapse, reject{http.StatusRequestTimeout,
			fmt.Sprintf("Request timeout after %s seconds: the handler did not finish", pyFloatString(call.Timeout.Seconds())), "timeout"}, start)
		return
	}
	if err != nil {
		a.handlerError(w, rt, call, err, start)
		return
	}
	a.writeSynapse(w, rt, call, syn, start)
}

func (a *Axon) handlerError(w http.ResponseWriter, rt *route, call *Call, err error, start time.Time) {
	var he *Error
	if errors.As(err, &he) && he.Code >= 400 && he.Code <= 599 {
		a.writeError(w, rt, call.Synapse, he.Code, he.Message, start)
		return
	}
	id := newUUID4()
	a.log.Error("handler failed", "synapse", call.Synapse, "hotkey", call.Hotkey, "error_id", id, "err", err)
	a.writeError(w, rt, call.Synapse, http.StatusInternalServerError, "Internal Server Error #"+id, start)
}

// responseHeaders sets the headers Bittensor's synapse_to_response sends: the synapse's
// to_headers() with the axon status filled in. Names are lower case on the wire.
func (a *Axon) responseHeaders(h http.Header, rt *route, b *Base, status int, message string, start time.Time, bodyHash string) {
	hs := newHeaderSetter(h, 16)
	hs.set(hdrName, rt.name)
	hs.set(hdrTimeout, pyFloatString(float64(b.Timeout)))
	hs.set(hdrAxonStatusCode, strconv.Itoa(status))
	hs.set(hdrAxonStatusMessage, message)
	hs.set(hdrAxonProcessTime, pyFloatString(time.Since(start).Seconds()))
	hs.set(hdrAxonHotkey, a.hotkey)
	hs.set(hdrAxonVersion, strconv.Itoa(BittensorVersion))
	if a.cfg.ExternalIP != "" {
		hs.set(hdrAxonIP, a.cfg.ExternalIP)
	}
	if a.cfg.ExternalPort != 0 {
		hs.set(hdrAxonPort, strconv.Itoa(a.cfg.ExternalPort))
	}
	// Bittensor also echoes the dendrite's own fields (bt_header_dendrite_*) back;
	// a Python dendrite merges them over the identical values it sent, so they are
	// left out: six fewer headers to write, clone and parse on every call.
	d := &b.Dendrite
	if a.cfg.SignResponses && d.Hotkey != nil {
		nonce := a.cfg.Now().UnixNano()
		var buf [256]byte
		sig := a.signer.Sign(appendAxonMessage(buf[:0], nonce, *d.Hotkey, a.hotkey, a.uuid))
		hs.set(hdrAxonNonce, strconv.FormatInt(nonce, 10))
		hs.set(hdrAxonUUID, a.uuid)
		hs.set(hdrAxonSignature, "0x"+hex.EncodeToString(sig))
	}
	// Bittensor's responses also repeat the bt_header_input_obj_* headers, which only
	// an axon reads; they are left out.
	hs.set(hdrHeaderSize, "0")
	hs.set(hdrTotalSize, "0")
	hs.set(hdrBodyHash, bodyHash)
}

func (a *Axon) writeSynapse(w http.ResponseWriter, rt *route, call *Call, syn Synapse, start time.Time) {
	b := syn.SynapseBase()
	status, message := http.StatusOK, "Success"
	if b.Axon.StatusCode != nil && *b.Axon.StatusCode >= 400 && *b.Axon.StatusCode <= 599 {
		// Bittensor lets forward_fn set axon.status_code to answer with another status.
		status = *b.Axon.StatusCode
		message = ""
		if b.Axon.StatusMessage != nil {
			message = *b.Axon.StatusMessage
		}
		a.writeError(w, rt, call.Synapse, status, message, start)
		return
	}
	pt := Float(time.Since(start).Seconds())
	b.Axon.StatusCode, b.Axon.StatusMessage, b.Axon.ProcessTime = &status, &message, &pt
	buf := bytes.NewBuffer(a.bufs.get(1024))
	if err := json.NewEncoder(buf).Encode(syn); err != nil {
		a.handlerError(w, rt, call, fmt.Errorf("encode response: %w", err), start)
		return
	}
	body := buf.Bytes()
	defer a.bufs.put(body) // written (copied into the connection's buffer) by then
	hash, err := rt.schema.bodyHash(body)
	if err != nil {
		a.handlerError(w, rt, call, fmt.Errorf("hash response: %w", err), start)
		return
	}
	h := w.Header()
	a.responseHeaders(h, rt, b, status, message, start, hash)
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
	a.count(rt, call.Synapse, status, start)
}

var errBodyTooLarge = errors.New("request body too large")

// ioTimeout matches the error a read past the connection's read deadline returns.
var ioTimeout = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string { return "i/o timeout" }

// Is matches any net.Error that is a timeout.
func (timeoutError) Is(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// readBody reads the whole body, at most limit bytes. With a Content-Length it reads
// into a buffer of exactly that size (from pool when small); without one it grows as
// bytes arrive.
func readBody(r io.Reader, contentLength, limit int64, pool *bufPool) ([]byte, error) {
	if contentLength > limit {
		return nil, errBodyTooLarge
	}
	if contentLength >= 0 {
		var buf []byte
		if contentLength <= maxPooledBuf {
			buf = pool.get(int(contentLength))[:contentLength]
		} else {
			buf = make([]byte, contentLength)
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(buf)) > limit {
		return nil, errBodyTooLarge
	}
	return buf, nil
}

// verifySignedMessage checks sig over msg, and over "<Bytes>msg</Bytes>" as btwallet's
// Keypair.verify also accepts.
func verifySignedMessage(v *keys.Verifier, msg, sig []byte) bool {
	if v.Verify(msg, sig) {
		return true
	}
	var buf [352]byte
	wrapped := append(append(append(buf[:0], "<Bytes>"...), msg...), "</Bytes>"...)
	return v.Verify(wrapped, sig)
}

// verifierCache maps hotkeys (SS58 text) to decoded public keys. Decoding costs a base58
// decode, a BLAKE2b checksum and a ristretto255 point decompression; a validator sends
// thousands of requests with one hotkey, so the axon pays that once per hotkey. Only
// keys are cached, never verification results. It is bounded; when full, an arbitrary
// entry makes room (Go's map iteration order is randomised).
type verifierCache struct {
	mu  sync.RWMutex
	m   map[string]*keys.Verifier
	cap int
}

func newVerifierCache(capacity int) *verifierCache {
	return &verifierCache{m: make(map[string]*keys.Verifier), cap: capacity}
}

func (c *verifierCache) get(hotkey string) (*keys.Verifier, error) {
	c.mu.RLock()
	v := c.m[hotkey]
	c.mu.RUnlock()
	if v != nil {
		return v, nil
	}
	pub, _, err := keys.SS58Decode(hotkey)
	if err != nil {
		return nil, err
	}
	if v, err = keys.NewVerifier(pub); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= c.cap {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[hotkey] = v
	c.mu.Unlock()
	return v, nil
}

// newUUID4 returns a random (version 4) UUID in its text form.
func newUUID4() string {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
