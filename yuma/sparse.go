package yuma

import (
	"math/bits"
	"slices"
)

// This file holds the sparse matrix primitives of subtensor's epoch/math.rs, each with the
// same semantics (including which entries are kept or dropped and in what order), written
// to reuse buffers: the epoch of a 4096-uid subnet touches about a million weight entries,
// so per-row allocations and O(n) scans of empty rows are avoided where the result is the
// same.

// cell is one entry of a sparse I32F32 row.
type cell struct {
	j uint16
	v Fixed
}

// sparse is a row-major sparse matrix: row i lists (column, value) in stored order.
type sparse [][]cell

func sumFixed(x []Fixed) Fixed {
	var s Fixed
	for _, v := range x {
		s += v // Rust's Sum on fixed is plain addition; epoch values never overflow
	}
	return s
}

// normalize is inplace_normalize: divide by the sum unless it is zero.
func normalize(x []Fixed) {
	s := sumFixed(x)
	if s == 0 {
		return
	}
	for i, v := range x {
		x[i] = v.SafeDiv(s)
	}
}

// normalizeUsingSum is inplace_normalize_using_sum.
func normalizeUsingSum(x []Fixed, s Fixed) {
	if s == 0 {
		return
	}
	for i, v := range x {
		x[i] = v.SafeDiv(s)
	}
}

func isZero(x []Fixed) bool { return sumFixed(x) == 0 }

// isTopkNonzero marks the k largest non-zero entries. Ties are broken by a stable ascending
// sort on the value, so of equal values the lower index is dropped first.
func isTopkNonzero(x []Fixed, k int) []bool {
	n := len(x)
	out := make([]bool, n)
	for i, v := range x {
		out[i] = v != 0
	}
	if n < k {
		return out
	}
	// A stable ascending sort on the value orders equal values by index, so sorting the
	// (value, index) pairs gives the same order. Packed into one word (values of at most 48
	// bits, indexes of at most 16, as every stake vector has) they sort as plain integers.
	if n <= 1<<16 && !slices.ContainsFunc(x, func(v Fixed) bool { return !packable(v) }) {
		keys := make([]uint64, n)
		for i, v := range x {
			keys[i] = uint64(v)<<16 | uint64(i)
		}
		slices.Sort(keys)
		for _, key := range keys[:n-k] {
			out[key&0xffff] = false
		}
		return out
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case x[a] < x[b]:
			return -1
		case x[a] > x[b]:
			return 1
		}
		return 0
	})
	for _, i := range idx[:n-k] {
		out[i] = false
	}
	return out
}

// rowNormalize is inplace_row_normalize_sparse: rows with a positive sum are divided by it.
func (m sparse) rowNormalize() {
	for _, row := range m {
		var s Fixed
		for _, c := range row {
			s += c.v
		}
		if s > 0 {
			for k := range row {
				row[k].v = row[k].v.SafeDiv(s)
			}
		}
	}
}

// colNormalize is inplace_col_normalize_sparse (column sums with saturating addition).
func (m sparse) colNormalize(n int) {
	sums := make([]Fixed, n)
	for _, row := range m {
		for _, c := range row {
			if int(c.j) < n {
				sums[c.j] = sums[c.j].SatAdd(c.v)
			}
		}
	}
	for _, row := range m {
		for k, c := range row {
			if int(c.j) < n && sums[c.j] != 0 {
				row[k].v = c.v.SafeDiv(sums[c.j])
			}
		}
	}
}

// colMaxUpscale is inplace_col_max_upscale_sparse: every column divided by its maximum.
func (m sparse) colMaxUpscale(n int) {
	maxs := make([]Fixed, n)
	for _, row := range m {
		for _, c := range row {
			if int(c.j) < n && maxs[c.j] < c.v {
				maxs[c.j] = c.v
			}
		}
	}
	for _, row := range m {
		for k, c := range row {
			if int(c.j) < n && maxs[c.j] != 0 {
				row[k].v = c.v.SafeDiv(maxs[c.j])
			}
		}
	}
}

