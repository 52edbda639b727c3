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

// test_active_stake: a validator whose weights are older than the activity cutoff loses its
// active stake, and with it its share of new bonds and dividends.
func TestSubtensorEpochActiveStake(t *testing.T) {
	bothModes(t, func(t *testing.T, sparse bool) {
		tn := newTestNet(t, 0, 1)
		const n = 4
		for range n {
			tn.register(1)
		}
		tn.s.MaxAllowedValidators = n
		tn.epoch(sparse)
		tn.nextBlock()
		half := []uint16{math.MaxUint16 / 2, math.MaxUint16 / 2}
		for uid := range uint16(n / 2) {
			tn.setWeights(uid, []uint16{2, 3}, half)
		}
		r := tn.epoch(sparse)
		b := tn.bondsDense()
		for uid := range n {
			if uid < n/2 {
				eqU16(t, fmt.Sprintf("dividends[%d]", uid), r.Dividends[uid], 32767)
				for j := range n {
					want := uint16(0)
					if j >= n/2 {
						want = 65_535
					}
					eqU16(t, fmt.Sprintf("bonds[%d][%d]", uid, j), b[uid][j], want)
				}
			}
			eqU64(t, fmt.Sprintf("emission[%d]", uid), r.Emission[uid], 250_000_000)
		}

		// The legacy ActivityCutoff (5000) is what the test reads to pick the block; the
		// epoch itself uses max(1, 13889*tempo/1000) = 13 blocks.
		tn.runToBlock(5000 + 2)
		tn.setWeights(0, []uint16{2, 3}, half)
		r = tn.epoch(sparse)
		b = tn.bondsDense()
		eqU16(t, "dividends[0]", r.Dividends[0], 36044)
		eqU64(t, "emission[0]", r.Emission[0], 274_999_999)
		eqU16(t, "dividends[1]", r.Dividends[1], 29490)
		eqU64(t, "emission[1]", r.Emission[1], 224_999_999)
		for s := n / 2; s < n; s++ {
			eqU16(t, fmt.Sprintf("bonds[0][%d]", s), b[0][s], 65_535)
			eqU16(t, fmt.Sprintf("bonds[1][%d]", s), b[1][s], 53_619)
		}

		tn.setWeights(1, []uint16{2, 3}, half)
		tn.runToBlock(5000 + 3)
		r = tn.epoch(sparse)
		b = tn.bondsDense()
		eqU16(t, "dividends[0]", r.Dividends[0], 35716)
		eqU64(t, "emission[0]", r.Emission[0], 272_501_132)
		eqU16(t, "dividends[1]", r.Dividends[1], 29818)
		eqU64(t, "emission[1]", r.Emission[1], 227_498_866)
		for s := n / 2; s < n; s++ {
			eqU16(t, fmt.Sprintf("bonds[0][%d]", s), b[0][s], 65_535)
			eqU16(t, fmt.Sprintf("bonds[1][%d]", s), b[1][s], 54_712)
		}
	})
}

// test_outdated_weights: weights set before a uid was re-registered are masked.
func TestSubtensorEpochOutdatedWeights(t *testing.T) {
	bothModes(t, func(t *testing.T, sparse bool) {
		tn := newTestNet(t, 1, 0)
		const n = 4
		for range n {
			tn.register(1)
		}
		tn.s.MaxAllowedValidators = n
		tn.epoch(sparse)
		tn.nextBlock()
		w := []uint16{2 * (math.MaxUint16 / 3), math.MaxUint16 / 3}
		for uid := range uint16(n / 2) {
			tn.setWeights(uid, []uint16{2, 3}, w)
		}
		for uid := uint16(n / 2); uid < n; uid++ {
			tn.setWeights(uid, []uint16{uid}, []uint16{math.MaxUint16})
		}
		tn.epoch(sparse)
		// A new key registers over uid 3 (the least incentive) in the same block.
		tn.replace(n-1, 0)
		tn.nextBlock()
		tn.setWeights(0, []uint16{2, 3}, w)
		r := tn.epoch(sparse)
		b := tn.bondsDense()
		eqU16(t, "dividends[0]", r.Dividends[0], 32767)
		eqU64(t, "emission[0]", r.Emission[0], 250_000_000)
		eqU16(t, "bonds[0][2]", b[0][2], 65_535)
		eqU16(t, "bonds[0][3]", b[0][3], 65_535)
	})
}

