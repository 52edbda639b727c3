package kernelbench_test

import (
	"context"
	"testing"
	"time"

	"github.com/tessera-net/tessera/subnets/kernelbench"
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

// BenchmarkJudgeOverhead measures what the judge spends on a submission apart from the
// benchmark runs themselves: the fetch, the tree and import checks, the sandboxed build
// and the sandbox's start and stop (the time of the one timed request at the smallest
// length is subtracted; the validator's input generation and reference stay in, so the
// figure errs high). The bound is 2 s.
func BenchmarkJudgeOverhead(b *testing.B) {
	w := newWorld(b)
	d := *w.def
	d.Benchmark.Warmup, d.Benchmark.Repetitions = 0, 1
	r := &kernelbench.Runner{Def: &d, Work: w.runner.Work}
	url, commit := w.miner(b, "overhead", map[string]string{"kernel/knobs.go": knobs("32", "2")})
	var fetch, check, build, rest time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := r.Evaluate(context.Background(), url, commit, d.Leagues[0].Length)
		if !ev.OK {
			b.Fatalf("%s: %s", ev.Reason, ev.Message)
		}
		fetch += ev.Stages.Fetch
		check += ev.Stages.Check
		build += ev.Stages.Build
		rest += ev.Stages.Bench - ev.Times[0]
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64((fetch+check+build+rest)/n)/1e6, "overhead-ms/op")
	b.ReportMetric(float64(fetch/n)/1e6, "fetch-ms/op")
	b.ReportMetric(float64(check/n)/1e6, "check-ms/op")
	b.ReportMetric(float64(build/n)/1e6, "build-ms/op")
	b.ReportMetric(float64(rest/n)/1e6, "sandbox-ms/op")
}
