package batcher

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/testutil"
)

// recorder is a batch function that doubles its inputs and records the
// batches it saw.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	delay   time.Duration
}

func (r *recorder) fn(ctx context.Context, items []int) ([]int, error) {
	r.mu.Lock()
	r.batches = append(r.batches, slices.Clone(items))
	r.mu.Unlock()
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	out := make([]int, len(items))
	for i, v := range items {
		out[i] = v * 2
	}
	return out, nil
}

func (r *recorder) seen() (batches int, items []int, largest int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.batches {
		items = append(items, b...)
		largest = max(largest, len(b))
	}
	return len(r.batches), items, largest
}

func closeBatcher[In, Out any](t *testing.T, b *Batcher[In, Out]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no max", Config{}, "MaxBatchSize"},
		{"min above max", Config{MaxBatchSize: 4, MinBatchSize: 5}, "MinBatchSize"},
		{"initial above max", Config{MaxBatchSize: 4, InitialBatchSize: 9}, "InitialBatchSize"},
		{"negative wait", Config{MaxBatchSize: 4, MaxWait: -1}, "MaxWait"},
		{"bad decrease", Config{MaxBatchSize: 4, DecreaseFactor: 1.5}, "DecreaseFactor"},
		{"negative latency", Config{MaxBatchSize: 4, LatencyTarget: -1}, "LatencyTarget"},
		{"negative concurrency", Config{MaxBatchSize: 4, MaxConcurrentBatches: -1}, "MaxConcurrentBatches"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, (&recorder{}).fn)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New err = %v, want mention of %s", err, tc.want)
			}
		})
	}
	if _, err := New[int, int](Config{MaxBatchSize: 1}, nil); err == nil {
		t.Fatal("New with nil function succeeded")
	}
}

