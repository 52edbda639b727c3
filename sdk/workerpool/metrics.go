package workerpool

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	workers   prometheus.Gauge
	busy      prometheus.Gauge
	depth     prometheus.Gauge
	submitted prometheus.Counter
	rejected  prometheus.Counter
	tasks     *prometheus.CounterVec
	duration  prometheus.Histogram
	wait      prometheus.Histogram
}

func newMetrics(name string, reg prometheus.Registerer) (*metrics, error) {
	labels := prometheus.Labels{"name": name}
	m := &metrics{
		workers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tessera_sdk_workerpool_workers", ConstLabels: labels,
			Help: "Worker goroutines in the pool.",
		}),
		busy: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tessera_sdk_workerpool_busy_workers", ConstLabels: labels,
			Help: "Workers currently running a task.",
		}),
		depth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tessera_sdk_workerpool_queue_depth", ConstLabels: labels,
			Help: "Tasks waiting for a worker.",
		}),
		submitted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_workerpool_submitted_total", ConstLabels: labels,
			Help: "Tasks accepted into the queue.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_workerpool_rejected_total", ConstLabels: labels,
			Help: "Tasks refused with ErrQueueFull.",
		}),
		tasks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_sdk_workerpool_tasks_total", ConstLabels: labels,
			Help: "Tasks finished, by result: ok, error, panic, canceled (skipped).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tessera_sdk_workerpool_task_duration_seconds", ConstLabels: labels,
			Help:    "Time tasks spent running.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tessera_sdk_workerpool_queue_wait_seconds", ConstLabels: labels,
			Help:    "Time tasks waited in the queue before a worker started them.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}),
	}
	if reg == nil {
		return m, nil
	}
	cs := []prometheus.Collector{m.workers, m.busy, m.depth, m.submitted, m.rejected, m.tasks, m.duration, m.wait}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("workerpool: register metrics for pool %q: %w", name, err)
		}
	}
	return m, nil
}
