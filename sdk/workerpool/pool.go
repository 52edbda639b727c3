package workerpool

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrQueueFull is returned by TrySubmit and TryGo when every queue slot is taken.
var ErrQueueFull = errors.New("workerpool: queue is full")

// ErrClosed is returned when submitting to a closed pool, and resolves the
// Futures of queued tasks that Close abandoned.
var ErrClosed = errors.New("workerpool: pool is closed")

// PanicError reports a task that panicked.
type PanicError struct {
	// Value is what the task panicked with.
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack []byte
}

// Error implements error.
func (e *PanicError) Error() string {
	return fmt.Sprintf("workerpool: task panicked: %v", e.Value)
}

// Config configures a Pool.
type Config struct {
	// Workers is the number of goroutines running tasks. It must be positive.
	Workers int
	// QueueSize is the number of tasks that may wait for a worker. Zero
	// means a task is only accepted when a worker is ready to take it.
	QueueSize int
	// OnPanic, if set, is called with the PanicError of a task submitted
	// with Submit or TrySubmit that panicked. (Go, TryGo and Do report
	// panics through the Future instead.)
	OnPanic func(*PanicError)
	// Name labels this pool's metrics (const label "name"). Default "default".
	Name string
	// Registerer receives the pool's metrics; nil means do not register.
	Registerer prometheus.Registerer
}

type job struct {
	ctx      context.Context
	enqueued time.Time
	// run executes the task and reports whether it returned an error.
	run func(ctx context.Context) error
	// fail resolves a task that will not run, or that panicked.
	fail func(err error)
}

// Pool is a bounded worker pool, safe for concurrent use. Create it with New.
type Pool struct {
	cfg  Config
	m    *metrics
	jobs chan job

	// mu guards closed and the send side of jobs: senders hold it shared,
	// Close takes it exclusively before closing jobs, so no send can race
	// the close.
	mu        sync.RWMutex
	closed    bool
	abandoned atomic.Bool
	workers   sync.WaitGroup
	done      chan struct{}
}

// New starts a pool. It fails if Workers is not positive, QueueSize is
// negative, or the metrics cannot be registered.
func New(cfg Config) (*Pool, error) {
	if cfg.Workers <= 0 {
		return nil, fmt.Errorf("workerpool: Workers must be positive, got %d", cfg.Workers)
	}
	if cfg.QueueSize < 0 {
		return nil, fmt.Errorf("workerpool: QueueSize must not be negative, got %d", cfg.QueueSize)
	}
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	m, err := newMetrics(cfg.Name, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	p := &Pool{cfg: cfg, m: m, jobs: make(chan job, cfg.QueueSize), done: make(chan struct{})}
	m.workers.Set(float64(cfg.Workers))
	p.workers.Add(cfg.Workers)
	for range cfg.Workers {
		go p.worker()
	}
	go func() {
		p.workers.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *Pool) worker() {
	defer p.workers.Done()
	for j := range p.jobs {
		p.m.depth.Set(float64(len(p.jobs)))
		if p.abandoned.Load() {
			j.fail(ErrClosed)
			p.m.tasks.WithLabelValues(resultCanceled).Inc()
			continue
		}
		if err := j.ctx.Err(); err != nil {
			j.fail(err)
			p.m.tasks.WithLabelValues(resultCanceled).Inc()
			continue
		}
		p.execute(j)
	}
}

const (
	resultOK       = "ok"
	resultError    = "error"
	resultPanic    = "panic"
	resultCanceled = "canceled"
)

func (p *Pool) execute(j job) {
	start := time.Now()
	p.m.wait.Observe(start.Sub(j.enqueued).Seconds())
	p.m.busy.Inc()
	result := resultOK
	defer func() {
		if v := recover(); v != nil {
			result = resultPanic
			j.fail(&PanicError{Value: v, Stack: debug.Stack()})
		}
		p.m.busy.Dec()
		p.m.duration.Observe(time.Since(start).Seconds())
		p.m.tasks.WithLabelValues(result).Inc()
	}()
	if err := j.run(j.ctx); err != nil {
		result = resultError
	}
}

// enqueue sends j, blocking if block is set, and reports why it could not.
func (p *Pool) enqueue(j job, block bool) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	if err := j.ctx.Err(); err != nil {
		return err
	}
	j.enqueued = time.Now()
	if block {
		select {
		case p.jobs <- j:
		case <-j.ctx.Done():
			return j.ctx.Err()
		}
	} else {
		select {
		case p.jobs <- j:
		default:
			p.m.rejected.Inc()
			return ErrQueueFull
		}
	}
	p.m.submitted.Inc()
	p.m.depth.Set(float64(len(p.jobs)))
	return nil
}

func (p *Pool) plain(ctx context.Context, task func(context.Context)) job {
	return job{
		ctx: ctx,
		run: func(ctx context.Context) error { task(ctx); return nil },
		fail: func(err error) {
			var pe *PanicError
			if errors.As(err, &pe) && p.cfg.OnPanic != nil {
				p.cfg.OnPanic(pe)
			}
		},
	}
}

// Submit queues task, blocking while the queue is full. It returns ctx.Err()
// if ctx ends before the task is queued, and ErrClosed after Close. The task
// is called with ctx; it is skipped if ctx is done before a worker takes it.
func (p *Pool) Submit(ctx context.Context, task func(ctx context.Context)) error {
	return p.enqueue(p.plain(ctx, task), true)
}

// TrySubmit queues task if a slot is free and fails with ErrQueueFull
// otherwise. It never blocks.
func (p *Pool) TrySubmit(ctx context.Context, task func(ctx context.Context)) error {
	return p.enqueue(p.plain(ctx, task), false)
}

// Close stops the pool accepting tasks and waits until every queued and
// running task has finished and the workers have exited. If ctx ends first,
// tasks still queued are skipped (resolving with ErrClosed), and Close
// returns ctx.Err() without waiting for running tasks. Calling Close again
// waits again.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.jobs)
	}
	p.mu.Unlock()
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		p.abandoned.Store(true)
		return ctx.Err()
	}
}

// Workers returns the number of worker goroutines.
func (p *Pool) Workers() int { return p.cfg.Workers }

// Queued returns the number of tasks waiting for a worker.
func (p *Pool) Queued() int { return len(p.jobs) }
