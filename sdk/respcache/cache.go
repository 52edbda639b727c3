package respcache

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Key identifies a request: a SHA-256 digest of whatever determines its response.
type Key [32]byte

// String returns the key in hex.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// HashBytes returns the key of a request already encoded as bytes.
func HashBytes(b []byte) Key { return sha256.Sum256(b) }

// HashJSON returns the SHA-256 digest of req's JSON encoding. Map keys are
// sorted by encoding/json, so equal requests hash equally.
func HashJSON[Req any](req Req) (Key, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return Key{}, fmt.Errorf("respcache: hash request as JSON: %w", err)
	}
	return sha256.Sum256(b), nil
}

// Config configures a Cache.
type Config[Req any] struct {
	// MaxEntries bounds the number of cached responses. Required, > 0.
	MaxEntries int
	// TTL is how long a stored response stays fresh. Required, > 0.
	TTL time.Duration
	// Key maps a request to its cache key. Default HashJSON.
	Key func(Req) (Key, error)
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Name labels this cache's metrics (const label "name"). Default "default".
	Name string
	// Registerer receives the cache's metrics; nil means do not register.
	Registerer prometheus.Registerer
}

type entry[Resp any] struct {
	key     Key
	val     Resp
	expires time.Time
}

type flight[Resp any] struct {
	done    chan struct{}
	val     Resp
	err     error
	waiters int
	cancel  context.CancelFunc
}

// Cache is a TTL + LRU response cache with singleflight de-duplication.
// Create it with New; it is safe for concurrent use.
type Cache[Req, Resp any] struct {
	cfg Config[Req]
	m   *metrics

	mu      sync.Mutex
	lru     *list.List // of *entry[Resp], most recently used at the front
	items   map[Key]*list.Element
	flights map[Key]*flight[Resp]
	closed  bool
	running sync.WaitGroup // fetch goroutines
}

// ErrClosed is returned by Get after Close.
var ErrClosed = errors.New("respcache: cache is closed")

// New validates cfg and returns an empty cache.
func New[Req, Resp any](cfg Config[Req]) (*Cache[Req, Resp], error) {
	if cfg.MaxEntries <= 0 {
		return nil, fmt.Errorf("respcache: MaxEntries must be positive, got %d", cfg.MaxEntries)
	}
	if cfg.TTL <= 0 {
		return nil, fmt.Errorf("respcache: TTL must be positive, got %v", cfg.TTL)
	}
	if cfg.Key == nil {
		cfg.Key = HashJSON[Req]
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	m, err := newMetrics(cfg.Name, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Cache[Req, Resp]{
		cfg:     cfg,
		m:       m,
		lru:     list.New(),
		items:   make(map[Key]*list.Element),
		flights: make(map[Key]*flight[Resp]),
	}, nil
}

// lookupLocked returns the fresh entry for k, dropping it if expired.
func (c *Cache[Req, Resp]) lookupLocked(k Key, now time.Time) (*entry[Resp], bool) {
	el, ok := c.items[k]
	if !ok {
		return nil, false
	}
	e := el.Value.(*entry[Resp])
	if !now.Before(e.expires) {
		c.removeLocked(el)
		c.m.expired.Inc()
		return nil, false
	}
	c.lru.MoveToFront(el)
	return e, true
}

func (c *Cache[Req, Resp]) removeLocked(el *list.Element) {
	c.lru.Remove(el)
	delete(c.items, el.Value.(*entry[Resp]).key)
	c.m.entries.Set(float64(len(c.items)))
}

func (c *Cache[Req, Resp]) storeLocked(k Key, v Resp, now time.Time) {
	exp := now.Add(c.cfg.TTL)
	if el, ok := c.items[k]; ok {
		e := el.Value.(*entry[Resp])
		e.val, e.expires = v, exp
		c.lru.MoveToFront(el)
		return
	}
	c.items[k] = c.lru.PushFront(&entry[Resp]{key: k, val: v, expires: exp})
	for len(c.items) > c.cfg.MaxEntries {
		c.removeLocked(c.lru.Back())
		c.m.evicted.Inc()
	}
	c.m.entries.Set(float64(len(c.items)))
}

// Get returns the cached response to req if it is fresh; otherwise it calls
// fetch (or joins a fetch for the same key already running), caches a
// successful response, and returns it. It returns ctx.Err() if ctx ends
// while waiting, an error if req cannot be hashed, and otherwise fetch's
// error. A panic in fetch is returned as an error.
func (c *Cache[Req, Resp]) Get(ctx context.Context, req Req, fetch func(ctx context.Context, req Req) (Resp, error)) (Resp, error) {
	var zero Resp
	k, err := c.cfg.Key(req)
	if err != nil {
		return zero, err
	}
	c.mu.Lock()
	if e, ok := c.lookupLocked(k, c.cfg.Now()); ok {
		v := e.val
		c.mu.Unlock()
		c.m.hits.Inc()
		return v, nil
	}
	if err := ctx.Err(); err != nil {
		c.mu.Unlock()
		return zero, err
	}
	if c.closed {
		c.mu.Unlock()
		return zero, ErrClosed
	}
	if f, ok := c.flights[k]; ok {
		f.waiters++
		c.mu.Unlock()
		c.m.shared.Inc()
		return c.wait(ctx, k, f)
	}
	c.m.misses.Inc()
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &flight[Resp]{done: make(chan struct{}), waiters: 1, cancel: cancel}
	c.flights[k] = f
	c.running.Add(1)
	c.mu.Unlock()

	go c.run(fctx, k, f, req, fetch)
	return c.wait(ctx, k, f)
}

func (c *Cache[Req, Resp]) run(ctx context.Context, k Key, f *flight[Resp], req Req, fetch func(context.Context, Req) (Resp, error)) {
	defer c.running.Done()
	defer f.cancel()
	start := time.Now()
	v, err := safeFetch(ctx, req, fetch)
	c.m.fetch.Observe(time.Since(start).Seconds())

	c.mu.Lock()
	if c.flights[k] == f {
		delete(c.flights, k)
	}
	if err == nil {
		if !c.closed {
			c.storeLocked(k, v, c.cfg.Now())
		}
	} else {
		c.m.fetchErrors.Inc()
	}
	f.val, f.err = v, err
	close(f.done)
	c.mu.Unlock()
}

func safeFetch[Req, Resp any](ctx context.Context, req Req, fetch func(context.Context, Req) (Resp, error)) (v Resp, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("respcache: fetch panicked: %v", r)
		}
	}()
	return fetch(ctx, req)
}

