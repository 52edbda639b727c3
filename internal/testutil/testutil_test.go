package testutil

import (
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// recorder is a testing.TB that records failures; Fatal and Fatalf end the goroutine
// as the testing package's do.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// run calls fn on a goroutine of its own, so that a Fatal ends only fn, and returns
// the failures fn reported.
func run(fn func(t testing.TB)) []string {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r.failures
}

func TestCheckMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_calls_total", Help: "Calls."})
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_depth", Help: "Depth."})
	reg.MustRegister(c, g)
	c.Add(2)
	g.Set(3)
	if got := run(func(t testing.TB) {
		CheckMetrics(t, reg, map[string]float64{"test_calls_total": 2, "test_depth": 3})
	}); len(got) != 0 {
		t.Fatalf("matching metrics reported %q", got)
	}
	got := run(func(t testing.TB) {
		CheckMetrics(t, reg, map[string]float64{"test_missing": 1, "test_calls_total": 1, "test_depth": 3})
	})
	want := []string{"test_calls_total = 2, want 1", "test_missing = 0, want 1"}
	if !slices.Equal(got, want) {
		t.Fatalf("reported %q, want %q", got, want)
	}
}

func TestWaitFor(t *testing.T) {
	var polls atomic.Int32
	if got := run(func(t testing.TB) {
		WaitFor(t, time.Second, "the third poll", func() bool { return polls.Add(1) == 3 })
	}); len(got) != 0 || polls.Load() != 3 {
		t.Fatalf("reported %q after %d polls, want nothing after 3", got, polls.Load())
	}
	start := time.Now()
	got := run(func(t testing.TB) {
		WaitFor(t, 20*time.Millisecond, "never", func() bool { return false })
	})
	if want := []string{"timed out waiting for never"}; !slices.Equal(got, want) {
		t.Fatalf("reported %q, want %q", got, want)
	}
	if waited := time.Since(start); waited < 20*time.Millisecond {
		t.Fatalf("gave up after %v, before the 20ms given", waited)
	}
}
