package retry

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
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
	labels := prometheus.Labels{"name": name}
	m := &metrics{
		attempts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_retry_attempts_total", ConstLabels: labels,
			Help: "Attempts made, first attempts included.",
		}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_sdk_retry_calls_total", ConstLabels: labels,
			Help: "Calls finished, by result: success, exhausted, not_retryable, deadline, canceled.",
		}, []string{"result"}),
		perCall: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tessera_sdk_retry_attempts_per_call", ConstLabels: labels,
			Help:    "Attempts each finished call made.",
			Buckets: []float64{1, 2, 3, 4, 5, 7, 10, 15, 20},
		}),
		backoff: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tessera_sdk_retry_backoff_seconds", ConstLabels: labels,
			Help:    "Delays slept between attempts.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
		callResults: map[string]prometheus.Counter{},
	}
	// Resolve the label children once so the hot path does no map lookups
	// inside the vector.
	for _, r := range results {
		m.callResults[r] = m.calls.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	cs := []prometheus.Collector{m.attempts, m.calls, m.perCall, m.backoff}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("retry: register metrics for retrier %q: %w", name, err)
		}
	}
	return m, nil
}

func (m *metrics) finish(result string, attempts int) {
	m.callResults[result].Inc()
	m.perCall.Observe(float64(attempts))
}
