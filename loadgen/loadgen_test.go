package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"
)

// The harness itself works: a short, light run commits transfers and kvstore writes.
// (Throughput figures come from `tessera bench transfers`, never from tests.)
func TestShortRunCommits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	for _, yardstick := range []bool{false, true} {
		// The kvstore takes unsigned writes as fast as four clients send them (over
		// 12,000 a second on a fast machine): it gets enough not to run out in the warm-up.
		rate := 2000
		if yardstick {
			rate = 40000
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		r, err := Run(ctx, Options{Yardstick: yardstick, Duration: 3 * time.Second, Warmup: 500 * time.Millisecond,
			BlockTime: 200 * time.Millisecond, Workers: 4, Senders: 4, MaxRate: rate, BasePort: testutil.FreePorts(t, 3)})
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
		BlockTime: 200 * time.Millisecond, Workers: 8, MaxRate: 3000, BasePort: testutil.FreePorts(t, 3)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	if r.Committed == 0 || r.Rejected != 0 {
		t.Fatalf("%+v", r)
	}
}
