package kernelbench_test

import (
	"testing"
)

func TestShippedKernelEvaluates(t *testing.T) {
	w := newWorld(t)
	url, commit := w.miner(t, "baseline", nil)
	ev := evaluate(t, w, url, commit, 4096)
	if !ev.OK || ev.Length != 4096 || ev.Score <= 0 || len(ev.Times) != w.def.Benchmark.Repetitions {
		t.Fatalf("the shipped kernel does not pass: %+v\n%s", ev, ev.Log)
	}
	// A target between leagues runs at the league below it.
	ev = evaluate(t, w, url, commit, 3000)
	if !ev.OK || ev.Length != 2048 || ev.League.Multiplier != 1 {
		t.Fatalf("3000 did not run in the 2048 league: %+v", ev)
	}
}

// The knobs change the speed, not the result: a tuned kernel passes and is faster.
func TestTunedKernelIsFaster(t *testing.T) {
	w := newWorld(t)
	url, commit := w.miner(t, "slow", map[string]string{"kernel/knobs.go": knobs("256", "1")})
	slow := evaluate(t, w, url, commit, 4096)
	url, commit = w.miner(t, "fast", map[string]string{"kernel/knobs.go": knobs("16", "2")})
	fast := evaluate(t, w, url, commit, 4096)
	if !slow.OK || !fast.OK {
		t.Fatalf("slow ok=%v (%s), fast ok=%v (%s)", slow.OK, slow.Message, fast.OK, fast.Message)
	}
	if fast.Score <= slow.Score {
		t.Errorf("the tuned kernel (%.0f) is not faster than the slow one (%.0f)", fast.Score, slow.Score)
	}
}
