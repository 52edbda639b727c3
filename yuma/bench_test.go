package yuma

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time. On a shared machine the wall time of a
// benchmark includes time spent waiting for a core; the CPU time per operation (reported
// as cpu-ns/op) is what one epoch costs on one core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchState builds a subnet of n uids whose first v are validators (equal-ish stake, all
// permitted and active) that each weight every miner with pseudo-random u16 weights, and
// carries one epoch forward so that bonds and permits are realistic. yuma3/liquid select the
// bonds variant.
func benchState(n, v int, yuma3, liquid bool) *EpochState {
	s := &EpochState{
		N: n, CurrentBlock: 10_000, Tempo: 360, ActivityCutoff: 5000,
		LastUpdate:           make([]uint64, n),
		BlockAtRegistration:  make([]uint64, n),
		Stake:                make([]uint64, n),
		ValidatorPermit:      make([]bool, n),
		Weights:              make([][]Entry, n),
		Bonds:                make([][]Entry, n),
		MaxAllowedValidators: uint16(v),
		Kappa:                32_767, BondsPenalty: 65_535, BondsMovingAverage: 900_000,
		Yuma3: yuma3, LiquidAlpha: liquid,
		AlphaLow: 45_875, AlphaHigh: 58_982, AlphaSigmoidSteepness: 1000,
		RaoEmission: 1_476_000_000,
	}
	x := uint64(0x9e3779b97f4a7c15)
	rnd := func() uint64 { // xorshift64*: deterministic pseudo-random weights
		x ^= x >> 12
		x ^= x << 25
		x ^= x >> 27
		return x * 2685821657736338717
	}
	for i := range n {
		s.BlockAtRegistration[i] = uint64(i % 100)
		s.LastUpdate[i] = 9_000
		if i < v {
			s.Stake[i] = 1_000_000_000_000 + rnd()%1_000_000_000_000
			s.ValidatorPermit[i] = true
			vals := make([]uint16, n-v)
			uids := make([]uint16, n-v)
			for k := range vals {
				uids[k] = uint16(v + k)
				vals[k] = uint16(rnd())
			}
			up := MaxUpscaleU16(vals)
			row := make([]Entry, len(up))
			for k := range up {
				row[k] = Entry{uids[k], up[k]}
			}
			s.Weights[i] = row
		} else {
			s.Stake[i] = rnd() % 1_000_000_000
		}
	}
	r, err := Epoch(s)
	if err != nil {
		panic(err)
	}
	s.Advance(r)
	return s
}

// benchEpoch times epochs of one state. Sparse epochs run through one Workspace, as the
// chain runs them, unless fresh (then each epoch allocates its buffers, as a lone Epoch
// call does).
func benchEpoch(b *testing.B, n, v int, yuma3, liquid, dense bool) {
	benchEpochWith(b, n, v, yuma3, liquid, dense, false)
}

func benchEpochWith(b *testing.B, n, v int, yuma3, liquid, dense, fresh bool) {
	s := benchState(n, v, yuma3, liquid)
	var ws Workspace
	epoch := func() {
		var err error
		switch {
		case dense:
			_, err = EpochDense(s)
		case fresh:
			_, err = Epoch(s)
		default:
			_, err = ws.Epoch(s)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	// One epoch before timing: the process's first one also pays for growing the heap
	// (page faults on tens of megabytes), which a running node paid once at its first.
	epoch()
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	defer func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op") }()
	for b.Loop() {
		epoch()
	}
}

// BenchmarkEpoch4096x256 is one sparse epoch of a 4096-uid subnet where 256 validators each
// weight all 3840 miners, with the defaults of a new subnet (Yuma3 on, liquid alpha off).
func BenchmarkEpoch4096x256(b *testing.B) { benchEpoch(b, 4096, 256, true, false, false) }

// BenchmarkEpoch4096x256Fresh is BenchmarkEpoch4096x256 with every epoch allocating its
// buffers (Epoch rather than Workspace.Epoch).
func BenchmarkEpoch4096x256Fresh(b *testing.B) {
	benchEpochWith(b, 4096, 256, true, false, false, true)
}

// BenchmarkEpoch256x64 is one sparse epoch of a 256-uid subnet with 64 validators.
func BenchmarkEpoch256x64(b *testing.B) { benchEpoch(b, 256, 64, true, false, false) }

// BenchmarkEpochVariants covers the other bonds variants and the dense epoch.
func BenchmarkEpochVariants(b *testing.B) {
	for _, c := range []struct {
		n, v                 int
		yuma3, liquid, dense bool
	}{
		{4096, 256, false, false, false},
		{4096, 256, true, true, false},
		{256, 64, false, false, false},
		{256, 64, true, true, false},
		{256, 64, true, false, true},
		{256, 64, false, false, true},
		{1024, 128, true, false, true},
	} {
		name := fmt.Sprintf("n=%d/v=%d/yuma3=%v/liquid=%v/dense=%v", c.n, c.v, c.yuma3, c.liquid, c.dense)
		b.Run(name, func(b *testing.B) { benchEpoch(b, c.n, c.v, c.yuma3, c.liquid, c.dense) })
	}
}

// BenchmarkConsensus4096x256 is the stake-weighted median of BenchmarkEpoch4096x256's
// epoch alone (the stored-form path's consensus step, one part), its largest step.
func BenchmarkConsensus4096x256(b *testing.B) {
	s := benchState(4096, 256, true, false)
	p := newParams(s)
	total, err := s.validateStake()
	if err != nil {
		b.Fatal(err)
	}
	t, permits, owner := s.stakeTerms(total)
	var ws Workspace
	rows, ok := s.maskedRows(permits, owner, &ws)
	if !ok {
		b.Fatal("the state does not take the stored-form path")
	}
	start := cpuTime()
	defer func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op") }()
	for b.Loop() {
		rows.consensus(t.activeStake, s.N, p.kappa, 1, ws.asm())
	}
}
