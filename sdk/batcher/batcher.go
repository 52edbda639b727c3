package batcher

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("batcher: batcher is closed")

// Func processes a batch. It must return exactly one result per item, in
// the same order, or an error that applies to the whole batch.
type Func[In, Out any] func(ctx context.Context, items []In) ([]Out, error)

// Config configures a Batcher. Zero values take the defaults shown.
type Config struct {
	// MaxBatchSize is the largest batch passed to the batch function. Required, > 0.
	MaxBatchSize int
	// MinBatchSize is the smallest target the adaptation may choose. Default 1.
	MinBatchSize int
	// InitialBatchSize is the starting target. Default MaxBatchSize.
	InitialBatchSize int
	// MaxWait is how long a batch waits for more items after its first
	// one arrived. Default 5ms.
	MaxWait time.Duration
	// LatencyTarget, if positive, turns on batch-size adaptation toward
	// batch calls that take at most this long. Zero keeps the target fixed.
	LatencyTarget time.Duration
	// IncreaseStep is the additive increase of the target. Default 1.
	IncreaseStep int
	// DecreaseFactor is the multiplicative decrease, in (0,1). Default 0.5.
	DecreaseFactor float64
	// MaxConcurrentBatches is how many batch calls may run at once. Default 1.
	MaxConcurrentBatches int
	// QueueSize is how many submitted items may wait to be collected before
	// Submit blocks. Default 4 × MaxBatchSize.
	QueueSize int
	// Name labels this batcher's metrics (const label "name"). Default "default".
	Name string
	// Registerer receives the batcher's metrics; nil means do not register.
	Registerer prometheus.Registerer
}

func (c *Config) validate() error {
	if c.MaxBatchSize <= 0 {
		return fmt.Errorf("batcher: MaxBatchSize must be positive, got %d", c.MaxBatchSize)
	}
	if c.MinBatchSize == 0 {
		c.MinBatchSize = 1
	}
	if c.MinBatchSize < 0 || c.MinBatchSize > c.MaxBatchSize {
		return fmt.Errorf("batcher: MinBatchSize %d must be in [1, MaxBatchSize=%d]", c.MinBatchSize, c.MaxBatchSize)
	}
	if c.InitialBatchSize == 0 {
		c.InitialBatchSize = c.MaxBatchSize
	}
	if c.InitialBatchSize < c.MinBatchSize || c.InitialBatchSize > c.MaxBatchSize {
		return fmt.Errorf("batcher: InitialBatchSize %d must be in [MinBatchSize=%d, MaxBatchSize=%d]",
			c.InitialBatchSize, c.MinBatchSize, c.MaxBatchSize)
	}
	if c.MaxWait == 0 {
		c.MaxWait = 5 * time.Millisecond
	}
	if c.MaxWait < 0 {
		return fmt.Errorf("batcher: MaxWait must not be negative, got %v", c.MaxWait)
	}
	if c.LatencyTarget < 0 {
		return fmt.Errorf("batcher: LatencyTarget must not be negative, got %v", c.LatencyTarget)
	}
	if c.IncreaseStep == 0 {
		c.IncreaseStep = 1
	}
	if c.IncreaseStep < 0 {
		return fmt.Errorf("batcher: IncreaseStep must be positive, got %d", c.IncreaseStep)
	}
	if c.DecreaseFactor == 0 {
		c.DecreaseFactor = 0.5
	}
	if !(c.DecreaseFactor > 0 && c.DecreaseFactor < 1) {
		return fmt.Errorf("batcher: DecreaseFactor must be in (0,1), got %v", c.DecreaseFactor)
	}
	if c.MaxConcurrentBatches == 0 {
		c.MaxConcurrentBatches = 1
	}
	if c.MaxConcurrentBatches < 0 {
		return fmt.Errorf("batcher: MaxConcurrentBatches must be positive, got %d", c.MaxConcurrentBatches)
	}
	if c.QueueSize == 0 {
		c.QueueSize = 4 * c.MaxBatchSize
	}
	if c.QueueSize < 0 {
		return fmt.Errorf("batcher: QueueSize must not be negative, got %d", c.QueueSize)
	}
	if c.Name == "" {
		c.Name = "default"
	}
	return nil
}

