package weights

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func share(v Vector, uid uint16) float64 {
	var sum uint64
	var x uint16
	for i, u := range v.UIDs {
		sum += uint64(v.Values[i])
		if u == uid {
			x = v.Values[i]
		}
	}
	return float64(x) / float64(sum)
}

func TestCompute(t *testing.T) {
	tests := []struct {
		name       string
		scores     []float64
		lim        Limits
		wantUIDs   []uint16
		wantValues []uint16
		wantErr    string
	}{
		{name: "proportional, zeros left out", scores: []float64{0, 0.5, 1, 0.25}, lim: Limits{N: 4, MinAllowedWeights: 1, MaxWeightLimit: 65535},
			wantUIDs: []uint16{1, 2, 3}, wantValues: []uint16{32768, 65535, 16384}},
		{name: "0 limit means none", scores: []float64{1, 3}, lim: Limits{N: 2},
			wantUIDs: []uint16{0, 1}, wantValues: []uint16{21845, 65535}},
		{name: "padded with zero entries to min_allowed_weights", scores: []float64{0, 1, 0, 0, 0}, lim: Limits{N: 5, MinAllowedWeights: 3, MaxWeightLimit: 65535},
			wantUIDs: []uint16{0, 1, 2}, wantValues: []uint16{0, 65535, 0}},
		{name: "min_allowed_weights above n asks for n", scores: []float64{1, 0}, lim: Limits{N: 2, MinAllowedWeights: 8},
			wantUIDs: []uint16{0, 1}, wantValues: []uint16{65535, 0}},
		{name: "scores shorter than n", scores: []float64{1}, lim: Limits{N: 3, MinAllowedWeights: 2},
			wantUIDs: []uint16{0, 1}, wantValues: []uint16{65535, 0}},
		{name: "negative, NaN and Inf count as zero", scores: []float64{-1, math.NaN(), 2, math.Inf(1)}, lim: Limits{N: 4, MinAllowedWeights: 1},
			wantUIDs: []uint16{2}, wantValues: []uint16{65535}},
		{name: "top clipped to the limit", scores: []float64{10, 1, 1, 1, 1}, lim: Limits{N: 5, MinAllowedWeights: 1, MaxWeightLimit: 32767}},
		{name: "too few scores: spread the rest", scores: []float64{1, 0, 0, 0}, lim: Limits{N: 4, MinAllowedWeights: 1, MaxWeightLimit: 32767}},
		{name: "all zero", scores: []float64{0, 0}, lim: Limits{N: 2}, wantErr: ErrNoScores.Error()},
		{name: "no scores", scores: nil, lim: Limits{N: 2}, wantErr: ErrNoScores.Error()},
		{name: "more scores than uids", scores: []float64{1, 1, 1}, lim: Limits{N: 2}, wantErr: "3 scores for a subnet of 2 uids: resize the scores to the metagraph first"},
		{name: "empty subnet", scores: nil, lim: Limits{N: 0}, wantErr: "the subnet has no uids to weight (n = 0)"},
		{name: "limit unreachable", scores: []float64{1, 1}, lim: Limits{N: 2, MaxWeightLimit: 1000}, wantErr: "max_weight_limit 0.0153 cannot be met by a subnet of 2 uids: even equal weights give each 1/2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Compute(tc.scores, tc.lim)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := Check(v, tc.lim); err != nil {
				t.Fatalf("vector %v refused: %v", v, err)
			}
			if tc.wantUIDs != nil && (!slices.Equal(v.UIDs, tc.wantUIDs) || !slices.Equal(v.Values, tc.wantValues)) {
				t.Fatalf("got %v %v, want %v %v", v.UIDs, v.Values, tc.wantUIDs, tc.wantValues)
			}
		})
	}
}

func TestClippingKeepsOrderAndShares(t *testing.T) {
	// 10 against four 1s, limit 0.5: uid 0 gets half, the others share the rest equally.
	v, err := Compute([]float64{10, 1, 1, 1, 1}, Limits{N: 5, MaxWeightLimit: 32767})
	if err != nil {
		t.Fatal(err)
	}
	if s := share(v, 0); s > 32767.0/65535 || s < 0.4999 {
		t.Fatalf("share of uid 0 = %v, want just under 0.5", s)
	}
	for u := uint16(1); u < 5; u++ {
		if s := share(v, u); math.Abs(s-0.125) > 1e-4 {
			t.Fatalf("share of uid %d = %v, want 0.125", u, s)
		}
	}
	// Too few positive scores: uid 0 gets the limit, the rest is spread.
	v, err = Compute([]float64{1, 0, 0, 0}, Limits{N: 4, MaxWeightLimit: 32767})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.UIDs) != 4 || share(v, 0) > 32767.0/65535 || share(v, 1) < 0.16 {
		t.Fatalf("got %v %v", v.UIDs, v.Values)
	}
}

