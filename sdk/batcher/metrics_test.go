package batcher

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom/promtest"
)

func TestMetricsCollision(t *testing.T) {
	promtest.CheckCollision(t, func(reg prometheus.Registerer) error {
		b, err := New(Config{MaxBatchSize: 4, Name: "llm", Registerer: reg},
			func(context.Context, []int) ([]int, error) { return nil, nil })
		if err == nil {
			t.Cleanup(func() { _ = b.Close(context.Background()) })
		}
		return err
	})
}
