package keeper_test

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/tx"
)

// BenchmarkChainEpoch4096x256 times the block that runs the epoch of a 4096-uid subnet
// whose 256 validators each weight all 3840 miners, through the real application (ABCI
// FinalizeBlock and Commit on an in-memory IAVL store): reading the epoch's state from the
// store, the Yuma epoch, paying the emission as stake and writing every neuron's terms and
// every validator's bonds; cpu-ns/op is the process's CPU time in those blocks (the wall
// time on a shared machine includes time the benchmark was not running). The setup (4,095 registrations, stakes and 256 set_weights of
// 3,840 entries, all as signed transactions) is not timed. This is the classic chain
// (dtao: false): root weights split the emission, stake is TAO.
func BenchmarkChainEpoch4096x256(b *testing.B) { benchChainEpoch(b, false) }

// BenchmarkChainEpoch4096x256DTAO is the same epoch block under dTAO: the block's
// coinbase, then the epoch on alpha + root stake, paid in alpha through the share pools.
func BenchmarkChainEpoch4096x256DTAO(b *testing.B) { benchChainEpoch(b, true) }

// benchSubnet is a chain with subnet 1 at 4096 uids, uids 1..256 staked validators that
// an epoch has given their permits, for the benchmarks of its blocks.
type benchSubnet struct {
	h          *chainHarness
	hot        []*keys.Pair // uid i's hotkey (uid 0, the owner's, is nil)
	untilEpoch func()       // runs blocks until the next one runs the epoch
	x          uint64       // the weights' xorshift state
}

const benchN, benchValidators = 4096, 256

func newBenchSubnet(b *testing.B, dtaoOn bool) *benchSubnet {
	const n, validators = benchN, benchValidators
	owner := testutil.Pair(b, "//Alice")
	h := newChainWith(b, modules.Builtin(), dtaoOn, owner)
	if dtaoOn {
		h.block() // the issuance is fixed at the first block
	}
	s := &benchSubnet{h: h, x: 0x9e3779b97f4a7c15}
	s.untilEpoch = func() {
		if dtaoOn {
			h.untilDTAOEpoch()
		} else {
			h.untilEpoch(4)
		}
	}
	h.must(owner, h.msg(subnets.NewCreate(testutil.Pair(b, "//Alice//hot").Public(), "")))
	for _, p := range []struct {
		name  string
		value uint64
	}{
		{"tempo", 65535}, {"max_uids", n}, {"max_validators", validators}, {"weights_rate_limit", 0},
		{"target_regs_per_interval", 4096}, {"min_burn", 0}, {"max_burn", 0}, {"max_weight_limit", 65535},
		{"immunity_period", 0},
	} {
		h.must(owner, h.msg(subnets.NewSetHyperparam(1, p.name, p.value)))
	}
	s.hot = make([]*keys.Pair, n) // uid 0 is the owner's hotkey
	for i := 1; i < n; i++ {
		seed := sha256.Sum256(fmt.Appendf(nil, "bench hotkey %d", i))
		p, err := keys.FromSeed(seed[:])
		if err != nil {
			b.Fatal(err)
		}
		s.hot[i] = p
	}
	// Registrations, then stake and fee money for the validators (uids 1..256).
	for lo := 1; lo < n; lo += 512 {
		s.block(b, func(add func(*keys.Pair, tx.Msg)) {
			for i := lo; i < min(lo+512, n); i++ {
				add(owner, h.msg(subnets.NewRegister(1, s.hot[i].Public(), 0)))
			}
		})
	}
	s.block(b, func(add func(*keys.Pair, tx.Msg)) {
		for i := 1; i <= validators; i++ {
			add(owner, h.msg(stake.NewAdd(s.hot[i].Public(), uint64(1000+i)*accounts.UnitsPerToken)))
			if dtaoOn {
				add(owner, h.msg(stake.NewAddOn(1, s.hot[i].Public(), uint64(10+i)*accounts.UnitsPerToken, 0, false)))
			}
			add(owner, h.msg(accounts.NewTransfer(s.hot[i].Public(), 1000*accounts.UnitsPerToken)))
		}
	})
	// An epoch hands the validators their permits.
	h.must(owner, h.msg(subnets.NewSetHyperparam(1, "tempo", 4)))
	s.untilEpoch()
	h.block()
	return s
}