// test_zero_weights: with no usable weights the emission goes to validators by stake.
func TestSubtensorEpochZeroWeights(t *testing.T) {
	bothModes(t, func(t *testing.T, sparse bool) {
		tn := newTestNet(t, 1, math.MaxUint16-1)
		const n = 2
		for range n {
			tn.register(0)
		}
		tn.s.Stake[0] = 1
		wantE := func(want ...uint64) {
			t.Helper()
			r := tn.epoch(sparse)
			for i, w := range want {
				eqU64(t, fmt.Sprintf("block %d emission[%d]", tn.block, i), r.Emission[i], w)
			}
		}
		wantE(1_000_000_000, 0)
		tn.runToBlock(1)
		tn.setWeights(1, []uint16{1}, []uint16{math.MaxUint16}) // server self-weight
		wantE(1_000_000_000, 0)
		tn.runToBlock(2)
		tn.setWeights(0, []uint16{1}, []uint16{math.MaxUint16 / (n / 2)})
		tn.replace(1, 0) // a new key registers over the server
		wantE(1_000_000_000, 0)
		tn.runToBlock(3)
		tn.setWeights(0, []uint16{1}, []uint16{math.MaxUint16 / (n / 2)})
		wantE(1_000_000_000/n, 1_000_000_000/n)
	})
}

// test_deregistered_miner_bonds: bonds to a re-registered uid are masked for the epoch after
// its registration, so they cannot grow.
func TestSubtensorEpochDeregisteredMinerBonds(t *testing.T) {
	bothModes(t, func(t *testing.T, sparse bool) {
		const high = math.MaxUint16 - 1
		tn := newTestNet(t, 1, high)
		const n = 4
		for range n {
			tn.register(1)
		}
		tn.s.MaxAllowedValidators = n
		tn.epoch(sparse)
		tn.nextBlock()
		w := []uint16{2 * (math.MaxUint16 / 3), math.MaxUint16 / 3}
		for uid := range uint16(n / 2) {
			tn.setWeights(uid, []uint16{2, 3}, w)
		}
		tn.nextBlock()
		tn.nextBlock()
		tn.s.Tempo = 2
		tn.epoch(sparse)
		b := tn.bondsDense()
		b02, b03 := b[0][2], b[0][3]
		if b02 == 0 || b03 == 0 {
			t.Fatalf("bonds[0][2], bonds[0][3] = %d, %d; want both > 0", b02, b03)
		}
		tn.s.Tempo = high
		tn.nextBlock()
		tn.replace(n-1, 0)
		for uid := range uint16(n / 2) {
			tn.setWeights(uid, []uint16{2, 3}, w)
		}
		tn.nextBlock()
		tn.s.Tempo = 2
		tn.epoch(sparse)
		b = tn.bondsDense()
		if b[0][2] < b02 {
			t.Errorf("bonds[0][2] = %d, want >= %d", b[0][2], b02)
		}
		if b[0][3] > b03 {
			t.Errorf("bonds[0][3] = %d, want <= %d", b[0][3], b03)
		}
	})
}