func (c *Cache[Req, Resp]) wait(ctx context.Context, k Key, f *flight[Resp]) (Resp, error) {
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		c.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			// Nobody wants this result any more: stop the fetch, and let
			// the next Get for k start afresh.
			f.cancel()
			if c.flights[k] == f {
				delete(c.flights, k)
			}
		}
		c.mu.Unlock()
		var zero Resp
		return zero, ctx.Err()
	}
}

// Lookup returns the fresh cached response to req, if any, without fetching.
func (c *Cache[Req, Resp]) Lookup(req Req) (Resp, bool) {
	var zero Resp
	k, err := c.cfg.Key(req)
	if err != nil {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.lookupLocked(k, c.cfg.Now()); ok {
		return e.val, true
	}
	return zero, false
}

// Put stores resp as the response to req, replacing any cached one.
func (c *Cache[Req, Resp]) Put(req Req, resp Resp) error {
	k, err := c.cfg.Key(req)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.storeLocked(k, resp, c.cfg.Now())
	c.mu.Unlock()
	return nil
}

// Invalidate removes the cached response to req. It reports whether one was cached.
func (c *Cache[Req, Resp]) Invalidate(req Req) (bool, error) {
	k, err := c.cfg.Key(req)
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if ok {
		c.removeLocked(el)
	}
	return ok, nil
}

// Sweep removes every expired entry and returns how many it removed.
func (c *Cache[Req, Resp]) Sweep() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	n := 0
	for el := c.lru.Front(); el != nil; {
		next := el.Next()
		if !now.Before(el.Value.(*entry[Resp]).expires) {
			c.removeLocked(el)
			c.m.expired.Inc()
			n++
		}
		el = next
	}
	return n
}

// Purge removes every entry. Fetches in flight are unaffected.
func (c *Cache[Req, Resp]) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Init()
	clear(c.items)
	c.m.entries.Set(0)
}

// Len returns the number of cached entries, expired ones not yet dropped included.
func (c *Cache[Req, Resp]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// Close makes further Gets that miss fail with ErrClosed (fresh entries are
// still served), cancels the contexts of fetches in flight, and waits for
// their goroutines to return or for ctx to end. Callers waiting on those
// fetches receive whatever the fetches return. Close is idempotent.
func (c *Cache[Req, Resp]) Close(ctx context.Context) error {
	c.mu.Lock()
	c.closed = true
	for _, f := range c.flights {
		f.cancel()
	}
	c.mu.Unlock()
	done := make(chan struct{})
	go func() {
		c.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
