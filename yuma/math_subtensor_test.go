package yuma

// Transcriptions of the math tests of opentensor/subtensor,
// pallets/subtensor/src/tests/math.rs (commit 14bc6f9f), for the primitives this package
// implements. Inputs written as f32 literals in Rust (vec_to_fixed, fixed) go through
// fixedF32, f64 ones through fixedF64, because the two round differently.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func f32s(v ...float32) []Fixed {
	out := make([]Fixed, len(v))
	for i, x := range v {
		out[i] = fixedF32(x)
	}
	return out
}

func f64s(v ...float64) []Fixed {
	out := make([]Fixed, len(v))
	for i, x := range v {
		out[i] = fixedF64(x)
	}
	return out
}

// vecToSparse is vec_to_sparse_mat_fixed (row-major, positive entries only).
func vecToSparse(v []float32, rows int) sparse {
	cols := len(v) / rows
	m := make(sparse, rows)
	for r := range rows {
		for c := range cols {
			if x := v[r*cols+c]; x > 0 {
				m[r] = append(m[r], cell{uint16(c), fixedF32(x)})
			}
		}
	}
	return m
}

// vecToDense is vec_to_mat_fixed (row-major).
func vecToDense(v []float32, rows int) dense {
	cols := len(v) / rows
	m := make(dense, rows)
	for r := range rows {
		m[r] = f32s(v[r*cols : (r+1)*cols]...)
	}
	return m
}

func TestSubtensorMathVecMaxUpscaleToU16(t *testing.T) {
	cases := []struct {
		in   []Fixed
		want []uint16
	}{
		{f32s(), []uint16{}},
		{f32s(0), []uint16{0}},
		{f32s(0, 0), []uint16{0, 0}},
		{f32s(0, 1), []uint16{0, 65535}},
		{f32s(0, 0.000000001), []uint16{0, 65535}},
		{f32s(0, 0.000016, 1), []uint16{0, 1, 65535}},
		{f32s(0.000000001, 0.000000001), []uint16{65535, 65535}},
		{f32s(0.000001, 0.000006, 0.000007, 0.0001, 0.001, 0.01, 0.1, 0.2, 0.3, 0.4), []uint16{0, 1, 1, 16, 164, 1638, 16384, 32768, 49151, 65535}},
		{[]Fixed{FixedFromInt(16384)}, []uint16{65535}},
		{[]Fixed{FixedFromInt(32768)}, []uint16{65535}},
		{[]Fixed{FixedFromInt(32769)}, []uint16{65535}},
		{[]Fixed{FixedFromInt(65535)}, []uint16{65535}},
		{[]Fixed{MaxFixed}, []uint16{65535}},
		{f32s(0, 1, 65535), []uint16{0, 1, 65535}},
		{f32s(0, 0.5, 1, 1.5, 2, 32768), []uint16{0, 1, 2, 3, 4, 65535}},
		{f32s(0, 0.5, 1, 1.5, 2, 32768, 32769), []uint16{0, 1, 2, 3, 4, 65533, 65535}},
		{[]Fixed{0, FixedFromInt(1), FixedFromInt(32768), FixedFromInt(32769), MaxFixed}, []uint16{0, 0, 1, 1, 65535}},
	}
	for i, c := range cases {
		if got := maxUpscaleToU16(c.in); !slices.Equal(got, c.want) {
			t.Errorf("case %d: got %v, want %v", i, got, c.want)
		}
	}
}

func TestSubtensorMathVecU16MaxUpscaleToU16(t *testing.T) {
	cases := []struct{ in, want []uint16 }{
		{[]uint16{}, []uint16{}},
		{[]uint16{0}, []uint16{0}},
		{[]uint16{0, 0}, []uint16{0, 0}},
		{[]uint16{1}, []uint16{65535}},
		{[]uint16{0, 1}, []uint16{0, 65535}},
		{[]uint16{65534}, []uint16{65535}},
		{[]uint16{65535}, []uint16{65535}},
		{[]uint16{65535, 65535}, []uint16{65535, 65535}},
		{[]uint16{0, 1, 65534}, []uint16{0, 1, 65535}},
		{[]uint16{0, 1, 2, 3, 4, 65533, 65535}, []uint16{0, 1, 2, 3, 4, 65533, 65535}},
		// docs/yuma.md "§5 Weights as submitted and as stored".
		{[]uint16{43690, 21845}, []uint16{65535, 32768}},
	}
	for i, c := range cases {
		if got := MaxUpscaleU16(c.in); !slices.Equal(got, c.want) {
			t.Errorf("case %d: got %v, want %v", i, got, c.want)
		}
	}
}