// NextTarget is the adaptation rule (see the package documentation): the
// target batch size after a batch of size n took latency d, given the
// current target. It is exported so that the rule can be inspected and
// tested on its own.
func NextTarget(cfg Config, target, n int, d time.Duration) int {
	if cfg.LatencyTarget <= 0 {
		return target
	}
	switch {
	case d > cfg.LatencyTarget:
		target = max(cfg.MinBatchSize, int(float64(target)*cfg.DecreaseFactor))
	case n >= target:
		target = min(cfg.MaxBatchSize, target+cfg.IncreaseStep)
	}
	return target
}

type result[Out any] struct {
	val Out
	err error
}

type request[In, Out any] struct {
	ctx      context.Context
	item     In
	enqueued time.Time
	resp     chan result[Out]
}

// Batcher groups Submit calls into batch calls. Create it with New; it is
// safe for concurrent use.
type Batcher[In, Out any] struct {
	cfg Config
	fn  Func[In, Out]
	m   *metrics

	in chan *request[In, Out]
	// mu guards closed and the send side of in: Submit holds it shared
	// while sending, Close takes it exclusively before closing in.
	mu     sync.RWMutex
	closed bool

	target   atomic.Int64
	pending  atomic.Int64
	sem      chan struct{}
	inflight sync.WaitGroup
	done     chan struct{}

	runCtx    context.Context
	cancelRun context.CancelFunc

	// respPool recycles result channels. A channel goes back only after
	// its one result was received, so a recycled channel is always empty.
	respPool sync.Pool
}

// New validates cfg, applies defaults and starts the collector goroutine.
// Call Close to stop it.
func New[In, Out any](cfg Config, fn Func[In, Out]) (*Batcher[In, Out], error) {
	if fn == nil {
		return nil, errors.New("batcher: batch function is nil")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Name, cfg.MaxBatchSize, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	b := &Batcher[In, Out]{
		cfg:  cfg,
		fn:   fn,
		m:    m,
		in:   make(chan *request[In, Out], cfg.QueueSize),
		sem:  make(chan struct{}, cfg.MaxConcurrentBatches),
		done: make(chan struct{}),
	}
	b.respPool.New = func() any { return make(chan result[Out], 1) }
	b.runCtx, b.cancelRun = context.WithCancel(context.Background())
	b.target.Store(int64(cfg.InitialBatchSize))
	m.target.Set(float64(cfg.InitialBatchSize))
	go b.collect()
	return b, nil
}

// Submit adds item to a batch and waits for its result. It returns ctx.Err()
// if ctx ends first (the item is then dropped if its batch has not yet been
// dispatched), ErrClosed after Close, and otherwise the item's result or the
// error of its batch.
func (b *Batcher[In, Out]) Submit(ctx context.Context, item In) (Out, error) {
	var zero Out
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	resp := b.respPool.Get().(chan result[Out])
	r := &request[In, Out]{ctx: ctx, item: item, enqueued: time.Now(), resp: resp}

	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return zero, ErrClosed
	}
	b.pending.Add(1)
	select {
	case b.in <- r:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.pending.Add(-1)
		b.mu.RUnlock()
		return zero, ctx.Err()
	}

	select {
	case res := <-resp:
		b.respPool.Put(resp)
		return res.val, res.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// TargetBatchSize returns the current target batch size.
func (b *Batcher[In, Out]) TargetBatchSize() int { return int(b.target.Load()) }

// Pending returns the number of items submitted but not yet dispatched or dropped.
func (b *Batcher[In, Out]) Pending() int { return int(b.pending.Load()) }

// Close stops intake, dispatches the items already submitted, and waits for
// every batch call to return. If ctx ends first, Close cancels the context
// passed to running batch calls and returns ctx.Err(); the remaining batches
// are still dispatched (with that cancelled context) so that every Submit
// gets an answer. Calling Close again waits again.
func (b *Batcher[In, Out]) Close(ctx context.Context) error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.in)
	}
	b.mu.Unlock()
	select {
	case <-b.done:
		b.cancelRun()
		return nil
	case <-ctx.Done():
		b.cancelRun()
		return ctx.Err()
	}
}

