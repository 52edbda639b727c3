package pqueue

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrFull is returned by Push when the queue is at MaxSize and the item could
// not be admitted under the queue's Policy.
var ErrFull = errors.New("pqueue: queue is full")

// ErrClosed is returned by Push after Close, and by Pop once the queue is
// closed and drained.
var ErrClosed = errors.New("pqueue: queue is closed")

// Policy says what Push does when the queue is full.
type Policy int

const (
	// Reject refuses the new item with ErrFull.
	Reject Policy = iota
	// EvictLowest drops the lowest-priority queued item (the newest of
	// those sharing the lowest priority) to make room, provided the new
	// item's priority is strictly higher; otherwise the new item is refused
	// with ErrFull.
	EvictLowest
)

// String returns the policy's name.
func (p Policy) String() string {
	switch p {
	case Reject:
		return "reject"
	case EvictLowest:
		return "evict-lowest"
	default:
		return fmt.Sprintf("Policy(%d)", int(p))
	}
}

// Config configures a Queue.
type Config[T any] struct {
	// MaxSize is the most items the queue holds. It must be positive.
	MaxSize int
	// Policy says what Push does when the queue is full. Default Reject.
	Policy Policy
	// OnEvict, if set, receives each item evicted under EvictLowest. It is
	// called without the queue's lock held, after Push has admitted the new
	// item.
	OnEvict func(item T, priority int)
	// Name labels this queue's metrics (const label "name"). Default "default".
	Name string
	// Registerer receives the queue's metrics; nil means do not register.
	Registerer prometheus.Registerer
	// Now returns the current time, for the queue-wait histogram. Default time.Now.
	Now func() time.Time
}

// Queue is a bounded priority queue, safe for concurrent use. Create it with New.
type Queue[T any] struct {
	cfg Config[T]
	m   *metrics

	mu sync.Mutex
	// max has the next item to pop at its root, min the item eviction removes.
	max    nodeHeap[T]
	min    nodeHeap[T]
	seq    uint64
	closed bool
	// ready is closed and replaced when an item is pushed while Pops are
	// waiting, or when the queue is closed, waking every blocked Pop to
	// re-check. Pop only waits when the queue is empty, and Push only pays
	// for the broadcast when someone waits, so the busy path never does.
	ready   chan struct{}
	waiters int
}

// New returns an empty queue. It fails if MaxSize is not positive, the policy
// is unknown, or the metrics cannot be registered.
func New[T any](cfg Config[T]) (*Queue[T], error) {
	if cfg.MaxSize <= 0 {
		return nil, fmt.Errorf("pqueue: MaxSize must be positive, got %d", cfg.MaxSize)
	}
	if cfg.Policy != Reject && cfg.Policy != EvictLowest {
		return nil, fmt.Errorf("pqueue: unknown policy %d", int(cfg.Policy))
	}
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m, err := newMetrics(cfg.Name, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Queue[T]{
		cfg:   cfg,
		m:     m,
		max:   nodeHeap[T]{side: popSide},
		min:   nodeHeap[T]{side: evictSide},
		ready: make(chan struct{}),
	}, nil
}

// Push adds item with the given priority (higher pops first). It never
// blocks. It returns ErrClosed after Close, and ErrFull when the queue is full
// and the policy does not admit the item (see the package documentation).
func (q *Queue[T]) Push(item T, priority int) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	var evicted *node[T]
	if q.max.Len() >= q.cfg.MaxSize {
		if q.cfg.Policy != EvictLowest || q.min.root().priority >= priority {
			q.mu.Unlock()
			q.m.rejected.Inc()
			return ErrFull
		}
		evicted = q.min.root()
		heap.Pop(&q.min)
		q.max.remove(evicted)
	}
	q.seq++
	n := &node[T]{item: item, priority: priority, seq: q.seq, enqueued: q.cfg.Now()}
	heap.Push(&q.max, n)
	heap.Push(&q.min, n)
	depth := q.max.Len()
	if q.waiters > 0 {
		q.wake()
	}
	q.mu.Unlock()

	q.m.pushed.Inc()
	q.m.depth.Set(float64(depth))
	if evicted != nil {
		q.m.evicted.Inc()
		if q.cfg.OnEvict != nil {
			q.cfg.OnEvict(evicted.item, evicted.priority)
		}
	}
	return nil
}

// wake releases every blocked Pop. The caller holds q.mu.
func (q *Queue[T]) wake() {
	close(q.ready)
	q.ready = make(chan struct{})
}

// TryPop removes and returns the highest-priority item without blocking. ok
// is false when the queue is empty.
func (q *Queue[T]) TryPop() (item T, priority int, ok bool) {
	q.mu.Lock()
	n := q.popLocked()
	depth := q.max.Len()
	q.mu.Unlock()
	if n == nil {
		return item, 0, false
	}
	q.popped(n, depth)
	return n.item, n.priority, true
}

// Pop removes and returns the highest-priority item, blocking until one is
// available. It returns ctx.Err() if ctx is done first, and ErrClosed once the
// queue is closed and empty.
func (q *Queue[T]) Pop(ctx context.Context) (item T, priority int, err error) {
	for {
		q.mu.Lock()
		if n := q.popLocked(); n != nil {
			depth := q.max.Len()
			q.mu.Unlock()
			q.popped(n, depth)
			return n.item, n.priority, nil
		}
		if q.closed {
			q.mu.Unlock()
			return item, 0, ErrClosed
		}
		ready := q.ready
		q.waiters++
		q.mu.Unlock()

		var err error
		select {
		case <-ready:
		case <-ctx.Done():
			err = ctx.Err()
		}
		q.mu.Lock()
		q.waiters--
		q.mu.Unlock()
		if err != nil {
			return item, 0, err
		}
	}
}

func (q *Queue[T]) popLocked() *node[T] {
	if q.max.Len() == 0 {
		return nil
	}
	n := heap.Pop(&q.max).(*node[T])
	q.min.remove(n)
	return n
}

// popped records the metrics of a pop; depth is the queue length after it.
func (q *Queue[T]) popped(n *node[T], depth int) {
	q.m.popped.Inc()
	q.m.wait.Observe(q.cfg.Now().Sub(n.enqueued).Seconds())
	q.m.depth.Set(float64(depth))
}

// Peek returns the item Pop would return next without removing it.
func (q *Queue[T]) Peek() (item T, priority int, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.max.Len() == 0 {
		return item, 0, false
	}
	return q.max.root().item, q.max.root().priority, true
}

// Len returns the number of queued items.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.max.Len()
}

// Cap returns MaxSize.
func (q *Queue[T]) Cap() int { return q.cfg.MaxSize }

// Close stops the queue accepting items. Items already queued can still be
// popped; once they are gone Pop returns ErrClosed. Close is idempotent.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.closed = true
	q.wake()
}