func TestSubtensorMathExpSafe(t *testing.T) {
	exp := func(x Fixed) Fixed {
		v, ok := Exp(x)
		if !ok {
			t.Fatalf("exp(%v) failed", x)
		}
		return v
	}
	one := FixedFromInt(1)
	lo, hi := FixedFromInt(-20), FixedFromInt(20)
	cases := []struct{ in, want Fixed }{
		{0, exp(0)},
		{one, exp(one)},
		{lo, exp(lo)},
		{lo - one, exp(lo)},
		{MinFixed, exp(lo)},
		{hi, exp(hi)},
		{hi + one, exp(hi)},
		{MaxFixed, exp(hi)},
	}
	for _, c := range cases {
		if got := ExpSafe(c.in); got != c.want {
			t.Errorf("exp_safe(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if exp(0) != One || exp(one) != expE {
		t.Errorf("exp(0), exp(1) = %d, %d", exp(0), exp(one))
	}
}

func TestSubtensorMathSigmoidSafe(t *testing.T) {
	trust := []Fixed{MinFixed, 0, fixedF64(0.4), fixedF64(0.5), fixedF64(0.6), FixedFromInt(1), MaxFixed}
	cases := []struct {
		trust      []Fixed
		rho, kappa Fixed
		want       []Fixed
	}{
		{trust, MaxFixed, MaxFixed, f32s(0.0000000019, 0.0000000019, 0.0000000019, 0.0000000019, 0.0000000019, 0.0000000019, 0.5)},
		{trust, MinFixed, MinFixed, f32s(0.5, 0.0000000019, 0.0000000019, 0.0000000019, 0.0000000019, 0.0000000019, 0.0000000019)},
		{trust, FixedFromInt(30), fixedF64(0.5), f64s(0.0000000019, 0.0000003057, 0.0474258729, 0.5, 0.952574127, 0.9999996943, 0.9999999981)},
		{f32s(0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1), FixedFromInt(40), fixedF64(0.5),
			f64s(0.0000000019, 0.0000001125, 0.0000061442, 0.0003353502, 0.017986214, 0.5, 0.9820138067, 0.9996646498, 0.9999938558, 0.9999998875, 0.9999999981)},
	}
	for ci, c := range cases {
		for i, x := range c.trust {
			if got := SigmoidSafe(x, c.rho, c.kappa); got != c.want[i] {
				t.Errorf("case %d, trust[%d]: sigmoid_safe = %d (%.10f), want %d (%.10f)", ci, i, got, got.Float64(), c.want[i], c.want[i].Float64())
			}
		}
	}
}

func TestSubtensorMathWeightedMedian(t *testing.T) {
	one := fixedF32(1)
	cases := []struct {
		stake, score []Fixed
		want         Fixed
	}{
		{f32s(), f32s(), 0},
		{func() []Fixed { s := f32s(0.51); normalize(s); return s }(), f32s(1), one},
		{f32s(0.49, 0.51), f32s(0.5, 1), one},
		{f32s(0.51, 0.49), f32s(0.5, 1), fixedF32(0.5)},
		{f32s(0.49, 0, 0.51), f32s(0.5, 0.7, 1), one},
		{f32s(0.49, 0.01, 0.5), f32s(0.5, 0.7, 1), fixedF32(0.7)},
		{f32s(0.49, 0.51, 0), f32s(0.5, 0.7, 1), fixedF32(0.7)},
		{f32s(0, 0.49, 0.51), f32s(0.5, 0.7, 1), one},
		{f32s(0, 0.49, 0, 0.51), f32s(0.5, 0.5, 1, 1), one},
		{f32s(0, 0.49, 0, 0.51, 0), f32s(0.5, 0.5, 1, 1, 0.5), one},
		{f32s(0.2, 0.2, 0.2, 0.2, 0.2), f32s(0.8, 0.2, 1, 0.6, 0.4), fixedF32(0.6)},
		{f32s(0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1), f32s(0.8, 0.8, 0.2, 0.2, 1, 1, 0.6, 0.6, 0.4, 0.4), fixedF32(0.6)},
	}
	var bufs [3][]int
	for i, c := range cases {
		idx := make([]int, len(c.stake))
		for k := range idx {
			idx[k] = k
		}
		got := weightedMedian(c.stake, c.score, idx, one-fixedF32(0.51), 0, sumFixed(c.stake), &bufs)
		if got != c.want {
			t.Errorf("case %d: weighted_median = %v, want %v", i, got.Float64(), c.want.Float64())
		}
	}

	// The randomised part: the result is one of the admissible medians, under permutation.
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 100
	for range 20 {
		for _, majority := range f32s(0, 0.0000001, 0.25, 0.49, 0.49, 0.49, 0.5, 0.51, 0.51, 0.51, 0.9999999, 1) {
			for _, allowEqual := range []bool{false, true} {
				stake := make([]Fixed, n)
				score := make([]Fixed, n)
				var last Fixed
				for i := range n {
					if allowEqual {
						if rng.IntN(2) == 1 {
							stake[i] = one
						}
						if rng.IntN(2) == 1 {
							last += one
						}
						score[i] = last
					} else {
						stake[i] = one
						score[i] = FixedFromInt(int64(i))
					}
				}
				normalize(stake)
				total := sumFixed(stake)
				minority := max(total-majority, 0)
				var medians []Fixed
				var medianStake, stakeSum Fixed
				set := false
				for i := range n {
					stakeSum += stake[i]
					if !set && stakeSum >= minority {
						medianStake, set = stakeSum, true
					}
					if set {
						if medianStake < stakeSum {
							if medianStake == minority && !slices.Contains(medians, score[i]) {
								medians = append(medians, score[i])
							}
							break
						}
						if !slices.Contains(medians, score[i]) {
							medians = append(medians, score[i])
						}
					}
				}
				if len(medians) == 0 {
					medians = append(medians, 0)
				}
				idx := make([]int, n)
				for i := range idx {
					idx[i] = i
				}
				for p := range 11 {
					if p > 0 {
						perm := rng.Perm(n)
						ns, nc := make([]Fixed, n), make([]Fixed, n)
						for i, j := range perm {
							ns[i], nc[i] = stake[j], score[j]
						}
						stake, score = ns, nc
					}
					got := weightedMedian(stake, score, idx, minority, 0, total, &bufs)
					if !slices.Contains(medians, got) {
						t.Fatalf("majority %v equal=%v: median %v not in %v", majority.Float64(), allowEqual, got, medians)
					}
				}
			}
		}
	}
}

func TestSubtensorMathWeightedMedianCol(t *testing.T) {
	w1 := []float32{0, 0.1, 0, 0, 0.2, 0.4, 0, 0.3, 0.1, 0, 0.4, 0.5}
	w2 := []float32{0, 0.1, 0, 0, 0.2, 0.4, 0, 0.3, 0.1, 0, 0, 0.5}
	cases := []struct {
		stake  []Fixed
		w      []float32
		rows   int
		cols   int
		kappa  Fixed
		median []Fixed
	}{
		{f32s(0, 0), []float32{0, 0, 0, 0}, 2, 2, fixedF32(0.5), f32s(0, 0)},
		{f32s(0, 0.75, 0.25, 0), w1, 4, 3, fixedF32(0.24), f32s(0, 0.3, 0.4)},
		{f32s(0, 0.75, 0.25, 0), w1, 4, 3, fixedF32(0.26), f32s(0, 0.2, 0.4)},
		{f32s(0, 0.75, 0.25, 0), w1, 4, 3, fixedF32(0.76), f32s(0, 0.2, 0.1)},
		{f32s(0, 0.3, 0.2, 0.5), w2, 4, 3, fixedF32(0.51), f32s(0, 0, 0.4)},
	}
	for i, c := range cases {
		if got := weightedMedianColSparse(c.stake, vecToSparse(c.w, c.rows), c.cols, c.kappa, false); !slices.Equal(got, c.median) {
			t.Errorf("case %d sparse: got %v, want %v", i, got, c.median)
		}
		if got := weightedMedianCol(c.stake, vecToDense(c.w, c.rows), c.kappa); !slices.Equal(got, c.median) {
			t.Errorf("case %d dense: got %v, want %v", i, got, c.median)
		}
	}
	if got := weightedMedianColSparse(nil, sparse{nil}, 0, fixedF32(0.5), false); len(got) != 0 {
		t.Errorf("empty: got %v", got)
	}
}

func TestSubtensorMathFixedConversions(t *testing.T) {
	// fixed_proportion_to_u16, u16_proportion_to_fixed, fixed_to_u16 and their saturation.
	if got := fixedF64(0.5).ToU16Proportion(); got != 32767 {
		t.Errorf("fixed_proportion_to_u16(0.5) = %d, want 32767", got)
	}
	if got := FixedFromInt(2).ToU16Proportion(); got != math.MaxUint16 {
		t.Errorf("fixed_proportion_to_u16(2) = %d, want 65535 (saturated)", got)
	}
	if got := U16Proportion(math.MaxUint16); got != One {
		t.Errorf("u16_proportion_to_fixed(65535) = %v, want 1", got)
	}
	if got := U16Proportion(36044).ToU16Proportion(); got != 36043 {
		t.Errorf("round trip of 36044 = %d, want 36043 (docs/yuma.md §4 Fixed-point rounding)", got)
	}
	if got := FixedFromInt(-1).ToU16(); got != 0 {
		t.Errorf("fixed_to_u16(-1) = %d, want 0", got)
	}
	if got := FixedFromInt(70000).ToU16(); got != math.MaxUint16 {
		t.Errorf("fixed_to_u16(70000) = %d, want 65535", got)
	}
	// I64F64 -> I32F32 of 0.9 and the EMA alpha (docs/yuma.md "§4 Fixed-point rounding").
	if got := ratioI64F64ToFixed(900_000, 1_000_000); got != 3865470566 {
		t.Errorf("0.9 as I64F64->I32F32 = %d, want 3865470566", got)
	}
	if got := One - ratioI64F64ToFixed(900_000, 1_000_000); got != fixedF64(0.1) {
		t.Errorf("1 - 0.9 = %d, want from_num(0.1) = %d", got, fixedF64(0.1))
	}
}

func TestSubtensorMathSparse(t *testing.T) {
	v42 := []float32{
		0, 1, 0, 2, 0, 3, 4, 0, 1, 0, 2, 0, 3, 0, 1, 0, 0, 2, 0, 3, 4, 0,
		10, 0, 100, 1000, 0, 10000, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1,
	}
	normTarget := []float32{
		0, 0.1, 0, 0.2, 0, 0.3, 0.4, 0, 0.166666, 0, 0.333333, 0, 0.5, 0, 0.1, 0, 0, 0.2,
		0, 0.3, 0.4, 0, 0.0009, 0, 0.009, 0.09, 0, 0.9, 0, 0, 0, 0, 0, 0, 0, 0.142857,
		0.142857, 0.142857, 0.142857, 0.142857, 0.142857, 0.142857,
	}
	upTarget := []float32{
		0, 0.25, 0, 0.5, 0, 0.75, 1, 0, 0.333333, 0, 0.666666, 0, 1, 0, 0.25, 0, 0, 0.5,
		0, 0.75, 1, 0, 0.001, 0, 0.01, 0.1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1,
		1, 1, 1,
	}
	zeros := make([]float32, 12)
	eps := fixedF64(0.0001)

	x := vecToSparseT(v42, 6, false)
	x.rowNormalize()
	sparseNear(t, "inplace_row_normalize_sparse", x, vecToSparseT(normTarget, 6, false), eps)
	x = vecToSparseT(zeros, 3, false)
	x.rowNormalize()
	sparseNear(t, "inplace_row_normalize_sparse zeros", x, vecToSparseT(zeros, 3, false), 0)

	x = vecToSparseT(v42, 6, true)
	x.colNormalize(6)
	sparseNear(t, "inplace_col_normalize_sparse", x, vecToSparseT(normTarget, 6, true), eps)
	x = vecToSparseT(zeros, 3, false)
	x.colNormalize(6)
	sparseNear(t, "inplace_col_normalize_sparse zeros", x, vecToSparseT(zeros, 3, false), 0)

	x = vecToSparseT(v42, 6, true)
	x.colMaxUpscale(6)
	sparseNear(t, "inplace_col_max_upscale_sparse", x, vecToSparseT(upTarget, 6, true), eps)
	x = sparse{{{0, 0}}}
	x.colMaxUpscale(1)
	sparseNear(t, "inplace_col_max_upscale_sparse zero", x, sparse{{{0, 0}}}, 0)

	m12 := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	m12z := []float32{0, 2, 3, 4, 0, 6, 7, 8, 0, 10, 11, 12}
	for _, c := range []struct {
		m    []float32
		want []Fixed
	}{{m12, f32s(70, 80, 90)}, {m12z, f32s(69, 70, 63)}, {zeros, f32s(0, 0, 0)}} {
		if got := vecToSparse(c.m, 4).matmul(f32s(1, 2, 3, 4), 3); !slices.Equal(got, c.want) {
			t.Errorf("matmul_sparse = %v, want %v", got, c.want)
		}
	}
	for _, c := range []struct {
		m    []float32
		want []Fixed
	}{{m12, f32s(14, 32, 50, 68)}, {m12z, f32s(13, 22, 23, 68)}, {zeros, f32s(0, 0, 0, 0)}} {
		if got := vecToSparse(c.m, 4).matmulTranspose(f32s(1, 2, 3)); !slices.Equal(got, c.want) {
			t.Errorf("matmul_transpose_sparse = %v, want %v", got, c.want)
		}
	}
	th := f32s(0, 5, 12)
	for _, c := range []struct{ m, want []float32 }{
		{[]float32{0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, []float32{0, 2, 3, 0, 5, 6, 0, 5, 9, 0, 5, 12}},
		{[]float32{0, 2, 3, 4, 5, 6, 0, 0, 0, 10, 11, 12}, []float32{0, 2, 3, 0, 5, 6, 0, 0, 0, 0, 5, 12}},
		{zeros, zeros},
	} {
		sparseNear(t, "col_clip_sparse", vecToSparse(c.m, 4).colClip(th), vecToSparse(c.want, 4), 0)
	}
}

// vecToSparseT is vec_to_sparse_mat_fixed with its transpose flag.
func vecToSparseT(v []float32, rows int, transpose bool) sparse {
	if !transpose {
		return vecToSparse(v, rows)
	}
	cols := len(v) / rows
	m := make(sparse, cols)
	for c := range cols {
		for r := range rows {
			if x := v[r*cols+c]; x > 0 {
				m[c] = append(m[c], cell{uint16(r), fixedF32(x)})
			}
		}
	}
	return m
}

// sparseNear is assert_sparse_mat_compare.
func sparseNear(t *testing.T, what string, got, want sparse, eps Fixed) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range got {
		if len(got[i]) != len(want[i]) {
			t.Errorf("%s: row %d = %v, want %v", what, i, got[i], want[i])
			continue
		}
		for k := range got[i] {
			d := got[i][k].v - want[i][k].v
			if got[i][k].j != want[i][k].j || d < -eps || d > eps {
				t.Errorf("%s: row %d entry %d = %v, want %v", what, i, k, got[i][k], want[i][k])
			}
		}
	}
}

func TestSubtensorMathMatEMAAlphaSparse(t *testing.T) {
	alphaMat := func(m dense) func(i int, j uint16) Fixed {
		return func(i int, j uint16) Fixed { return m[i][j] }
	}
	tenth := make([]float32, 12)
	for i := range tenth {
		tenth[i] = 0.1
	}
	for ci, c := range []struct {
		old, nw, want []float32
		eps           float64
	}{
		{[]float32{0.1, 0.2, 3, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10, 0.11, 0.12},
			[]float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
			[]float32{0.19, 0.38, 1, 0.43599, 0.545, 0.65399, 0.763, 0.87199, 0.981, 1, 1, 1}, 1e-4},
		{[]float32{0.001, 0.002, 0.003, 0.004, 0.05, 0.006, 0.007, 0.008, 0.009, 0.010, 0.011, 0.012},
			[]float32{0.1, 0.2, 3, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10, 0.11, 0.12},
			[]float32{0.0109, 0.0218, 0.30270, 0.007599, 0.05, 0.01139, 0.0133, 0.01519, 0.017, 0.01899, 0.02089, 0.0227}, 1e-4},
		{make([]float32, 12),
			[]float32{0.1, 0.2, 3, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10, 0.11, 0.12},
			[]float32{0.01, 0.02, 0.3, 0.00399, 0.005, 0.00599, 0.007, 0.00799, 0.009, 0.01, 0.011, 0.01199}, 1e-4},
		{make([]float32, 12), make([]float32, 12), make([]float32, 12), 1e-4},
		{[]float32{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
			[]float32{0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0},
			[]float32{0, 0, 0, 0, 0.2, 0, 0, 0, 0, 0, 0, 0}, 1e-1},
	} {
		got := matEMAAlphaSparse(vecToSparse(c.nw, 4), vecToSparse(c.old, 4), 3, alphaMat(vecToDense(tenth, 4)), nil)
		sparseNear(t, fmt.Sprintf("test_math_sparse_mat_ema_alpha case %d", ci), got, vecToSparse(c.want, 4), fixedF64(c.eps))
	}

	f := fixedF64
	row := func(kv ...float64) []cell {
		var r []cell
		for k := 0; k < len(kv); k += 2 {
			r = append(r, cell{uint16(kv[k]), f(kv[k+1])})
		}
		return r
	}
	for _, c := range []struct {
		name          string
		nw, old, want sparse
		alpha         dense
		eps           Fixed
	}{
		{"empty", sparse{}, sparse{}, sparse{}, dense{}, 0},
		{"single_element", sparse{row(0, 1)}, sparse{row(0, 2)}, sparse{row(0, 1)}, dense{{f(0.5)}}, 0},
		{"multiple_elements", sparse{row(0, 1, 1, 2), row(0, 3, 1, 4)}, sparse{row(0, 5, 1, 6), row(0, 7, 1, 8)},
			sparse{row(0, 1, 1, 1), row(0, 1, 1, 1)}, dense{{f(0.1), f(0.2)}, {f(0.1), f(0.2)}}, f(0.000001)},
		{"zero_alpha", sparse{row(0, 1)}, sparse{row(0, 2)}, sparse{row(0, 1)}, dense{{f(0.1), f(0)}}, 0},
		{"one_alpha", sparse{row(0, 1)}, sparse{row(0, 2)}, sparse{row(0, 1)}, dense{{f(1), f(0)}}, 0},
		{"mixed_alpha", sparse{row(0, 1, 1, 2), row(0, 3, 1, 4)}, sparse{row(0, 5, 1, 6), row(0, 7, 1, 8)},
			sparse{row(0, 1, 1, 1), row(0, 1, 1, 1)}, dense{{f(0.3), f(0.7)}, {f(0.3), f(0.7)}}, f(0.000001)},
		{"sparse_matrix", sparse{row(0, 1), row(1, 4)}, sparse{row(0, 5), row(1, 8)},
			sparse{row(0, 1), row(1, 1)}, dense{{f(0.5), f(0.5)}, {f(0.5), f(0.5)}}, 0},
		{"varying_alpha", sparse{row(0, 0.1, 1, 0.2), row(0, 0.3, 1, 0.4)}, sparse{row(0, 0.5, 1, 0.6), row(0, 0.7, 1, 0.8)},
			sparse{row(0, 0.14, 1, 0.28), row(0, 0.499999, 1, 0.519999)}, dense{{f(0.9), f(0.8)}, {f(0.5), f(0.7)}}, f(1e-6)},
	} {
		cols := 0
		if len(c.alpha) > 0 {
			cols = len(c.alpha[0])
		}
		sparseNear(t, "test_mat_ema_alpha_sparse_"+c.name, matEMAAlphaSparse(c.nw, c.old, cols, alphaMat(c.alpha), nil), c.want, c.eps)
	}
}

func TestSubtensorMathInterpolateSparse(t *testing.T) {
	cases := []struct {
		m1, m2, want []float32
		rows, cols   int
		ratio        Fixed
		eps          float64
	}{
		{[]float32{0}, []float32{1}, []float32{0}, 1, 1, fixedF64(0), 0},
		{[]float32{0}, []float32{1}, []float32{0.5}, 1, 1, fixedF64(0.5), 0},
		{[]float32{0}, []float32{1}, []float32{1}, 1, 1, fixedF64(1), 0},
		{make([]float32, 12), make([]float32, 12), make([]float32, 12), 4, 3, 0, 0},
		{make([]float32, 12), make([]float32, 12), make([]float32, 12), 4, 3, One, 0},
		{[]float32{1, 0, 100, 1000, 10000, 100000}, []float32{10, 100, 1000, 10000, 100000, 0},
			[]float32{1, 0, 100, 1000, 10000, 100000}, 3, 2, 0, 0},
		{[]float32{1, 0, 100, 1000, 10000, 100000}, []float32{10, 100, 1000, 10000, 100000, 0},
			[]float32{9.1, 90, 910, 9100, 91000, 10000}, 3, 2, fixedF64(0.9), 0.0001},
	}
	for i, c := range cases {
		got := interpolate(vecToSparse(c.m1, c.rows), vecToSparse(c.m2, c.rows), c.cols, c.ratio)
		sparseNear(t, fmt.Sprintf("interpolate_sparse case %d", i), got, vecToSparse(c.want, c.rows), fixedF64(c.eps))
	}
}
