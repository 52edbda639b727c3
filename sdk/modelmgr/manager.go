package modelmgr

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Artifact is a verified model file handed to a Loader.
type Artifact struct {
	// Spec is the model's registry entry.
	Spec Spec
	// Size is the file's size in bytes.
	Size int64
	// File is the open artifact, positioned at its start, whose contents
	// matched Spec.SHA256. The Loader must not close it and must not keep
	// it after returning; loaders that need the path use Spec.Path.
	File *os.File
}

// ReadAll returns the artifact's contents.
func (a Artifact) ReadAll() ([]byte, error) {
	b := make([]byte, a.Size)
	if _, err := io.ReadFull(io.NewSectionReader(a.File, 0, a.Size), b); err != nil {
		return nil, fmt.Errorf("modelmgr: read %s: %w", a.Spec.Path, err)
	}
	return b, nil
}

// Loader turns a verified artifact into a usable model value.
type Loader[M any] func(ctx context.Context, a Artifact) (M, error)

// Config configures a Manager.
type Config[M any] struct {
	// Loader builds a model from its verified artifact. Required.
	Loader Loader[M]
	// Unload, if set, releases a model evicted from the cache, unregistered
	// or dropped at Close. It is called once per loaded model, never while
	// a lease on it is held, and never with the manager's lock held.
	Unload func(spec Spec, model M)
	// SizeOf, if set, gives a loaded model's size for the byte budget;
	// default the artifact's file size.
	SizeOf func(model M) int64
	// MaxModels bounds the number of cached models. Default 8.
	MaxModels int
	// MaxBytes, if positive, bounds the total size of cached models.
	MaxBytes int64
	// UnhealthyAfter is the number of consecutive failures that mark a
	// model unhealthy. Default 3.
	UnhealthyAfter int
	// LatencyAlpha is the weight of the newest sample in the latency EWMA,
	// in (0,1]. Default 0.2.
	LatencyAlpha float64
	// Name labels this manager's metrics (const label "name"). Default "default".
	Name string
	// Registerer receives the manager's metrics; nil means do not register.
	Registerer prometheus.Registerer
}

type key struct{ id, version string }

// model is a registered spec with its health and metric series.
type model struct {
	spec   Spec
	seq    int // registration order, for Versions and Latest
	health Health
	series modelSeries
}

// entry is a loaded model.
type entry[M any] struct {
	key     key
	spec    Spec
	model   M
	size    int64
	refs    int
	elem    *list.Element // position in the LRU; nil once evicted
	evicted bool
}

type loadCall struct {
	done chan struct{}
	err  error
}

// Manager is a model registry with a verified, bounded cache of loaded
// models. Create it with New; it is safe for concurrent use.
type Manager[M any] struct {
	cfg Config[M]
	m   *metrics

	mu      sync.Mutex
	models  map[key]*model
	seq     int
	entries map[key]*entry[M]
	lru     *list.List // of *entry[M], most recently used at the front
	bytes   int64
	loading map[key]*loadCall
	closed  bool
}

