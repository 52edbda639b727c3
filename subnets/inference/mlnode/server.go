package mlnode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/lm"
	lmserver "github.com/tessera-net/tessera/lm/server"
	"github.com/tessera-net/tessera/poc"
	"github.com/tessera-net/tessera/subnets/inference/signed"
)

// Config configures a Server; APINode and Models are required.
type Config struct {
	// APINode is the one account whose signed requests either listener takes.
	APINode keys.PublicKey
	// Models are the models it may serve, by id.
	Models []Spec
	// LocalArgs are the operator's model args, merged under each epoch's (MergeArgs).
	// The engine reads --max-batch N (completions batched per step, default 8) and
	// --max-tokens N (a completion's cap); every arg is reported in State.
	LocalArgs []string
	// Threads for the engine's forward pass and PoC (0: 1).
	Threads int
	// AlterEvery, when positive, makes the node a cheater: every AlterEvery-th
	// completion it serves whole has one generated token (and its text) changed, its
	// log-probabilities kept. For the tests and the devnet's demonstration.
	AlterEvery int
	// SimilarityPPM is the similarity an external backend's completion must reach, in
	// parts per million (0: 980000, Gonka's 0.98).
	SimilarityPPM uint64
	// MaxBodyBytes bounds a request body on either listener (0: 16 MiB).
	MaxBodyBytes int64
	// HTTP reaches the external backends (nil: a client with a 10-minute timeout).
	HTTP *http.Client
	// Now is the clock of the signature window (nil: time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// Server is an MLNode: its management API (Management) and inference listener
// (Inference), both http.Handlers taking only requests signed by Config.APINode.
type Server struct {
	cfg    Config
	specs  map[string]Spec
	ids    []string // configured ids, sorted
	verify *signed.Verifier
	log    *slog.Logger
	mgmt   *http.ServeMux

	mu      sync.Mutex
	serving *served               // nil: no model up
	checker *served               // an engine model loaded to check completions of a model not up
	mining  *round                // the round being mined, nil when none
	rounds  map[uint64]*round     // the latest epochs' rounds (two kept)
	runners map[runnerKey]*runner // PoC runners, the latest two
	tick    uint64
	closed  bool
}

// served is the model up on the inference listener.
type served struct {
	spec    Spec
	args    []string
	engine  *lm.Engine
	srv     *lmserver.Server
	proxy   http.Handler
	refs    int  // requests using it (guarded by the Server's mu)
	dead    bool // unloaded: closed by the last release
	mu      sync.Mutex
	count   int // completions answered whole, for AlterEvery
	altered int
}

// round is one epoch's PoC.
type round struct {
	job    PoCJob
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	status PoCStatus
	tree   *poc.Tree
	err    string
}

type runnerKey struct {
	seed [32]byte
	dims poc.Dims
}

type runner struct {
	r       *poc.Runner
	used    uint64 // the server's tick at its last use
	refs    int    // uses in progress
	evicted bool
}

// New checks cfg and returns a stopped MLNode.
func New(cfg Config) (*Server, error) {
	if cfg.APINode == (keys.PublicKey{}) {
		return nil, errors.New("mlnode: no API node account: it is the only signer the MLNode takes")
	}
	if len(cfg.Models) == 0 {
		return nil, errors.New("mlnode: no models configured (--model ID=FILE.gguf|random:PRESET|http(s)://HOST/v1)")
	}
	if cfg.Threads < 1 {
		cfg.Threads = 1
	}
	if cfg.SimilarityPPM == 0 {
		cfg.SimilarityPPM = 980000
	}
	if cfg.SimilarityPPM > 1e6 {
		return nil, fmt.Errorf("mlnode: similarity threshold %d ppm is above 10^6", cfg.SimilarityPPM)
	}
	if cfg.AlterEvery < 0 {
		return nil, fmt.Errorf("mlnode: alter-every %d is negative", cfg.AlterEvery)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 16 << 20
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Minute}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, specs: map[string]Spec{}, verify: signed.NewVerifier(cfg.Now), log: cfg.Log.With("component", "mlnode"),
		rounds: map[uint64]*round{}, runners: map[runnerKey]*runner{}}
	for _, sp := range cfg.Models {
		if _, dup := s.specs[sp.ID]; dup {
			return nil, fmt.Errorf("mlnode: model %s is configured twice", sp.ID)
		}
		s.specs[sp.ID] = sp
		s.ids = append(s.ids, sp.ID)
	}
	slices.Sort(s.ids)
	m := http.NewServeMux()
	m.HandleFunc("GET "+PathState, s.handleState)
	m.HandleFunc("POST "+PathStop, s.handleStop)
	m.HandleFunc("POST "+PathInferenceUp, s.handleUp)
	m.HandleFunc("POST "+PathInferenceDown, s.handleDown)
	m.HandleFunc("POST "+PathInferenceValidate, s.handleValidate)
	m.HandleFunc("POST "+PathPoCGenerate, s.handleGenerate)
	m.HandleFunc("GET "+PathPoCStatus, s.handleStatus)
	m.HandleFunc("POST "+PathPoCProofs, s.handleProofs)
	m.HandleFunc("POST "+PathPoCValidate, s.handlePoCValidate)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { openai.WriteError(w, openai.UnknownURL(r)) })
	s.mgmt = m
	return s, nil
}

