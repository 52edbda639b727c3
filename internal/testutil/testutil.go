// Package testutil holds helpers shared by tests: key pairs from secret URIs, reading a
// Prometheus registry into plain numbers and checking them, waiting for a condition,
// and waiting for goroutines to wind down (a leak check).
package testutil

import (
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/keys"
)

// Pair derives the sr25519 pair of a secret URI ("//Alice", "//Bob//hot"), failing the
// test on a malformed one.
func Pair(t testing.TB, uri string) *keys.Pair {
	t.Helper()
	p, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Gather reads every metric of reg into name → value: counters and gauges by value
// (summed over label sets), histograms by sample count.
func Gather(t testing.TB, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				out[mf.GetName()] += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[mf.GetName()] += m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[mf.GetName()] += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// WaitGoroutines waits up to 10 s for the number of goroutines to fall to max, and
// fails the test with every goroutine's stack if it does not.
func WaitGoroutines(t testing.TB, max int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > max {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutine leak: %d running, want <= %d\n%s", runtime.NumGoroutine(), max, buf[:n])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Eventually polls cond every 200 ms until it holds, and fails the test with what and the
// last state cond reported if it does not within the given time.
func Eventually(t testing.TB, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: not after %v (last: %s)", what, within, last)
}
