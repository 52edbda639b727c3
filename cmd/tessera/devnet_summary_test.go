package main

import (
	"strings"
	"testing"

	"github.com/tessera-net/tessera/modules/subnets"
)

func TestFormatEpoch(t *testing.T) {
	mg := &subnets.Metagraph{Netuid: 1, UIDs: []uint16{0, 1}, Hotkeys: []string{"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"},
		Incentive: []uint16{65535, 0}, Dividends: []uint16{0, 65535}, Emission: []uint64{1_500_000_000, 0}, Stake: []uint64{0, 7},
		ValidatorPermit: []bool{false, true}, Weights: [][][2]uint16{nil, {{0, 65535}}}}
	got := formatEpoch(mg, 42, map[string]string{mg.Hotkeys[1]: "Bob"})
	for _, want := range []string{"epoch of subnet 1 at block 42", "uid 0   5GrwvaEF…", "incentive 1.0000", "emission 1.500000000", "uid 1   Bob        weights"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}
