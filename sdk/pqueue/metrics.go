package pqueue

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom"
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
	s := prom.NewSet(prometheus.Labels{"name": name})
	m := &metrics{
		depth:    s.Gauge("tessera_sdk_pqueue_depth", "Items currently queued."),
		pushed:   s.Counter("tessera_sdk_pqueue_pushed_total", "Items admitted by Push."),
		popped:   s.Counter("tessera_sdk_pqueue_popped_total", "Items removed by Pop or TryPop."),
		rejected: s.Counter("tessera_sdk_pqueue_rejected_total", "Pushes refused with ErrFull."),
		evicted:  s.Counter("tessera_sdk_pqueue_evicted_total", "Low-priority items evicted to admit higher-priority ones."),
		wait: s.Histogram("tessera_sdk_pqueue_wait_seconds",
			"Time items spent queued before being popped.", prometheus.ExponentialBuckets(0.0001, 4, 10)),
	}
	if err := s.Register(reg); err != nil {
		return nil, fmt.Errorf("pqueue: %w", err)
	}
	return m, nil
}
