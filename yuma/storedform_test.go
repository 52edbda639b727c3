package yuma

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// storedFormState is a random state as the chain holds it after some epochs: validators
// weighting (most of) the miners in ascending rows, registrations mostly older than the
// last epoch, bonds carried forward by Advance; with the corners of the stored-form path
// mixed in (self-weights, an owner, commit-reveal, recent registrations, rows summing to
// 0, single weights, one validator, EMA alphas of 0 and 1).
func storedFormState(rng *rand.Rand, iter int) *EpochState {
	n := 2 + rng.IntN(40)
	if iter%10 == 0 {
		n = 64 + rng.IntN(300)
	}
	v := 1 + rng.IntN(max(1, n/3))
	s := &EpochState{
		N: n, CurrentBlock: 10_000, Tempo: 360, ActivityCutoff: 5000,
		LastUpdate: make([]uint64, n), BlockAtRegistration: make([]uint64, n),
		Stake: make([]uint64, n), ValidatorPermit: make([]bool, n),
		Weights: make([][]Entry, n), Bonds: make([][]Entry, n),
		MaxAllowedValidators: uint16(max(1, v-1+rng.IntN(3))), // below v: a validator loses its permit
		Kappa:                []uint16{32_767, uint16(rng.IntN(65536)), 0, 65535}[iter%4],
		BondsPenalty:         65535,
		BondsMovingAverage:   []uint64{900_000, uint64(rng.IntN(1_000_001)), 0, 1_000_000}[iter%4],
		Yuma3:                true,
		RaoEmission:          rng.Uint64N(1 << 40),
	}
	if iter%7 == 0 {
		s.HasOwner, s.OwnerUID = true, uint16(rng.IntN(n))
	}
	if iter%9 == 0 {
		s.CommitRevealEnabled = true
		s.CommitBlocks = make([]uint64, n)
		for i := range s.CommitBlocks {
			s.CommitBlocks[i] = []uint64{NoCommit, 9_000 + rng.Uint64N(500), rng.Uint64N(200)}[rng.IntN(3)]
		}
	}
	for i := range n {
		s.BlockAtRegistration[i] = rng.Uint64N(100)
		if iter%3 == 0 && rng.IntN(8) == 0 {
			s.BlockAtRegistration[i] = 9_500 + rng.Uint64N(1000) // registered recently
		}
		s.LastUpdate[i] = 9_000 + rng.Uint64N(900)
		if i < v {
			s.Stake[i] = 1_000_000 + rng.Uint64N(1_000_000_000)
			s.ValidatorPermit[i] = true
			var row []Entry
			for j := range n {
				if (j >= v || (iter%5 == 0 && rng.IntN(4) == 0)) && (iter%2 == 0 || rng.IntN(4) > 0) {
					row = append(row, Entry{uint16(j), uint16(rng.IntN(65536))})
				}
			}
			switch rng.IntN(12) {
			case 0:
				for k := range row {
					row[k].Value = 0 // sums to 0
				}
			case 1:
				if len(row) > 0 {
					row = row[len(row)-1:] // a single weight: normalised to 1
					row[0].Value = 1 + uint16(rng.IntN(65535))
				}
			}
			s.Weights[i] = row
		} else {
			s.Stake[i] = rng.Uint64N(1000)
		}
	}
	// Carry one or two epochs forward, so that the bonds are what the chain would store.
	for range 1 + rng.IntN(2) {
		r, err := Epoch(s)
		if err != nil {
			panic(err)
		}
		s.Advance(r)
	}
	if iter%4 == 1 {
		// Re-registrations since the last epoch: their bonds are masked.
		for j := range n {
			if rng.IntN(6) == 0 {
				s.BlockAtRegistration[j] = s.lastTempo() + rng.Uint64N(300)
			}
		}
	}
	if iter%3 == 2 {
		// Weights changed since: some bonds without a weight.
		for i, row := range s.Weights {
			var kept []Entry
			for _, e := range row {
				if rng.IntN(5) > 0 {
					kept = append(kept, e)
				}
			}
			s.Weights[i] = kept
		}
	}
	if iter%13 == 0 {
		clear(s.Stake) // no stake: no voters
	}
	if iter%11 == 0 {
		for i := range s.Bonds {
			for k := range s.Bonds[i] {
				if rng.IntN(3) == 0 {
					s.Bonds[i][k].Value = 65535 // a bond of exactly 1
				}
			}
		}
	}
	return s
}