func TestNextTarget(t *testing.T) {
	cfg := Config{MaxBatchSize: 32, MinBatchSize: 2, LatencyTarget: 10 * time.Millisecond,
		IncreaseStep: 1, DecreaseFactor: 0.5}
	tests := []struct {
		name      string
		cfg       Config
		target, n int
		d         time.Duration
		want      int
	}{
		{"full batch under target grows", cfg, 8, 8, 5 * time.Millisecond, 9},
		{"at target latency grows", cfg, 8, 8, 10 * time.Millisecond, 9},
		{"partial batch under target holds", cfg, 8, 3, 5 * time.Millisecond, 8},
		{"over target halves", cfg, 8, 8, 11 * time.Millisecond, 4},
		{"partial batch over target halves", cfg, 8, 2, 50 * time.Millisecond, 4},
		{"halving floors at min", cfg, 3, 3, time.Second, 2},
		{"growth caps at max", cfg, 32, 32, time.Millisecond, 32},
		{"no latency target keeps", Config{MaxBatchSize: 32, MinBatchSize: 1}, 8, 8, time.Hour, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := NextTarget(tc.cfg, tc.target, tc.n, tc.d); got != tc.want {
				t.Fatalf("NextTarget = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestResultsAndBatchBound(t *testing.T) {
	tests := []struct {
		name       string
		maxBatch   int
		concurrent int
		submitters int
	}{
		{"batch 1", 1, 1, 8},
		{"batch 8 serial backend", 8, 1, 32},
		{"batch 32 two backends", 32, 2, 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{delay: time.Millisecond}
			b, err := New(Config{MaxBatchSize: tc.maxBatch, MaxConcurrentBatches: tc.concurrent,
				MaxWait: time.Millisecond}, rec.fn)
			if err != nil {
				t.Fatal(err)
			}
			const per = 20
			var wg sync.WaitGroup
			for s := range tc.submitters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range per {
						v := s*per + i
						got, err := b.Submit(context.Background(), v)
						if err != nil || got != 2*v {
							t.Errorf("Submit(%d) = %d, %v; want %d", v, got, err, 2*v)
						}
					}
				}()
			}
			wg.Wait()
			closeBatcher(t, b)
			n, items, largest := rec.seen()
			if len(items) != tc.submitters*per {
				t.Fatalf("batch function saw %d items, want %d", len(items), tc.submitters*per)
			}
			if largest > tc.maxBatch {
				t.Fatalf("largest batch %d exceeds MaxBatchSize %d", largest, tc.maxBatch)
			}
			if tc.maxBatch > 1 && n >= len(items) {
				t.Fatalf("no batching happened: %d calls for %d items", n, len(items))
			}
		})
	}
}

func TestMaxWaitFlushesPartialBatch(t *testing.T) {
	rec := &recorder{}
	b, err := New(Config{MaxBatchSize: 100, MaxWait: 5 * time.Millisecond}, rec.fn)
	if err != nil {
		t.Fatal(err)
	}
	defer closeBatcher(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := b.Submit(ctx, 21)
	if err != nil || got != 42 {
		t.Fatalf("Submit = %d, %v; want 42", got, err)
	}
}

func TestBatchErrorReachesEveryItem(t *testing.T) {
	boom := errors.New("gpu on fire")
	tests := []struct {
		name string
		fn   Func[int, int]
		want string
	}{
		{"error", func(context.Context, []int) ([]int, error) { return nil, boom }, "gpu on fire"},
		{"short result", func(_ context.Context, items []int) ([]int, error) { return make([]int, len(items)-1), nil }, "results for"},
		{"panic", func(context.Context, []int) ([]int, error) { panic("oops") }, "panicked: oops"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gate := make(chan struct{})
			fn := func(ctx context.Context, items []int) ([]int, error) {
				<-gate
				return tc.fn(ctx, items)
			}
			b, err := New(Config{MaxBatchSize: 4, MaxWait: time.Hour}, fn)
			if err != nil {
				t.Fatal(err)
			}
			errs := make(chan error, 4)
			for i := range 4 {
				go func() {
					_, err := b.Submit(context.Background(), i)
					errs <- err
				}()
			}
			close(gate)
			for range 4 {
				err := <-errs
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Submit err = %v, want it to contain %q", err, tc.want)
				}
				if tc.name == "error" && !errors.Is(err, boom) {
					t.Fatalf("Submit err = %v does not wrap the batch error", err)
				}
			}
			closeBatcher(t, b)
		})
	}
}

func TestCancelledItemDroppedBeforeDispatch(t *testing.T) {
	reg := prometheus.NewRegistry()
	gate := make(chan struct{})
	started := make(chan struct{}, 1)
	rec := &recorder{}
	fn := func(ctx context.Context, items []int) ([]int, error) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-gate
		return rec.fn(ctx, items)
	}
	b, err := New(Config{MaxBatchSize: 1, Registerer: reg}, fn)
	if err != nil {
		t.Fatal(err)
	}
	// Occupy the only backend slot.
	firstDone := make(chan error, 1)
	go func() { _, err := b.Submit(context.Background(), 1); firstDone <- err }()
	<-started

	ctx, cancel := context.WithCancel(context.Background())
	cancelledDone := make(chan error, 1)
	go func() { _, err := b.Submit(ctx, 666); cancelledDone <- err }()
	testutil.WaitFor(t, 10*time.Second, "one pending item", func() bool { return b.Pending() == 1 })
	cancel()
	if err := <-cancelledDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Submit err = %v, want Canceled", err)
	}
	close(gate)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if got, err := b.Submit(context.Background(), 3); err != nil || got != 6 {
		t.Fatalf("Submit(3) = %d, %v", got, err)
	}
	closeBatcher(t, b)
	_, items, _ := rec.seen()
	if slices.Contains(items, 666) {
		t.Fatalf("cancelled item reached the batch function: %v", items)
	}
	if got := testutil.Gather(t, reg)["tessera_sdk_batcher_dropped_total"]; got != 1 {
		t.Fatalf("dropped_total = %v, want 1", got)
	}
}

