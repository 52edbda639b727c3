package yuma

// The hot paths restructure subtensor's loops (merging instead of densifying rows,
// compressed columns for the median, lazily computed liquid alphas). These tests compare
// them with literal transcriptions of the Rust functions on random matrices.

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// refMatEMA is mat_ema_sparse exactly as written in subtensor: every row densified.
func refMatEMA(newM, oldM sparse, alpha Fixed, n int) sparse {
	oneMinus := One.SatSub(alpha)
	out := make(sparse, 0, len(newM))
	for i, nr := range newM {
		acc := make([]Fixed, n)
		for _, c := range nr {
			acc[c.j] = acc[c.j].SatAdd(alpha.SatMul(c.v))
		}
		if i < len(oldM) {
			for _, c := range oldM[i] {
				acc[c.j] = acc[c.j].SatAdd(oneMinus.SatMul(c.v))
			}
		}
		var row []cell
		for j, v := range acc {
			if v > 0 {
				row = append(row, cell{uint16(j), v})
			}
		}
		out = append(out, row)
	}
	return out
}

// refMatEMAAlphaSparse is compute_liquid_alpha_values_sparse + mat_ema_alpha_sparse as
// written: a dense n×n alpha matrix from the peeking merge, then the EMA.
func refMatEMAAlphaSparse(w, b sparse, consensus []Fixed, p params) sparse {
	n := len(consensus)
	alphas := make([][]Fixed, len(w))
	for i := range w {
		row := make([]Fixed, n)
		wi, bi := 0, 0
		for j := range n {
			var weight, bond Fixed
			for wi < len(w[i]) {
				if int(w[i][wi].j) < j {
					wi++
					continue
				}
				if int(w[i][wi].j) == j {
					weight = w[i][wi].v
				}
				break
			}
			for bi < len(b[i]) {
				if int(b[i][bi].j) < j {
					bi++
					continue
				}
				if int(b[i][bi].j) == j {
					bond = b[i][bi].v
				}
				break
			}
			row[j] = alphaSigmoid(consensus[j], weight, bond, p.alphaLow, p.alphaHigh, p.steepness)
		}
		alphas[i] = row
	}
	out := make(sparse, 0, len(w))
	for i, nr := range w {
		decayed := make([]Fixed, n)
		for _, c := range b[i] {
			decayed[c.j] = One.SatSub(alphas[i][c.j]).SatMul(c.v)
		}
		var row []cell
		for _, c := range nr {
			inc := maxF(alphas[i][c.j].SatMul(c.v), 0)
			if v := minF(decayed[c.j].SatAdd(inc), One); v > 0 {
				row = append(row, cell{c.j, v})
			}
		}
		out = append(out, row)
	}
	return out
}

func randSparse(rng *rand.Rand, rows, n int, density float64, sorted bool) sparse {
	m := make(sparse, rows)
	for i := range m {
		for j := range n {
			if rng.Float64() < density {
				m[i] = append(m[i], cell{uint16(j), Fixed(rng.Uint64N(uint64(One) + 1))})
			}
		}
		if !sorted {
			rng.Shuffle(len(m[i]), func(a, b int) { m[i][a], m[i][b] = m[i][b], m[i][a] })
		}
	}
	return m
}

func sameSparse(a, b sparse) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) || !slices.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestMatEMAMatchesSubtensor(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for iter := range 300 {
		n := 1 + rng.IntN(40)
		sorted := iter%3 != 0
		nw := randSparse(rng, n, n, rng.Float64(), sorted)
		old := randSparse(rng, n, n, rng.Float64(), true)
		alpha := Fixed(rng.Uint64N(uint64(One) + 1))
		if got, want := matEMA(nw, old, alpha, n, nil, false), refMatEMA(nw, old, alpha, n); !sameSparse(got, want) {
			t.Fatalf("iteration %d: matEMA differs\n got %v\nwant %v", iter, got, want)
		}
	}
}

