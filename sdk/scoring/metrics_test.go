package scoring

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom/promtest"
)

func TestMetricsCollision(t *testing.T) {
	promtest.CheckCollision(t, func(reg prometheus.Registerer) error {
		_, err := New(Config{Weights: equalWeights, Name: "text", Registerer: reg})
		return err
	})
}
