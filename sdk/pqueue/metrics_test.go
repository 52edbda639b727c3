package pqueue

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom/promtest"
)

func TestMetricsCollision(t *testing.T) {
	promtest.CheckCollision(t, func(reg prometheus.Registerer) error {
		q, err := New(Config[int]{MaxSize: 1, Name: "jobs", Registerer: reg})
		if err == nil {
			t.Cleanup(q.Close)
		}
		return err
	})
}