func TestLiquidAlphaMatchesSubtensor(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	s := &EpochState{AlphaLow: 45875, AlphaHigh: 58982, AlphaSigmoidSteepness: 1000, LiquidAlpha: true}
	for iter := range 200 {
		n := 1 + rng.IntN(30)
		s.N = n
		s.AlphaSigmoidSteepness = int16(rng.IntN(4000) - 1000)
		p := newParams(s)
		// Unsorted rows exercise the forward-only merge subtensor uses to read them.
		w := randSparse(rng, n, n, rng.Float64(), iter%2 == 0)
		b := randSparse(rng, n, n, rng.Float64(), iter%4 != 1)
		consensus := make([]Fixed, n)
		for j := range consensus {
			consensus[j] = Fixed(rng.Uint64N(uint64(One)))
		}
		consensus[0] = 1 // not all zero
		got := computeBondsSparse(s, p, w, b, consensus, nil, false)
		if want := refMatEMAAlphaSparse(w, b, consensus, p); !sameSparse(got, want) {
			t.Fatalf("iteration %d: liquid-alpha EMA differs\n got %v\nwant %v", iter, got, want)
		}
	}
}

func TestSparseMedianMatchesDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for iter := range 340 {
		n := 1 + rng.IntN(30)
		if iter >= 300 {
			n = 60 + rng.IntN(250) // several column blocks, rows full and partial
		}
		density := rng.Float64()
		if iter%3 == 0 {
			density = 1
		}
		m := randSparse(rng, n, n, density, iter%2 == 0)
		if iter%5 == 0 && len(m[0]) > 0 {
			m[0][0].v = Fixed(1) << 50 // outside the packed range: the literal search
		}
		d := newDense(n)
		for i, row := range m {
			for _, c := range row {
				d[i][c.j] = c.v
			}
		}
		stake := make([]Fixed, n)
		for i := range stake {
			if rng.IntN(3) > 0 {
				stake[i] = Fixed(rng.Uint64N(uint64(One)))
			}
		}
		normalize(stake)
		kappa := Fixed(rng.Uint64N(uint64(One) + 1))
		if got, want := weightedMedianColSparse(stake, m, n, kappa, false), weightedMedianCol(stake, d, kappa); !slices.Equal(got, want) {
			t.Fatalf("iteration %d: sparse median %v, dense %v", iter, got, want)
		}
	}
}

// TestColumnQuantileMatchesSubtensor checks that the radix selection gives, for any column,
// the value subtensor's pivoting search returns (the pivot-independence argued above
// columnQuantile): ties, zero stakes, skewed scores and minority points outside [0, T).
func TestColumnQuantileMatchesSubtensor(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	scoreGens := []func() Fixed{
		func() Fixed { return Fixed(rng.Uint64N(uint64(One) + 1)) },            // uniform
		func() Fixed { return Fixed(rng.IntN(4)) << 30 },                       // few values, many ties
		func() Fixed { return Fixed(rng.Uint64N(1 << uint(rng.IntN(48)))) },    // every magnitude
		func() Fixed { return Fixed(rng.IntN(2)) * Fixed(rng.Uint64N(1<<20)) }, // half zero
		func() Fixed { return Fixed(1<<40 + rng.IntN(3)) },                     // high shared bits
		func() Fixed { return 0 },
	}
	for iter := range 4000 {
		k := 1 + rng.IntN(400)
		gen := scoreGens[iter%len(scoreGens)]
		score := make([]Fixed, k)
		stake := make([]Fixed, k)
		for v := range k {
			score[v] = gen()
			switch iter % 4 {
			case 0:
				stake[v] = Fixed(rng.Uint64N(uint64(One)))
			case 1:
				if rng.IntN(3) == 0 {
					stake[v] = Fixed(rng.Uint64N(uint64(One)))
				}
			case 2:
				stake[v] = Fixed(1 + rng.IntN(3)) // tiny stakes: normalised values round to 0
			case 3:
				stake[v] = Fixed(rng.Uint64N(1000))
				if v == 0 {
					stake[v] = One << 20 // one dominant voter
				}
			}
		}
		normalize(stake)
		total := sumFixed(stake)
		var minority Fixed
		switch iter % 7 {
		case 0:
			minority = -Fixed(rng.Uint64N(uint64(One)))
		case 1:
			minority = total + Fixed(rng.Uint64N(3))
		case 2:
			minority = 0
		case 3:
			minority = total - 1
		default:
			minority = total.SatSub(Fixed(rng.Uint64N(uint64(One) + 1)))
		}
		idx := make([]int, k)
		for i := range idx {
			idx[i] = i
		}
		var bufs [3][]int
		want := weightedMedian(stake, score, idx, minority, 0, total, &bufs)

		m := newMedianScratch(stake)
		col := make([]scored, k)
		var or uint64
		for v := range k {
			col[v] = mkScored(score[v], v)
			or |= uint64(score[v])
		}
		if got := columnQuantile(m, col, or, minority, total); got != want {
			t.Fatalf("iteration %d (k=%d): radix selection %d, subtensor's search %d", iter, k, got, want)
		}
	}
}

