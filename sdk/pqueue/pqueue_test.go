package pqueue

import (
	"context"
	"errors"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/testutil"
)

type push struct {
	item     string
	priority int
}

func TestOrder(t *testing.T) {
	tests := []struct {
		name   string
		pushes []push
		want   []string
	}{
		{"empty", nil, nil},
		{"single", []push{{"a", 1}}, []string{"a"}},
		{"by priority", []push{{"low", 1}, {"high", 9}, {"mid", 5}}, []string{"high", "mid", "low"}},
		{"fifo within priority", []push{{"a", 3}, {"b", 3}, {"c", 3}, {"d", 3}}, []string{"a", "b", "c", "d"}},
		{"mixed stable", []push{{"a1", 1}, {"b2", 2}, {"a2", 1}, {"b1", 2}, {"c", 3}, {"a3", 1}},
			[]string{"c", "b2", "b1", "a1", "a2", "a3"}},
		{"negative priorities", []push{{"x", -5}, {"y", 0}, {"z", -1}}, []string{"y", "z", "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := New(Config[string]{MaxSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tc.pushes {
				if err := q.Push(p.item, p.priority); err != nil {
					t.Fatalf("Push(%q): %v", p.item, err)
				}
			}
			var got []string
			for {
				item, _, ok := q.TryPop()
				if !ok {
					break
				}
				got = append(got, item)
			}
			if !equal(got, tc.want) {
				t.Fatalf("order = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFullPolicies(t *testing.T) {
	tests := []struct {
		name        string
		policy      Policy
		pushes      []push
		wantErrs    []bool // whether each push fails with ErrFull
		wantOrder   []string
		wantEvicted []string
	}{
		{
			name:      "reject keeps queue",
			policy:    Reject,
			pushes:    []push{{"a", 1}, {"b", 2}, {"c", 9}},
			wantErrs:  []bool{false, false, true},
			wantOrder: []string{"b", "a"},
		},
		{
			name:        "evict lowest admits higher",
			policy:      EvictLowest,
			pushes:      []push{{"a", 1}, {"b", 2}, {"c", 9}},
			wantErrs:    []bool{false, false, false},
			wantOrder:   []string{"c", "b"},
			wantEvicted: []string{"a"},
		},
		{
			name:      "evict refuses equal priority",
			policy:    EvictLowest,
			pushes:    []push{{"a", 1}, {"b", 1}, {"c", 1}},
			wantErrs:  []bool{false, false, true},
			wantOrder: []string{"a", "b"},
		},
		{
			name:        "evict takes newest of lowest",
			policy:      EvictLowest,
			pushes:      []push{{"old", 1}, {"new", 1}, {"hi", 5}, {"hi2", 5}},
			wantErrs:    []bool{false, false, false, false},
			wantOrder:   []string{"hi", "hi2"},
			wantEvicted: []string{"new", "old"},
		},
		{
			name:      "evict refuses lower",
			policy:    EvictLowest,
			pushes:    []push{{"a", 5}, {"b", 6}, {"c", 1}},
			wantErrs:  []bool{false, false, true},
			wantOrder: []string{"b", "a"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var evicted []string
			q, err := New(Config[string]{MaxSize: 2, Policy: tc.policy,
				OnEvict: func(item string, _ int) { evicted = append(evicted, item) }})
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range tc.pushes {
				err := q.Push(p.item, p.priority)
				if got := errors.Is(err, ErrFull); got != tc.wantErrs[i] {
					t.Fatalf("Push(%q) err = %v, want ErrFull=%v", p.item, err, tc.wantErrs[i])
				}
			}
			if q.Len() > q.Cap() {
				t.Fatalf("Len %d exceeds Cap %d", q.Len(), q.Cap())
			}
			var got []string
			for item, _, ok := q.TryPop(); ok; item, _, ok = q.TryPop() {
				got = append(got, item)
			}
			if !equal(got, tc.wantOrder) {
				t.Fatalf("order = %v, want %v", got, tc.wantOrder)
			}
			if !equal(evicted, tc.wantEvicted) {
				t.Fatalf("evicted = %v, want %v", evicted, tc.wantEvicted)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config[int]
	}{
		{"zero size", Config[int]{}},
		{"negative size", Config[int]{MaxSize: -1}},
		{"bad policy", Config[int]{MaxSize: 1, Policy: Policy(7)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); err == nil {
				t.Fatal("New succeeded, want error")
			}
		})
	}
}

func TestPopBlocksUntilPush(t *testing.T) {
	q, _ := New(Config[int]{MaxSize: 4})
	got := make(chan int, 1)
	go func() {
		v, _, err := q.Pop(context.Background())
		if err != nil {
			t.Errorf("Pop: %v", err)
		}
		got <- v
	}()
	if err := q.Push(42, 0); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		if v != 42 {
			t.Fatalf("Pop = %d, want 42", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Pop did not return after Push")
	}
}

func TestPopContext(t *testing.T) {
	q, _ := New(Config[int]{MaxSize: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := q.Pop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Pop err = %v, want DeadlineExceeded", err)
	}
}

func TestCloseDrains(t *testing.T) {
	q, _ := New(Config[int]{MaxSize: 4})
	_ = q.Push(1, 1)
	_ = q.Push(2, 2)
	q.Close()
	q.Close() // idempotent
	if err := q.Push(3, 3); !errors.Is(err, ErrClosed) {
		t.Fatalf("Push after Close err = %v, want ErrClosed", err)
	}
	for _, want := range []int{2, 1} {
		v, _, err := q.Pop(context.Background())
		if err != nil || v != want {
			t.Fatalf("Pop = %d, %v; want %d", v, err, want)
		}
	}
	if _, _, err := q.Pop(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Pop on drained closed queue err = %v, want ErrClosed", err)
	}
}

func TestCloseWakesBlockedPops(t *testing.T) {
	before := runtime.NumGoroutine()
	q, _ := New(Config[int]{MaxSize: 4})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := q.Pop(context.Background())
			errs <- err
		}()
	}
	q.Close()
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Pop err = %v, want ErrClosed", err)
		}
	}
	testutil.WaitGoroutines(t, before)
}

// TestConcurrent checks that under contention every pushed item is popped
// exactly once and nothing is lost.
func TestConcurrent(t *testing.T) {
	const producers, per = 4, 500
	q, _ := New(Config[int]{MaxSize: producers * per})
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if err := q.Push(p*per+i, i%7); err != nil {
					t.Errorf("Push: %v", err)
				}
			}
		}()
	}
	var mu sync.Mutex
	var got []int
	var cwg sync.WaitGroup
	for range 3 {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			for {
				v, _, err := q.Pop(context.Background())
				if errors.Is(err, ErrClosed) {
					return
				}
				mu.Lock()
				got = append(got, v)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	q.Close()
	cwg.Wait()
	sort.Ints(got)
	if len(got) != producers*per {
		t.Fatalf("popped %d items, want %d", len(got), producers*per)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("item %d missing or duplicated", i)
		}
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	q, err := New(Config[int]{MaxSize: 2, Policy: EvictLowest, Name: "jobs", Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	_ = q.Push(1, 1)
	_ = q.Push(2, 2)
	_ = q.Push(3, 3) // evicts 1
	_ = q.Push(4, 0) // rejected
	q.TryPop()
	testutil.CheckMetrics(t, reg, map[string]float64{
		"tessera_sdk_pqueue_pushed_total":   3,
		"tessera_sdk_pqueue_popped_total":   1,
		"tessera_sdk_pqueue_evicted_total":  1,
		"tessera_sdk_pqueue_rejected_total": 1,
		"tessera_sdk_pqueue_depth":          1,
		"tessera_sdk_pqueue_wait_seconds":   1, // sample count
	})
	// A second queue with the same name cannot register; a different name can.
	if _, err := New(Config[int]{MaxSize: 1, Name: "jobs", Registerer: reg}); err == nil {
		t.Error("duplicate registration succeeded")
	}
	if _, err := New(Config[int]{MaxSize: 1, Name: "other", Registerer: reg}); err != nil {
		t.Errorf("second queue: %v", err)
	}
}

// gather returns each metric family's value summed over its series: counter
// and gauge values, histogram sample counts.
func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
