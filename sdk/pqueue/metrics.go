package pqueue

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	depth    prometheus.Gauge
	pushed   prometheus.Counter
	popped   prometheus.Counter
	rejected prometheus.Counter
	evicted  prometheus.Counter
	wait     prometheus.Histogram
}

func newMetrics(name string, reg prometheus.Registerer) (*metrics, error) {
	labels := prometheus.Labels{"name": name}
	m := &metrics{
		depth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tessera_sdk_pqueue_depth", ConstLabels: labels,
			Help: "Items currently queued.",
		}),
		pushed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_pqueue_pushed_total", ConstLabels: labels,
			Help: "Items admitted by Push.",
		}),
		popped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_pqueue_popped_total", ConstLabels: labels,
			Help: "Items removed by Pop or TryPop.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_pqueue_rejected_total", ConstLabels: labels,
			Help: "Pushes refused with ErrFull.",
		}),
		evicted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_pqueue_evicted_total", ConstLabels: labels,
			Help: "Low-priority items evicted to admit higher-priority ones.",
		}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tessera_sdk_pqueue_wait_seconds", ConstLabels: labels,
			Help:    "Time items spent queued before being popped.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}),
	}
	if reg == nil {
		return m, nil
	}
	cs := []prometheus.Collector{m.depth, m.pushed, m.popped, m.rejected, m.evicted, m.wait}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("pqueue: register metrics for queue %q: %w", name, err)
		}
	}
	return m, nil
}