// colClip is col_clip_sparse: values above the column threshold are clipped to it, or
// dropped when the threshold is not positive. The result is a new matrix.
func (m sparse) colClip(th []Fixed) sparse {
	c := m.clone()
	c.clipTrustRanks(th, nil, 0)
	return c
}

// clipTrustRanks applies col_clip_sparse to m in place (compacting rows) and, in the same
// pass, computes validator trust = row_sum_sparse(clipped) and ranks =
// matmul_sparse(clipped, activeStake, n). Fusing the three saves two passes over every
// weight; the additions happen in the same order as in the separate functions (ranks
// column by column in row order, trust along each row), so the sums are identical. With a
// nil activeStake only the clipping is done.
func (m sparse) clipTrustRanks(th, activeStake []Fixed, n int) (trust, ranks []Fixed) {
	if activeStake != nil {
		trust = make([]Fixed, len(m))
		ranks = make([]Fixed, n)
	}
	for i, row := range m {
		var scale Fixed
		if i < len(activeStake) {
			scale = activeStake[i]
		}
		var tv Fixed
		m[i], tv = clipRow(row, th, scale, ranks, n)
		if trust != nil {
			trust[i] = tv
		}
	}
	return trust, ranks
}

// clipRow is clipTrustRanks on one row with its validator's active stake (scale): the row
// clipped in place and compacted, and its sum; scale × each kept value is added to ranks.
func clipRow(row []cell, th []Fixed, scale Fixed, ranks []Fixed, n int) ([]cell, Fixed) {
	return clipRowTo(row, row, th, scale, ranks, n)
}

// clipRowTo is clipRow writing the clipped row to dst (which may be row itself, or must
// have room for it).
func clipRowTo(dst, row []cell, th []Fixed, scale Fixed, ranks []Fixed, n int) ([]cell, Fixed) {
	dst = dst[:len(row)]
	k := 0
	var tv Fixed
	for _, c := range row {
		var t Fixed
		if int(c.j) < len(th) {
			t = th[c.j]
		}
		if t <= 0 && t < c.v {
			continue // clipped to a non-positive consensus: dropped (rare, predictable)
		}
		if t < c.v {
			c.v = t // min, compiled to a conditional move
		}
		dst[k] = c
		k++
		tv += c.v
		if scale != 0 && int(c.j) < n {
			ranks[c.j] = ranks[c.j].SatAdd(scale.SatMul(c.v))
		}
	}
	return dst[:k:k], tv
}

// matmul is matmul_sparse: r_j = Σ_i v_i × m_ij (saturating).
func (m sparse) matmul(v []Fixed, n int) []Fixed {
	out := make([]Fixed, n)
	for i, row := range m {
		var scale Fixed
		if i < len(v) {
			scale = v[i]
		}
		if scale == 0 {
			// 0 × x floors to 0 for any x >= 0 and adds nothing; weights are never negative.
			continue
		}
		for _, c := range row {
			if int(c.j) < n {
				out[c.j] = out[c.j].SatAdd(scale.SatMul(c.v))
			}
		}
	}
	return out
}

// matmulTranspose is matmul_transpose_sparse: r_i = Σ_j v_j × m_ij.
func (m sparse) matmulTranspose(v []Fixed) []Fixed {
	out := make([]Fixed, len(m))
	for i, row := range m {
		var acc Fixed
		for _, c := range row {
			var x Fixed
			if int(c.j) < len(v) {
				x = v[c.j]
			}
			acc = acc.SatAdd(x.SatMul(c.v))
		}
		out[i] = acc
	}
	return out
}

// rowHadamard is row_hadamard_sparse: row i scaled by v_i. The rows are carved from buf
// (see take).
func (m sparse) rowHadamard(v []Fixed, buf []cell) sparse {
	out := make(sparse, 0, len(m))
	buf = buf[:0]
	for i, row := range m {
		if i >= len(v) {
			break
		}
		start := len(buf)
		for _, c := range row {
			buf = append(buf, cell{c.j, c.v.SatMul(v[i])})
		}
		out = append(out, buf[start:len(buf):len(buf)])
	}
	return out
}

