package validator_test

import (
	"testing"

	"github.com/tessera-net/tessera/internal/testutil"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom/promtest"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/sdk/validator"
)

func TestMetricsCollision(t *testing.T) {
	cfg := subnet.DefaultConfig()
	cfg.StateDir = t.TempDir()
	promtest.CheckCollision(t, func(reg prometheus.Registerer) error {
		_, err := validator.New(definition(), validator.Options{Config: cfg, Hotkey: testutil.Pair(t, "//Bob"), Chain: &fakeChain{}, Registerer: reg})
		return err
	})
}
