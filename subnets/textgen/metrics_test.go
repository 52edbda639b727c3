package textgen

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom/promtest"
)

func TestMinerMetricsCollision(t *testing.T) {
	promtest.CheckCollision(t, func(reg prometheus.Registerer) error {
		_, err := NewMiner(&HTTPBackend{}, MinerConfig{Registerer: reg})
		return err
	})
}