func TestSaturatingArithmetic(t *testing.T) {
	big := func(x Fixed) *bigInt { return newBig(int64(x)) }
	rng := rand.New(rand.NewPCG(3, 4))
	edge := []Fixed{0, 1, -1, One, -One, MaxFixed, MinFixed, MaxFixed - 1, MinFixed + 1, 1 << 62, -(1 << 62)}
	for iter := range 20000 {
		var x, y Fixed
		if iter < len(edge)*len(edge) {
			x, y = edge[iter/len(edge)], edge[iter%len(edge)]
		} else {
			x, y = Fixed(rng.Uint64()), Fixed(rng.Uint64())
			if iter%2 == 0 { // proportions and small divisors, the fast paths
				x, y = Fixed(rng.Uint64N(1<<33)), Fixed(rng.Uint64N(1<<34))
			}
		}
		if got, want := x.SatAdd(y), big(x).add(big(y)).sat(); got != want {
			t.Fatalf("%d SatAdd %d = %d, want %d", x, y, got, want)
		}
		if got, want := x.SatSub(y), big(x).sub(big(y)).sat(); got != want {
			t.Fatalf("%d SatSub %d = %d, want %d", x, y, got, want)
		}
		if got, want := x.SatMul(y), big(x).mul(big(y)).floorShift(32).sat(); got != want {
			t.Fatalf("%d SatMul %d = %d, want %d", x, y, got, want)
		}
		if y != 0 {
			q, ok := x.CheckedDiv(y)
			want := big(x).lsh(32).quo(big(y))
			if ok != want.fits() || (ok && q != want.sat()) {
				t.Fatalf("%d CheckedDiv %d = %d,%v, want %v", x, y, q, ok, want.v)
			}
			wantSafe := Fixed(0)
			if want.fits() {
				wantSafe = want.sat()
			}
			if got := x.SafeDiv(y); got != wantSafe {
				t.Fatalf("%d SafeDiv %d = %d, want %d", x, y, got, wantSafe)
			}
		}
	}
}

// randomState is a random subnet state without the features in which subtensor's sparse
// and dense epochs differ (owner, commit-reveal, liquid alpha, bonds of uids without a
// permit).
func randomState(rng *rand.Rand) *EpochState { return randomStateOf(rng, 2+rng.IntN(24), false) }