// test_validator_permits: permits go to the top-k stakes at or above the stake threshold,
// and follow stake when it changes.
func TestSubtensorEpochValidatorPermits(t *testing.T) {
	for _, interleave := range []int{0, 1} {
		for _, nv := range [][2]int{{2, 1}, {4, 2}, {8, 4}} {
			networkN, validatorsN := nv[0], nv[1]
			minStake := uint64(validatorsN)
			for assignment := range 2 {
				for _, sparse := range []bool{true, false} {
					name := fmt.Sprintf("interleave=%d/n=%d/v=%d/assign=%d/sparse=%v", interleave, networkN, validatorsN, assignment, sparse)
					t.Run(name, func(t *testing.T) {
						validators, servers := distributeNodes(validatorsN, networkN, interleave)
						stake := make([]uint64, networkN)
						for _, v := range validators {
							stake[v] = 1
							if assignment == 1 {
								stake[v] = uint64(v) + uint64(networkN)
							}
						}
						for _, s := range servers {
							if assignment == 1 {
								stake[s] = uint64(s)
							}
						}
						tn := newTestNet(t, 1, math.MaxUint16-1)
						tn.s.Yuma3 = true // add_network: init_new_network defaults
						tn.s.CommitRevealEnabled = true
						tn.s.StakeThreshold = minStake
						for _, st := range stake {
							tn.register(st)
						}
						tn.s.MaxAllowedValidators = uint16(validatorsN)
						r := tn.epoch(sparse)
						for _, v := range validators {
							if got, want := r.NewValidatorPermit[v], stake[v] >= minStake; got != want {
								t.Errorf("epoch 1: permit[%d] = %v, want %v", v, got, want)
							}
						}
						for _, s := range servers {
							if r.NewValidatorPermit[s] {
								t.Errorf("epoch 1: permit[%d] = true, want false", s)
							}
						}
						for _, s := range servers {
							tn.s.Stake[s] += 2 * uint64(networkN)
						}
						tn.runToBlock(1)
						r = tn.epoch(sparse)
						for _, v := range validators {
							if r.NewValidatorPermit[v] {
								t.Errorf("epoch 2: permit[%d] = true, want false", v)
							}
						}
						for _, s := range servers {
							if got, want := r.NewValidatorPermit[s], stake[s]+2*uint64(networkN) >= minStake; got != want {
								t.Errorf("epoch 2: permit[%d] = %v, want %v", s, got, want)
							}
						}
					})
				}
			}
		}
	}
}

// test_epoch_outputs_single_staker_registered_no_weights: a lone staker with no weights
// still receives (almost) the whole emission.
func TestSubtensorEpochSingleStakerNoWeights(t *testing.T) {
	bothModes(t, func(t *testing.T, sparse bool) {
		tn := newTestNet(t, 1, math.MaxUint16-1)
		tn.s.Yuma3 = true
		tn.register(1)
		r := tn.epoch(sparse)
		total := r.ServerEmission[0] + r.ValidatorEmission[0]
		if total+1000 < 1_000_000_000 || total > 1_000_000_000+1000 {
			t.Errorf("server + validator emission = %d, want 1e9 ± 1000", total)
		}
	})
}

// test_can_set_self_weight_as_subnet_owner: the owner's self-weight survives the diagonal
// mask (sparse epoch), so owner and miner split the incentive equally.
func TestSubtensorEpochOwnerSelfWeight(t *testing.T) {
	tn := newTestNet(t, 1, 360)
	tn.s.Yuma3 = true
	tn.s.CommitRevealEnabled = true
	tn.register(5_000_000_000_000) // the owner's hotkey (add_dynamic_network)
	tn.register(0)
	tn.s.HasOwner, tn.s.OwnerUID = true, 0
	tn.s.ValidatorPermit = []bool{true, false}
	tn.s.Weights[0] = []Entry{{0, math.MaxUint16 / 2}, {1, math.MaxUint16 / 2}}
	tn.runToBlock(2)
	tn.s.LastUpdate = []uint64{2, 0}
	s := tn.s
	s.CurrentBlock = tn.block
	s.ActivityCutoff = ActivityCutoffBlocks(tn.cutoffFactor, s.Tempo)
	s.RaoEmission = 1_000_000_000
	r, err := Epoch(&s)
	if err != nil {
		t.Fatal(err)
	}
	if r.ServerEmission[0] == 0 || r.ServerEmission[1] == 0 || r.ServerEmission[0] != r.ServerEmission[1] {
		t.Errorf("server emission = %v, want two equal non-zero shares", r.ServerEmission)
	}
}

