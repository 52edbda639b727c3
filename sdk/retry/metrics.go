package retry

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom"
)

type metrics struct {
	attempts    prometheus.Counter
	calls       *prometheus.CounterVec
	perCall     prometheus.Histogram
	backoff     prometheus.Histogram
	callResults map[string]prometheus.Counter
}

var results = []string{"success", string(Exhausted), string(NotRetryable), string(Deadline), string(Canceled)}

func newMetrics(name string, reg prometheus.Registerer) (*metrics, error) {
	s := prom.NewSet(prometheus.Labels{"name": name})
	m := &metrics{
		attempts: s.Counter("tessera_sdk_retry_attempts_total", "Attempts made, first attempts included."),
		calls: s.CounterVec("tessera_sdk_retry_calls_total",
			"Calls finished, by result: success, exhausted, not_retryable, deadline, canceled.", "result"),
		perCall: s.Histogram("tessera_sdk_retry_attempts_per_call",
			"Attempts each finished call made.", []float64{1, 2, 3, 4, 5, 7, 10, 15, 20}),
		backoff: s.Histogram("tessera_sdk_retry_backoff_seconds",
			"Delays slept between attempts.", prometheus.ExponentialBuckets(0.001, 4, 10)),
		callResults: map[string]prometheus.Counter{},
	}
	// Resolve the label children once so the hot path does no map lookups
	// inside the vector.
	for _, r := range results {
		m.callResults[r] = m.calls.WithLabelValues(r)
	}
	if err := s.Register(reg); err != nil {
		return nil, fmt.Errorf("retry: %w", err)
	}
	return m, nil
}

func (m *metrics) finish(result string, attempts int) {
	m.callResults[result].Inc()
	m.perCall.Observe(float64(attempts))
}