// Models are the configured model ids, sorted.
func (s *Server) Models() []string { return slices.Clone(s.ids) }

// Close stops mining and unloads the model.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stopMining()
	s.mu.Lock()
	s.unloadLocked()
	if s.checker != nil {
		s.retireLocked(s.checker)
		s.checker = nil
	}
	for k, r := range s.runners {
		delete(s.runners, k)
		r.evicted = true
		if r.refs == 0 {
			r.r.Close()
		}
	}
	s.mu.Unlock()
}

// bodyKey carries a verified request's body to its handler.
type bodyKey struct{}

// signedOnly reads the body, verifies its signature by the API node and hands the
// request on; a refusal is 401 (403 for another signer) with the signed.Code as the
// OpenAI-style error's code, and nothing else happens.
func (s *Server) signedOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, e := openai.ReadBody(w, r, s.cfg.MaxBodyBytes)
		if e != nil {
			openai.WriteError(w, e)
			return
		}
		if _, se := s.verify.Verify(r.Method, r.URL.Path, r.Header, body, func(p keys.PublicKey) bool { return p == s.cfg.APINode }); se != nil {
			status := http.StatusUnauthorized
			if se.Code == signed.CodeForbidden {
				status = http.StatusForbidden
			}
			s.log.Warn("refused", "method", r.Method, "path", r.URL.Path, "code", se.Code, "remote", r.RemoteAddr)
			openai.WriteError(w, openai.Errorf(status, openai.TypeInvalidRequest, string(se.Code), "", "%s", se.Msg))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bodyKey{}, body)))
	})
}

func bodyOf(r *http.Request) []byte { b, _ := r.Context().Value(bodyKey{}).([]byte); return b }

// Management is the management API's handler.
func (s *Server) Management() http.Handler { return s.signedOnly(s.mgmt) }

// Inference is the inference listener's handler: the loaded model's OpenAI-compatible
// routes, 503 when none is up (model_not_loaded) or while mining (poc_in_progress).
func (s *Server) Inference() http.Handler { return s.signedOnly(http.HandlerFunc(s.serveInference)) }

// Serve serves the two listeners until ctx ends, then closes the server.
func (s *Server) Serve(ctx context.Context, mgmt, inf net.Listener) error {
	mk := func(h http.Handler) *http.Server {
		return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
			ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	}
	ms, is := mk(s.Management()), mk(s.Inference())
	errc := make(chan error, 2)
	go func() { errc <- ms.Serve(mgmt) }()
	go func() { errc <- is.Serve(inf) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ms.Shutdown(sctx)
	is.Shutdown(sctx)
	s.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// apiError writes an OpenAI-style error.
func apiError(w http.ResponseWriter, status int, code, format string, args ...any) {
	typ := openai.TypeInvalidRequest
	if status >= 500 {
		typ = openai.TypeServer
	}
	openai.WriteError(w, openai.Errorf(status, typ, code, "", format, args...))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "", "encoding the answer: %v", err)
		return
	}
	openai.WriteJSON(w, status, b)
}

