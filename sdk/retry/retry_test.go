package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/testutil"
)

func mustNew(t *testing.T, cfg Config) *Retrier {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"negative attempts", Config{MaxAttempts: -1}, "MaxAttempts"},
		{"negative backoff", Config{InitialBackoff: -1}, "InitialBackoff"},
		{"max below initial", Config{InitialBackoff: time.Second, MaxBackoff: time.Millisecond}, "MaxBackoff"},
		{"shrinking multiplier", Config{Multiplier: 0.5}, "Multiplier"},
		{"jitter above one", Config{Jitter: 1.5}, "Jitter"},
		{"negative attempt timeout", Config{AttemptTimeout: -time.Second}, "AttemptTimeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New err = %v, want mention of %s", err, tc.want)
			}
		})
	}
}

func TestBackoffWithoutJitter(t *testing.T) {
	r := mustNew(t, Config{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Multiplier: 2})
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := r.Backoff(i + 1); got != w*time.Millisecond {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
}

func TestBackoffJitterSeeded(t *testing.T) {
	cfg := func() Config {
		return Config{InitialBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second,
			Multiplier: 3, Jitter: 0.5, Rand: rand.New(rand.NewPCG(1, 2))}
	}
	a, b := mustNew(t, cfg()), mustNew(t, cfg())
	base := 100 * time.Millisecond
	for k := 1; k <= 8; k++ {
		da, db := a.Backoff(k), b.Backoff(k)
		if da != db {
			t.Fatalf("attempt %d: same seed gave %v and %v", k, da, db)
		}
		lo := time.Duration(float64(base) * 0.5)
		if da <= lo || da > base {
			t.Fatalf("attempt %d: delay %v outside (%v, %v]", k, da, lo, base)
		}
		base = min(base*3, 5*time.Second)
	}
}

var errFlaky = errors.New("flaky backend")

func TestDo(t *testing.T) {
	errBad := errors.New("bad request")
	tests := []struct {
		name         string
		cfg          Config
		failures     int   // attempts that fail before success
		failWith     error // error the failing attempts return
		wantAttempts int
		wantReason   Reason // "" means success
	}{
		{"first try", Config{}, 0, errFlaky, 1, ""},
		{"succeeds on third", Config{MaxAttempts: 3}, 2, errFlaky, 3, ""},
		{"exhausted", Config{MaxAttempts: 3}, 10, errFlaky, 3, Exhausted},
		{"single attempt", Config{MaxAttempts: 1}, 10, errFlaky, 1, Exhausted},
		{"permanent", Config{MaxAttempts: 5}, 10, Permanent(errBad), 1, NotRetryable},
		{"predicate rejects", Config{MaxAttempts: 5, Retryable: func(err error) bool { return !errors.Is(err, errBad) }},
			10, errBad, 1, NotRetryable},
		{"predicate accepts", Config{MaxAttempts: 5, Retryable: func(err error) bool { return errors.Is(err, errFlaky) }},
			2, errFlaky, 3, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.InitialBackoff = time.Millisecond
			tc.cfg.MaxBackoff = 2 * time.Millisecond
			r := mustNew(t, tc.cfg)
			calls := 0
			got, err := Do(context.Background(), r, func(context.Context) (string, error) {
				calls++
				if calls <= tc.failures {
					return "", tc.failWith
				}
				return "done", nil
			})
			if calls != tc.wantAttempts {
				t.Fatalf("made %d attempts, want %d", calls, tc.wantAttempts)
			}
			if tc.wantReason == "" {
				if err != nil || got != "done" {
					t.Fatalf("Do = %q, %v; want done", got, err)
				}
				return
			}
			var re *Error
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if re.Reason != tc.wantReason || re.Attempts != tc.wantAttempts {
				t.Fatalf("Error = %+v, want reason %s after %d attempts", re, tc.wantReason, tc.wantAttempts)
			}
			if !errors.Is(err, errors.Unwrap(tc.failWith)) && !errors.Is(err, tc.failWith) {
				t.Fatalf("err %v does not wrap %v", err, tc.failWith)
			}
		})
	}
}

func TestNeverSleepsPastDeadline(t *testing.T) {
	r := mustNew(t, Config{MaxAttempts: 10, InitialBackoff: 10 * time.Second, MaxBackoff: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	calls := 0
	err := r.Do(ctx, func(context.Context) error { calls++; return errFlaky })
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Fatalf("Do took %v; it should stop at once rather than sleep 10s into a 2s deadline", elapsed)
	}
	var re *Error
	if !errors.As(err, &re) || re.Reason != Deadline || calls != 1 {
		t.Fatalf("err = %v after %d calls, want Deadline after 1", err, calls)
	}
	if !errors.Is(err, ErrDeadline) || !errors.Is(err, errFlaky) {
		t.Fatalf("err = %v should wrap ErrDeadline and the last error", err)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	r := mustNew(t, Config{MaxAttempts: 10, InitialBackoff: time.Minute, MaxBackoff: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	err := r.Do(ctx, func(context.Context) error {
		go func() { time.Sleep(10 * time.Millisecond); cancel() }()
		return errFlaky
	})
	var re *Error
	if !errors.As(err, &re) || re.Reason != Canceled || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Canceled", err)
	}
}

func TestAlreadyCancelled(t *testing.T) {
	r := mustNew(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	err := r.Do(ctx, func(context.Context) error { called = true; return nil })
	if called || !errors.Is(err, context.Canceled) {
		t.Fatalf("called=%v err=%v, want no call and Canceled", called, err)
	}
	if !strings.Contains(err.Error(), "after 0 attempts") {
		t.Fatalf("err = %q", err)
	}
}

func TestAttemptTimeout(t *testing.T) {
	r := mustNew(t, Config{MaxAttempts: 3, InitialBackoff: time.Millisecond, AttemptTimeout: 20 * time.Millisecond})
	calls := 0
	got, err := Do(context.Background(), r, func(ctx context.Context) (int, error) {
		calls++
		if calls == 1 {
			<-ctx.Done() // a hung backend: only the attempt timeout frees it
			return 0, ctx.Err()
		}
		return 7, nil
	})
	if err != nil || got != 7 || calls != 2 {
		t.Fatalf("Do = %d, %v after %d calls; want 7 after 2", got, err, calls)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := mustNew(t, Config{MaxAttempts: 3, InitialBackoff: time.Millisecond, Name: "dendrite", Registerer: reg})
	_ = r.Do(context.Background(), func(context.Context) error { return nil })
	_ = r.Do(context.Background(), func(context.Context) error { return errFlaky })
	testutil.CheckMetrics(t, reg, map[string]float64{
		"tessera_sdk_retry_attempts_total":    4,
		"tessera_sdk_retry_calls_total":       2,
		"tessera_sdk_retry_attempts_per_call": 2,
		"tessera_sdk_retry_backoff_seconds":   2,
	})
}