// Workspace holds the large buffers of sparse epochs: the backing arrays of their
// million-entry matrices. A caller that runs epochs repeatedly (the chain, once per subnet
// per tempo) keeps one Workspace and runs them through it, which avoids allocating and
// zeroing tens of megabytes of fresh memory per epoch — at 4096 uids that adds about half
// to the epoch's time. Buffers never outlive an epoch: results are copied out. The zero
// value is ready to use; a Workspace must not be used by two epochs at once.
type Workspace struct {
	weights, bonds, delta, ema []cell
	emaRows                    rowArena
	unfused                    bool // tests: take the step-by-step path everywhere
}

// Epoch is the package-level Epoch run in w's buffers.
func (w *Workspace) Epoch(s *EpochState) (*EpochResult, error) {
	c, err := s.validate()
	if err != nil {
		return nil, err
	}
	return epochSparse(s, c, w), nil
}

// rowArena hands out rows carved from chunks that are kept for the next epoch: a row is
// reserved with room for its largest possible size, then committed at the size written.
// Unlike an array grown by append, rows never move and nothing is copied, and the memory
// used is what the rows need rather than an upper bound for the whole matrix.
type rowArena struct {
	chunks   [][]cell
	cur, off int
}

// arenaChunk is the size of a rowArena chunk, in cells (4 MiB).
const arenaChunk = 1 << 18

// reset makes every chunk available again; rows handed out before are invalidated.
func (a *rowArena) reset() { a.cur, a.off = 0, 0 }

// reserve returns room for up to m cells, to be followed by commit.
func (a *rowArena) reserve(m int) []cell {
	for a.cur < len(a.chunks) && len(a.chunks[a.cur])-a.off < m {
		a.cur++
		a.off = 0
	}
	if a.cur == len(a.chunks) {
		a.chunks = append(a.chunks, make([]cell, max(arenaChunk, m)))
	}
	return a.chunks[a.cur][a.off : a.off+m : a.off+m]
}

// commit keeps the first w cells of the last reservation as a row and returns it.
func (a *rowArena) commit(w int) []cell {
	r := a.chunks[a.cur][a.off : a.off+w : a.off+w]
	a.off += w
	return r
}

// take returns *b emptied, with capacity for at least c entries (growing it if needed).
// Rows are appended to it and sliced off with full-capacity limits; if an estimate was too
// small, append moves on to a new array and the rows already carved stay valid.
func take(b *[]cell, c int) []cell {
	if cap(*b) < c {
		*b = make([]cell, 0, c)
	}
	return (*b)[:0]
}

// nnz is the number of stored entries.
func (m sparse) nnz() int {
	t := 0
	for _, row := range m {
		t += len(row)
	}
	return t
}

