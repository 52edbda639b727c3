package miner_test

import (
	"context"
	"testing"

	"github.com/tessera-net/tessera/internal/testutil"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom/promtest"
	"github.com/tessera-net/tessera/sdk/miner"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/wire"
)

func TestMetricsCollision(t *testing.T) {
	cfg := subnet.DefaultConfig()
	cfg.AxonIP, cfg.AxonPort = "127.0.0.1", 0
	h := wire.Handle(func(_ context.Context, _ *wire.Call, p *Ping) error { return nil })
	promtest.CheckCollision(t, func(reg prometheus.Registerer) error {
		_, err := miner.New(h, miner.Options{Config: cfg, Hotkey: testutil.Pair(t, "//Dave"), Chain: &fakeChain{}, Registerer: reg})
		return err
	})
}
