package workerpool

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/testutil"
)

func newPool(t *testing.T, cfg Config) *Pool {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	return p
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no workers", Config{}},
		{"negative workers", Config{Workers: -2}},
		{"negative queue", Config{Workers: 1, QueueSize: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); err == nil {
				t.Fatal("New succeeded, want error")
			}
		})
	}
}

func TestBoundedConcurrency(t *testing.T) {
	tests := []struct{ workers, tasks int }{{1, 20}, {3, 50}, {8, 100}}
	for _, tc := range tests {
		p := newPool(t, Config{Workers: tc.workers, QueueSize: 4})
		var running, peak, done atomic.Int64
		for range tc.tasks {
			err := p.Submit(context.Background(), func(context.Context) {
				n := running.Add(1)
				for {
					old := peak.Load()
					if n <= old || peak.CompareAndSwap(old, n) {
						break
					}
				}
				time.Sleep(time.Millisecond)
				running.Add(-1)
				done.Add(1)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := done.Load(); got != int64(tc.tasks) {
			t.Errorf("workers=%d: %d tasks ran, want %d", tc.workers, got, tc.tasks)
		}
		if got := peak.Load(); got > int64(tc.workers) {
			t.Errorf("workers=%d: peak concurrency %d", tc.workers, got)
		}
	}
}

// blockWorkers fills every worker with a task that waits on release.
func blockWorkers(t *testing.T, p *Pool) (release func()) {
	t.Helper()
	gate := make(chan struct{})
	var started sync.WaitGroup
	started.Add(p.Workers())
	for range p.Workers() {
		if err := p.Submit(context.Background(), func(context.Context) { started.Done(); <-gate }); err != nil {
			t.Fatal(err)
		}
	}
	started.Wait()
	return func() { close(gate) }
}

func TestTrySubmitQueueFull(t *testing.T) {
	p := newPool(t, Config{Workers: 2, QueueSize: 3})
	release := blockWorkers(t, p)
	for i := range 3 {
		if err := p.TrySubmit(context.Background(), func(context.Context) {}); err != nil {
			t.Fatalf("TrySubmit %d: %v", i, err)
		}
	}
	if err := p.TrySubmit(context.Background(), func(context.Context) {}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("TrySubmit on full queue err = %v, want ErrQueueFull", err)
	}
	if _, err := TryGo(context.Background(), p, func(context.Context) (int, error) { return 1, nil }); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("TryGo on full queue err = %v, want ErrQueueFull", err)
	}
	// A blocking Submit waits, and gives up with its context.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := p.Submit(ctx, func(context.Context) {}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Submit on full queue err = %v, want DeadlineExceeded", err)
	}
	release()
}

func TestDoResults(t *testing.T) {
	p := newPool(t, Config{Workers: 2, QueueSize: 2})
	boom := errors.New("boom")
	tests := []struct {
		name    string
		fn      func(context.Context) (int, error)
		want    int
		wantErr error
	}{
		{"value", func(context.Context) (int, error) { return 7, nil }, 7, nil},
		{"error", func(context.Context) (int, error) { return 0, boom }, 0, boom},
		{"panic", func(context.Context) (int, error) { panic("kaput") }, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Do(context.Background(), p, tc.fn)
			if tc.name == "panic" {
				var pe *PanicError
				if !errors.As(err, &pe) || pe.Value != "kaput" || len(pe.Stack) == 0 {
					t.Fatalf("err = %v, want PanicError(kaput)", err)
				}
				return
			}
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("Do = %d, %v; want %d, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestPanicHook(t *testing.T) {
	got := make(chan *PanicError, 1)
	p := newPool(t, Config{Workers: 1, OnPanic: func(pe *PanicError) { got <- pe }})
	if err := p.Submit(context.Background(), func(context.Context) { panic(42) }); err != nil {
		t.Fatal(err)
	}
	select {
	case pe := <-got:
		if pe.Value != 42 {
			t.Fatalf("panic value %v, want 42", pe.Value)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnPanic not called")
	}
	// The worker survived.
	if v, err := Do(context.Background(), p, func(context.Context) (string, error) { return "alive", nil }); v != "alive" || err != nil {
		t.Fatalf("after panic Do = %q, %v", v, err)
	}
}

func TestCanceledTaskSkipped(t *testing.T) {
	p := newPool(t, Config{Workers: 1, QueueSize: 1})
	release := blockWorkers(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Bool
	f, err := Go(ctx, p, func(context.Context) (int, error) { ran.Store(true); return 1, nil })
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	release()
	if _, err := f.Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait err = %v, want Canceled", err)
	}
	if ran.Load() {
		t.Fatal("canceled task ran")
	}
}

func TestCloseWaitsAndRejects(t *testing.T) {
	before := runtime.NumGoroutine()
	p, err := New(Config{Workers: 2, QueueSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	var done atomic.Int64
	for range 10 {
		_ = p.Submit(context.Background(), func(context.Context) { time.Sleep(2 * time.Millisecond); done.Add(1) })
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if done.Load() != 10 {
		t.Fatalf("Close returned with %d of 10 tasks done", done.Load())
	}
	if err := p.Submit(context.Background(), func(context.Context) {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Submit after Close err = %v, want ErrClosed", err)
	}
	if _, err := Do(context.Background(), p, func(context.Context) (int, error) { return 0, nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Do after Close err = %v, want ErrClosed", err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	testutil.WaitGoroutines(t, before)
}

func TestCloseTimeoutAbandonsQueued(t *testing.T) {
	before := runtime.NumGoroutine()
	p, err := New(Config{Workers: 1, QueueSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	release := blockWorkers(t, p)
	var futures []*Future[int]
	for i := range 5 {
		f, err := Go(context.Background(), p, func(context.Context) (int, error) { return i, nil })
		if err != nil {
			t.Fatal(err)
		}
		futures = append(futures, f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := p.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close err = %v, want DeadlineExceeded", err)
	}
	release()
	for i, f := range futures {
		if _, err := f.Wait(context.Background()); !errors.Is(err, ErrClosed) {
			t.Fatalf("future %d err = %v, want ErrClosed", i, err)
		}
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	testutil.WaitGoroutines(t, before)
}

func TestConcurrentSubmitAndClose(t *testing.T) {
	// Submitters racing Close must each get either success (and the task
	// runs) or ErrClosed; nothing panics or is lost.
	before := runtime.NumGoroutine()
	p, err := New(Config{Workers: 2, QueueSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	var accepted, ran atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				err := p.Submit(context.Background(), func(context.Context) { ran.Add(1) })
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Submit: %v", err)
					return
				}
				accepted.Add(1)
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if accepted.Load() != ran.Load() {
		t.Fatalf("accepted %d tasks, ran %d", accepted.Load(), ran.Load())
	}
	testutil.WaitGoroutines(t, before)
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	p := newPool(t, Config{Workers: 1, QueueSize: 1, Name: "inference", Registerer: reg})
	_, _ = Do(context.Background(), p, func(context.Context) (int, error) { return 1, nil })
	_, _ = Do(context.Background(), p, func(context.Context) (int, error) { return 0, errors.New("x") })
	release := blockWorkers(t, p)
	_ = p.TrySubmit(context.Background(), func(context.Context) {})
	_ = p.TrySubmit(context.Background(), func(context.Context) {}) // rejected
	release()
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	testutil.CheckMetrics(t, reg, map[string]float64{
		"tessera_sdk_workerpool_workers":               1,
		"tessera_sdk_workerpool_submitted_total":       4,
		"tessera_sdk_workerpool_rejected_total":        1,
		"tessera_sdk_workerpool_tasks_total":           4,
		"tessera_sdk_workerpool_task_duration_seconds": 4,
		"tessera_sdk_workerpool_busy_workers":          0,
		"tessera_sdk_workerpool_queue_depth":           0,
	})
}