// test_epoch_masks_incoming_to_sniped_uid_prevents_inheritance and
// test_epoch_does_not_mask_outside_window_but_masks_inside: with commit-reveal on, weights
// to uids registered after the validator's earliest live commit are masked. The tests'
// block arithmetic (commit, register, vote) is reproduced as the epoch sees it.
func TestSubtensorEpochCommitRevealMask(t *testing.T) {
	t.Run("sniped uid", func(t *testing.T) {
		// Validator 0, miner 1, filler 2 registered at block 1; validator committed at
		// block 22; uid 1 re-registered (sniped) at block 23; vote at block 24 for 0 and 1.
		s := EpochState{
			N: 3, CurrentBlock: 24, Tempo: 10, ActivityCutoff: ActivityCutoffBlocks(DefaultActivityCutoffFactorMilli, 10),
			LastUpdate:           []uint64{24, 23, 1},
			BlockAtRegistration:  []uint64{1, 23, 1},
			Stake:                []uint64{10_000, 10_000, 5_000},
			ValidatorPermit:      []bool{true, false, false},
			MaxAllowedValidators: 3,
			Weights:              [][]Entry{{{0, 32768}, {1, 65535}}, nil, nil},
			Bonds:                make([][]Entry, 3),
			Kappa:                32767, BondsPenalty: 65535, BondsMovingAverage: 900_000, Yuma3: true,
			AlphaLow: 45875, AlphaHigh: 58982, AlphaSigmoidSteepness: 1000,
			CommitRevealEnabled: true,
			CommitBlocks:        []uint64{22, NoCommit, NoCommit},
			RaoEmission:         1_000,
		}
		r, err := Epoch(&s)
		if err != nil {
			t.Fatal(err)
		}
		eqU16(t, "incentive[1]", r.Incentive[1], 0)
		s.CommitRevealEnabled = false
		r, _ = Epoch(&s)
		if r.Incentive[1] == 0 {
			t.Errorf("without commit-reveal incentive[1] = 0, want > 0")
		}
	})
	t.Run("window", func(t *testing.T) {
		// uid 1 registered before the live commit (block 33), uids 2 and 3 after it.
		s := EpochState{
			N: 4, CurrentBlock: 36, Tempo: 8, ActivityCutoff: ActivityCutoffBlocks(DefaultActivityCutoffFactorMilli, 8),
			LastUpdate:           []uint64{36, 9, 34, 34},
			BlockAtRegistration:  []uint64{1, 9, 34, 34},
			Stake:                []uint64{10_000, 1_000, 1_000, 1_000},
			ValidatorPermit:      []bool{true, false, false, false},
			MaxAllowedValidators: 1,
			Weights:              [][]Entry{{{1, 65535}, {2, 65535}, {3, 65535}}, nil, nil, nil},
			Bonds:                make([][]Entry, 4),
			Kappa:                32767, BondsPenalty: 65535, BondsMovingAverage: 900_000, Yuma3: true,
			AlphaLow: 45875, AlphaHigh: 58982, AlphaSigmoidSteepness: 1000,
			CommitRevealEnabled: true,
			CommitBlocks:        []uint64{33, NoCommit, NoCommit, NoCommit},
			RaoEmission:         1_000,
		}
		r, err := Epoch(&s)
		if err != nil {
			t.Fatal(err)
		}
		if r.Incentive[1] == 0 {
			t.Errorf("incentive[1] = 0, want > 0 (registered outside the window)")
		}
		eqU16(t, "incentive[2]", r.Incentive[2], 0)
		eqU16(t, "incentive[3]", r.Incentive[3], 0)
	})
}

