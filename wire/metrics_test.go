package wire

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom/promtest"
)

func TestAxonMetricsCollision(t *testing.T) {
	promtest.CheckCollision(t, func(reg prometheus.Registerer) error {
		_, err := NewAxon(alice(t), AxonConfig{Registerer: reg})
		return err
	})
}

func TestDendriteMetricsCollision(t *testing.T) {
	promtest.CheckCollision(t, func(reg prometheus.Registerer) error {
		d, err := NewDendrite(vectorDendriteKey(t), DendriteConfig{Registerer: reg})
		if err == nil {
			t.Cleanup(d.Close)
		}
		return err
	})
}
