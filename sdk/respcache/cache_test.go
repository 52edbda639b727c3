package respcache

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/testutil"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type request struct {
	Model  string
	Prompt string
}

// counter is a fetch function that counts its calls.
type counter struct{ calls atomic.Int64 }

func (c *counter) fetch(_ context.Context, r request) (string, error) {
	n := c.calls.Add(1)
	return fmt.Sprintf("%s:%s#%d", r.Model, r.Prompt, n), nil
}

func newCache(t *testing.T, max int, ttl time.Duration, clk *clock, reg prometheus.Registerer) *Cache[request, string] {
	t.Helper()
	c, err := New[request, string](Config[request]{MaxEntries: max, TTL: ttl, Now: clk.Now, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config[int]
		want string
	}{
		{"no entries", Config[int]{TTL: time.Second}, "MaxEntries"},
		{"no ttl", Config[int]{MaxEntries: 1}, "TTL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New[int, int](tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New err = %v, want mention of %s", err, tc.want)
			}
		})
	}
}

func TestTTLAndLRU(t *testing.T) {
	a, b, cc := request{"m", "a"}, request{"m", "b"}, request{"m", "c"}
	type step struct {
		advance time.Duration
		get     request
		want    string
	}
	tests := []struct {
		name  string
		max   int
		steps []step
	}{
		{"hit within ttl", 4, []step{{0, a, "m:a#1"}, {59 * time.Second, a, "m:a#1"}}},
		{"miss after ttl", 4, []step{{0, a, "m:a#1"}, {time.Minute, a, "m:a#2"}}},
		{"hit does not extend ttl", 4, []step{{0, a, "m:a#1"}, {50 * time.Second, a, "m:a#1"}, {10 * time.Second, a, "m:a#2"}}},
		{"lru evicts least recent", 2, []step{
			{0, a, "m:a#1"}, {0, b, "m:b#2"}, {0, a, "m:a#1"}, // a is now most recent
			{0, cc, "m:c#3"}, // evicts b
			{0, a, "m:a#1"}, {0, b, "m:b#4"}}},
		{"distinct keys", 4, []step{{0, a, "m:a#1"}, {0, b, "m:b#2"}, {0, a, "m:a#1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{t: time.Unix(1_700_000_000, 0)}
			c := newCache(t, tc.max, time.Minute, clk, nil)
			f := &counter{}
			for i, s := range tc.steps {
				clk.Advance(s.advance)
				got, err := c.Get(context.Background(), s.get, f.fetch)
				if err != nil || got != s.want {
					t.Fatalf("step %d: Get = %q, %v; want %q", i, got, err, s.want)
				}
				if c.Len() > tc.max {
					t.Fatalf("step %d: Len %d exceeds %d", i, c.Len(), tc.max)
				}
			}
		})
	}
}

func TestErrorsNotCached(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	c := newCache(t, 4, time.Minute, clk, nil)
	calls := 0
	boom := errors.New("miner timed out")
	fetch := func(context.Context, request) (string, error) {
		calls++
		if calls == 1 {
			return "", boom
		}
		return "ok", nil
	}
	if _, err := c.Get(context.Background(), request{}, fetch); !errors.Is(err, boom) {
		t.Fatalf("first Get err = %v, want %v", err, boom)
	}
	if got, err := c.Get(context.Background(), request{}, fetch); err != nil || got != "ok" || calls != 2 {
		t.Fatalf("second Get = %q, %v after %d calls", got, err, calls)
	}
}

func TestFetchPanic(t *testing.T) {
	c := newCache(t, 4, time.Minute, &clock{}, nil)
	_, err := c.Get(context.Background(), request{}, func(context.Context, request) (string, error) { panic("bad model") })
	if err == nil || !strings.Contains(err.Error(), "panicked: bad model") {
		t.Fatalf("err = %v", err)
	}
}

func waiters(c *Cache[request, string], r request) int {
	k, _ := c.cfg.Key(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.flights[k]; ok {
		return f.waiters
	}
	return 0
}

func TestSingleflight(t *testing.T) {
	before := runtime.NumGoroutine()
	reg := prometheus.NewRegistry()
	c := newCache(t, 4, time.Minute, &clock{}, reg)
	gate := make(chan struct{})
	var calls atomic.Int64
	fetch := func(context.Context, request) (string, error) {
		calls.Add(1)
		<-gate
		return "shared", nil
	}
	const n = 10
	req := request{"llama", "hi"}
	results := make(chan string, n)
	for range n {
		go func() {
			v, err := c.Get(context.Background(), req, fetch)
			if err != nil {
				t.Error(err)
			}
			results <- v
		}()
	}
	testutil.WaitFor(t, 10*time.Second, "every Get to join the fetch", func() bool { return waiters(c, req) == n })
	close(gate)
	for range n {
		if v := <-results; v != "shared" {
			t.Fatalf("Get = %q", v)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("fetch ran %d times for %d concurrent Gets, want 1", calls.Load(), n)
	}
	got := testutil.Gather(t, reg)
	if got["tessera_sdk_respcache_misses_total"] != 1 || got["tessera_sdk_respcache_shared_total"] != n-1 {
		t.Fatalf("misses %v shared %v, want 1 and %d", got["tessera_sdk_respcache_misses_total"],
			got["tessera_sdk_respcache_shared_total"], n-1)
	}
	testutil.WaitGoroutines(t, before)
}

func TestImpatientCallerDoesNotFailOthers(t *testing.T) {
	c := newCache(t, 4, time.Minute, &clock{}, nil)
	gate := make(chan struct{})
	fetch := func(ctx context.Context, _ request) (string, error) {
		select {
		case <-gate:
			return "v", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	req := request{"m", "p"}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := c.Get(ctx, req, fetch); first <- err }() // leader
	testutil.WaitFor(t, 10*time.Second, "one waiter", func() bool { return waiters(c, req) == 1 })
	second := make(chan string, 1)
	go func() { v, _ := c.Get(context.Background(), req, fetch); second <- v }()
	testutil.WaitFor(t, 10*time.Second, "two waiters", func() bool { return waiters(c, req) == 2 })
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader err = %v, want Canceled", err)
	}
	close(gate)
	if v := <-second; v != "v" {
		t.Fatalf("patient caller got %q, want v", v)
	}
}

func TestAbandonedFetchIsCancelled(t *testing.T) {
	before := runtime.NumGoroutine()
	c := newCache(t, 4, time.Minute, &clock{}, nil)
	cancelled := make(chan struct{})
	fetch := func(ctx context.Context, _ request) (string, error) {
		<-ctx.Done()
		close(cancelled)
		return "", ctx.Err()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := c.Get(ctx, request{}, fetch); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("fetch context not cancelled after every caller left")
	}
	// A new Get starts a new fetch rather than joining the dead one.
	v, err := c.Get(context.Background(), request{}, func(context.Context, request) (string, error) { return "fresh", nil })
	if err != nil || v != "fresh" {
		t.Fatalf("Get after abandon = %q, %v", v, err)
	}
	testutil.WaitGoroutines(t, before)
}

func TestHashJSON(t *testing.T) {
	k1, err := HashJSON(map[string]int{"a": 1, "b": 2})
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := HashJSON(map[string]int{"b": 2, "a": 1})
	k3, _ := HashJSON(map[string]int{"a": 1, "b": 3})
	if k1 != k2 || k1 == k3 {
		t.Fatalf("keys: %s %s %s", k1, k2, k3)
	}
	if _, err := HashJSON(make(chan int)); err == nil || !strings.Contains(err.Error(), "respcache: hash request") {
		t.Fatalf("HashJSON(chan) err = %v", err)
	}
	if HashBytes([]byte("x")).String() != "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881" {
		t.Fatal("HashBytes is not SHA-256")
	}
	c, _ := New[chan int, int](Config[chan int]{MaxEntries: 1, TTL: time.Second})
	if _, err := c.Get(context.Background(), make(chan int), func(context.Context, chan int) (int, error) { return 0, nil }); err == nil {
		t.Fatal("Get with unhashable request succeeded")
	}
}

func TestMaintenance(t *testing.T) {
	reg := prometheus.NewRegistry()
	clk := &clock{t: time.Unix(0, 0)}
	c := newCache(t, 10, time.Minute, clk, reg)
	for i := range 3 {
		if err := c.Put(request{"m", fmt.Sprint(i)}, "v"); err != nil {
			t.Fatal(err)
		}
	}
	if v, ok := c.Lookup(request{"m", "1"}); !ok || v != "v" {
		t.Fatalf("Lookup = %q, %v", v, ok)
	}
	if ok, _ := c.Invalidate(request{"m", "1"}); !ok {
		t.Fatal("Invalidate found nothing")
	}
	if _, ok := c.Lookup(request{"m", "1"}); ok {
		t.Fatal("invalidated entry still cached")
	}
	clk.Advance(30 * time.Second)
	_ = c.Put(request{"m", "late"}, "v")
	clk.Advance(31 * time.Second)
	if n := c.Sweep(); n != 2 {
		t.Fatalf("Sweep removed %d, want 2", n)
	}
	if c.Len() != 1 {
		t.Fatalf("Len = %d, want 1", c.Len())
	}
	c.Purge()
	if c.Len() != 0 {
		t.Fatalf("Len after Purge = %d", c.Len())
	}
	got := testutil.Gather(t, reg)
	if got["tessera_sdk_respcache_evictions_total"] != 2 || got["tessera_sdk_respcache_entries"] != 0 {
		t.Fatalf("metrics %v", got)
	}
}

func TestCloseCancelsFetches(t *testing.T) {
	before := runtime.NumGoroutine()
	c := newCache(t, 4, time.Minute, &clock{}, nil)
	_ = c.Put(request{"m", "cached"}, "hit")
	started := make(chan struct{})
	res := make(chan error, 1)
	go func() {
		_, err := c.Get(context.Background(), request{"m", "slow"}, func(ctx context.Context, _ request) (string, error) {
			close(started)
			<-ctx.Done()
			return "", ctx.Err()
		})
		res <- err
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("in-flight Get err = %v, want Canceled", err)
	}
	if v, err := c.Get(context.Background(), request{"m", "cached"}, nil); err != nil || v != "hit" {
		t.Fatalf("hit after Close = %q, %v", v, err)
	}
	if _, err := c.Get(context.Background(), request{"m", "new"}, (&counter{}).fetch); !errors.Is(err, ErrClosed) {
		t.Fatalf("miss after Close err = %v, want ErrClosed", err)
	}
	testutil.WaitGoroutines(t, before)
}
