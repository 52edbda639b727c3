package yuma_test

import (
	"slices"
	"testing"

	"github.com/tessera-net/tessera/yuma"
)

// The sparse epoch forces the subnet owner's new validator permit (as epoch_mechanism does),
// even without stake or outside the top k; the dense epoch does not.
func TestOwnerKeepsNewPermit(t *testing.T) {
	// Uid 3 is the owner: no stake, no stored permit, and k = 1 keeps only uid 0.
	state := &yuma.EpochState{
		N: 4, CurrentBlock: 1_000, Tempo: 360, ActivityCutoff: 5_000, RaoEmission: 1_000_000_000,
		Stake:               []uint64{600_000_000_000, 400_000_000_000, 0, 0},
		ValidatorPermit:     []bool{true, true, false, false},
		LastUpdate:          []uint64{990, 995, 500, 500},
		BlockAtRegistration: []uint64{1, 2, 3, 4},
		Weights:             [][]yuma.Entry{{{UID: 2, Value: 65535}}, {{UID: 2, Value: 65535}}, {}, {}},
		Bonds:               make([][]yuma.Entry, 4),
		HasOwner:            true, OwnerUID: 3, MaxAllowedValidators: 1,
		Kappa: 32_767, BondsPenalty: 65_535, BondsMovingAverage: 900_000, Yuma3: true,
	}
	for _, tc := range []struct {
		name  string
		epoch func(*yuma.EpochState) (*yuma.EpochResult, error)
		want  []bool
	}{
		{"sparse", yuma.Epoch, []bool{true, false, false, true}},
		{"dense", yuma.EpochDense, []bool{true, false, false, false}},
	} {
		r, err := tc.epoch(state)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(r.NewValidatorPermit, tc.want) {
			t.Errorf("%s: new permits %v, want %v", tc.name, r.NewValidatorPermit, tc.want)
		}
	}
}