// clone copies m into one backing array.
func (m sparse) clone() sparse {
	out := make(sparse, len(m))
	buf := make([]cell, 0, m.nnz())
	for i, row := range m {
		start := len(buf)
		buf = append(buf, row...)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// interpolate is interpolate_sparse: m1 + ratio×(m2 - m1). Ratios exactly 0 and 1 return
// the input unchanged (zeros included); otherwise each row is densified and only positive
// results are kept, in column order.
func interpolate(m1, m2 sparse, n int, ratio Fixed) sparse {
	if ratio == 0 {
		return m1
	}
	if ratio == One {
		return m2
	}
	if len(m1) != len(m2) {
		return m2
	}
	out := make(sparse, len(m1))
	r1 := make([]Fixed, n)
	r2 := make([]Fixed, n)
	for i := range m1 {
		if len(m1[i]) == 0 && len(m2[i]) == 0 {
			continue // every interpolated value is 0 and none is kept
		}
		clear(r1)
		clear(r2)
		for _, c := range m1[i] {
			if int(c.j) < n {
				r1[c.j] = c.v
			}
		}
		for _, c := range m2[i] {
			if int(c.j) < n {
				r2[c.j] = c.v
			}
		}
		var row []cell
		for j := 0; j < n; j++ {
			v := r1[j].SatAdd(ratio.SatMul(r2[j].SatSub(r1[j])))
			if v > 0 {
				row = append(row, cell{uint16(j), v})
			}
		}
		out[i] = row
	}
	return out
}

// matEMA is mat_ema_sparse: alpha×new + (1-alpha)×old per cell, keeping positive values in
// column order.
//
// Subtensor densifies every row into an n-vector. Rows whose columns are strictly
// ascending (what the chain stores and what every step here produces) are merged instead,
// in O(len(new)+len(old)) and with the same additions in the same order (new first, then
// old, each saturating from zero); other rows take the dense path.
//
// The rows are carved from buf (see take). sorted asserts that every row of both
// matrices is already known to be ascending (the epoch tracks this while building them),
// which skips the per-row checks.
func matEMA(newM, oldM sparse, alpha Fixed, n int, buf []cell, sorted bool) sparse {
	oneMinus := One.SatSub(alpha)
	out := make(sparse, len(newM))
	if len(newM) == 0 {
		return out
	}
	var acc []Fixed
	buf = buf[:0]
	for i, nr := range newM {
		var or []cell
		if i < len(oldM) {
			or = oldM[i]
		}
		if len(nr) == 0 && len(or) == 0 {
			continue // the densified row is all zero: nothing is kept
		}
		start := len(buf)
		if sorted || (ascending(nr, n) && ascending(or, n)) {
			// Write into the row's slot directly (it holds at most len(nr)+len(or) cells).
			if cap(buf)-start < len(nr)+len(or) {
				nb := make([]cell, start, 2*cap(buf)+len(nr)+len(or))
				copy(nb, buf)
				buf = nb
			}
			dst := buf[start : start+len(nr)+len(or)]
			w, a, b := 0, 0, 0
			for a < len(nr) && b < len(or) {
				x, y := nr[a], or[b]
				switch {
				case x.j == y.j:
					dst[w] = cell{x.j, alpha.SatMul(x.v).SatAdd(oneMinus.SatMul(y.v))}
					a++
					b++
				case x.j < y.j:
					dst[w] = cell{x.j, alpha.SatMul(x.v)}
					a++
				default:
					dst[w] = cell{y.j, oneMinus.SatMul(y.v)}
					b++
				}
				w += b2i(dst[w].v > 0)
			}
			for ; a < len(nr); a++ {
				dst[w] = cell{nr[a].j, alpha.SatMul(nr[a].v)}
				w += b2i(dst[w].v > 0)
			}
			for ; b < len(or); b++ {
				dst[w] = cell{or[b].j, oneMinus.SatMul(or[b].v)}
				w += b2i(dst[w].v > 0)
			}
			buf = buf[:start+w]
			out[i] = buf[start:len(buf):len(buf)]
			continue
		}
		if acc == nil {
			acc = make([]Fixed, n)
		} else {
			clear(acc)
		}
		for _, c := range nr {
			if int(c.j) < n {
				acc[c.j] = acc[c.j].SatAdd(alpha.SatMul(c.v))
			}
		}
		for _, c := range or {
			if int(c.j) < n {
				acc[c.j] = acc[c.j].SatAdd(oneMinus.SatMul(c.v))
			}
		}
		for j, v := range acc {
			if v > 0 {
				buf = append(buf, cell{uint16(j), v})
			}
		}
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// ascending reports whether the row's columns are strictly increasing and below n.
func ascending(row []cell, n int) bool {
	for k := range row {
		if int(row[k].j) >= n || (k > 0 && row[k].j <= row[k-1].j) {
			return false
		}
	}
	return true
}

// mergedValues fills dst[j] for every column j with the value subtensor's liquid-alpha code
// reads for that column: it walks the row with a forward-only cursor, skipping entries whose
// column is below j, and takes the entry under the cursor if its column equals j. For a row
// stored in ascending column order this is the row's value at j (0 if absent); for an
// unsorted row it reproduces subtensor's reading exactly.
func mergedValues(dst []Fixed, row []cell) {
	p := 0
	for j := range dst {
		for p < len(row) && int(row[p].j) < j {
			p++
		}
		if p < len(row) && int(row[p].j) == j {
			dst[j] = row[p].v
		} else {
			dst[j] = 0
		}
	}
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

// scored is one voter's entry in a weighted median, packed into 8 bytes to halve the data
// the search moves: the score (a normalised weight, 0 ≤ score < 2^48) in the high 48 bits,
// the voter's index (< 2^16) in the low 16. Its stake is looked up by index.
type scored uint64

func mkScored(score Fixed, voter int) scored { return scored(uint64(score)<<16 | uint64(voter)) }
func (e scored) score() Fixed                { return Fixed(uint64(e) >> 16) }
func (e scored) voter() int                  { return int(e & 0xffff) }

// packable reports whether a score can be held in a scored.
func packable(v Fixed) bool { return uint64(v)>>48 == 0 }

// medianScratch holds the voters' stakes and the three buffers of the search, each with
// capacity for every voter. The caller fills b[0] with the column's voters.
type medianScratch struct {
	stake []Fixed
	b     [3][]scored
}

func newMedianScratch(stake []Fixed) *medianScratch {
	m := medianScratch{stake: stake}
	for i := range m.b {
		m.b[i] = make([]scored, len(stake))
	}
	return &m
}

// medianSearch is weightedMedian on the entries in cur (a slice of one of m's buffers, not
// m.b[1] or m.b[2]), held by value: the same mid-pivot search with the same stable
// partitions, without the indirection through an index list. The buffers rotate roles
// (current partition, lower, upper); each keeps its full capacity.
func medianSearch(m *medianScratch, cur []scored, minority, lo, hi Fixed) Fixed {
	c, l, u := 0, 1, 2
	m.b[c] = cur[:cap(cur)]
	stake := m.stake
	limit := len(cur)
	for iter := 0; ; {
		n := len(cur)
		if n == 0 {
			return 0
		}
		if n == 1 {
			return cur[0].score()
		}
		pivot := cur[n/2].score()
		// Stable partition without data-dependent branches: each element is written to
		// both outputs and the write positions advance by the comparison results (a
		// random score order would otherwise mispredict half the branches). The stake sums
		// are of normalised stakes (total ≤ 1), so plain addition equals the saturating
		// addition of subtensor.
		lower, upper := m.b[l][:n], m.b[u][:n]
		var nl, nu int
		var loStake, hiStake Fixed
		for _, e := range cur {
			lower[nl], upper[nu] = e, e
			sc, st := e.score(), stake[e.voter()]
			isLo, isHi := b2i(sc < pivot), b2i(sc > pivot)
			nl += isLo
			nu += isHi
			loStake += st & Fixed(-isLo)
			hiStake += st & Fixed(-isHi)
		}
		lower, upper = lower[:nl], upper[:nu]
		switch {
		case minority < lo.SatAdd(loStake) && len(lower) > 0:
			hi = lo.SatAdd(loStake)
			c, l = l, c
			cur = lower
		case hi.SatSub(hiStake) <= minority && len(upper) > 0:
			lo = hi.SatSub(hiStake)
			c, u = u, c
			cur = upper
		default:
			return pivot
		}
		iter++
		if iter > limit {
			return 0
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
// entry, scores non-negative), given the bitwise OR of its scores, the minority stake point
// and the total stake T of m.stake. col is overwritten; it must not be m.b[1] or m.b[2].
//
// Each pass sums the stake of the candidates per bucket of radixBits score bits (the top
// ones not yet shared by all candidates), finds the bucket whose stake band holds the
// minority point and keeps only its entries; once a few candidates are left, or they all
// share one score, the literal search finishes on them with their band as [lo, hi).
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
	stake := m.stake
	cur := col
	var lo Fixed
	hi := total
	shift := uint(max(bits.Len64(or)-radixBits, 0))
	next := 1
	for len(cur) > 16 {
		var hist [1 << radixBits]Fixed
		for _, e := range cur {
			hist[(uint64(e.score())>>shift)&(1<<radixBits-1)] += stake[e.voter()]
		}
		b := 0
		for ; b < len(hist)-1 && lo+hist[b] <= minority; b++ {
			lo += hist[b]
		}
		hi = lo + hist[b]
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
	search := m.b[0][:len(cur)]
	copy(search, cur)
	return medianSearch(m, search, minority, lo, hi)
}

// consensusAscending fills out with the consensus median of every column of rows (one per
// voter, in voter order, each in strictly ascending column order with scores that pack),
// absent entries counting as 0. Columns are taken medianBlock at a time: every voter row's
// cursor copies its part of the block into a column-major buffer (a plain copy where the
// row holds all of the block's columns), then each column's quantile is selected from its
// contiguous entries.
func consensusAscending(rows [][]cell, m *medianScratch, n int, minority, total Fixed, out []Fixed) {
	const medianBlock = 64
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

// b2i is 1 for true and 0 for false (compiled without a branch).
func b2i(b bool) int {
	var i int
	if b {
		i = 1
	}
	return i
}

// weightedMedianColSparse is weighted_median_col_sparse: for every column, the stake-weighted
// median (at majority kappa) of the scores of the rows with positive stake, absent entries
// counting as 0, voters in row order.
//
// Subtensor materialises a columns × voters score matrix. Here the columns are gathered a
// block at a time into a reused buffer: when every voter row is stored in ascending column
// order (what set_weights-sorted chains hold) by walking the voter rows with one cursor
// each (consensusAscending); otherwise through a compressed-column copy built in O(nnz).
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
	normalize(useStake)
	stakeSum := sumFixed(useStake)
	minority := stakeSum.SatSub(kappa)
	k := len(useStake)
	rowOf := func(v int) []cell {
		if voters[v] < len(m) {
			return m[voters[v]]
		}
		return nil
	}

	out := make([]Fixed, n)
	ms := newMedianScratch(useStake)
	sorted, packs := true, true
	for v := 0; v < k && !known; v++ {
		row := rowOf(v)
		if !ascending(row, n) {
			sorted = false
		}
		for _, c := range row {
			if !packable(c.v) {
				packs = false
			}
		}
	}
	if !packs {
		return weightedMedianColLiteral(useStake, voters, m, n, minority, stakeSum)
	}
	if sorted && k >= 2 {
		rows := make([][]cell, k)
		for v := range k {
			rows[v] = rowOf(v)
		}
		consensusAscending(rows, ms, n, minority, stakeSum, out)
		return out
	}

	// Compressed columns: for each column the (voter, value) pairs in row order; a later
	// duplicate in a row overwrites an earlier one, as in subtensor.
	counts := make([]int, n+1)
	for v := range k {
		for _, c := range rowOf(v) {
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
	for v := range k {
		for _, c := range rowOf(v) {
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
		col := ms.b[0][:k]
		var or uint64
		for v := range k {
			col[v] = mkScored(score[v], v)
			or |= uint64(score[v])
		}
		out[j] = columnQuantile(ms, col, or, minority, stakeSum)
	}
	return out
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

// divisor is a 64-bit divisor d > 0 with its reciprocal m = floor((2^64-1)/d), so that many
// quotients by the same d cost a multiplication instead of a hardware division.
//
// For any x < 2^64, q' = floor(x·m / 2^64) is floor(x/d) or one less: since
// 2^64-1-d < m·d ≤ 2^64-1, x/d - 1 < x·m/2^64 < x/d. One comparison of the remainder
// x - q'·d with d corrects it, so quo is exactly x / d (TestDivisorQuo checks it).
type divisor struct{ d, m uint64 }

func newDivisor(d uint64) divisor { return divisor{d, ^uint64(0) / d} }

func (v divisor) quo(x uint64) uint64 {
	q, _ := bits.Mul64(x, v.m)
	return q + uint64(b2i(x-q*v.d >= v.d))
}
