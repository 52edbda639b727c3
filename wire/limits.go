package wire

import (
	"container/heap"
	"context"
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// rateLimiter is a token bucket per hotkey: rate tokens a second up to burst. The map is
// bounded; when it is full, buckets that have refilled completely (and so carry no
// state worth keeping) are dropped, and failing that an arbitrary one.
type rateLimiter struct {
	mu      sync.Mutex
	rate    float64 // tokens per second; <= 0 disables the limiter
	burst   float64
	cap     int
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   int64 // unix ns of the last refill
}

func newRateLimiter(rate float64, burst, capacity int) *rateLimiter {
	if burst < 1 {
		burst = 1
	}
	return &rateLimiter{rate: rate, burst: float64(burst), cap: max(1, capacity), buckets: make(map[string]*bucket)}
}

// allow takes a token for hotkey at now (unix ns) and reports whether there was one.
func (l *rateLimiter) allow(hotkey string, now int64) bool {
	if l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[hotkey]
	if b == nil {
		if len(l.buckets) >= l.cap {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[hotkey] = b
	}
	if elapsed := now - b.last; elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+float64(elapsed)/1e9*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (l *rateLimiter) evict(now int64) {
	full := int64(l.burst / l.rate * 1e9)
	for k, b := range l.buckets {
		if now-b.last >= full {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < l.cap {
			return
		}
		delete(l.buckets, k)
	}
}

// errQueueFull is returned by the scheduler when as many requests wait as it allows.
var errQueueFull = errors.New("the axon's request queue is full")

// scheduler bounds how many handlers run at once and orders the requests that wait for
// a slot by priority (highest first, first come first served among equals). Unlike
// Bittensor's PriorityThreadPoolExecutor, whose submit() replaces the priority with a
// random number, the priority here decides who runs next.
type scheduler struct {
	queue    prometheus.Gauge // the number waiting
	mu       sync.Mutex
	free     int
	maxQueue int
	seq      uint64
	waiting  waitHeap
}

type waiter struct {
	prio  float64
	seq   uint64
	ready chan struct{}
	index int // in the heap; -1 once granted a slot
}

type waitHeap []*waiter

func (h waitHeap) Len() int { return len(h) }
func (h waitHeap) Less(i, j int) bool {
	if h[i].prio != h[j].prio {
		return h[i].prio > h[j].prio
	}
	return h[i].seq < h[j].seq
}
func (h waitHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *waitHeap) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *waitHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	w.index = -1
	return w
}

func newScheduler(slots, maxQueue int, queue prometheus.Gauge) *scheduler {
	return &scheduler{free: max(1, slots), maxQueue: max(0, maxQueue), queue: queue}
}

// acquire waits for a handler slot. It returns errQueueFull at once when the queue is
// full, and ctx's error if ctx ends first.
func (s *scheduler) acquire(ctx context.Context, prio float64) error {
	s.mu.Lock()
	if s.free > 0 && len(s.waiting) == 0 {
		s.free--
		s.mu.Unlock()
		return nil
	}
	if len(s.waiting) >= s.maxQueue {
		s.mu.Unlock()
		return errQueueFull
	}
	s.seq++
	w := &waiter{prio: prio, seq: s.seq, ready: make(chan struct{})}
	heap.Push(&s.waiting, w)
	s.queue.Set(float64(len(s.waiting)))
	s.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		if w.index >= 0 {
			heap.Remove(&s.waiting, w.index)
			s.queue.Set(float64(len(s.waiting)))
			s.mu.Unlock()
			return ctx.Err()
		}
		s.mu.Unlock()
		// Granted while giving up: pass the slot on.
		s.release()
		return ctx.Err()
	}
}

// release frees a slot, handing it straight to the highest-priority waiter if any.
func (s *scheduler) release() {
	s.mu.Lock()
	if len(s.waiting) > 0 {
		w := heap.Pop(&s.waiting).(*waiter)
		s.queue.Set(float64(len(s.waiting)))
		s.mu.Unlock()
		close(w.ready)
		return
	}
	s.free++
	s.mu.Unlock()
}

// queued returns the number of waiting requests.
func (s *scheduler) queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiting)
}