// randomStateOf is a random state of n uids; with sorted, every weights and bonds row is in
// ascending column order, as the chain stores them (the epoch's fast paths).
func randomStateOf(rng *rand.Rand, n int, sorted bool) *EpochState {
	s := &EpochState{
		N: n, CurrentBlock: 1000 + rng.Uint64N(100), Tempo: uint16(1 + rng.IntN(400)),
		LastMechanismStepBlock: rng.Uint64N(1000),
		LastUpdate:             make([]uint64, n), BlockAtRegistration: make([]uint64, n),
		Stake: make([]uint64, n), ValidatorPermit: make([]bool, n),
		Weights: make([][]Entry, n), Bonds: make([][]Entry, n),
		MaxAllowedValidators: uint16(1 + rng.IntN(n)),
		Kappa:                uint16(rng.IntN(65536)), BondsPenalty: []uint16{0, 65535, uint16(rng.IntN(65536))}[rng.IntN(3)],
		BondsMovingAverage: uint64(rng.IntN(1_000_001)), Yuma3: rng.IntN(2) == 0,
		StakeThreshold: rng.Uint64N(50),
		RaoEmission:    rng.Uint64N(1 << 40),
	}
	s.ActivityCutoff = ActivityCutoffBlocks(DefaultActivityCutoffFactorMilli, s.Tempo)
	for i := range n {
		s.LastUpdate[i] = 900 + rng.Uint64N(200)
		s.BlockAtRegistration[i] = rng.Uint64N(1100)
		if rng.IntN(2) == 0 {
			s.Stake[i] = rng.Uint64N(1000)
		}
		s.ValidatorPermit[i] = rng.IntN(2) == 0
		perm := rng.Perm(n)
		for _, j := range perm[:rng.IntN(n)] {
			s.Weights[i] = append(s.Weights[i], Entry{uint16(j), uint16(rng.IntN(65536))})
		}
		if s.ValidatorPermit[i] {
			for _, j := range rng.Perm(n)[:rng.IntN(n)] {
				s.Bonds[i] = append(s.Bonds[i], Entry{uint16(j), uint16(rng.IntN(65536))})
			}
		}
		if sorted {
			byUID := func(a, b Entry) int { return cmp.Compare(a.UID, b.UID) }
			slices.SortFunc(s.Weights[i], byUID)
			slices.SortFunc(s.Bonds[i], byUID)
		}
	}
	return s
}

// TestSparseMatchesDense: on states where subtensor's two epochs are meant to agree (its
// tests run both on the same scenarios), every output agrees, bonds compared as matrices.
func TestSparseMatchesDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	densify := func(m [][]Entry, n int) [][]uint16 {
		out := make([][]uint16, n)
		for i := range out {
			out[i] = make([]uint16, n)
			for _, e := range m[i] {
				out[i][e.UID] = e.Value
			}
		}
		return out
	}
	for iter := range 560 {
		// Even iterations hold rows sorted as the chain stores them (the fast paths); the
		// last ones are larger, spanning several of the median's column blocks.
		n := 2 + rng.IntN(24)
		if iter >= 500 {
			n = 64 + rng.IntN(200)
		}
		s := randomStateOf(rng, n, iter%2 == 0)
		sp, err := Epoch(s)
		if err != nil {
			t.Fatal(err)
		}
		de, err := EpochDense(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name   string
			sp, de any
		}{
			{"active", sp.Active, de.Active},
			{"stake_weight", sp.StakeWeight, de.StakeWeight},
			{"consensus", sp.Consensus, de.Consensus},
			{"incentive", sp.Incentive, de.Incentive},
			{"dividends", sp.Dividends, de.Dividends},
			{"validator_trust", sp.ValidatorTrust, de.ValidatorTrust},
			{"new_validator_permit", sp.NewValidatorPermit, de.NewValidatorPermit},
			{"server_emission", sp.ServerEmission, de.ServerEmission},
			{"validator_emission", sp.ValidatorEmission, de.ValidatorEmission},
			{"emission", sp.Emission, de.Emission},
			{"bonds", densify(sp.Bonds, s.N), densify(de.Bonds, s.N)},
		} {
			if !reflect.DeepEqual(c.sp, c.de) {
				t.Fatalf("iteration %d: %s differs\nsparse %v\ndense  %v\nstate %+v", iter, c.name, c.sp, c.de, s)
			}
		}
	}
}

func TestMatEMAStoredMatchesReadThenEMA(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for iter := range 300 {
		n := 1 + rng.IntN(40)
		s := &EpochState{N: n, BlockAtRegistration: make([]uint64, n), Bonds: make([][]Entry, n)}
		for j := range n {
			s.BlockAtRegistration[j] = rng.Uint64N(100)
		}
		for i := range n {
			for j := range n {
				if rng.IntN(3) > 0 {
					s.Bonds[i] = append(s.Bonds[i], Entry{uint16(j), uint16(rng.IntN(65536))})
				}
			}
		}
		w := randSparse(rng, n, n, rng.Float64(), true)
		lastTempo := rng.Uint64N(110)
		alpha := Fixed(rng.Uint64N(uint64(One) + 1))
		b, _ := s.readBonds(lastTempo, true, nil)
		want := matEMA(w, b, alpha, n, nil, false)
		sums := make([]Fixed, n)
		if got := matEMAStored(w, s.Bonds, s.BlockAtRegistration, lastTempo, alpha, new(rowArena), sums); !sameSparse(got, want) {
			t.Fatalf("iteration %d: differs\n got %v\nwant %v", iter, got, want)
		}
		wantSums := make([]Fixed, n)
		for _, row := range want {
			for _, c := range row {
				wantSums[c.j] = wantSums[c.j].SatAdd(c.v)
			}
		}
		if !slices.Equal(sums, wantSums) {
			t.Fatalf("iteration %d: column sums differ", iter)
		}
	}
}