// yuma3Scenario is the tests' setup_yuma_3_scenario: tempo 1, bonds penalty 0, steepness
// 1000, bonds moving average 975_000, kappa 32767, liquid alpha (0.1, 0.3), Yuma3, three
// validator permits; the first epoch runs one block after registration.
func yuma3Scenario(t *testing.T, stakes []uint64, sparse bool) *testNet {
	tn := newTestNet(t, 1, 1)
	for _, st := range stakes {
		tn.register(st)
	}
	tn.s.BondsPenalty = 0
	tn.s.AlphaSigmoidSteepness = 1000
	tn.s.BondsMovingAverage = 975_000
	tn.s.Kappa = math.MaxUint16 / 2
	tn.s.LiquidAlpha = true
	// set_alpha_values_32(0.1, 0.3): floor(from_num(x) * 65535).
	tn.s.AlphaLow = fixedF64(0.1).SatMul(FixedFromU16(math.MaxUint16)).ToU16()
	tn.s.AlphaHigh = fixedF64(0.3).SatMul(FixedFromU16(math.MaxUint16)).ToU16()
	tn.s.Yuma3 = true
	tn.s.MaxAllowedValidators = 3
	tn.nextBlock()
	tn.epoch(sparse)
	return tn
}

func setYuma3Weights(tn *testNet, weights [][]uint16, indices []uint16) {
	for uid, w := range weights {
		tn.setWeights(uint16(uid), indices, w)
	}
}

// checkYuma3 is run_epoch_and_check_bonds_dividends: dividends (u16/65535) within 1e-3 of
// the targets. The Rust test never compares bonds (it skips three entries of two-entry
// rows); here the stored bonds at the target columns are compared too, within 1e-3.
func checkYuma3(t *testing.T, tn *testNet, sparse bool, bondCols []int, targetBonds [][]float32, targetDiv []float32) {
	t.Helper()
	tn.nextBlock()
	r := tn.epoch(sparse)
	eps := fixedF64(1e-3)
	abs := func(x Fixed) Fixed {
		if x < 0 {
			return -x
		}
		return x
	}
	for i, want := range targetDiv {
		if d := abs(U16Proportion(r.Dividends[i]) - fixedF32(want)); d > eps {
			t.Errorf("block %d: dividends[%d] = %.4f, want %.4f", tn.block, i, U16Proportion(r.Dividends[i]).Float64(), want)
		}
	}
	b := tn.bondsDense()
	for i, row := range targetBonds {
		for k, want := range row {
			if k >= len(bondCols) {
				break
			}
			got := U16Proportion(b[i][bondCols[k]])
			if d := abs(got - fixedF32(want)); d > eps {
				t.Errorf("block %d: bonds[%d][%d] = %.4f, want %.4f", tn.block, i, bondCols[k], got.Float64(), want)
			}
		}
	}
}

type yuma3Case struct {
	name     string
	stakes   []uint64
	liquid   bool
	indices  []uint16
	weights  func(epoch int) [][]uint16 // nil: keep the previous weights
	bonds    [][][]float32
	divs     [][]float32
	bondCols []int // columns of the bond targets (nil: not compared)
}