// decode reads a management body into v; false after answering 400.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	d := json.NewDecoder(bytes.NewReader(bodyOf(r)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_body", "The body is not a valid %s request: %v", r.URL.Path, err)
		return false
	}
	return true
}

func (s *Server) modelNotFound(w http.ResponseWriter, id string) {
	openai.WriteError(w, openai.Errorf(http.StatusNotFound, openai.TypeInvalidRequest, "model_not_found", "model",
		"The model '%s' is not configured on this MLNode; it has %s.", id, strings.Join(s.ids, ", ")))
}

// State is the node's state now.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{State: StateStopped}
	if s.serving != nil {
		st.State, st.Model, st.Backend, st.Args = StateInference, s.serving.spec.ID, s.serving.spec.Backend(), slices.Clone(s.serving.args)
	}
	if s.mining != nil {
		st.State = StatePoC
	}
	var latest *round
	for e, r := range s.rounds {
		if latest == nil || e > latest.job.Epoch {
			latest = r
		}
	}
	if latest != nil {
		ps := latest.snapshot()
		st.PoC = &ps
	}
	return st
}

func (s *Server) handleState(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.State())
}

func (s *Server) handleStop(w http.ResponseWriter, _ *http.Request) {
	s.stopMining()
	s.mu.Lock()
	s.unloadLocked()
	s.mu.Unlock()
	s.log.Info("stopped")
	writeJSON(w, http.StatusOK, s.State())
}

func (s *Server) handleDown(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	s.unloadLocked()
	s.mu.Unlock()
	s.log.Info("inference down")
	writeJSON(w, http.StatusOK, s.State())
}

func (s *Server) handleUp(w http.ResponseWriter, r *http.Request) {
	var req InferenceUp
	if !decode(w, r, &req) {
		return
	}
	sp, ok := s.specs[req.Model]
	if !ok {
		s.modelNotFound(w, req.Model)
		return
	}
	if err := s.Up(r.Context(), sp.ID, req.Args); err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			apiError(w, ae.Status, ae.Code, "%s", ae.Message)
			return
		}
		apiError(w, http.StatusInternalServerError, "load_failed", "Loading %s failed: %v", sp.ID, err)
		return
	}
	writeJSON(w, http.StatusOK, s.State())
}

// Up serves model id with the epoch's args merged over the local ones; it ends a PoC
// round being mined (the round keeps what it mined). Serving the same model with the
// same args already, it does nothing.
func (s *Server) Up(ctx context.Context, id string, epochArgs []string) error {
	sp, ok := s.specs[id]
	if !ok {
		return &Error{Status: http.StatusNotFound, Code: "model_not_found", Message: fmt.Sprintf("model %s is not configured; the MLNode has %s", id, strings.Join(s.ids, ", "))}
	}
	args := MergeArgs(epochArgs, s.cfg.LocalArgs)
	s.stopMining()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return &Error{Status: http.StatusServiceUnavailable, Code: "closed", Message: "the MLNode is shutting down"}
	}
	if cur := s.serving; cur != nil && cur.spec.ID == id && slices.Equal(cur.args, args) {
		s.mu.Unlock()
		return nil
	}
	s.unloadLocked()
	s.mu.Unlock()
	sv, err := s.load(ctx, sp, args)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unloadLocked() // another up may have raced this one: the last wins
	s.serving = sv
	s.log.Info("inference up", "model", id, "backend", sp.Backend(), "args", strings.Join(args, " "))
	return nil
}

