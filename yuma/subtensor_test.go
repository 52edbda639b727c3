package yuma

// A miniature of the subtensor pallet state that the epoch tests of
// pallets/subtensor/src/tests/epoch.rs drive: registration (append and replace), stake,
// set_weights (max-upscaled, LastUpdate = block), blocks, and SubtensorModule::epoch /
// epoch_dense, which persist permits and bonds but, unlike the coinbase, do not set
// LastMechansimStepBlock. The transcribed tests in epoch_subtensor_test.go run on it.

import (
	"math"
	"testing"
)

type testNet struct {
	t     *testing.T
	block uint64
	s     EpochState // hyperparameters and per-uid vectors; CurrentBlock set at each epoch
	// cutoffFactor is ActivityCutoffFactorMilli.
	cutoffFactor uint32
}

// newTestNet is add_network_disable_commit_reveal (init_new_network defaults, commit-reveal
// and Yuma3 off) at the given block, with the mock runtime's parameters.
func newTestNet(t *testing.T, block uint64, tempo uint16) *testNet {
	return &testNet{
		t:            t,
		block:        block,
		cutoffFactor: DefaultActivityCutoffFactorMilli,
		s: EpochState{
			Tempo:                 tempo,
			MaxAllowedValidators:  64,
			Kappa:                 32_767,
			BondsPenalty:          65_535,
			BondsMovingAverage:    900_000,
			AlphaLow:              45_875,
			AlphaHigh:             58_982,
			AlphaSigmoidSteepness: 1000,
		},
	}
}

// register appends a neuron (append_neuron): LastUpdate = BlockAtRegistration = block.
func (tn *testNet) register(stake uint64) uint16 {
	s := &tn.s
	uid := uint16(s.N)
	s.N++
	s.LastUpdate = append(s.LastUpdate, tn.block)
	s.BlockAtRegistration = append(s.BlockAtRegistration, tn.block)
	s.Stake = append(s.Stake, stake)
	s.ValidatorPermit = append(s.ValidatorPermit, false)
	s.Weights = append(s.Weights, nil)
	s.Bonds = append(s.Bonds, nil)
	return uid
}

// replace is replace_neuron + clear_neuron: the uid's weights and bonds rows go, every
// weight to it becomes 0 (the entry stays), its permit is cleared, and it is registered now.
func (tn *testNet) replace(uid uint16, stake uint64) {
	s := &tn.s
	s.Weights[uid] = nil
	s.Bonds[uid] = nil
	for i, row := range s.Weights {
		for k := range row {
			if row[k].UID == uid {
				s.Weights[i][k].Value = 0
			}
		}
	}
	s.ValidatorPermit[uid] = false
	s.BlockAtRegistration[uid] = tn.block
	s.LastUpdate[uid] = tn.block
	s.Stake[uid] = stake
}

// setWeights is set_weights: values max-upscaled, stored in the order given.
func (tn *testNet) setWeights(uid uint16, uids []uint16, values []uint16) {
	up := MaxUpscaleU16(values)
	row := make([]Entry, len(uids))
	for k := range uids {
		row[k] = Entry{uids[k], up[k]}
	}
	tn.s.Weights[uid] = row
	tn.s.LastUpdate[uid] = tn.block
}

func (tn *testNet) nextBlock() { tn.block++ }

func (tn *testNet) runToBlock(b uint64) {
	if b > tn.block {
		tn.block = b
	}
}

// epoch is SubtensorModule::epoch (sparse) or epoch_dense with rao emission 1e9.
func (tn *testNet) epoch(sparse bool) *EpochResult {
	tn.t.Helper()
	s := tn.s
	s.CurrentBlock = tn.block
	s.ActivityCutoff = ActivityCutoffBlocks(tn.cutoffFactor, s.Tempo)
	s.RaoEmission = 1_000_000_000
	s.Weights = cloneRows(s.Weights)
	s.Bonds = cloneRows(s.Bonds)
	var r *EpochResult
	var err error
	if sparse {
		r, err = Epoch(&s)
	} else {
		r, err = EpochDense(&s)
	}
	if err != nil {
		tn.t.Fatalf("epoch: %v", err)
	}
	tn.s.ValidatorPermit = r.NewValidatorPermit
	tn.s.Bonds = cloneRows(r.Bonds)
	return r
}

// bondsDense is get_bonds: the stored bonds as a dense n×n matrix of u16 values.
func (tn *testNet) bondsDense() [][]uint16 {
	n := tn.s.N
	out := make([][]uint16, n)
	for i := range out {
		out[i] = make([]uint16, n)
		for _, e := range tn.s.Bonds[i] {
			out[i][e.UID] = e.Value
		}
	}
	return out
}

// resetBonds is do_reset_bonds with BondsResetOn: column uid removed from every bond row.
func (tn *testNet) resetBonds(uid uint16) {
	for i, row := range tn.s.Bonds {
		var kept []Entry
		for _, e := range row {
			if e.UID != uid {
				kept = append(kept, e)
			}
		}
		tn.s.Bonds[i] = kept
	}
}

// fixedF32 is I32F32::saturating_from_num(f32) as the Rust tests' fixed() and vec_to_fixed
// compute it: the f32 value rounded to the nearest multiple of 2^-32, ties to even.
func fixedF32(f float32) Fixed { return fixedF64(float64(f)) }

// fixedF64 is I32F32::from_num(f64): round to nearest, ties to even (exact for every f64 of
// magnitude below 2^31 because the scaling by 2^32 is exact).
func fixedF64(f float64) Fixed {
	return Fixed(math.RoundToEven(f * (1 << 32)))
}
