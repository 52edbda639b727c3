package node

import (
	"encoding/json"
	"net"
	"testing"
)

// Every testnet node gets its own metrics port, bound to loopback even when the network
// listens on every interface.
func TestTestnetNodesGetDistinctLoopbackMetricsPorts(t *testing.T) {
	nodes, err := WriteTestnet(TestnetOptions{Dir: t.TempDir(), Validators: 3, ChainID: "ports", Host: "0.0.0.0",
		BasePort: 40000, AppState: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, n := range nodes {
		c, err := LoadConfig(n.Home)
		if err != nil {
			t.Fatal(err)
		}
		addr := c.Instrumentation.PrometheusListenAddr
		host, _, err := net.SplitHostPort(addr)
		if err != nil || host != "127.0.0.1" {
			t.Fatalf("%s: metrics on %q, want 127.0.0.1", n.Home, addr)
		}
		if addr != n.Metrics {
			t.Fatalf("%s: metrics on %s, reported %s", n.Home, addr, n.Metrics)
		}
		for _, a := range []string{n.P2P, n.RPC, n.API, addr} {
			if seen[a] {
				t.Fatalf("%s: %s is used twice", n.Home, a)
			}
			seen[a] = true
		}
	}
}

func TestASingleNodesMetricsStayOnLoopback(t *testing.T) {
	home := initTestHome(t)
	writeGenesis(t, home)
	c, err := LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Instrumentation.PrometheusListenAddr; got != "127.0.0.1:26660" {
		t.Fatalf("metrics on %q", got)
	}
}
