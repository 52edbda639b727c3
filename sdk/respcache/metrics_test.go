package respcache

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom/promtest"
)

func TestMetricsCollision(t *testing.T) {
	promtest.CheckCollision(t, func(reg prometheus.Registerer) error {
		c, err := New[request, string](Config[request]{MaxEntries: 1, TTL: time.Minute, Name: "answers", Registerer: reg})
		if err == nil {
			t.Cleanup(func() { _ = c.Close(context.Background()) })
		}
		return err
	})
}
