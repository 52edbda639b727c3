package yuma

// Transcriptions of the epoch tests of opentensor/subtensor,
// pallets/subtensor/src/tests/epoch.rs (commit 14bc6f9f). Each test replays the test's
// sequence of registrations, stake, weights, blocks and epochs on the testNet miniature
// and asserts the same numbers. Where the Rust test runs only the sparse epoch, both the
// sparse and the dense epoch are run here: subtensor's tests were written for both.

import (
	"fmt"
	"math"
	"testing"
)

func bothModes(t *testing.T, f func(t *testing.T, sparse bool)) {
	for _, sparse := range []bool{true, false} {
		name := "dense"
		if sparse {
			name = "sparse"
		}
		t.Run(name, func(t *testing.T) { f(t, sparse) })
	}
}

func eqU16(t *testing.T, what string, got, want uint16) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %d, want %d", what, got, want)
	}
}

func eqU64(t *testing.T, what string, got, want uint64) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %d, want %d", what, got, want)
	}
}

// test_1_graph: one neuron with a self-weight gets no consensus, incentive or dividends.
func TestSubtensorEpoch1Graph(t *testing.T) {
	bothModes(t, func(t *testing.T, sparse bool) {
		tn := newTestNet(t, 1, math.MaxUint16-1)
		tn.register(1_000_000_000)
		tn.runToBlock(1)
		tn.nextBlock() // register_ok_neuron happens at block 1, weights after it
		tn.setWeights(0, []uint16{0}, []uint16{math.MaxUint16})
		r := tn.epoch(sparse)
		eqU16(t, "consensus[0]", r.Consensus[0], 0)
		eqU16(t, "incentive[0]", r.Incentive[0], 0)
		eqU16(t, "dividends[0]", r.Dividends[0], 0)
	})
}

// test_10_graph: ten neurons with stake 1 and self-weights each get a tenth of the emission.
func TestSubtensorEpoch10Graph(t *testing.T) {
	bothModes(t, func(t *testing.T, sparse bool) {
		tn := newTestNet(t, 1, math.MaxUint16-1)
		for range 10 {
			tn.register(1)
		}
		// append_neuron in the test is called with block 0.
		for i := range 10 {
			tn.s.BlockAtRegistration[i] = 0
			tn.s.LastUpdate[i] = 0
		}
		for i := range uint16(10) {
			tn.setWeights(i, []uint16{i}, []uint16{math.MaxUint16})
		}
		r := tn.epoch(sparse)
		for i := range 10 {
			eqU16(t, fmt.Sprintf("consensus[%d]", i), r.Consensus[i], 0)
			eqU16(t, fmt.Sprintf("incentive[%d]", i), r.Incentive[i], 0)
			eqU16(t, fmt.Sprintf("dividends[%d]", i), r.Dividends[i], 0)
			eqU64(t, fmt.Sprintf("emission[%d]", i), r.Emission[i], 99_999_999)
		}
	})
}

// distributeNodes is the test's distribute_nodes for interleave 0 (blockwise) and 1
// (regular); interleave 2 (random) is a random permutation and needs no separate case.
func distributeNodes(validatorsN, networkN, interleave int) (validators, servers []uint16) {
	for i := 0; i < networkN; i++ {
		isVal := i < validatorsN
		if interleave == 1 {
			isVal = i%(networkN/validatorsN) == 0
		}
		if isVal {
			validators = append(validators, uint16(i))
		} else {
			servers = append(servers, uint16(i))
		}
	}
	return
}

// initRunEpochs is the test's init_run_epochs for the non-random, non-input cases.
func initRunEpochs(t *testing.T, n int, validators, servers []uint16, epochs int, stakePerValidator uint64, serverSelf, sparse bool, bondsPenalty uint16) (*testNet, *EpochResult) {
	tn := newTestNet(t, 1, math.MaxUint16-1)
	tn.s.BondsPenalty = bondsPenalty
	isVal := make(map[uint16]bool)
	for _, v := range validators {
		isVal[v] = true
	}
	for key := range n {
		stake := uint64(0)
		if isVal[uint16(key)] {
			stake = stakePerValidator
		}
		tn.register(stake)
		tn.s.BlockAtRegistration[key] = 0 // append_neuron(netuid, hotkey, 0)
		tn.s.LastUpdate[key] = 0
	}
	tn.s.MaxAllowedValidators = uint16(len(validators))
	tn.epoch(true)
	tn.runToBlock(1)
	w := make([]uint16, len(servers))
	for k := range w {
		w[k] = math.MaxUint16 / uint16(n)
	}
	for _, v := range validators {
		tn.setWeights(v, servers, w)
	}
	if serverSelf {
		for _, s := range servers {
			tn.setWeights(s, []uint16{s}, []uint16{math.MaxUint16})
		}
	}
	var r *EpochResult
	for range epochs {
		r = tn.epoch(sparse)
	}
	return tn, r
}

