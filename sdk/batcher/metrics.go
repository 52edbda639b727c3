package batcher

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom"
)

type metrics struct {
	size     prometheus.Histogram
	duration prometheus.Histogram
	wait     prometheus.Histogram
	target   prometheus.Gauge
	inflight prometheus.Gauge
	batches  *prometheus.CounterVec
	items    *prometheus.CounterVec
	dropped  prometheus.Counter
}

func newMetrics(name string, maxBatch int, reg prometheus.Registerer) (*metrics, error) {
	sizeBuckets := []float64{1}
	for s := 2; s < maxBatch; s *= 2 {
		sizeBuckets = append(sizeBuckets, float64(s))
	}
	if maxBatch > 1 {
		sizeBuckets = append(sizeBuckets, float64(maxBatch))
	}
	s := prom.NewSet(prometheus.Labels{"name": name})
	m := &metrics{
		size: s.Histogram("tessera_sdk_batcher_batch_size",
			"Items per dispatched batch.", sizeBuckets),
		duration: s.Histogram("tessera_sdk_batcher_batch_duration_seconds",
			"Latency of batch function calls.", prometheus.ExponentialBuckets(0.0005, 2, 14)),
		wait: s.Histogram("tessera_sdk_batcher_queue_wait_seconds",
			"Time from Submit to the dispatch of the item's batch.", prometheus.ExponentialBuckets(0.0001, 2, 16)),
		target: s.Gauge("tessera_sdk_batcher_target_batch_size",
			"Current adaptive target batch size."),
		inflight: s.Gauge("tessera_sdk_batcher_inflight_batches",
			"Batch function calls currently running."),
		batches: s.CounterVec("tessera_sdk_batcher_batches_total",
			"Batch function calls, by result (ok, error).", "result"),
		items: s.CounterVec("tessera_sdk_batcher_items_total",
			"Items processed, by the result of their batch (ok, error).", "result"),
		dropped: s.Counter("tessera_sdk_batcher_dropped_total",
			"Items dropped before dispatch because their context was done."),
	}
	if err := s.Register(reg); err != nil {
		return nil, fmt.Errorf("batcher: %w", err)
	}
	return m, nil
}
