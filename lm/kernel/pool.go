package kernel

import (
	"runtime"
	"sync"
)

// Pool runs MatVec and MatMul across a fixed number of threads: the calling
// goroutine plus threads-1 persistent worker goroutines started by NewPool
// and stopped by Close.
//
// The rows are split into at most threads contiguous ranges whose boundaries
// are multiples of 16 rows (so no two threads write the same cache line of a
// dst row block); each thread computes every output of its rows and nothing
// else, so there are no shared writes. Because every output is an exact
// integer computed by one thread, results are identical for every thread
// count. Small problems (under minParallelMACs multiply-adds) run on the
// calling goroutine alone.
//
// A Pool's methods are safe for concurrent use (calls are serialised) and do
// not allocate. A nil *Pool, or one that has been closed, computes on the
// calling goroutine alone.
type Pool struct {
	mu      sync.Mutex
	threads int
	closed  bool
	w       *workers // nil when threads == 1
}

// workers is the part of a Pool its goroutines use; it does not point back
// to the Pool, so an unreachable Pool can be cleaned up (its workers stopped)
// even if Close was never called.
type workers struct {
	once  sync.Once
	jobs  []chan *poolTask // one per worker
	tasks []poolTask       // tasks[w] is worker w's current task
	done  chan struct{}
}

func (w *workers) stop() {
	w.once.Do(func() {
		for _, ch := range w.jobs {
			close(ch)
		}
	})
}

type poolTask struct {
	dst    []int64
	m      *Matrix
	xs     []int8
	n      int
	r0, r1 int
}

// maxThreads bounds NewPool's thread count.
const maxThreads = 256

// splitRows is the granularity of a thread's row range.
const splitRows = 16

// minParallelMACs: below this many multiply-adds a call runs on the caller
// alone, where waking the workers would cost more than it saves.
const minParallelMACs = 1 << 18

// NewPool returns a Pool of threads threads (clamped to [1, 256]); with 1 it
// starts no goroutines. Close it when done to stop the workers (they are
// also stopped, later, if the Pool becomes unreachable without Close).
func NewPool(threads int) *Pool {
	threads = max(1, min(threads, maxThreads))
	p := &Pool{threads: threads}
	if threads == 1 {
		return p
	}
	w := &workers{
		jobs:  make([]chan *poolTask, threads-1),
		tasks: make([]poolTask, threads-1),
		done:  make(chan struct{}, threads),
	}
	for i := range w.jobs {
		ch := make(chan *poolTask, 1)
		w.jobs[i] = ch
		done := w.done
		go func() {
			for t := range ch {
				matMulRange(t.dst, t.m, t.xs, t.n, t.r0, t.r1)
				done <- struct{}{}
			}
		}()
	}
	p.w = w
	runtime.AddCleanup(p, (*workers).stop, w)
	return p
}

// Threads returns the pool's thread count (1 for a nil or closed Pool).
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 1
	}
	return p.threads
}

// Close stops the worker goroutines. Later calls compute on the caller alone.
// Close is idempotent.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.w != nil {
		p.w.stop()
	}
}

// MatVec is the parallel MatVec: same contract, same result.
func (p *Pool) MatVec(dst []int64, m *Matrix, x []int8) {
	checkShapes("Pool.MatVec", dst, m, x, 1)
	p.run(dst, m, x, 1)
}

// MatMul is the parallel MatMul: same contract, same result. Each thread
// tiles its own row range as MatMul does, so the weights are still read once
// per call.
func (p *Pool) MatMul(dst []int64, m *Matrix, xs []int8, n int) {
	checkShapes("Pool.MatMul", dst, m, xs, n)
	p.run(dst, m, xs, n)
}

func (p *Pool) run(dst []int64, m *Matrix, xs []int8, n int) {
	rows := m.Rows
	// rows*Stride <= len(m.Q) fits an int; dividing avoids overflow.
	if p == nil || p.threads == 1 || n == 0 || rows <= splitRows || rows*m.Stride < minParallelMACs/n {
		matMulRange(dst, m, xs, n, 0, rows)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		matMulRange(dst, m, xs, n, 0, rows)
		return
	}
	w := p.w
	units := (rows + splitRows - 1) / splitRows
	parts := min(p.threads, units)
	bound := func(i int) int { return min(rows, i*units/parts*splitRows) }
	for i := 1; i < parts; i++ {
		t := &w.tasks[i-1]
		*t = poolTask{dst: dst, m: m, xs: xs, n: n, r0: bound(i), r1: bound(i + 1)}
		w.jobs[i-1] <- t
	}
	matMulRange(dst, m, xs, n, 0, bound(1))
	for i := 1; i < parts; i++ {
		<-w.done
	}
	for i := 1; i < parts; i++ {
		w.tasks[i-1] = poolTask{} // drop references to the caller's data
	}
}