// TestEpochConcurrent: epochs running at the same time (each with its own pooled
// workspace) give the results they give alone.
func TestEpochConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	states := make([]*EpochState, 16)
	want := make([]*EpochResult, len(states))
	for i := range states {
		states[i] = randomState(rng)
		r, err := Epoch(states[i])
		if err != nil {
			t.Fatal(err)
		}
		want[i] = r
	}
	done := make(chan error, len(states))
	for i := range states {
		go func() {
			for range 20 {
				r, err := Epoch(states[i])
				if err != nil || !reflect.DeepEqual(r, want[i]) {
					done <- fmt.Errorf("state %d: concurrent epoch differs (err %v)", i, err)
					return
				}
			}
			done <- nil
		}()
	}
	for range states {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// refIsTopkNonzero is is_topk_nonzero literally: a stable ascending sort of the indexes by
// value, the first n-k of which are cleared.
func refIsTopkNonzero(x []Fixed, k int) []bool {
	out := make([]bool, len(x))
	for i, v := range x {
		out[i] = v != 0
	}
	if len(x) < k {
		return out
	}
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
	for _, i := range idx[:len(x)-k] {
		out[i] = false
	}
	return out
}

func TestIsTopkNonzeroMatchesSubtensor(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for iter := range 2000 {
		n := rng.IntN(300)
		x := make([]Fixed, n)
		for i := range x {
			switch iter % 4 {
			case 0:
				x[i] = Fixed(rng.Uint64N(uint64(One) + 1))
			case 1:
				x[i] = Fixed(rng.IntN(3)) // ties and zeros
			case 2:
				x[i] = Fixed(rng.Int64()) // negative and beyond the packed range
			case 3:
				x[i] = Fixed(rng.IntN(2)) << 47
			}
		}
		k := rng.IntN(n + 3)
		if got, want := isTopkNonzero(x, k), refIsTopkNonzero(x, k); !slices.Equal(got, want) {
			t.Fatalf("iteration %d (n=%d, k=%d): %v, want %v", iter, n, k, got, want)
		}
	}
}

// TestFusedMatchesStepByStep runs random states stored as the chain stores them (rows
// ascending), with Yuma3, liquid alpha and the bonds penalty varied, through the fused
// default path and through the step-by-step path that follows subtensor's functions one
// by one: every output is identical.
func TestFusedMatchesStepByStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	var fused, stepwise Workspace
	stepwise.unfused = true
	fusedRuns := 0
	for iter := range 600 {
		s := randomStateOf(rng, 2+rng.IntN(60), true)
		s.Yuma3 = iter%5 != 0
		s.BondsPenalty = []uint16{65535, 65535, 65535, uint16(rng.IntN(65536))}[iter%4]
		s.LiquidAlpha = iter%2 == 0
		s.AlphaLow = uint16(rng.IntN(40000))
		s.AlphaHigh = uint16(40000 + rng.IntN(25536))
		s.AlphaSigmoidSteepness = int16(rng.IntN(4000) - 1000)
		if s.Yuma3 && s.BondsPenalty == 65535 {
			fusedRuns++
		}
		a, err := fused.Epoch(s)
		if err != nil {
			t.Fatal(err)
		}
		b, err := stepwise.Epoch(s)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("iteration %d: fused %+v\nstep by step %+v\nstate %+v", iter, a, b, s)
		}
	}
	if fusedRuns < 200 {
		t.Fatalf("only %d states took the fused path", fusedRuns)
	}
}