// New validates cfg and returns an empty manager.
func New[M any](cfg Config[M]) (*Manager[M], error) {
	if cfg.Loader == nil {
		return nil, errors.New("modelmgr: Config.Loader is required")
	}
	if cfg.MaxModels == 0 {
		cfg.MaxModels = 8
	}
	if cfg.UnhealthyAfter == 0 {
		cfg.UnhealthyAfter = 3
	}
	if cfg.LatencyAlpha == 0 {
		cfg.LatencyAlpha = 0.2
	}
	switch {
	case cfg.MaxModels < 0:
		return nil, fmt.Errorf("modelmgr: MaxModels must be positive, got %d", cfg.MaxModels)
	case cfg.MaxBytes < 0:
		return nil, fmt.Errorf("modelmgr: MaxBytes must not be negative, got %d", cfg.MaxBytes)
	case cfg.UnhealthyAfter < 0:
		return nil, fmt.Errorf("modelmgr: UnhealthyAfter must be positive, got %d", cfg.UnhealthyAfter)
	case !(cfg.LatencyAlpha > 0 && cfg.LatencyAlpha <= 1):
		return nil, fmt.Errorf("modelmgr: LatencyAlpha must be in (0,1], got %v", cfg.LatencyAlpha)
	}
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	mt, err := newMetrics(cfg.Name, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Manager[M]{
		cfg:     cfg,
		m:       mt,
		models:  make(map[key]*model),
		entries: make(map[key]*entry[M]),
		lru:     list.New(),
		loading: make(map[key]*loadCall),
	}, nil
}

// Register adds spec to the registry. It fails if the spec is incomplete,
// its digest is not 64 hex digits, or its ID and version are already
// registered.
func (mg *Manager[M]) Register(spec Spec) error {
	spec, err := spec.validate()
	if err != nil {
		return err
	}
	k := key{spec.ID, spec.Version}
	mg.mu.Lock()
	defer mg.mu.Unlock()
	if _, dup := mg.models[k]; dup {
		return fmt.Errorf("modelmgr: model %q version %q: %w", spec.ID, spec.Version, ErrAlreadyRegistered)
	}
	mg.seq++
	mg.models[k] = &model{
		spec:   spec,
		seq:    mg.seq,
		health: Health{Healthy: true},
		series: mg.m.series(spec.ID, spec.Version),
	}
	return nil
}

// Unregister removes a model version from the registry and drops it from
// the cache (unloading it now, or when its last lease is released).
func (mg *Manager[M]) Unregister(id, version string) error {
	k := key{id, version}
	mg.mu.Lock()
	if _, ok := mg.models[k]; !ok {
		mg.mu.Unlock()
		return notRegistered(id, version)
	}
	delete(mg.models, k)
	mg.m.deleteSeries(id, version)
	var unload []*entry[M]
	if e, ok := mg.entries[k]; ok {
		unload = mg.evictLocked(e)
	}
	mg.mu.Unlock()
	mg.unload(unload)
	return nil
}

// Spec returns the registered spec of a model version.
func (mg *Manager[M]) Spec(id, version string) (Spec, error) {
	mg.mu.Lock()
	defer mg.mu.Unlock()
	md, ok := mg.models[key{id, version}]
	if !ok {
		return Spec{}, notRegistered(id, version)
	}
	return md.spec, nil
}

// Specs returns every registered spec, sorted by ID then Version.
func (mg *Manager[M]) Specs() []Spec {
	mg.mu.Lock()
	out := make([]Spec, 0, len(mg.models))
	for _, md := range mg.models {
		out = append(out, md.spec)
	}
	mg.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return out[i].ID < out[j].ID
		}
		return out[i].Version < out[j].Version
	})
	return out
}

// Versions returns the registered versions of a model, oldest registration first.
func (mg *Manager[M]) Versions(id string) []string {
	mg.mu.Lock()
	var mds []*model
	for k, md := range mg.models {
		if k.id == id {
			mds = append(mds, md)
		}
	}
	mg.mu.Unlock()
	slices.SortFunc(mds, func(a, b *model) int { return a.seq - b.seq })
	out := make([]string, len(mds))
	for i, md := range mds {
		out[i] = md.spec.Version
	}
	return out
}

// Latest returns the most recently registered version of a model.
func (mg *Manager[M]) Latest(id string) (Spec, error) {
	vs := mg.Versions(id)
	if len(vs) == 0 {
		return Spec{}, fmt.Errorf("modelmgr: model %q has no versions: %w", id, ErrNotRegistered)
	}
	return mg.Spec(id, vs[len(vs)-1])
}

// Loaded returns the specs of the cached models, most recently used first.
func (mg *Manager[M]) Loaded() []Spec {
	mg.mu.Lock()
	defer mg.mu.Unlock()
	out := make([]Spec, 0, mg.lru.Len())
	for el := mg.lru.Front(); el != nil; el = el.Next() {
		out = append(out, el.Value.(*entry[M]).spec)
	}
	return out
}

// Lease is a hold on a loaded model: the model is not unloaded while a lease
// on it is held. Release it when done; a Lease is for one goroutine.
type Lease[M any] struct {
	mg       *Manager[M]
	e        *entry[M]
	released bool
}

// Model returns the loaded model.
func (l *Lease[M]) Model() M { return l.e.model }

// Spec returns the model's spec.
func (l *Lease[M]) Spec() Spec { return l.e.spec }

// Observe records one use of the leased model; see Manager.Observe.
func (l *Lease[M]) Observe(latency time.Duration, err error) {
	l.mg.Observe(l.e.key.id, l.e.key.version, latency, err)
}

// Release gives the lease back. Releasing twice is a no-op.
func (l *Lease[M]) Release() {
	if l.released {
		return
	}
	l.released = true
	l.mg.release(l.e)
}

