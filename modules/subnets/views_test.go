package subnets

import (
	"slices"
	"testing"

	"github.com/tessera-net/tessera/yuma"
)

func TestValidatorScores(t *testing.T) {
	row := func(es ...uint16) Row {
		var r Row
		for i := 0; i < len(es); i += 2 {
			r = append(r, yuma.Entry{UID: es[i], Value: es[i+1]})
		}
		return r
	}
	for _, c := range []struct {
		name    string
		neurons []*Neuron
		stakes  []uint64
		want    []uint16
	}{
		{"nobody weights", []*Neuron{{}, {}}, []uint64{5, 5}, []uint16{0, 0}},
		{"one staked judge splits 3:1", []*Neuron{{Weights: row(1, 3, 2, 1)}, {}, {}}, []uint64{10, 0, 0}, []uint16{0, 49151, 16383}},
		// A miner's self-weight never counts, nor do unstaked rows: uid 2 weights only
		// itself, uid 1 weights uid 2 without stake.
		{"self and unstaked rows ignored", []*Neuron{{Weights: row(1, 1)}, {Weights: row(2, 65535)}, {Weights: row(2, 65535)}}, []uint64{1, 0, 50},
			[]uint16{0, 65535, 0}},
		// Stake-weighted: 3 parts on uid 2, 1 part on uid 3.
		{"stake weighted", []*Neuron{{Weights: row(2, 1)}, {Weights: row(3, 1)}, {}, {}}, []uint64{30, 10, 0, 0}, []uint16{0, 0, 49151, 16383}},
		// Once permits exist, only permit holders judge.
		{"permits decide", []*Neuron{{ValidatorPermit: true, Weights: row(2, 1)}, {Weights: row(3, 1)}, {}, {}}, []uint64{1, 100, 0, 0},
			[]uint16{0, 0, 65535, 0}},
	} {
		if got := ValidatorScores(c.neurons, c.stakes); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