// test_512_graph: 64 validators with equal stake weight 448 servers equally.
func TestSubtensorEpoch512Graph(t *testing.T) {
	if testing.Short() {
		t.Skip("512-uid graph in -short mode")
	}
	const networkN, validatorsN = 512, 64
	for _, interleave := range []int{0, 1} {
		for _, serverSelf := range []bool{false, true} {
			for _, sparse := range []bool{true, false} {
				t.Run(fmt.Sprintf("interleave=%d/self=%v/sparse=%v", interleave, serverSelf, sparse), func(t *testing.T) {
					validators, servers := distributeNodes(validatorsN, networkN, interleave)
					tn, r := initRunEpochs(t, networkN, validators, servers, 3, 328_125_000_000_000, serverSelf, sparse, math.MaxUint16)
					bonds := tn.bondsDense()
					server, validator := servers[0], validators[0]
					for _, uid := range validators {
						eqU16(t, "consensus", r.Consensus[uid], 0)
						eqU16(t, "incentive", r.Incentive[uid], 0)
						eqU16(t, "dividends", r.Dividends[uid], 1023)
						eqU64(t, "emission", r.Emission[uid], 7_812_500)
						eqU16(t, "bond on validator", bonds[uid][validator], 0)
						eqU16(t, "bond on server", bonds[uid][server], 65_535)
					}
					for _, uid := range servers {
						eqU16(t, "consensus", r.Consensus[uid], 146)
						eqU16(t, "incentive", r.Incentive[uid], 146)
						eqU16(t, "dividends", r.Dividends[uid], 0)
						eqU64(t, "emission", r.Emission[uid], 1_116_071)
						eqU16(t, "bond on validator", bonds[uid][validator], 0)
						eqU16(t, "bond on server", bonds[uid][server], 0)
					}
				})
			}
		}
	}
}

// test_bonds: original Yuma bonds over eight epochs as validators move to self-weights and
// one miner.
func TestSubtensorEpochBonds(t *testing.T) {
	bothModes(t, func(t *testing.T, sparse bool) {
		tn := newTestNet(t, 1, 1)
		for _, st := range []uint64{1, 2, 3, 4, 0, 0, 0, 0} {
			tn.register(st)
		}
		tn.s.MaxAllowedValidators = 8
		tn.epoch(sparse)
		tn.nextBlock()
		for uid := range uint16(4) {
			tn.setWeights(uid, []uint16{4, 5, 6, 7}, []uint16{math.MaxUint16 / 4, math.MaxUint16 / 2, (math.MaxUint16 / 4) * 3, math.MaxUint16})
		}
		check := func(col int, want [4]uint16) {
			t.Helper()
			b := tn.bondsDense()
			for i, w := range want {
				eqU16(t, fmt.Sprintf("block %d bonds[%d][%d]", tn.block, i, col), b[i][col], w)
			}
		}
		tn.epoch(sparse)
		check(4, [4]uint16{16383, 32767, 49151, 65535})

		tn.setWeights(0, []uint16{0}, []uint16{math.MaxUint16})
		tn.nextBlock()
		tn.epoch(sparse)
		check(4, [4]uint16{14582, 32767, 49151, 65535})

		tn.setWeights(1, []uint16{1}, []uint16{math.MaxUint16})
		tn.nextBlock()
		tn.epoch(sparse)
		check(4, [4]uint16{12603, 28321, 49151, 65535})

		tn.setWeights(2, []uint16{2}, []uint16{math.MaxUint16})
		tn.nextBlock()
		tn.epoch(sparse)
		check(7, [4]uint16{12602, 28320, 49150, 65535})

		tn.setWeights(2, []uint16{7}, []uint16{math.MaxUint16})
		tn.nextBlock()
		r := tn.epoch(sparse)
		check(7, [4]uint16{10951, 24609, 49150, 65535})
		// The run's log in the test: E: [36443733, 81898628, 163565493, 218092144, 0, 0, 0, 500000000]
		wantE := []uint64{36443733, 81898628, 163565493, 218092144, 0, 0, 0, 500000000}
		for i, w := range wantE {
			eqU64(t, fmt.Sprintf("emission[%d]", i), r.Emission[i], w)
		}

		tn.nextBlock()
		tn.epoch(sparse)
		check(7, [4]uint16{9559, 21482, 49150, 65535})

		tn.nextBlock()
		tn.epoch(sparse)
		check(7, [4]uint16{8376, 18824, 49150, 65535})
	})
}
