package yuma_test

import (
	"fmt"

	"github.com/tessera-net/tessera/yuma"
)

// A subnet of four uids: two validators (uids 0 and 1, with permits from the previous
// epoch) weight the two miners. The epoch splits the emission between miners (incentive)
// and validators (dividends) and returns the bonds to store.
func ExampleEpoch() {
	n := 4
	state := &yuma.EpochState{
		N:                    n,
		CurrentBlock:         1_000,
		Tempo:                360,
		ActivityCutoff:       yuma.ActivityCutoffBlocks(yuma.DefaultActivityCutoffFactorMilli, 360),
		LastUpdate:           []uint64{990, 995, 500, 500},
		BlockAtRegistration:  []uint64{1, 2, 3, 4},
		Stake:                []uint64{600_000_000_000, 400_000_000_000, 0, 0},
		ValidatorPermit:      []bool{true, true, false, false},
		MaxAllowedValidators: 64,
		Weights: [][]yuma.Entry{
			{{UID: 2, Value: 65535}, {UID: 3, Value: 21845}}, // 3:1 for miner 2
			{{UID: 2, Value: 65535}, {UID: 3, Value: 65535}}, // 1:1
			{}, {},
		},
		Bonds:              make([][]yuma.Entry, n),
		Kappa:              32_767,
		BondsPenalty:       65_535,
		BondsMovingAverage: 900_000,
		Yuma3:              true,
		RaoEmission:        1_000_000_000,
	}
	r, err := yuma.Epoch(state)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("consensus:         ", r.Consensus)
	fmt.Println("incentive:         ", r.Incentive)
	fmt.Println("dividends:         ", r.Dividends)
	fmt.Println("server emission:   ", r.ServerEmission)
	fmt.Println("validator emission:", r.ValidatorEmission)
	fmt.Println("new permits:       ", r.NewValidatorPermit)
	fmt.Println("bonds of uid 0:    ", r.Bonds[0])

	// The next epoch starts from the new permits and bonds.
	state.Advance(r)
	fmt.Println("next block:        ", state.CurrentBlock)
	// Output:
	// consensus:          [0 0 49151 16383]
	// incentive:          [0 0 47330 18204]
	// dividends:          [43737 21797 0 0]
	// server emission:    [0 0 361111111 138888888]
	// validator emission: [333693304 166306695 0 0]
	// new permits:        [true true false false]
	// bonds of uid 0:     [{2 4915} {3 1638}]
	// next block:         1360
}