func TestSubtensorYuma3(t *testing.T) {
	const M = math.MaxUint16
	const H = math.MaxUint16 / 2
	same := func(w []uint16) [][]uint16 { return [][]uint16{w, w, w} }
	cases := []yuma3Case{
		{
			name: "kappa_moves_first", stakes: []uint64{8, 1, 1, 0, 0}, liquid: true, indices: []uint16{3, 4}, bondCols: []int{3, 4},
			weights: func(e int) [][]uint16 {
				switch e {
				case 0:
					return same([]uint16{M, 0})
				case 1:
					return [][]uint16{{0, M}, {M, 0}, {M, 0}}
				case 2:
					return [][]uint16{{0, M}, {0, M}, {M, 0}}
				case 3:
					return same([]uint16{0, M})
				}
				return nil
			},
			bonds: [][][]float32{
				{{0.1013, 0.0000}, {0.1013, 0.0000}, {0.1013, 0.0000}},
				{{0.0908, 0.1013}, {0.3697, 0.0000}, {0.3697, 0.0000}},
				{{0.0815, 0.1924}, {0.3170, 0.1013}, {0.5580, 0.0000}},
				{{0.0731, 0.2742}, {0.2765, 0.1924}, {0.4306, 0.1013}},
				{{0.0656, 0.3478}, {0.2435, 0.2742}, {0.3589, 0.1924}},
				{{0.0588, 0.4139}, {0.2157, 0.3478}, {0.3089, 0.2742}},
			},
			divs: [][]float32{
				{0.8000, 0.1000, 0.1000, 0, 0},
				{1.0000, 0.0000, 0.0000, 0, 0},
				{0.9382, 0.0618, 0.0000, 0, 0},
				{0.8819, 0.0773, 0.0407, 0, 0},
				{0.8564, 0.0844, 0.0592, 0, 0},
				{0.8418, 0.0884, 0.0697, 0, 0},
			},
		},
		{
			name: "kappa_moves_second", stakes: []uint64{8, 1, 1, 0, 0}, liquid: true, indices: []uint16{3, 4}, bondCols: []int{3, 4},
			weights: func(e int) [][]uint16 {
				switch e {
				case 0:
					return same([]uint16{M, 0})
				case 1:
					return [][]uint16{{M, 0}, {0, M}, {M, 0}}
				case 2:
					return [][]uint16{{0, M}, {0, M}, {M, 0}}
				case 3:
					return same([]uint16{0, M})
				}
				return nil
			},
			bonds: [][][]float32{
				{{0.1013, 0.0000}, {0.1013, 0.0000}, {0.1013, 0.0000}},
				{{0.1924, 0.0000}, {0.0908, 0.2987}, {0.1924, 0.0000}},
				{{0.1715, 0.1013}, {0.0815, 0.3697}, {0.4336, 0.0000}},
				{{0.1531, 0.1924}, {0.0731, 0.4336}, {0.3608, 0.1013}},
				{{0.1369, 0.2742}, {0.0656, 0.4910}, {0.3103, 0.1924}},
				{{0.1225, 0.3478}, {0.0588, 0.5426}, {0.2712, 0.2742}},
			},
			divs: [][]float32{
				{0.8000, 0.1000, 0.1000, 0, 0},
				{0.8446, 0.0498, 0.1056, 0, 0},
				{0.6868, 0.3132, 0.0000, 0, 0},
				{0.7421, 0.2090, 0.0489, 0, 0},
				{0.7625, 0.1706, 0.0669, 0, 0},
				{0.7730, 0.1508, 0.0762, 0, 0},
			},
		},
		{
			name: "kappa_moves_last", stakes: []uint64{8, 1, 1, 0, 0}, liquid: true, indices: []uint16{3, 4}, bondCols: []int{3, 4},
			weights: func(e int) [][]uint16 {
				switch e {
				case 0:
					return same([]uint16{M, 0})
				case 1:
					return [][]uint16{{M, 0}, {0, M}, {M, 0}}
				case 2:
					return [][]uint16{{M, 0}, {0, M}, {0, M}}
				case 3:
					return same([]uint16{0, M})
				}
				return nil
			},
			bonds: [][][]float32{
				{{0.1013, 0.0000}, {0.1013, 0.0000}, {0.1013, 0.0000}},
				{{0.1924, 0.0000}, {0.0908, 0.2987}, {0.1924, 0.0000}},
				{{0.2742, 0.0000}, {0.0815, 0.5081}, {0.1715, 0.2987}},
				{{0.2416, 0.1013}, {0.0731, 0.5580}, {0.1531, 0.3697}},
				{{0.2141, 0.1924}, {0.0656, 0.6028}, {0.1369, 0.4336}},
				{{0.1903, 0.2742}, {0.0588, 0.6430}, {0.1225, 0.4910}},
			},
			divs: [][]float32{
				{0.8000, 0.1000, 0.1000, 0, 0},
				{0.8446, 0.0498, 0.1056, 0, 0},
				{0.8966, 0.0333, 0.0701, 0, 0},
				{0.4663, 0.3210, 0.2127, 0, 0},
				{0.5976, 0.2340, 0.1683, 0, 0},
				{0.6592, 0.1932, 0.1475, 0, 0},
			},
		},
		{
			name: "one_epoch_switch", stakes: []uint64{33, 33, 34, 0, 0}, liquid: true, indices: []uint16{3, 4}, bondCols: []int{3, 4},
			weights: func(e int) [][]uint16 {
				if e == 2 {
					return [][]uint16{{M, 0}, {M, 0}, {0, M}}
				}
				return same([]uint16{M, 0})
			},
			bonds: [][][]float32{
				{{0.1013, 0.0000}, {0.1013, 0.0000}, {0.1013, 0.0000}},
				{{0.1924, 0.0000}, {0.1924, 0.0000}, {0.1924, 0.0000}},
				{{0.2742, 0.0000}, {0.2742, 0.0000}, {0.1715, 0.2987}},
				{{0.3478, 0.0000}, {0.3478, 0.0000}, {0.2554, 0.2618}},
				{{0.4139, 0.0000}, {0.4139, 0.0000}, {0.3309, 0.2312}},
				{{0.4733, 0.0000}, {0.4733, 0.0000}, {0.3987, 0.2051}},
			},
			divs: [][]float32{
				{0.3300, 0.3300, 0.3400, 0, 0},
				{0.3300, 0.3300, 0.3400, 0, 0},
				{0.3782, 0.3782, 0.2436, 0, 0},
				{0.3628, 0.3628, 0.2745, 0, 0},
				{0.3541, 0.3541, 0.2917, 0, 0},
				{0.3487, 0.3487, 0.3026, 0, 0},
			},
		},
		{
			// The bond targets of this test have three entries per row and are not
			// comparable to columns; the Rust test skips them all. Only dividends.
			name: "liquid_alpha_disabled", stakes: []uint64{33, 33, 34, 0, 0}, liquid: false, indices: []uint16{3, 4},
			weights: func(e int) [][]uint16 {
				if e == 2 {
					return [][]uint16{{M, 0}, {M, 0}, {0, M}}
				}
				return same([]uint16{M, 0})
			},
			bonds: make([][][]float32, 6),
			divs: [][]float32{
				{0.3300, 0.3300, 0.3400, 0, 0},
				{0.3300, 0.3300, 0.3400, 0, 0},
				{0.3734, 0.3734, 0.2532, 0, 0},
				{0.3611, 0.3611, 0.2779, 0, 0},
				{0.3541, 0.3541, 0.2919, 0, 0},
				{0.3495, 0.3495, 0.3009, 0, 0},
			},
		},
		{
			name: "stable_miner", stakes: []uint64{8, 1, 1, 0, 0, 0}, liquid: true, indices: []uint16{3, 4, 5}, bondCols: []int{3, 4, 5},
			weights: func(e int) [][]uint16 {
				switch e {
				case 0:
					return same([]uint16{H, 0, H})
				case 1:
					return [][]uint16{{H, 0, H}, {0, H, H}, {H, 0, H}}
				case 2:
					return [][]uint16{{0, H, H}, {0, H, H}, {H, 0, H}}
				case 3:
					return same([]uint16{0, H, H})
				}
				return nil
			},
			bonds: [][][]float32{
				{{0.0507, 0.0000, 0.0507}, {0.0507, 0.0000, 0.0507}, {0.0507, 0.0000, 0.0507}},
				{{0.0962, 0.0000, 0.0962}, {0.0455, 0.1000, 0.0962}, {0.0962, 0.0000, 0.0962}},
				{{0.0863, 0.0507, 0.1371}, {0.0408, 0.1405, 0.1371}, {0.1770, 0.0000, 0.1371}},
				{{0.0774, 0.0962, 0.1739}, {0.0367, 0.1770, 0.1739}, {0.1579, 0.0507, 0.1739}},
				{{0.0694, 0.1371, 0.2069}, {0.0329, 0.2097, 0.2069}, {0.1411, 0.0962, 0.2069}},
				{{0.0623, 0.1739, 0.2366}, {0.0296, 0.2391, 0.2366}, {0.1263, 0.1371, 0.2366}},
			},
			divs: [][]float32{
				{0.8000, 0.1000, 0.1000, 0, 0, 0},
				{0.8226, 0.0745, 0.1028, 0, 0, 0},
				{0.7750, 0.1685, 0.0565, 0, 0, 0},
				{0.7864, 0.1372, 0.0764, 0, 0, 0},
				{0.7912, 0.1241, 0.0847, 0, 0, 0},
				{0.7937, 0.1173, 0.0890, 0, 0, 0},
			},
		},
	}
	for _, c := range cases {
		for _, sparse := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/sparse=%v", c.name, sparse), func(t *testing.T) {
				tn := yuma3Scenario(t, c.stakes, sparse)
				tn.s.LiquidAlpha = c.liquid
				for e := range c.divs {
					if w := c.weights(e); w != nil {
						setYuma3Weights(tn, w, c.indices)
					}
					checkYuma3(t, tn, sparse, c.bondCols, c.bonds[e], c.divs[e])
				}
			})
		}
	}
}

