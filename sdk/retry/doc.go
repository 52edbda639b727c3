// Package retry calls an operation again after transient failures, waiting
// an exponentially growing, jittered delay between attempts and never past
// the caller's deadline.
//
// The delay before attempt k+1 (k ≥ 1 attempts made so far) is
//
//	base(k)  = min(MaxBackoff, InitialBackoff × Multiplier^(k−1))
//	delay(k) = base(k) × (1 − Jitter × r),   r uniform in [0,1)
//
// so Jitter 0 gives exact exponential steps and Jitter 1 gives "full jitter"
// (uniform in (0, base]). r comes from the Rand of the [Config], which tests
// seed to make delays reproducible.
//
// Whether a failure is retried:
//
//   - the caller's context is done: stop, the result wraps ctx.Err();
//   - the error was wrapped with [Permanent]: stop;
//   - Config.Retryable is set and returns false for the error: stop;
//   - MaxAttempts attempts have been made: stop;
//   - the context has a deadline that the next delay would reach: stop at once
//     rather than sleep into a certain timeout (the result wraps
//     [ErrDeadline]);
//   - otherwise sleep the delay (woken early if the context ends) and try again.
//
// With AttemptTimeout set each attempt runs under its own timeout; an
// attempt that runs out of it counts as an ordinary, retryable failure.
//
// Failures come back as an [*Error] that records the attempts made and why
// retrying stopped, and unwraps to the last attempt's error, so errors.Is
// and errors.As see through it.
//
// Every Retrier exports Prometheus metrics under tessera_sdk_retry_*,
// labelled with its Name.
package retry