// load prepares a model for serving: an engine and its lm/server, or a proxy to a
// backend that answers GET /models.
func (s *Server) load(ctx context.Context, sp Spec, args []string) (*served, error) {
	sv := &served{spec: sp, args: args}
	if sp.URL != "" {
		if err := s.probe(ctx, sp); err != nil {
			return nil, &Error{Status: http.StatusBadGateway, Code: "backend_unavailable", Message: err.Error()}
		}
		sv.proxy = s.newProxy(sp)
		return sv, nil
	}
	batch, err := intArg(args, "--max-batch", 8)
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Code: "invalid_args", Message: err.Error()}
	}
	maxTok, err := intArg(args, "--max-tokens", 0)
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Code: "invalid_args", Message: err.Error()}
	}
	m, err := sp.load(s.cfg.Threads)
	if err != nil {
		return nil, err
	}
	sv.engine = lm.NewEngine(m, batch)
	if sv.srv, err = lmserver.New(sv.engine, lmserver.Options{Name: sp.ID, MaxTokens: maxTok, Logger: s.cfg.Log}); err != nil {
		sv.engine.Close()
		m.Close()
		return nil, err
	}
	return sv, nil
}

// intArg is --key's value as a positive integer, or def when absent.
func intArg(args []string, key string, def int) (int, error) {
	v, ok := argValue(args, key)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("model arg %s %q is not a positive integer", key, v)
	}
	return n, nil
}

func (sv *served) close() {
	if sv.engine != nil {
		sv.engine.Close()
		sv.engine.Model().Close()
	}
}

func (s *Server) unloadLocked() {
	if s.serving != nil {
		s.retireLocked(s.serving)
		s.serving = nil
	}
}

// retireLocked marks sv unloaded; it closes now or at its last release.
func (s *Server) retireLocked(sv *served) {
	sv.dead = true
	if sv.refs == 0 {
		sv.close()
	}
}

// releaseServed ends a use of sv.
func (s *Server) releaseServed(sv *served) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv.refs--
	if sv.refs == 0 && sv.dead {
		sv.close()
	}
}

// probe checks that a backend answers GET {URL}/models.
func (s *Server) probe(ctx context.Context, sp Spec) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, sp.URL+"/models", nil)
	if err != nil {
		return err
	}
	resp, err := s.cfg.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("the backend of %s at %s does not answer: %v", sp.ID, sp.URL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the backend of %s answers GET %s/models with %s", sp.ID, sp.URL, resp.Status)
	}
	return nil
}

// newProxy forwards the inference listener's /v1/… to the backend's base URL, without
// the API node's signature headers.
func (s *Server) newProxy(sp Spec) http.Handler {
	base, _ := url.Parse(strings.TrimSuffix(sp.URL, "/v1"))
	return &httputil.ReverseProxy{
		FlushInterval: -1, // streams pass as they come
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(base)
			pr.Out.Host = base.Host
			for _, h := range []string{signed.HeaderAccount, signed.HeaderTimestamp, signed.HeaderSignature} {
				pr.Out.Header.Del(h)
			}
		},
		Transport: s.cfg.HTTP.Transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			apiError(w, http.StatusBadGateway, "backend_unavailable", "The backend of %s failed: %v", sp.ID, err)
		},
	}
}

// serveInference answers the inference listener.
func (s *Server) serveInference(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sv, mining := s.serving, s.mining != nil
	if sv != nil && !mining {
		sv.refs++
		defer s.releaseServed(sv)
	}
	s.mu.Unlock()
	switch {
	case mining:
		apiError(w, http.StatusServiceUnavailable, "poc_in_progress", "The MLNode is mining a Proof of Compute round; it serves again when the round ends.")
		return
	case sv == nil:
		apiError(w, http.StatusServiceUnavailable, "model_not_loaded", "No model is up on this MLNode (POST %s first).", PathInferenceUp)
		return
	}
	if sv.proxy != nil {
		sv.proxy.ServeHTTP(w, r)
		return
	}
	if s.cfg.AlterEvery > 0 && r.Method == http.MethodPost && (r.URL.Path == "/v1/chat/completions" || r.URL.Path == "/v1/completions") {
		s.serveAltered(w, r, sv)
		return
	}
	sv.srv.ServeHTTP(w, r)
}