// block runs a block of the transactions msgs adds, each of which must succeed.
func (s *benchSubnet) block(b *testing.B, msgs func(add func(from *keys.Pair, m tx.Msg))) {
	for i, r := range s.h.block(s.txs(msgs)...).TxResults {
		if r.Code != 0 {
			b.Fatalf("transaction %d: %s", i, r.Log)
		}
	}
}

// txs signs the transactions msgs adds.
func (s *benchSubnet) txs(msgs func(add func(from *keys.Pair, m tx.Msg))) [][]byte {
	var txs [][]byte
	msgs(func(from *keys.Pair, m tx.Msg) { txs = append(txs, s.h.sign(from, m)) })
	return txs
}

// weights signs a set_weights of every validator over every miner, pseudo-random values.
func (s *benchSubnet) weights() [][]byte {
	return s.txs(func(add func(*keys.Pair, tx.Msg)) {
		for i := 1; i <= benchValidators; i++ {
			uids := make([]uint16, 0, benchN-benchValidators-1)
			vals := make([]uint16, 0, benchN-benchValidators-1)
			for j := benchValidators + 1; j < benchN; j++ {
				s.x ^= s.x << 13
				s.x ^= s.x >> 7
				s.x ^= s.x << 17
				uids = append(uids, uint16(j))
				vals = append(vals, uint16(s.x))
			}
			add(s.hot[i], s.h.msg(subnets.NewSetWeights(1, uids, vals, 0)))
		}
	})
}

func benchChainEpoch(b *testing.B, dtaoOn bool) {
	s := newBenchSubnet(b, dtaoOn)
	h := s.h
	for i, r := range h.block(s.weights()...).TxResults {
		if r.Code != 0 {
			b.Fatalf("set_weights %d: %s", i, r.Log)
		}
	}
	s.untilEpoch()
	h.block() // the first epoch with weights: bonds from here on

	b.ResetTimer()
	var cpu time.Duration // of the timed blocks only
	defer func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
		}
	}()
	for b.Loop() {
		b.StopTimer()
		s.untilEpoch()
		b.StartTimer()
		c0 := processCPU()
		r := h.block()
		cpu += processCPU() - c0
		b.StopTimer()
		saw := false
		for _, e := range r.Events {
			saw = saw || e.Type == "epoch"
		}
		if !saw {
			b.Fatal("no epoch in the timed block")
		}
		b.StartTimer()
	}
}

// BenchmarkSetWeightsBlock4096x256DTAO times a block of 256 set_weights, each validator
// weighting all 3,840 miners of the 4096-uid subnet, through the application
// (FinalizeBlock and Commit): per transaction, the checks of the row, its write and the
// validator's record (its last update, in the record's page) rewritten. No epoch runs in
// these blocks (the tempo is set past them); the signing is not timed. ns/tx is per
// set_weights.
func BenchmarkSetWeightsBlock4096x256DTAO(b *testing.B) {
	s := newBenchSubnet(b, true)
	h := s.h
	owner := testutil.Pair(b, "//Alice")
	h.must(owner, h.msg(subnets.NewSetHyperparam(1, "tempo", 65535)))
	var cpu time.Duration
	defer func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(b.Elapsed())/float64(b.N*benchValidators), "ns/tx")
		}
	}()
	for b.Loop() {
		b.StopTimer()
		txs := s.weights()
		b.StartTimer()
		c0 := processCPU()
		r := h.block(txs...)
		cpu += processCPU() - c0
		b.StopTimer()
		for i, res := range r.TxResults {
			if res.Code != 0 {
				b.Fatalf("set_weights %d: %s", i, res.Log)
			}
		}
		b.StartTimer()
	}
}
