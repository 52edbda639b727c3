package retry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrDeadline is wrapped by the error of a call that stopped because the next
// backoff would have reached the context's deadline.
var ErrDeadline = errors.New("retry: next attempt would exceed the context deadline")

// Reason says why a call stopped retrying.
type Reason string

// Reasons a call stopped.
const (
	Exhausted    Reason = "exhausted"     // MaxAttempts attempts failed
	NotRetryable Reason = "not_retryable" // Permanent or rejected by Retryable
	Deadline     Reason = "deadline"      // next delay would pass the deadline
	Canceled     Reason = "canceled"      // the context ended
)

// Error is the result of a call whose attempts all failed or that stopped
// early. It unwraps to the last attempt's error and, for Deadline and
// Canceled, to ErrDeadline or the context's error as well.
type Error struct {
	// Attempts is the number of attempts made.
	Attempts int
	// Reason says why retrying stopped.
	Reason Reason
	// Last is the last attempt's error.
	Last error
	// Cause is ErrDeadline or the context's error, or nil.
	Cause error
}

// Error implements error.
func (e *Error) Error() string {
	switch e.Reason {
	case Exhausted:
		return fmt.Sprintf("retry: giving up after %d attempts: %v", e.Attempts, e.Last)
	case NotRetryable:
		return fmt.Sprintf("retry: attempt %d failed with a non-retryable error: %v", e.Attempts, e.Last)
	case Deadline:
		return fmt.Sprintf("retry: stopped after %d attempts, next attempt would exceed the deadline: %v", e.Attempts, e.Last)
	default:
		if e.Last == nil {
			return fmt.Sprintf("retry: stopped after %d attempts: %v", e.Attempts, e.Cause)
		}
		return fmt.Sprintf("retry: stopped after %d attempts, %v: %v", e.Attempts, e.Cause, e.Last)
	}
}

// Unwrap returns the last attempt's error and the cause, where present.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Last != nil {
		errs = append(errs, e.Last)
	}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying. A nil err stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Config configures a Retrier. Zero values take the defaults shown.
type Config struct {
	// MaxAttempts is the most attempts per call, the first included. Default 3.
	MaxAttempts int
	// InitialBackoff is the delay after the first failure. Default 100ms.
	InitialBackoff time.Duration
	// MaxBackoff caps the delay. Default 10s.
	MaxBackoff time.Duration
	// Multiplier grows the delay after each failure, ≥ 1. Default 2.
	Multiplier float64
	// Jitter is the fraction of each delay that is randomised, in [0,1].
	// Default 0: no jitter.
	Jitter float64
	// AttemptTimeout, if positive, bounds each attempt.
	AttemptTimeout time.Duration
	// Retryable, if set, decides which errors are retried; nil retries every
	// error not marked Permanent.
	Retryable func(error) bool
	// Rand is the source of jitter. Nil uses the process-wide generator of
	// math/rand/v2. A Retrier serialises its own use of Rand.
	Rand *rand.Rand
	// Name labels this retrier's metrics (const label "name"). Default "default".
	Name string
	// Registerer receives the retrier's metrics; nil means do not register.
	Registerer prometheus.Registerer
}

// Retrier runs operations under a retry policy. Create it with New; it is
// safe for concurrent use.
type Retrier struct {
	cfg    Config
	m      *metrics
	randMu sync.Mutex
}