func TestEnforceLimitRaisesRoundedZeros(t *testing.T) {
	// Three equal tops and a rest that rounds to nothing cannot pass a limit just under
	// 1/3 until the others carry a unit each.
	values := []uint16{65535, 65535, 65535, 0, 0, 0, 0}
	if err := enforceLimit(values, 21844); err != nil {
		t.Fatal(err)
	}
	if err := Check(Vector{UIDs: []uint16{0, 1, 2, 3, 4, 5, 6}, Values: values}, Limits{N: 7, MaxWeightLimit: 21844}); err != nil {
		t.Fatalf("%v: %v", values, err)
	}
}

// TestComputeAlwaysPasses draws random subnets, limits and scores and checks that every
// vector Compute returns passes the chain's rules and ranks as the scores do.
func TestComputeAlwaysPasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		n := 1 + rng.IntN(300)
		if i%100 == 0 {
			n = 4096
		}
		lim := Limits{N: n, MinAllowedWeights: rng.IntN(n + 4)}
		minLimit := uint16(min(65535, (65535+n-1)/n))
		lim.MaxWeightLimit = minLimit + uint16(rng.IntN(65536-int(minLimit)))
		scores := make([]float64, rng.IntN(n+1))
		for j := range scores {
			switch rng.IntN(4) {
			case 0:
			case 1:
				scores[j] = rng.Float64() * 1e-9
			default:
				scores[j] = rng.Float64()
			}
		}
		v, err := Compute(scores, lim)
		if errors.Is(err, ErrNoScores) {
			continue
		}
		if err != nil {
			t.Fatalf("case %d (n %d, %+v): %v", i, n, lim, err)
		}
		if err := Check(v, lim); err != nil {
			t.Fatalf("case %d (n %d, %+v): %v", i, n, lim, err)
		}
		// A higher score never gets a lower weight.
		val := map[uint16]uint16{}
		for j, u := range v.UIDs {
			val[u] = v.Values[j]
		}
		for a := range scores {
			if n > 300 {
				break // pairwise is quadratic; the small cases cover ordering
			}
			for b := range scores {
				if scores[a] > scores[b]*(1+1e-6)+1e-12 && int(val[uint16(a)])+1 < int(val[uint16(b)]) {
					t.Fatalf("case %d: uid %d scores %v > uid %d %v but weighs %d < %d", i, a, scores[a], b, scores[b], val[uint16(a)], val[uint16(b)])
				}
			}
		}
	}
}

func TestCheck(t *testing.T) {
	lim := Limits{N: 4, MinAllowedWeights: 2, MaxWeightLimit: 32768}
	tests := []struct {
		v    Vector
		want string
	}{
		{Vector{UIDs: []uint16{0, 1}, Values: []uint16{1, 1}}, ""},
		{Vector{UIDs: []uint16{0}, Values: []uint16{1, 2}}, "1 uids but 2 values: they must pair up"},
		{Vector{}, "no weights given"},
		{Vector{UIDs: []uint16{0, 4}, Values: []uint16{1, 1}}, "uid 4 does not exist (the subnet has 4 uids)"},
		{Vector{UIDs: []uint16{1, 1}, Values: []uint16{1, 1}}, "uid 1 appears twice"},
		{Vector{UIDs: []uint16{1}, Values: []uint16{1}}, "1 weights given; the subnet requires at least 2"},
		{Vector{UIDs: []uint16{0, 1}, Values: []uint16{2, 1}}, "the largest weight is 0.6667 of the total; the subnet allows at most 0.5000"},
	}
	for _, tc := range tests {
		err := Check(tc.v, lim)
		if (err == nil) != (tc.want == "") || (err != nil && err.Error() != tc.want) {
			t.Errorf("Check(%v) = %v, want %q", tc.v, err, tc.want)
		}
	}
}