// test_yuma_3_bonds_reset: resetting the bonds on a miner (BondsResetOn) mid-run.
func TestSubtensorYuma3BondsReset(t *testing.T) {
	const M = math.MaxUint16
	tn := yuma3Scenario(t, []uint64{8, 1, 1, 0, 0}, true)
	divs := map[int][]float32{
		0:  {0.8000, 0.1000, 0.1000, 0, 0},
		1:  {0.8944, 0.0528, 0.0528, 0, 0},
		2:  {0.5230, 0.2385, 0.2385, 0, 0},
		19: {0.7919, 0.1040, 0.1040, 0, 0},
		20: {0.7928, 0.1036, 0.1036, 0, 0},
		21: {0.8467, 0.0766, 0.0766, 0, 0},
		40: {0.7928, 0.1036, 0.1036, 0, 0},
	}
	bonds := map[int][][]float32{
		0:  {{0.1013, 0.0000}, {0.1013, 0.0000}, {0.1013, 0.0000}},
		1:  {{0.1924, 0.0000}, {0.0908, 0.2987}, {0.0908, 0.2987}},
		2:  {{0.1715, 0.1013}, {0.0815, 0.3697}, {0.0815, 0.3697}},
		19: {{0.0269, 0.8539}, {0.0131, 0.8975}, {0.0131, 0.8975}},
		20: {{0.0000, 0.8687}, {0.0000, 0.9079}, {0.0000, 0.9079}},
		21: {{0.0000, 0.8820}, {0.2987, 0.6386}, {0.2987, 0.6386}},
		40: {{0.8687, 0.0578}, {0.9079, 0.0523}, {0.9079, 0.0523}},
	}
	idx := []uint16{3, 4}
	for epoch := 0; epoch <= 40; epoch++ {
		switch {
		case epoch == 0:
			setYuma3Weights(tn, [][]uint16{{M, 0}, {M, 0}, {M, 0}}, idx)
		case epoch == 1:
			setYuma3Weights(tn, [][]uint16{{M, 0}, {0, M}, {0, M}}, idx)
		case epoch <= 20:
			setYuma3Weights(tn, [][]uint16{{0, M}, {0, M}, {0, M}}, idx)
			if epoch == 20 {
				tn.resetBonds(3)
			}
		case epoch == 21:
			setYuma3Weights(tn, [][]uint16{{0, M}, {M, 0}, {M, 0}}, idx)
		default:
			setYuma3Weights(tn, [][]uint16{{M, 0}, {M, 0}, {M, 0}}, idx)
		}
		if d, ok := divs[epoch]; ok {
			checkYuma3(t, tn, true, []int{3, 4}, bonds[epoch], d)
		} else {
			tn.nextBlock()
			tn.epoch(true)
		}
	}
}