// collect is the collector goroutine: it forms batches and dispatches them.
func (b *Batcher[In, Out]) collect() {
	defer close(b.done)
	defer b.inflight.Wait()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		first, ok := <-b.in
		if !ok {
			return
		}
		target := b.TargetBatchSize()
		batch := make([]*request[In, Out], 1, target)
		batch[0] = first
		open := true
		if len(batch) < target {
			timer.Reset(b.cfg.MaxWait)
		fill:
			for len(batch) < target {
				select {
				case r, ok := <-b.in:
					if !ok {
						open = false
						break fill
					}
					batch = append(batch, r)
				case <-timer.C:
					break fill
				}
			}
			timer.Stop()
		}

		// Wait for a free backend slot. Items that arrived meanwhile top the
		// batch up to the target, so a saturated backend gets full batches.
		b.sem <- struct{}{}
		if open {
			target = b.TargetBatchSize()
		top:
			for len(batch) < target {
				select {
				case r, ok := <-b.in:
					if !ok {
						open = false
						break top
					}
					batch = append(batch, r)
				default:
					break top
				}
			}
		}
		b.dispatch(batch)
		if !open {
			return
		}
	}
}

// dispatch drops cancelled items and starts the batch call. The caller holds
// a slot of b.sem, which the call releases.
func (b *Batcher[In, Out]) dispatch(batch []*request[In, Out]) {
	now := time.Now()
	live := batch[:0]
	for _, r := range batch {
		if r.ctx.Err() != nil {
			b.m.dropped.Inc()
			continue
		}
		b.m.wait.Observe(now.Sub(r.enqueued).Seconds())
		live = append(live, r)
	}
	b.pending.Add(-int64(len(batch)))
	if len(live) == 0 {
		<-b.sem
		return
	}
	b.inflight.Add(1)
	b.m.inflight.Inc()
	go b.run(live)
}

func (b *Batcher[In, Out]) run(batch []*request[In, Out]) {
	defer func() {
		b.m.inflight.Dec()
		<-b.sem
		b.inflight.Done()
	}()
	items := make([]In, len(batch))
	for i, r := range batch {
		items[i] = r.item
	}
	start := time.Now()
	outs, err := b.call(items)
	d := time.Since(start)
	if err == nil && len(outs) != len(items) {
		err = fmt.Errorf("batcher: batch function returned %d results for %d items", len(outs), len(items))
	}

	status := "ok"
	if err != nil {
		status = "error"
		err = fmt.Errorf("batcher: batch of %d items failed: %w", len(items), err)
		for _, r := range batch {
			r.resp <- result[Out]{err: err}
		}
	} else {
		for i, r := range batch {
			r.resp <- result[Out]{val: outs[i]}
		}
	}
	b.m.batches.WithLabelValues(status).Inc()
	b.m.items.WithLabelValues(status).Add(float64(len(batch)))
	b.m.size.Observe(float64(len(batch)))
	b.m.duration.Observe(d.Seconds())

	if b.cfg.LatencyTarget > 0 && err == nil {
		// CAS loop: concurrent batches each apply their own step.
		for {
			cur := b.target.Load()
			next := int64(NextTarget(b.cfg, int(cur), len(batch), d))
			if next == cur || b.target.CompareAndSwap(cur, next) {
				b.m.target.Set(float64(next))
				break
			}
		}
	}
}

// call runs the batch function, turning a panic into an error.
func (b *Batcher[In, Out]) call(items []In) (outs []Out, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("batch function panicked: %v", v)
		}
	}()
	return b.fn(b.runCtx, items)
}
