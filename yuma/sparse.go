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
			w := mergeEMARow(buf[start:start+len(nr)+len(or)], nr, or, alpha)
			buf = buf[:start+w]
		} else {
			if acc == nil {
				acc = make([]Fixed, n)
			}
			buf = denseEMARow(buf, acc, nr, or, alpha)
		}
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// mergeEMARow is mat_ema_sparse on one pair of ascending rows, merged: the positive cells
// of alpha×new + (1-alpha)×old written to dst (room for len(nr)+len(or) cells) in column
// order. It returns how many were written.
func mergeEMARow(dst, nr, or []cell, alpha Fixed) int {
	oneMinus := One.SatSub(alpha)
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
	return w
}

// denseEMARow is mat_ema_sparse on one pair of rows as subtensor computes it: both rows
// densified into acc (n cells, cleared first; of repeated columns each adds), new first,
// then old, each saturating from zero; the positive cells are appended to buf in column
// order.
func denseEMARow(buf []cell, acc []Fixed, nr, or []cell, alpha Fixed) []cell {
	oneMinus := One.SatSub(alpha)
	n := len(acc)
	clear(acc)
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
	return buf
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

// b2i is 1 for true and 0 for false (compiled without a branch).
func b2i(b bool) int {
	var i int
	if b {
		i = 1
	}
	return i
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

// rowNorm normalises the u16 weights of one row by their sum W (0 < W < 2^31, the range
// of every weight row: N × 65535 < 2^31): norm(v) = floor(v·2^32 / W), the I32F32
// quotient of row normalisation, as one 64×64→128-bit multiplication whose high word is
// the result, with no correction step (as divisor.quo needs).
//
// With L the bit length of W, s = 34 - L and M = ceil(2^(96-s) / W) = (2^(96-s) + e)/W,
// 0 ≤ e < W: since 2^(L-1) ≤ W, M ≤ 2^(62+L)/2^(L-1) + 1 = 2^63 + 1 fits a word, and
// v·2^s < 2^(16+33) does. Then (v·2^s)·M / 2^64 = v·2^32/W + ε with ε = v·2^s·e/(W·2^64),
// and v·2^s·e < 2^16·2^(34-L)·2^L = 2^50 < 2^64 gives ε < 1/W. Writing v·2^32 = qW + r
// with 0 ≤ r ≤ W-1, the sum is q + (r + εW)/W with r + εW < W: its floor is q exactly.
// TestRowNorm checks it against the division.
type rowNorm struct {
	m uint64 // M
	s uint   // s
}

func newRowNorm(w uint64) rowNorm {
	l := uint(bits.Len64(w))
	s := 34 - l
	// 2^(96-s) = 2^(62+l) as a 128-bit numerator (hi < w, as Div64 requires: hi is
	// 2^(l-2) < 2^(l-1) ≤ w for l ≥ 2, and 0 for l = 1).
	e := 62 + l
	var hi, lo uint64
	if e >= 64 {
		hi = 1 << (e - 64)
	} else {
		lo = 1 << e
	}
	q, r := bits.Div64(hi, lo, w)
	return rowNorm{m: q + uint64(b2i(r != 0)), s: s}
}

// norm is floor(v·2^32 / W).
func (n rowNorm) norm(v uint16) uint64 {
	hi, _ := bits.Mul64(uint64(v)<<(n.s&63), n.m) // s < 64: the mask only spares Go's check
	return hi
}
