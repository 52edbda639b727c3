package retry

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom/promtest"
)

func TestMetricsCollision(t *testing.T) {
	promtest.CheckCollision(t, func(reg prometheus.Registerer) error {
		_, err := New(Config{MaxAttempts: 2, Name: "dendrite", Registerer: reg})
		return err
	})
}
