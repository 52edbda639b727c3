package gateway

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom/promtest"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/wire"
)

func TestMetricsCollision(t *testing.T) {
	pair, err := keys.FromURI("//Gateway")
	if err != nil {
		t.Fatal(err)
	}
	d, err := wire.NewDendrite(pair, wire.DendriteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	promtest.CheckCollision(t, func(reg prometheus.Registerer) error {
		_, err := New(Config{Models: []Model{{ID: "m", Netuid: 1}}, Source: &flakySource{}, Dendrite: d, Registerer: reg})
		return err
	})
}
