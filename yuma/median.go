package yuma

import "math/bits"

// This file holds the consensus step: subtensor's stake-weighted median of every column
// (weighted_median_col_sparse), computed as the weighted quantile it equals (columnQuantile)
// on columns gathered a block at a time, and the literal search it is checked against.

// weightedMedianColSparse is weighted_median_col_sparse: for every column, the stake-weighted
// median (at majority kappa) of the scores of the rows with positive stake, absent entries
// counting as 0, voters in row order.
//
// Subtensor materialises a columns × voters score matrix. Here the columns are gathered a
// block at a time into a reused buffer: when every voter row is stored in ascending column
// order (what set_weights-sorted chains hold) by walking the voter rows with one cursor
// each (consensusAscending); otherwise through a compressed-column copy built in O(nnz)
// (consensusCompressed).
// Each column's median is then selected by columnQuantile, which returns what subtensor's
// search returns without its pivots. known asserts that the rows are ascending and hold
// normalised weights (0 ≤ w ≤ 1, so they pack into scored); otherwise both are checked, and
// scores that do not pack take subtensor's index-based search.
func weightedMedianColSparse(stake []Fixed, m sparse, n int, kappa Fixed, known bool) []Fixed {
	var useStake []Fixed
	var voters []int // rows with positive stake, in order
	for i, s := range stake {
		if s > 0 {
			voters = append(voters, i)
			useStake = append(useStake, s)
		}
	}
	rows := make([][]cell, len(voters)) // the voters' weight rows
	for v, i := range voters {
		if i < len(m) {
			rows[v] = m[i]
		}
	}
	normalize(useStake)
	stakeSum := sumFixed(useStake)
	minority := stakeSum.SatSub(kappa)

	sorted, packs := true, true
	if !known {
		sorted, packs = ascendingPacked(rows, n)
	}
	if !packs {
		return weightedMedianColLiteral(useStake, voters, m, n, minority, stakeSum)
	}
	out := make([]Fixed, n)
	ms := newMedianScratch(useStake)
	if sorted && len(rows) >= 2 {
		consensusAscending(rows, ms, n, minority, stakeSum, out)
	} else {
		consensusCompressed(rows, ms, n, minority, stakeSum, out)
	}
	return out
}

// ascendingPacked reports whether every row is in strictly ascending column order (below
// n), and whether every score in them packs into a scored.
func ascendingPacked(rows [][]cell, n int) (sorted, packs bool) {
	sorted, packs = true, true
	for _, row := range rows {
		if !ascending(row, n) {
			sorted = false
		}
		for _, c := range row {
			if !packable(c.v) {
				packs = false
			}
		}
	}
	return sorted, packs
}

// consensusCompressed is consensusAscending for rows in any order (scores that pack): the
// rows are copied into compressed columns, for each column the (voter, value) pairs in row
// order, where a later duplicate in a row overwrites an earlier one, as in subtensor; then
// each column's quantile is selected.
func consensusCompressed(rows [][]cell, m *medianScratch, n int, minority, total Fixed, out []Fixed) {
	k := len(rows)
	counts := make([]int, n+1)
	for _, row := range rows {
		for _, c := range row {
			if int(c.j) < n {
				counts[c.j+1]++
			}
		}
	}
	for j := 0; j < n; j++ {
		counts[j+1] += counts[j]
	}
	type vv struct {
		k int
		v Fixed
	}
	entries := make([]vv, counts[n])
	fill := append([]int(nil), counts[:n]...)
	for v, row := range rows {
		for _, c := range row {
			if int(c.j) < n {
				entries[fill[c.j]] = vv{v, c.v}
				fill[c.j]++
			}
		}
	}
	score := make([]Fixed, k)
	for j := 0; j < n; j++ {
		clear(score)
		for _, e := range entries[counts[j]:counts[j+1]] {
			score[e.k] = e.v
		}
		col := m.b[0][:k]
		var or uint64
		for v := range k {
			col[v] = mkScored(score[v], v)
			or |= uint64(score[v])
		}
		out[j] = columnQuantile(m, col, or, minority, total)
	}
}

