package gov

import (
	"math"
	"testing"
)

func TestGovDecide(t *testing.T) {
	p := DefaultParams() // quorum 21845 (1/3), threshold 32768 (just over 1/2)
	for _, c := range []struct {
		name              string
		t                 Tally
		quorum, threshold bool
	}{
		{"nobody voted", Tally{Staked: 100}, false, false},
		{"nothing staked", Tally{}, false, false},
		{"a third exactly", Tally{Yes: 1, Staked: 3}, true, true},
		{"under a third", Tally{Yes: 33, Staked: 100}, false, true},
		{"abstain counts for the quorum only", Tally{Abstain: 50, Staked: 100}, true, false},
		{"a tie fails", Tally{Yes: 40, No: 40, Staked: 100}, true, false},
		{"one more yes than no is not enough at this scale", Tally{Yes: 1_000_001, No: 1_000_000, Staked: 3_000_000}, true, false},
		{"clear majority", Tally{Yes: 51, No: 49, Staked: 100}, true, true},
		{"no overflow at the top", Tally{Yes: math.MaxUint64 / 2, No: math.MaxUint64 / 4, Abstain: math.MaxUint64 / 4, Staked: math.MaxUint64}, true, true},
		{"no overflow, rejected", Tally{Yes: math.MaxUint64 / 4, No: math.MaxUint64 / 2, Staked: math.MaxUint64}, true, false},
	} {
		q, th := Decide(p, c.t)
		if q != c.quorum || th != c.threshold {
			t.Errorf("%s: quorum %v threshold %v, want %v %v", c.name, q, th, c.quorum, c.threshold)
		}
	}
}

func TestGovOptions(t *testing.T) {
	for _, o := range []Option{OptionYes, OptionNo, OptionAbstain} {
		if got, ok := ParseOption(o.String()); !ok || got != o {
			t.Errorf("%v does not round-trip", o)
		}
	}
	if _, ok := ParseOption("maybe"); ok {
		t.Error("maybe parsed")
	}
	if err := DefaultParams().Validate(); err != nil {
		t.Error(err)
	}
}