// TestStoredFormMatchesStepByStep: on states as the chain holds them, the stored-form
// path (fast.go) and the step-by-step path give identical results.
func TestStoredFormMatchesStepByStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	var fast, stepwise Workspace
	stepwise.unfused = true
	for iter := range 1500 {
		s := storedFormState(rng, iter)
		a, ok := s.epochStoredForm(&fast)
		if !ok {
			t.Fatalf("iteration %d: the stored-form path does not apply", iter)
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("iteration %d: the stored-form path ran on an invalid state: %v", iter, err)
		}
		b, err := stepwise.Epoch(s)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("iteration %d: stored form %+v\nstep by step %+v\nstate %+v", iter, a, b, s)
		}
	}
}

// TestStoredFormInvalidRows: states with a row out of order, out of range or with a
// duplicate, in a weights or bonds row with or without a permit, give through a
// Workspace the error Validate gives, or (rows only out of order, which are valid) the
// step-by-step results.
func TestStoredFormInvalidRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	var fast, stepwise Workspace
	stepwise.unfused = true
	errs := 0
	for iter := range 600 {
		s := storedFormState(rng, iter)
		m := s.Weights
		if iter%2 == 1 {
			m = s.Bonds
		}
		var rows []int
		for i, r := range m {
			if len(r) > 0 {
				rows = append(rows, i)
			}
		}
		if len(rows) == 0 {
			continue
		}
		r := m[rows[rng.IntN(len(rows))]]
		k := rng.IntN(len(r))
		switch iter % 6 / 2 {
		case 0:
			r[k].UID = uint16(s.N + rng.IntN(3)) // out of range
		case 1:
			if len(r) < 2 {
				continue
			}
			k2 := (k + 1 + rng.IntN(len(r)-1)) % len(r)
			r[k].UID = r[k2].UID // duplicate
		case 2:
			if len(r) < 2 {
				continue
			}
			k2 := (k + 1 + rng.IntN(len(r)-1)) % len(r)
			r[k], r[k2] = r[k2], r[k] // out of order, valid
		}
		want := s.Validate()
		got, err := fast.Epoch(s)
		if want != nil {
			errs++
			if err == nil || err.Error() != want.Error() {
				t.Fatalf("iteration %d: error %v, want %v", iter, err, want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("iteration %d: %v", iter, err)
		}
		b, err := stepwise.Epoch(s)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, b) {
			t.Fatalf("iteration %d: workspace %+v\nstep by step %+v", iter, got, b)
		}
	}
	if errs < 100 {
		t.Fatalf("only %d invalid states", errs)
	}
}

// TestPartsMatchOnePart: the stored-form path split into parts (parts.go) gives the same
// results as in one part, on the states of TestStoredFormMatchesStepByStep and on a large
// one, for part counts that do and do not divide the rows and columns.
func TestPartsMatchOnePart(t *testing.T) {
	rng := rand.New(rand.NewPCG(81, 82))
	one := Workspace{Parts: 1}
	for iter := range 400 {
		s := storedFormState(rng, iter)
		want, ok := s.epochStoredForm(&one)
		if !ok {
			t.Fatalf("iteration %d: the stored-form path does not apply", iter)
		}
		for _, p := range []int{2, 3, 7} {
			ws := Workspace{Parts: p}
			got, ok := s.epochStoredForm(&ws)
			if !ok || !reflect.DeepEqual(got, want) {
				t.Fatalf("iteration %d, %d parts: %+v\none part: %+v", iter, p, got, want)
			}
		}
	}
	s := benchState(1024, 64, true, false)
	want, _ := s.epochStoredForm(&one)
	for _, p := range []int{2, 5, maxParts} {
		ws := Workspace{Parts: p}
		if got, ok := s.epochStoredForm(&ws); !ok || !reflect.DeepEqual(got, want) {
			t.Fatalf("1024 uids, %d parts: results differ from one part's", p)
		}
	}
}

// TestCuts: the parts cover the items in order, each about an equal share of the cost.
func TestCuts(t *testing.T) {
	for _, tc := range []struct {
		p, n int
		cost []int
		want []int
	}{
		{1, 4, []int{1, 1, 1, 1}, []int{0, 4}},
		{2, 4, []int{1, 1, 1, 1}, []int{0, 2, 4}},
		{3, 2, []int{1, 1}, []int{0, 1, 2, 2}},
		{2, 3, []int{10, 0, 10}, []int{0, 1, 3}},
		{2, 0, nil, []int{0, 0, 0}},
		{4, 3, []int{0, 0, 0}, []int{0, 3, 3, 3, 3}},
	} {
		got := cuts(tc.p, func(i int) int { return tc.cost[i] }, tc.n)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("cuts(%d, %v) = %v, want %v", tc.p, tc.cost, got, tc.want)
		}
	}
}