// Load makes sure a model version is loaded and returns it. It is Acquire
// followed by Release: the model stays cached until evicted, and an Unload
// hook may run once it is; callers that keep using the model while other
// models are loaded should hold a Lease instead.
func (mg *Manager[M]) Load(ctx context.Context, id, version string) (M, error) {
	l, err := mg.Acquire(ctx, id, version)
	if err != nil {
		var zero M
		return zero, err
	}
	defer l.Release()
	return l.Model(), nil
}

// Run acquires a model, calls fn with it, records fn's latency and outcome
// with Observe, and releases the model.
func (mg *Manager[M]) Run(ctx context.Context, id, version string, fn func(ctx context.Context, model M) error) error {
	l, err := mg.Acquire(ctx, id, version)
	if err != nil {
		return err
	}
	defer l.Release()
	start := time.Now()
	err = fn(ctx, l.Model())
	l.Observe(time.Since(start), err)
	return err
}

// Acquire returns a lease on a model version, loading it if it is not
// cached. Loading verifies the artifact's SHA-256 digest (a mismatch is a
// *ChecksumError) before calling the Loader. Concurrent Acquires of a model
// being loaded share that load.
func (mg *Manager[M]) Acquire(ctx context.Context, id, version string) (*Lease[M], error) {
	k := key{id, version}
	for {
		mg.mu.Lock()
		if mg.closed {
			mg.mu.Unlock()
			return nil, ErrClosed
		}
		md, ok := mg.models[k]
		if !ok {
			mg.mu.Unlock()
			return nil, notRegistered(id, version)
		}
		if e, ok := mg.entries[k]; ok {
			e.refs++
			mg.lru.MoveToFront(e.elem)
			mg.mu.Unlock()
			mg.m.hits.Inc()
			return &Lease[M]{mg: mg, e: e}, nil
		}
		if call, ok := mg.loading[k]; ok {
			mg.mu.Unlock()
			select {
			case <-call.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if call.err != nil && !isContextErr(call.err) {
				return nil, call.err
			}
			continue // loaded (or the loader's caller gave up): look again
		}
		call := &loadCall{done: make(chan struct{})}
		mg.loading[k] = call
		spec := md.spec
		mg.mu.Unlock()
		mg.m.misses.Inc()

		e, err := mg.load(ctx, k, spec)

		mg.mu.Lock()
		delete(mg.loading, k)
		var unload []*entry[M]
		if err == nil {
			mg.entries[k] = e
			e.elem = mg.lru.PushFront(e)
			mg.bytes += e.size
			if cur, ok := mg.models[k]; !ok || cur.spec.SHA256 != spec.SHA256 || mg.closed {
				// Unregistered (or closed) while loading: hand out the model
				// once, but do not keep it.
				unload = mg.evictLocked(e)
			}
			unload = append(unload, mg.enforceLocked()...)
			mg.gaugesLocked()
		} else if cur, ok := mg.models[k]; ok && !isContextErr(err) {
			mg.failLocked(cur, err)
		}
		call.err = err
		close(call.done)
		mg.mu.Unlock()
		mg.unload(unload)
		if err != nil {
			return nil, err
		}
		return &Lease[M]{mg: mg, e: e}, nil
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// load opens, verifies and loads an artifact, returning an entry holding one
// reference.
func (mg *Manager[M]) load(ctx context.Context, k key, spec Spec) (*entry[M], error) {
	start := time.Now()
	model, size, err := mg.verifyAndLoad(ctx, spec)
	mg.m.loadDuration.Observe(time.Since(start).Seconds())
	switch {
	case err == nil:
		mg.m.loads.WithLabelValues("ok").Inc()
	case errors.Is(err, ErrChecksumMismatch):
		mg.m.loads.WithLabelValues("checksum_mismatch").Inc()
	default:
		mg.m.loads.WithLabelValues("error").Inc()
	}
	if err != nil {
		return nil, err
	}
	return &entry[M]{key: k, spec: spec, model: model, size: size, refs: 1}, nil
}

func (mg *Manager[M]) verifyAndLoad(ctx context.Context, spec Spec) (model M, size int64, err error) {
	f, err := os.Open(spec.Path)
	if err != nil {
		return model, 0, fmt.Errorf("modelmgr: load model %q version %q: %w", spec.ID, spec.Version, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return model, 0, fmt.Errorf("modelmgr: load model %q version %q: %w", spec.ID, spec.Version, err)
	}
	if !st.Mode().IsRegular() {
		return model, 0, fmt.Errorf("modelmgr: load model %q version %q: %s is not a regular file", spec.ID, spec.Version, spec.Path)
	}
	size = st.Size()
	if mg.cfg.MaxBytes > 0 && mg.cfg.SizeOf == nil && size > mg.cfg.MaxBytes {
		return model, 0, fmt.Errorf("modelmgr: load model %q version %q: %d bytes, budget %d: %w",
			spec.ID, spec.Version, size, mg.cfg.MaxBytes, ErrTooLarge)
	}

	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return model, 0, fmt.Errorf("modelmgr: hash model %q version %q (%s): %w", spec.ID, spec.Version, spec.Path, err)
	}
	if actual := hex.EncodeToString(h.Sum(nil)); actual != spec.SHA256 {
		return model, 0, &ChecksumError{ID: spec.ID, Version: spec.Version, Path: spec.Path,
			Expected: spec.SHA256, Actual: actual}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return model, 0, fmt.Errorf("modelmgr: load model %q version %q: %w", spec.ID, spec.Version, err)
	}

	model, err = mg.callLoader(ctx, Artifact{Spec: spec, Size: size, File: f})
	if err != nil {
		return model, 0, fmt.Errorf("modelmgr: loader failed for model %q version %q: %w", spec.ID, spec.Version, err)
	}
	if mg.cfg.SizeOf != nil {
		size = mg.cfg.SizeOf(model)
		if mg.cfg.MaxBytes > 0 && size > mg.cfg.MaxBytes {
			if mg.cfg.Unload != nil {
				mg.cfg.Unload(spec, model)
			}
			var zero M
			return zero, 0, fmt.Errorf("modelmgr: load model %q version %q: %d bytes loaded, budget %d: %w",
				spec.ID, spec.Version, size, mg.cfg.MaxBytes, ErrTooLarge)
		}
	}
	return model, size, nil
}

func (mg *Manager[M]) callLoader(ctx context.Context, a Artifact) (model M, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("loader panicked: %v", r)
		}
	}()
	return mg.cfg.Loader(ctx, a)
}

// ctxReader stops a long read (hashing a multi-gigabyte artifact) when its
// context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// evictLocked removes e from the cache. It returns e if it should be
// unloaded now (no leases), otherwise it is unloaded on its last release.
func (mg *Manager[M]) evictLocked(e *entry[M]) []*entry[M] {
	if e.evicted {
		return nil
	}
	e.evicted = true
	mg.lru.Remove(e.elem)
	e.elem = nil
	delete(mg.entries, e.key)
	mg.bytes -= e.size
	mg.m.evictions.Inc()
	mg.gaugesLocked()
	if e.refs == 0 {
		return []*entry[M]{e}
	}
	return nil
}

// enforceLocked evicts least recently used, unleased models until the cache
// is within its bounds or only leased models remain.
func (mg *Manager[M]) enforceLocked() []*entry[M] {
	var out []*entry[M]
	for el := mg.lru.Back(); el != nil && mg.overLocked(); {
		prev := el.Prev()
		if e := el.Value.(*entry[M]); e.refs == 0 {
			out = append(out, mg.evictLocked(e)...)
		}
		el = prev
	}
	return out
}

func (mg *Manager[M]) overLocked() bool {
	return mg.lru.Len() > mg.cfg.MaxModels || (mg.cfg.MaxBytes > 0 && mg.bytes > mg.cfg.MaxBytes)
}

func (mg *Manager[M]) gaugesLocked() {
	mg.m.loadedModels.Set(float64(mg.lru.Len()))
	mg.m.loadedBytes.Set(float64(mg.bytes))
}

func (mg *Manager[M]) release(e *entry[M]) {
	mg.mu.Lock()
	e.refs--
	var unload []*entry[M]
	if e.refs == 0 {
		if e.evicted {
			unload = []*entry[M]{e}
		} else {
			unload = mg.enforceLocked()
		}
	}
	mg.mu.Unlock()
	mg.unload(unload)
}

func (mg *Manager[M]) unload(es []*entry[M]) {
	if mg.cfg.Unload == nil {
		return
	}
	for _, e := range es {
		mg.cfg.Unload(e.spec, e.model)
	}
}

// Close drops every cached model (unloading idle ones now, leased ones on
// release) and makes Acquire and Load fail with ErrClosed. The registry,
// health and Observe keep working. Close is idempotent.
func (mg *Manager[M]) Close() {
	mg.mu.Lock()
	mg.closed = true
	var unload []*entry[M]
	for el := mg.lru.Back(); el != nil; {
		prev := el.Prev()
		unload = append(unload, mg.evictLocked(el.Value.(*entry[M]))...)
		el = prev
	}
	mg.mu.Unlock()
	mg.unload(unload)
}