// weightedMedianColLiteral is weighted_median_col_sparse with subtensor's index-based
// weighted_median, for scores outside the packed range (never met by normalised weights).
func weightedMedianColLiteral(useStake []Fixed, voters []int, m sparse, n int, minority, stakeSum Fixed) []Fixed {
	k := len(useStake)
	out := make([]Fixed, n)
	cols := make([][]Fixed, n)
	for j := range cols {
		cols[j] = make([]Fixed, k)
	}
	for v, i := range voters {
		if i < len(m) {
			for _, c := range m[i] {
				if int(c.j) < n {
					cols[c.j][v] = c.v
				}
			}
		}
	}
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i
	}
	var bufs [3][]int
	for j := range out {
		out[j] = weightedMedian(useStake, cols[j], idx, minority, 0, stakeSum, &bufs)
	}
	return out
}

// consensusAscending fills out with the consensus median of every column of rows (one per
// voter, in voter order, each in strictly ascending column order with scores that pack),
// absent entries counting as 0. Columns are taken medianBlock at a time: every voter row's
// cursor copies its part of the block into a column-major buffer (a plain copy where the
// row holds all of the block's columns), then each column's quantile is selected from its
// contiguous entries.
func consensusAscending(rows [][]cell, m *medianScratch, n int, minority, total Fixed, out []Fixed) {
	k := len(rows)
	pos := make([]int, k)
	// Columns are stride entries apart; the padding keeps the block's column starts off a
	// power-of-two spacing, which would map them to a few cache sets.
	stride := k + 8
	blk := make([]scored, medianBlock*stride)
	var ors [medianBlock]uint64
	for j0 := 0; j0 < n; j0 += medianBlock {
		w := min(medianBlock, n-j0)
		clear(ors[:])
		for v, r := range rows {
			p := pos[v]
			if p+w <= len(r) && int(r[p].j) == j0 && int(r[p+w-1].j) == j0+w-1 {
				// Ascending and distinct: the row holds exactly columns j0..j0+w-1 here.
				for c, e := range r[p : p+w] {
					blk[c*stride+v] = mkScored(e.v, v)
					ors[c] |= uint64(e.v)
				}
				pos[v] = p + w
				continue
			}
			for c := range w {
				var sc Fixed
				if p < len(r) && int(r[p].j) == j0+c {
					sc = r[p].v
					p++
				}
				blk[c*stride+v] = mkScored(sc, v)
				ors[c] |= uint64(sc)
			}
			pos[v] = p
		}
		for c := range w {
			out[j0+c] = columnQuantile(m, blk[c*stride:c*stride+k], ors[c], minority, total)
		}
	}
}

// The consensus median does not depend on the search's pivots. Let the voters' scores be
// x_v with stakes s_v ≥ 0 summing to T, and for a score y let L(y) = Σ{s_v : x_v < y} and
// LE(y) = Σ{s_v : x_v ≤ y}. Subtensor's weighted_median (weightedMedian, literally) keeps
// the current candidates as a run of consecutive scores in sorted order with lo = L of its
// smallest and hi = LE of its largest (exact integer sums: the stakes are normalised, so
// nothing saturates), and for a pivot p descends into the scores below p when minority <
// L(p), into those above when LE(p) ≤ minority, and otherwise returns p (a side is only
// entered if it is non-empty; each step removes the pivot, so the iteration limit is
// never reached).
//
//   - If 0 ≤ minority < T, then lo ≤ minority < hi holds initially and after every step.
//     Under it, an empty lower side means L(p) = lo ≤ minority and an empty upper side
//     means LE(p) = hi > minority, so p is returned exactly when L(p) ≤ minority < LE(p).
//     The bands [L(y), LE(y)) of the distinct scores partition [0, T) (a score whose
//     stakes are all zero has an empty band), so exactly one score qualifies, whatever the
//     pivots: the smallest y with LE(y) > minority.
//   - If minority < 0, every L(p) ≥ 0 > minority: the search descends while a lower side
//     exists and returns the smallest score.
//   - If minority ≥ T, every LE(p) ≤ T ≤ minority and L(p) ≤ minority: it ascends while an
//     upper side exists and returns the largest score.
//
// So the median is the smallest score y with LE(y) > minority, or the largest score if
// there is none — a weighted quantile that any selection method may compute.
// columnQuantile does so by radix selection on the score bits, which needs no pivots;
// TestColumnQuantileMatchesSubtensor checks it against the literal search.

// radixBits is the number of score bits columnQuantile's histograms resolve per pass.
const radixBits = 6

