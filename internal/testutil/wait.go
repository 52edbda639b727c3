package testutil

import (
	"testing"
	"time"
)

// WaitFor polls cond every 2 ms until it holds, and fails the test with "timed out
// waiting for what" if it does not within the given time. It is the wait of unit
// tests; Eventually polls more slowly and reports the last state, for end-to-end
// tests.
func WaitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
