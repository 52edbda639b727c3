package workerpool

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom"
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
	s := prom.NewSet(prometheus.Labels{"name": name})
	m := &metrics{
		workers:   s.Gauge("tessera_sdk_workerpool_workers", "Worker goroutines in the pool."),
		busy:      s.Gauge("tessera_sdk_workerpool_busy_workers", "Workers currently running a task."),
		depth:     s.Gauge("tessera_sdk_workerpool_queue_depth", "Tasks waiting for a worker."),
		submitted: s.Counter("tessera_sdk_workerpool_submitted_total", "Tasks accepted into the queue."),
		rejected:  s.Counter("tessera_sdk_workerpool_rejected_total", "Tasks refused with ErrQueueFull."),
		tasks: s.CounterVec("tessera_sdk_workerpool_tasks_total",
			"Tasks finished, by result: ok, error, panic, canceled (skipped).", "result"),
		duration: s.Histogram("tessera_sdk_workerpool_task_duration_seconds",
			"Time tasks spent running.", prometheus.ExponentialBuckets(0.0001, 4, 10)),
		wait: s.Histogram("tessera_sdk_workerpool_queue_wait_seconds",
			"Time tasks waited in the queue before a worker started them.", prometheus.ExponentialBuckets(0.0001, 4, 10)),
	}
	if err := s.Register(reg); err != nil {
		return nil, fmt.Errorf("workerpool: %w", err)
	}
	return m, nil
}