// columnQuantile returns subtensor's weighted median of the column in col (every voter's
// entry in voter order, col[v] being voter v's, scores non-negative), given the bitwise OR
// of its scores, the minority stake point and the total stake T of m.stake. col is
// overwritten; it must not be m.b[1] or m.b[2].
//
// Each pass sums the stake of the candidates per bucket of radixBits score bits (the top
// ones not yet shared by all candidates), finds the bucket whose stake band holds the
// minority point and keeps only its entries; once a few candidates are left (at most 16),
// smallQuantile finishes on them, or they all share one score. The first pass, over every
// voter in order, reads the stakes in order too.
func columnQuantile(m *medianScratch, col []scored, or uint64, minority, total Fixed) Fixed {
	if or == 0 {
		return 0 // every score is zero
	}
	if minority < 0 || minority >= total {
		var lo, hi Fixed = MaxFixed, 0
		for _, e := range col {
			lo, hi = minF(lo, e.score()), maxF(hi, e.score())
		}
		if minority < 0 {
			return lo
		}
		return hi
	}
	shift := uint(max(bits.Len64(or)-radixBits, 0))
	if len(col) <= 16 {
		return radixFrom(m, col, 1, 0, shift, minority)
	}
	// The first pass: scores below 2^(shift+radixBits), so score>>shift is the bucket.
	var hist [1 << radixBits]Fixed
	stake := m.stake[:len(col)]
	firstHistogram(&hist, col, stake, 16+shift, m.asm)
	var lo Fixed
	b := 0
	for ; b < len(hist)-1 && lo+hist[b] <= minority; b++ {
		lo += hist[b]
	}
	cur := keepBucket(m.b[1][:len(col)], col, 16+shift, uint64(b), m.asm)
	if shift == 0 {
		return cur[0].score() // the candidates share every bit: one score
	}
	return radixFrom(m, cur, 2, lo, uint(max(int(shift)-radixBits, 0)), minority)
}

// firstHistogram adds each voter's stake to hist at the bucket of its entry, (col[v] >>
// sh) & 63, in voter order. With asm, the run kernels' loop (histBMI2) does it but for
// the last len(col) mod 4 entries.
//
// It is kept out of line (go:noinline): inlined into its large caller, the loop would
// share the caller's registers and spill its own to the stack.
//
//go:noinline
func firstHistogram(hist *[1 << radixBits]Fixed, col []scored, stake []Fixed, sh uint, asm bool) {
	stake = stake[:len(col)]
	sh &= 63 // below 64 (sh ≤ 48+16-radixBits): no shift guard in the loop
	start := 0
	if asm && len(col) >= 4 {
		start = len(col) &^ 3
		histBMI2(&col[0], &stake[0], start, uint64(sh), hist)
	}
	for v, e := range col[start:] {
		hist[(uint64(e)>>sh)&(1<<radixBits-1)] += stake[start+v]
	}
}

// keepBucket writes to dst the entries of src whose bits from shift up equal b, in order,
// and returns them: each entry is written and the write position advanced by the
// comparison, so the loop has no data-dependent branch. With asm, the run kernels' loop
// does it four entries at a time but for the last len(src) mod 4.
//
// It is kept out of line (go:noinline): inlined into its large caller, the loop would
// share the caller's registers and spill its own to the stack.
//
//go:noinline
func keepBucket(dst, src []scored, shift uint, b uint64, asm bool) []scored {
	dst = dst[:len(src)]
	w, start := 0, 0
	if asm && len(src) >= 4 {
		start = len(src) &^ 3
		w = keepBucketAVX2(&dst[0], &src[0], start, uint64(shift), b)
	}
	for _, e := range src[start:] {
		dst[w] = e
		w += b2i(uint64(e)>>shift == b)
	}
	return dst[:w]
}

// radixFrom is columnQuantile's radix loop from the candidates cur (not in m.b[next]),
// whose stake band starts at lo and holds minority, with score bits from shift up
// resolved next; next is the buffer (1 or 2) the next pass writes.
func radixFrom(m *medianScratch, cur []scored, next int, lo Fixed, shift uint, minority Fixed) Fixed {
	stake := m.stake
	for len(cur) > 16 {
		shift &= 63 // it is below 48: no shift guard in the loops
		var hist [1 << radixBits]Fixed
		for _, e := range cur {
			hist[(uint64(e.score())>>shift)&(1<<radixBits-1)] += stake[e.voter()]
		}
		b := 0
		for ; b < len(hist)-1 && lo+hist[b] <= minority; b++ {
			lo += hist[b]
		}
		dst := m.b[next][:len(cur)]
		w := 0
		for _, e := range cur {
			dst[w] = e
			w += b2i((uint64(e.score())>>shift)&(1<<radixBits-1) == uint64(b))
		}
		cur = dst[:w]
		next = 3 - next // alternate between m.b[1] and m.b[2]
		if shift == 0 {
			return cur[0].score() // the candidates share every bit: one score
		}
		shift = uint(max(int(shift)-radixBits, 0))
	}
	return smallQuantile(stake, cur, minority, lo)
}

