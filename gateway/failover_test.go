package gateway

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestAttempts checks the failover loop: the plan's miners in order, each after the
// first counted as a failover, none once the request's context has ended.
func TestAttempts(t *testing.T) {
	gw := startGateway(t, nil, nil)
	g := gw.Gateway
	plan := []Miner{{UID: 1}, {UID: 2}, {UID: 3}}
	var got []uint16
	for m := range g.attempts(context.Background(), plan) {
		got = append(got, m.UID)
		if m.UID == 2 {
			break
		}
	}
	if !slices.Equal(got, []uint16{1, 2}) {
		t.Fatalf("attempted %v, want [1 2]", got)
	}
	resp, err := http.Get(gw.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "\ntessera_gateway_failovers_total 1\n") {
		t.Fatalf("want one failover counted; metrics:\n%s", metrics)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for m := range g.attempts(ctx, plan) {
		t.Fatalf("miner %d attempted after the request ended", m.UID)
	}
}
