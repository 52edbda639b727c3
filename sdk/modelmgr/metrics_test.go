package modelmgr

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom/promtest"
)

func TestMetricsCollision(t *testing.T) {
	promtest.CheckCollision(t, func(reg prometheus.Registerer) error {
		h := &harness{}
		mg, err := New(Config[*fakeModel]{Name: "miner", Registerer: reg, Loader: h.loader, Unload: h.unload})
		if err == nil {
			t.Cleanup(mg.Close)
		}
		return err
	})
}