// New validates cfg and applies defaults.
func New(cfg Config) (*Retrier, error) {
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.InitialBackoff == 0 {
		cfg.InitialBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.Multiplier == 0 {
		cfg.Multiplier = 2
	}
	switch {
	case cfg.MaxAttempts < 0:
		return nil, fmt.Errorf("retry: MaxAttempts must be positive, got %d", cfg.MaxAttempts)
	case cfg.InitialBackoff < 0:
		return nil, fmt.Errorf("retry: InitialBackoff must not be negative, got %v", cfg.InitialBackoff)
	case cfg.MaxBackoff < cfg.InitialBackoff:
		return nil, fmt.Errorf("retry: MaxBackoff %v is below InitialBackoff %v", cfg.MaxBackoff, cfg.InitialBackoff)
	case !(cfg.Multiplier >= 1) || math.IsInf(cfg.Multiplier, 0):
		return nil, fmt.Errorf("retry: Multiplier must be a finite number ≥ 1, got %v", cfg.Multiplier)
	case !(cfg.Jitter >= 0 && cfg.Jitter <= 1):
		return nil, fmt.Errorf("retry: Jitter must be in [0,1], got %v", cfg.Jitter)
	case cfg.AttemptTimeout < 0:
		return nil, fmt.Errorf("retry: AttemptTimeout must not be negative, got %v", cfg.AttemptTimeout)
	}
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	m, err := newMetrics(cfg.Name, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Retrier{cfg: cfg, m: m}, nil
}

// Backoff returns the delay after the given number of failed attempts
// (attempts ≥ 1), drawing jitter from the configured source.
func (r *Retrier) Backoff(attempts int) time.Duration {
	base := float64(r.cfg.InitialBackoff) * math.Pow(r.cfg.Multiplier, float64(max(attempts, 1)-1))
	base = math.Min(base, float64(r.cfg.MaxBackoff))
	if r.cfg.Jitter > 0 {
		base *= 1 - r.cfg.Jitter*r.random()
	}
	return time.Duration(base)
}

func (r *Retrier) random() float64 {
	if r.cfg.Rand == nil {
		return rand.Float64()
	}
	r.randMu.Lock()
	defer r.randMu.Unlock()
	return r.cfg.Rand.Float64()
}

func (r *Retrier) retryable(err error) bool {
	if IsPermanent(err) {
		return false
	}
	return r.cfg.Retryable == nil || r.cfg.Retryable(err)
}

// Do calls fn until it succeeds or the policy says stop, and returns nil or
// an *Error.
func (r *Retrier) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	_, err := Do(ctx, r, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) })
	return err
}

// Do calls fn under r's policy until it succeeds, and returns its value, or
// the zero value and an *Error.
func Do[T any](ctx context.Context, r *Retrier, fn func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return zero, r.fail(attempt-1, Canceled, nil, err)
		}
		r.m.attempts.Inc()
		v, err := runAttempt(ctx, r, fn)
		if err == nil {
			r.m.finish("success", attempt)
			return v, nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return zero, r.fail(attempt, Canceled, err, cerr)
		}
		if !r.retryable(err) {
			return zero, r.fail(attempt, NotRetryable, err, nil)
		}
		if attempt >= r.cfg.MaxAttempts {
			return zero, r.fail(attempt, Exhausted, err, nil)
		}
		delay := r.Backoff(attempt)
		if dl, ok := ctx.Deadline(); ok && !time.Now().Add(delay).Before(dl) {
			return zero, r.fail(attempt, Deadline, err, ErrDeadline)
		}
		r.m.backoff.Observe(delay.Seconds())
		if timer == nil {
			timer = time.NewTimer(delay)
		} else {
			timer.Reset(delay)
		}
		select {
		case <-timer.C:
		case <-ctx.Done():
			return zero, r.fail(attempt, Canceled, err, ctx.Err())
		}
	}
}

func runAttempt[T any](ctx context.Context, r *Retrier, fn func(context.Context) (T, error)) (T, error) {
	if r.cfg.AttemptTimeout <= 0 {
		return fn(ctx)
	}
	actx, cancel := context.WithTimeout(ctx, r.cfg.AttemptTimeout)
	defer cancel()
	return fn(actx)
}

func (r *Retrier) fail(attempts int, reason Reason, last, cause error) error {
	r.m.finish(string(reason), attempts)
	return &Error{Attempts: attempts, Reason: reason, Last: last, Cause: cause}
}
