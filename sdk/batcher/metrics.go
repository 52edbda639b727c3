package batcher

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
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
	labels := prometheus.Labels{"name": name}
	sizeBuckets := []float64{1}
	for s := 2; s < maxBatch; s *= 2 {
		sizeBuckets = append(sizeBuckets, float64(s))
	}
	if maxBatch > 1 {
		sizeBuckets = append(sizeBuckets, float64(maxBatch))
	}
	m := &metrics{
		size: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tessera_sdk_batcher_batch_size", ConstLabels: labels,
			Help:    "Items per dispatched batch.",
			Buckets: sizeBuckets,
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tessera_sdk_batcher_batch_duration_seconds", ConstLabels: labels,
			Help:    "Latency of batch function calls.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tessera_sdk_batcher_queue_wait_seconds", ConstLabels: labels,
			Help:    "Time from Submit to the dispatch of the item's batch.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		target: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tessera_sdk_batcher_target_batch_size", ConstLabels: labels,
			Help: "Current adaptive target batch size.",
		}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tessera_sdk_batcher_inflight_batches", ConstLabels: labels,
			Help: "Batch function calls currently running.",
		}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_sdk_batcher_batches_total", ConstLabels: labels,
			Help: "Batch function calls, by result (ok, error).",
		}, []string{"result"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_sdk_batcher_items_total", ConstLabels: labels,
			Help: "Items processed, by the result of their batch (ok, error).",
		}, []string{"result"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_batcher_dropped_total", ConstLabels: labels,
			Help: "Items dropped before dispatch because their context was done.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	cs := []prometheus.Collector{m.size, m.duration, m.wait, m.target, m.inflight, m.batches, m.items, m.dropped}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("batcher: register metrics for batcher %q: %w", name, err)
		}
	}
	return m, nil
}
