package loadgen

import (
	"context"
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
	"time"
)

func freePort(t *testing.T) int {
	t.Helper()
	for try := 0; try < 100; try++ {
		base := 30000 + rand.IntN(20000)
		ok := true
		for p := base; p < base+3; p++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free ports")
	return 0
}

// The harness itself works: a short, light run commits transfers and kvstore writes.
// (Throughput figures come from `tessera bench transfers`, never from tests.)
func TestShortRunCommits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	for _, yardstick := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		r, err := Run(ctx, Options{Yardstick: yardstick, Duration: 3 * time.Second, Warmup: 500 * time.Millisecond,
			BlockTime: 200 * time.Millisecond, Workers: 4, Senders: 4, MaxRate: 2000, BasePort: freePort(t)})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v", r)
		if r.Committed == 0 || r.Rejected != 0 {
			t.Fatalf("%s: %+v", r.App, r)
		}
	}
}

// The set_weights load sets up a 256-uid subnet whose 64 validators get permits, and its
// 256-entry weights commit.
func TestShortWeightsRunCommits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := Run(ctx, Options{Weights: true, Duration: 2 * time.Second, Warmup: 500 * time.Millisecond,
		BlockTime: 200 * time.Millisecond, Workers: 8, MaxRate: 3000, BasePort: freePort(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	if r.Committed == 0 || r.Rejected != 0 {
		t.Fatalf("%+v", r)
	}
}
