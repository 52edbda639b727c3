package textgen

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tessera-net/tessera/sdk/scoring"
	"github.com/tessera-net/tessera/sdk/subnet"
)

func TestRewards(t *testing.T) {
	got := Rewards([]scoring.Result{{Score: 0.9, Quality: 1}, {Score: 0.4, Quality: 0}, {Score: 0.6, Quality: 0.5}})
	if got[0] != 0.9 || got[1] != 0 || got[2] != 0.6 {
		t.Fatalf("%v", got)
	}
}

// The Definition's Query and Score, as the SDK's validator runtime calls them, with
// answers from the built-in backend that are right, slow, wrong, or missing.
func TestSubnetDefinition(t *testing.T) {
	good, _ := NewBuiltin(BuiltinConfig{})
	def, err := NewSubnet(SubnetConfig{Backend: good})
	if err != nil {
		t.Fatal(err)
	}
	if err := def.Check(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	totals := make([]float64, 4)
	for step := range uint64(40) {
		q, err := def.Query(ctx, subnet.Round{Step: step, Rand: rand.New(rand.NewPCG(1, step))})
		if err != nil {
			t.Fatal(err)
		}
		ans := good.Answer(q.Request())
		right := &ChatCompletion{Completion: ans, Usage: Usage{CompletionTokens: CountTokens(ans)}}
		wrong := &ChatCompletion{Completion: Corrupt(ans, step), Usage: right.Usage}
		rs := []subnet.Response[*ChatCompletion]{
			{UID: 0, Hotkey: "fast", Synapse: right, Latency: 20 * time.Millisecond},
			{UID: 1, Hotkey: "slow", Synapse: right, Latency: 4 * time.Second},
			{UID: 2, Hotkey: "wrong", Synapse: wrong, Latency: 20 * time.Millisecond},
			{UID: 3, Hotkey: "gone", Err: errors.New("timeout"), Latency: 12 * time.Second},
		}
		scores, err := def.Score(ctx, q, rs)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range scores {
			totals[i] += s
		}
		if scores[3] != 0 {
			t.Fatalf("a miner that did not answer earned %v", scores[3])
		}
	}
	if !(totals[0] > totals[1] && totals[1] > totals[2] && totals[3] == 0) {
		t.Fatalf("totals fast %.2f slow %.2f wrong %.2f gone %.2f", totals[0], totals[1], totals[2], totals[3])
	}
	if _, err := NewSubnet(SubnetConfig{Kinds: []Kind{"nope"}}); err == nil {
		t.Fatal("unknown kind accepted")
	}
}
