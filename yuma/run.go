package yuma

import "sort"

// This file holds the run kernels, the stored-form path's innermost loops done in
// assembly four cells at a time where the CPU has AVX2 and BMI2 (run_amd64.s):
// emaLockstep's arithmetic on a run of cells whose columns are consecutive (j0, j0+1, …:
// a validator that weights and bonds every miner), dividendRow's on a piece of an EMA row
// on consecutive columns, scoreColumn's, firstHistogram's sums (scalar, with SHRX),
// keepBucket's filter, sumAscending's row sum and test, lockstepRun's comparison, and
// gatherBlock's copy of eight rows at once (an 8×8 transpose of u16 values per eight
// columns, gatherEight). On a run, the column accumulators (consensus, rank, EMA sum) and
// divisors are read and written as vectors, with no index per cell.
//
// Each step is the scalar one's, in 64-bit lanes with 32×32-bit products:
//
//   - the normalised weight floor(v·2^32 / W) is rowNorm's hi64(v·2^s·M) =
//     floor(v·M / 2^(30+L)) (L = 34 - s, the bit length of W): with M = Mh·2^32 + Ml,
//     floor(v·M / 2^32) = v·Mh + floor(v·Ml / 2^32) exactly (v < 2^16, Mh ≤ 2^31, so
//     v·Mh < 2^47), and the rest is a shift by L-2 (taken where L ≥ 2);
//   - a product x·c >> 32 with x < 2^32 and c ≤ 2^32 (the clipped weight, or a bond
//     proportion, which is 2^32 for a bond of 65535) is floor(x·(c mod 2^32) / 2^32) +
//     x·(c >> 32): the low product and, when c is 1, the part VPMULUDQ does not see;
//   - the minimum is a signed comparison (every value is below 2^63), and the sums are
//     the plain ones of emaLockstep.
//
// The dividend kernel does dividendRow's cells the same way. The quotient
// floor(v·2^32 / d) of an EMA value v < 2^32 by its column's sum d ≥ v is divisor.quo's:
// q0 = hi64(v·2^32 · m) = v·mh + floor(v·ml / 2^32) with m = floor((2^64-1)/d), then q0
// + 1 if the remainder v·2^32 - q0·d is at least d. Since d·m < 2^64, q0 < v·2^32/d ≤
// 2^32, so q0·d mod 2^64 = q0·dl + (q0·dh)·2^32 from two 32-bit products, and the
// remainder (below 2d < 2^48) compares signed. The quotient (at most 2^32) times an
// incentive below 2^32 is the low product plus (bit 32 of q) × the incentive.
//
// Each kernel is compared with the Go loop it stands for on random and extreme inputs
// (run_test.go), and whole epochs with and without them (TestRunKernelEpochs).

// emaKernel is the run's parameters as the kernel reads them (field order is the
// assembly's).
type emaKernel struct {
	mh, ml, shift          uint64 // the row's normaliser: M's halves and L-2
	scale, alpha, oneMinus uint64 // the row's active stake, α, 1-α (each below 2^32)
	j0                     uint64 // the run's first column
}

// runMin is the shortest lockstep run handed to the kernel.
const runMin = 8

// scalarPiece is how many cells the plain loops take at a time where a piece on
// consecutive columns is too short for a kernel: one search for the next piece per
// scalarPiece cells at most, on rows with many gaps.
const scalarPiece = 64

// consecutiveRun is the length of the longest prefix of an ascending sequence of n
// distinct columns (col(i), n > 0) on consecutive columns. col(m) - col(0) ≥ m for every
// m, with equality exactly up to that length, so it is found by binary search.
func consecutiveRun(n int, col func(int) int) int {
	c0 := col(0)
	if col(n-1)-c0 == n-1 {
		return n
	}
	return sort.Search(n, func(m int) bool { return col(m)-c0 != m })
}

// emaRun is emaLockstep on the first len(nr) &^ 3 cells of a run on consecutive columns
// (at least runMin, a normaliser shift s ≤ 32), with the same preconditions (scale < 1,
// 0 < α < 1, no bond masked): it writes every cell to dst (as emaLockstep does, then
// drops those whose EMA is 0) and returns the count kept, the trust, and the number of
// cells done.
func emaRun(dst []uint64, nr, or []Entry, d rowNorm, cols *colSums, scale, alpha, oneMinus uint64) (k int, trust Fixed, done int) {
	done = len(nr) &^ 3
	j0 := int(nr[0].UID)
	_ = dst[done-1]
	_, _, _ = cols.cons[j0+done-1], cols.rank[j0+done-1], cols.sum[j0+done-1]
	_ = or[done-1]
	kp := emaKernel{mh: d.m >> 32, ml: d.m & 0xffffffff, shift: 32 - uint64(d.s), scale: scale, alpha: alpha, oneMinus: oneMinus, j0: uint64(j0)}
	tv, zero := emaRunAVX2(&nr[0], &or[0], done, &cols.cons[j0], &cols.rank[j0], &cols.sum[j0], &dst[0], &kp)
	k = done
	if zero != 0 {
		k = 0
		for _, c := range dst[:done] {
			dst[k] = c
			k += b2i(c>>16 != 0)
		}
	}
	return k, Fixed(tv), done
}

// colDivisors is each column's EMA sum d, its reciprocal m (see divisor) and its
// incentive, as dividends reads them.
type colDivisors struct{ d, m, inc []uint64 }

// dividendRun is dividendRow on the first len(row) &^ 3 cells of a piece of a row on
// consecutive columns (at least runMin), every incentive below 1: it returns the same sum
// and OR (the caller recomputes the row if bit 32 of the OR is set, as for dividendRow)
// and the number of cells done.
func dividendRun(dst []Entry, row []uint64, cd *colDivisors) (acc Fixed, wide uint64, done int) {
	done = len(row) &^ 3
	j0 := int(row[0] & 0xffff)
	_, _ = dst[done-1], row[done-1]
	_, _, _ = cd.d[j0+done-1], cd.m[j0+done-1], cd.inc[j0+done-1]
	sum, wide := dividendRunAVX2(&row[0], done, &cd.m[j0], &cd.d[j0], &cd.inc[j0], &dst[0])
	return Fixed(sum), wide, done
}

// voterNorms is the voters' row normalisers as the score kernel reads them: M's halves
// and the shift L-2 (see the normalised weight above), one array each.
type voterNorms struct{ mh, ml, sh []uint64 }

// newVoterNorms returns the voters' normalisers for the score kernel, and false if one
// has a negative shift (a row summing to 1), which only scoreColumn handles.
func newVoterNorms(div []rowNorm) (voterNorms, bool) {
	vn := voterNorms{mh: make([]uint64, len(div)), ml: make([]uint64, len(div)), sh: make([]uint64, len(div))}
	for v, d := range div {
		if d.s > 32 {
			return vn, false
		}
		vn.mh[v], vn.ml[v], vn.sh[v] = d.m>>32, d.m&0xffffffff, 32-uint64(d.s)
	}
	return vn, true
}

// scoreRun is scoreColumn through the score kernel on the first len(vals) &^ 3 voters;
// it returns their OR and the number done.
func scoreRun(col []scored, vals []uint16, vn *voterNorms) (or uint64, done int) {
	done = len(vals) &^ 3
	if done == 0 {
		return 0, 0
	}
	_, _ = col[done-1], vals[done-1]
	_, _, _ = vn.mh[done-1], vn.ml[done-1], vn.sh[done-1]
	return scoreRunAVX2(&col[0], &vals[0], done, &vn.mh[0], &vn.ml[0], &vn.sh[0]), done
}
