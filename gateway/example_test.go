package gateway_test

import (
	"fmt"
	"time"

	"github.com/tessera-net/tessera/gateway"
	"github.com/tessera-net/tessera/wire"
)

// Ranking and failover order: the gateway sends each request to one of the top k
// miners, in turn, and fails over down the ranking.
func ExamplePlan() {
	m := func(hotkey string, incentive float64) gateway.Miner {
		return gateway.Miner{Axon: wire.AxonInfo{Hotkey: hotkey}, Incentive: incentive}
	}
	now := time.Now()
	stats := map[string]gateway.Stats{
		"fast": {Latency: 50 * time.Millisecond, Samples: 10},
		"slow": {Latency: 2 * time.Second, Samples: 10},
		"down": {Failures: 2, CooldownUntil: now.Add(2 * time.Second)},
	}
	ranked := gateway.Rank([]gateway.Miner{m("slow", 0.5), m("fast", 0.3), m("down", 0.9), m("new", 0.1)}, stats, now, gateway.RouteConfig{})
	for seq := range uint64(3) {
		var order []string
		for _, x := range gateway.Plan(ranked, 2, seq, 3) {
			order = append(order, x.Axon.Hotkey)
		}
		fmt.Println(order)
	}
	// Output:
	// [fast slow new]
	// [slow fast new]
	// [fast slow new]
}
