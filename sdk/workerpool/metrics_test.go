package workerpool

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom/promtest"
)

func TestMetricsCollision(t *testing.T) {
	promtest.CheckCollision(t, func(reg prometheus.Registerer) error {
		p, err := New(Config{Workers: 1, QueueSize: 1, Name: "inference", Registerer: reg})
		if err == nil {
			t.Cleanup(func() { _ = p.Close(context.Background()) })
		}
		return err
	})
}