func TestAdaptsDownWhenSlow(t *testing.T) {
	rec := &recorder{delay: 20 * time.Millisecond}
	b, err := New(Config{MaxBatchSize: 16, MinBatchSize: 2, LatencyTarget: 5 * time.Millisecond,
		MaxWait: time.Millisecond}, rec.fn)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, err := b.Submit(context.Background(), i); err != nil {
			t.Fatal(err)
		}
	}
	// Every call takes 20ms > 5ms: 16 → 8 → 4 → 2 → 2.
	if got := b.TargetBatchSize(); got != 2 {
		t.Fatalf("target = %d after slow batches, want 2", got)
	}
	closeBatcher(t, b)
}

func TestAdaptsUpWhenFast(t *testing.T) {
	rec := &recorder{}
	b, err := New(Config{MaxBatchSize: 8, InitialBatchSize: 1, LatencyTarget: time.Minute,
		MaxWait: time.Millisecond}, rec.fn)
	if err != nil {
		t.Fatal(err)
	}
	// Sequential submits make batches of one; each is full at target 1,
	// then partial. Growth needs full batches, so drive it concurrently.
	var wg sync.WaitGroup
	for s := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if _, err := b.Submit(context.Background(), s*50+i); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if got := b.TargetBatchSize(); got <= 1 {
		t.Fatalf("target = %d after fast full batches, want > 1", got)
	}
	closeBatcher(t, b)
}

func TestCloseFlushesAndRejects(t *testing.T) {
	before := runtime.NumGoroutine()
	rec := &recorder{}
	b, err := New(Config{MaxBatchSize: 100, MaxWait: time.Hour}, rec.fn)
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan error, 5)
	for i := range 5 {
		go func() {
			_, err := b.Submit(context.Background(), i)
			results <- err
		}()
	}
	testutil.WaitFor(t, 10*time.Second, "five pending items", func() bool { return b.Pending() == 5 })
	closeBatcher(t, b)
	for range 5 {
		if err := <-results; err != nil {
			t.Fatalf("pending item after Close: %v", err)
		}
	}
	if _, err := b.Submit(context.Background(), 9); !errors.Is(err, ErrClosed) {
		t.Fatalf("Submit after Close err = %v, want ErrClosed", err)
	}
	testutil.WaitGoroutines(t, before)
}

func TestCloseTimeoutCancelsBatch(t *testing.T) {
	before := runtime.NumGoroutine()
	fn := func(ctx context.Context, items []int) ([]int, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	b, err := New(Config{MaxBatchSize: 1}, fn)
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() { _, err := b.Submit(context.Background(), 1); res <- err }()
	testutil.WaitFor(t, 10*time.Second, "no pending item and one running batch", func() bool { return b.Pending() == 0 && len(b.sem) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := b.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close err = %v, want DeadlineExceeded", err)
	}
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("in-flight item err = %v, want Canceled", err)
	}
	testutil.WaitGoroutines(t, before)
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	rec := &recorder{}
	b, err := New(Config{MaxBatchSize: 4, MaxWait: time.Millisecond, Name: "llm", Registerer: reg}, rec.fn)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := b.Submit(context.Background(), i); err != nil {
			t.Fatal(err)
		}
	}
	closeBatcher(t, b)
	testutil.CheckMetrics(t, reg, map[string]float64{
		"tessera_sdk_batcher_batches_total":          3,
		"tessera_sdk_batcher_items_total":            3,
		"tessera_sdk_batcher_batch_size":             3,
		"tessera_sdk_batcher_batch_duration_seconds": 3,
		"tessera_sdk_batcher_queue_wait_seconds":     3,
		"tessera_sdk_batcher_target_batch_size":      4,
		"tessera_sdk_batcher_inflight_batches":       0,
	})
	if _, err := New(Config{MaxBatchSize: 4, Name: "llm", Registerer: reg}, rec.fn); err == nil {
		t.Error("duplicate metrics registration succeeded")
	}
}