// smallQuantile finishes columnQuantile on its last few candidates cur (reordered in
// place), whose stake band is [lo, hi) with lo ≤ minority < hi: the smallest score y with
// lo + LE(y) > minority, LE(y) being the stake of the candidates scoring at most y. That
// is what the literal search returns on them (see the proof above columnQuantile: it
// returns the y with L(y) ≤ minority < LE(y), and here L and LE start at lo). The
// candidates (eight or so in a column of 256 voters) are sorted by insertion, packed, so
// by score first, and their stakes summed a score at a time. The band holds minority, so
// some score qualifies; were none to, the search would ascend to the largest, and so does
// this.
func smallQuantile(stake []Fixed, cur []scored, minority, lo Fixed) Fixed {
	if len(cur) == 0 {
		return 0
	}
	for i := 1; i < len(cur); i++ {
		e, j := cur[i], i
		for ; j > 0 && cur[j-1] > e; j-- {
			cur[j] = cur[j-1]
		}
		cur[j] = e
	}
	acc := lo
	for i := 0; i < len(cur); {
		y := cur[i].score()
		for ; i < len(cur) && cur[i].score() == y; i++ {
			acc += stake[cur[i].voter()]
		}
		if acc > minority {
			return y
		}
	}
	return cur[len(cur)-1].score()
}

// scored is one voter's entry in a weighted median, packed into 8 bytes to halve the data
// the search moves: the score (a normalised weight, 0 ≤ score < 2^48) in the high 48 bits,
// the voter's index (< 2^16) in the low 16. Its stake is looked up by index.
type scored uint64

func mkScored(score Fixed, voter int) scored { return scored(uint64(score)<<16 | uint64(voter)) }
func (e scored) score() Fixed                { return Fixed(uint64(e) >> 16) }
func (e scored) voter() int                  { return int(e & 0xffff) }

// packable reports whether a score can be held in a scored.
func packable(v Fixed) bool { return uint64(v)>>48 == 0 }

// medianScratch holds the voters' stakes and three buffers, each with capacity for every
// voter: the caller fills b[0] with the column's voters, and the radix passes alternate
// between b[1] and b[2].
type medianScratch struct {
	stake []Fixed
	b     [3][]scored
	asm   bool // firstHistogram and keepBucket may take the run kernels' loops (run_amd64.s)
}

func newMedianScratch(stake []Fixed) *medianScratch {
	m := medianScratch{stake: stake}
	for i := range m.b {
		m.b[i] = make([]scored, len(stake))
	}
	return &m
}

// weightedMedian is subtensor's weighted_median, literally: a partition search that pivots on
// the middle element of the current index list, returning the pivot once the minority stake
// point falls inside the pivot's band. bufs are three scratch slices reused across calls.
func weightedMedian(stake, score []Fixed, idx []int, minority, lo, hi Fixed, bufs *[3][]int) Fixed {
	cur := append(bufs[0][:0], idx...)
	lower, upper := bufs[1][:0], bufs[2][:0]
	defer func() { bufs[0], bufs[1], bufs[2] = cur, lower, upper }()
	limit := len(idx)
	for iter := 0; ; {
		n := len(cur)
		if n == 0 {
			return 0
		}
		if n == 1 {
			return score[cur[0]]
		}
		pivot := score[cur[n/2]]
		var loStake, hiStake Fixed
		for _, k := range cur {
			s := score[k]
			if s == pivot {
				continue
			}
			if s < pivot {
				loStake = loStake.SatAdd(stake[k])
				lower = append(lower, k)
			} else {
				hiStake = hiStake.SatAdd(stake[k])
				upper = append(upper, k)
			}
		}
		switch {
		case minority < lo.SatAdd(loStake) && len(lower) > 0:
			cur, lower = lower, cur
			hi = lo.SatAdd(loStake)
		case hi.SatSub(hiStake) <= minority && len(upper) > 0:
			cur, upper = upper, cur
			lo = hi.SatSub(hiStake)
		default:
			return pivot
		}
		lower, upper = lower[:0], upper[:0]
		iter++
		if iter > limit {
			return 0
		}
	}
}
