package yuma

import (
	"slices"
	"sort"
)

// This file holds the stored-form path of the sparse epoch, taken on the chain's default
// state (Yuma3 without liquid alpha, bonds penalty 1, every weights and bonds row
// ascending, an EMA alpha in [0, 1]). It computes what normalizedWeights,
// weightedMedianColSparse, clipEMAStored and yuma3BondIncentive compute, with the same
// arithmetic, in three walks over the rows instead of eight:
//
//   - the weights are never materialised as I32F32 cells: a row is its stored u16 entries
//     (masked in place when nothing but nothing is dropped) and the divisor of its sum, and
//     each normalised weight is recomputed, one multiplication, where it is read (the median
//     and the bonds' walk). A 4-byte entry read twice moves less memory than a 16-byte cell
//     written once and read twice, and memory, not arithmetic, bounds these walks;
//   - the median's column gathering also builds each column's first radix histogram;
//   - clipping, validator trust, ranks, the bonds' EMA and its column sums are one walk
//     (as clipEMAStored), writing the EMA packed into 8 bytes a cell;
//   - the dividends divide by the column sums through per-column reciprocals.
//
// TestFusedMatchesStepByStep and TestStoredFormMatchesStepByStep compare it with the
// step-by-step path on random states.

// storedFormApplies reports whether the state's parameters are those of the stored-form
// path.
func (s *EpochState) storedFormApplies(p params) bool {
	return s.Yuma3 && !s.LiquidAlpha && p.bondsPenalty == One && p.emaAlpha >= 0 && p.emaAlpha <= One
}

// epochStoredForm is epochSparse on the stored-form path, with validate's checks done as
// the rows are read: the shape and the stake first, each weights row where maskedRows
// sums it, each bonds row where clipEMA merges it, before any uid in it is used as an
// index. It reports false, having returned nothing, if the parameters are not the path's
// or a check fails (the row may be valid but not ascending): the caller then validates in
// full, which reports the first error in validate's order, and takes epochSparse. A state
// for which it reports true is valid: validate accepts it and finds every row ascending.
func (s *EpochState) epochStoredForm(ws *Workspace) (*EpochResult, bool) {
	n := s.N
	p := newParams(s)
	if !s.storedFormApplies(p) || s.validateShape() != nil {
		return nil, false
	}
	total, err := s.validateStake()
	if err != nil {
		return nil, false
	}
	t, permits, owner := s.stakeTerms(total)
	rows, ok := s.maskedRows(permits, owner, ws)
	if !ok {
		return nil, false
	}
	cells := 0
	for i := range n {
		cells += len(rows.rows[i]) + len(s.Bonds[i])
	}
	parts := ws.parts(cells)
	t.consensus = rows.consensus(t.activeStake, n, p.kappa, parts, ws.asm())
	e, ok := rows.clipEMA(s, t.consensus, t.activeStake, p.emaAlpha, ws, parts)
	if !ok {
		return nil, false
	}
	t.trust = e.trust
	t.incentive = e.ranks
	normalize(t.incentive)
	perValidator, stored := e.dividends(t.incentive, t.newPermits, parts, ws.asm())
	t.dividends = vecMul(perValidator, t.activeStake)
	normalize(t.dividends)
	res := t.result(s.RaoEmission)
	res.Bonds = stored
	return res, true
}

// weightRows are the masked weight rows in stored form: row i's kept entries (ascending,
// raw u16 values) and the normaliser of their sum, so that its normalised weight at entry
// e is floor(e.Value·2^32 / sum) = div[i].norm(e.Value) (see normalizedWeights: the same
// quotient). A row whose kept values sum to 0 is left empty: every normalised value
// in it would be 0, which counts as absent in the median, adds 0 to trust and ranks, and
// contributes α·0 = 0 to the EMA, where a bond's cell is then (1-α)·b with or without it
// and a weight-only cell is 0 and dropped.
type weightRows struct {
	rows [][]Entry
	div  []rowNorm
}

// maskedRows applies the weights masks of normalizedWeights (rows of permitted uids,
// self-weights dropped except the owner's, weights set before the target registered
// dropped, and with commit-reveal weights committed before it) and sums each row. A row
// that loses nothing is the stored row itself; the others are copied to the workspace.
// It reports false if some weights row is not strictly ascending below n (validateRows'
// fast test), checked before any of its uids is used.
func (s *EpochState) maskedRows(permits []bool, owner int, ws *Workspace) (weightRows, bool) {
	n := s.N
	asm := ws.asm()
	w := weightRows{rows: make([][]Entry, n), div: make([]rowNorm, n)}
	var lastReg uint64
	for _, r := range s.BlockAtRegistration {
		lastReg = max(lastReg, r)
	}
	bound := 0
	for i, row := range s.Weights {
		if permits[i] {
			bound += len(row)
		} else if !ascendingBelow(row, n) {
			return w, false // the rows without a permit are only validated
		}
	}
	kept := take(&ws.kept, bound)
	for i, row := range s.Weights {
		if !permits[i] || len(row) == 0 {
			continue
		}
		sum, ok := sumAscending(row, n, asm)
		if !ok {
			return w, false
		}
		lu := s.LastUpdate[i]
		cb := uint64(NoCommit)
		if s.CommitRevealEnabled && len(s.CommitBlocks) == n {
			cb = s.CommitBlocks[i]
		}
		r := row
		if lu > lastReg && (!s.CommitRevealEnabled || cb >= lastReg) {
			// Only the self-weight can be dropped; the row is ascending, so it is found by
			// binary search.
			if i != owner {
				if k, found := slices.BinarySearchFunc(row, uint16(i), func(e Entry, u uint16) int { return int(e.UID) - int(u) }); found {
					start := len(kept)
					kept = append(append(kept, row[:k]...), row[k+1:]...)
					r = kept[start:len(kept):len(kept)]
					sum -= uint64(row[k].Value)
				}
			}
		} else {
			start := len(kept)
			sum = 0
			for _, e := range row {
				j := int(e.UID)
				reg := s.BlockAtRegistration[j]
				if (j == i && i != owner) || lu <= reg || (s.CommitRevealEnabled && cb < reg) {
					continue
				}
				kept = append(kept, e)
				sum += uint64(e.Value)
			}
			r = kept[start:len(kept):len(kept)]
		}
		if sum == 0 {
			continue
		}
		w.rows[i] = r
		w.div[i] = newRowNorm(sum)
	}
	return w, true
}

// sumAscending returns the sum of row's values (below 2^31: at most MaxN entries of
// 65535) and whether the row is strictly ascending below n: validateRows' fast test and
// the row sum in one walk, the test without a branch (a flag ORed per entry). With asm,
// the run kernels' loop (run_amd64.s) does the row eight entries at a time but for its
// last entries.
//
// It is kept out of line (go:noinline): inlined into its large caller, the loop would
// share the caller's registers and spill its own to the stack.
//
//go:noinline
func sumAscending(row []Entry, n int, asm bool) (uint64, bool) {
	var sum uint64
	prev, bad := -1, 0
	start := 0
	if asm && len(row) >= 9 {
		s, done, b := ascendSumAVX2(&row[0], len(row))
		sum, start, bad = s, int(done), int(b)
		prev = int(row[start-1].UID)
	}
	for _, e := range row[start:] {
		u := int(e.UID)
		bad |= b2i(u <= prev)
		prev = u
		sum += uint64(e.Value)
	}
	return sum, bad == 0 && prev < n
}

// ascendingBelow is validateRows' fast test: row strictly ascending, every uid below n.
func ascendingBelow(row []Entry, n int) bool {
	prev, bad := -1, 0
	for _, e := range row {
		u := int(e.UID)
		bad |= b2i(u <= prev)
		prev = u
	}
	return bad == 0 && prev < n
}

// consensus is weightedMedianColSparse on the rows: the stake-weighted median of every
// column at majority kappa, over the uids with positive stake, absent entries counting as
// 0. Columns are gathered medianBlock at a time as in consensusAscending, but as the raw
// u16 weights (2 bytes a cell: the block of 64 columns × 256 voters is 33 KiB and stays in
// the first-level cache while it fills); each column is then normalised voter by voter
// (scoreColumn) into one reused column of scored entries and its quantile selected
// (columnQuantile).
//
// The columns are cut into p parts of whole blocks, each selected on its own goroutine
// with its own buffers (see parts.go).
func (w *weightRows) consensus(stake []Fixed, n int, kappa Fixed, p int, runAsm bool) []Fixed {
	var useStake []Fixed
	var vrows [][]Entry
	var vdiv []rowNorm
	for i, st := range stake {
		if st > 0 {
			useStake = append(useStake, st)
			vrows = append(vrows, w.rows[i])
			vdiv = append(vdiv, w.div[i]) // an empty row's is zero: its cells are absent, 0
		}
	}
	normalize(useStake)
	total := sumFixed(useStake)
	minority := total.SatSub(kappa)
	out := make([]Fixed, n)
	if len(vrows) == 0 {
		return out // every column is empty: 0
	}
	var vn *voterNorms // the score kernel's normalisers, if it runs
	if runAsm {
		if v, ok := newVoterNorms(vdiv); ok {
			vn = &v
		}
	}
	blocks := (n + medianBlock - 1) / medianBlock
	inParts(cuts(p, func(int) int { return 1 }, blocks), func(_, b0, b1 int) {
		consensusColumns(vrows, vdiv, vn, runAsm, useStake, minority, total, out, b0*medianBlock, min(n, b1*medianBlock))
	})
	return out
}

// medianBlock is the number of columns consensus gathers at a time.
const medianBlock = 64

// consensusColumns is consensus on columns lo..hi-1 (lo a multiple of medianBlock) of the
// voters' rows vrows, normalised by vdiv (through the score kernel with vn, if not nil;
// with asm, the gather, the first histogram and keepBucket take their kernels too), with
// the voters' normalised stakes, the minority point and their total: it writes
// out[lo:hi].
func consensusColumns(vrows [][]Entry, vdiv []rowNorm, vn *voterNorms, asm bool, stake []Fixed, minority, total Fixed, out []Fixed, lo, hi int) {
	k := len(vrows)
	m := newMedianScratch(stake)
	m.asm = asm
	pos := make([]int, k)
	if lo > 0 {
		for v, r := range vrows { // each row's first entry at or after column lo
			pos[v] = sort.Search(len(r), func(x int) bool { return int(r[x].UID) >= lo })
		}
	}
	stride := k + 8 // see consensusAscending
	blk := make([]uint16, medianBlock*stride)
	for j0 := lo; j0 < hi; j0 += medianBlock {
		bw := min(medianBlock, hi-j0)
		if noneIn(vrows, pos, j0+bw) {
			clear(out[j0 : j0+bw]) // no voter weights these columns: every median is 0
			continue
		}
		gatherVoters(blk, stride, vrows, pos, j0, bw, asm)
		for c := range bw {
			col, vals := m.b[0][:k], blk[c*stride:c*stride+k]
			var or uint64
			done := 0
			if vn != nil {
				or, done = scoreRun(col, vals, vn)
			}
			or |= scoreColumn(col[done:], vals[done:], vdiv[done:], done)
			out[j0+c] = columnQuantile(m, col, or, minority, total)
		}
	}
}

// noneIn reports whether no voter row holds a column below end from its cursor on (the
// rows are ascending): the block before end is then empty, its columns' medians 0 (a
// column of zeros; columnQuantile returns 0 for one), as the validators' own columns are
// in a subnet whose validators weight only miners.
func noneIn(vrows [][]Entry, pos []int, end int) bool {
	for v, r := range vrows {
		if p := pos[v]; p < len(r) && int(r[p].UID) < end {
			return false
		}
	}
	return true
}

// gatherVoters gathers every voter row's values at columns j0..j0+bw-1 into blk
// (column c's at blk[c*stride:], voter v's cell at its v), advancing the rows' cursors
// pos: with asm and whole groups of eight columns, eight rows at a time by the transpose
// kernel where each of the eight holds the whole block, and otherwise row by row.
func gatherVoters(blk []uint16, stride int, vrows [][]Entry, pos []int, j0, bw int, asm bool) {
	v := 0
	if asm && bw%8 == 0 {
		for ; v+8 <= len(vrows); v += 8 {
			if !gatherEight(blk[v:], stride, vrows[v:v+8], pos[v:v+8], j0, bw) {
				for u := v; u < v+8; u++ {
					pos[u] = gatherBlock(blk[u:], stride, vrows[u], pos[u], j0, bw)
				}
			}
		}
	}
	for ; v < len(vrows); v++ {
		pos[v] = gatherBlock(blk[v:], stride, vrows[v], pos[v], j0, bw)
	}
}

// gatherBlock copies row r's values at columns j0..j0+bw-1 (0 where absent) to
// dst[c*stride], starting at entry p, and returns the entry after them. The row is
// ascending: where it holds every column of the block, the copy is a plain loop.
//
// It is kept out of line (go:noinline): inlined into its large caller, the loop would
// share the caller's registers and spill its own to the stack.
//
//go:noinline
func gatherBlock(dst []uint16, stride int, r []Entry, p, j0, bw int) int {
	if holdsBlock(r, p, j0, bw) {
		for c, e := range r[p : p+bw] {
			dst[c*stride] = e.Value
		}
		return p + bw
	}
	for c := range bw {
		var x uint16
		if p < len(r) && int(r[p].UID) == j0+c {
			x = r[p].Value
			p++
		}
		dst[c*stride] = x
	}
	return p
}

// holdsBlock reports whether row r holds exactly columns j0..j0+bw-1 from entry p on:
// the row is ascending and distinct, so its first and last entries there say so.
func holdsBlock(r []Entry, p, j0, bw int) bool {
	return p+bw <= len(r) && int(r[p].UID) == j0 && int(r[p+bw-1].UID) == j0+bw-1
}

// gatherEight is gatherBlock for the eight rows (from entries pos) where each holds
// every column of the block (bw a multiple of 8), by the transpose kernel; it advances
// pos and reports true, or reports false and does nothing if one of them does not.
func gatherEight(dst []uint16, stride int, rows [][]Entry, pos []int, j0, bw int) bool {
	var src [8]*Entry
	for i, r := range rows[:8] {
		if !holdsBlock(r, pos[i], j0, bw) {
			return false
		}
		src[i] = &r[pos[i]]
	}
	_ = dst[(bw-1)*stride+7] // the kernel's last store
	gatherAVX2(&dst[0], uintptr(2*stride), &src, bw)
	for i := range pos[:8] {
		pos[i] += bw
	}
	return true
}

// scoreColumn normalises one column's raw weights (vals[v] of voter base+v, whose row
// normaliser is div[v]) into col[v] = mkScored(weight, base+v) and returns the OR of the
// weights. The loop makes no call and takes no branch: a shift and a multiplication
// (rowNorm.norm), the packing, and the OR.
//
// It is kept out of line (go:noinline): inlined into its large caller, the loop would
// share the caller's registers and spill its own to the stack.
//
//go:noinline
func scoreColumn(col []scored, vals []uint16, div []rowNorm, base int) uint64 {
	col = col[:len(vals)]
	div = div[:len(vals)]
	var or uint64
	for v, x := range vals {
		sc := div[v].norm(x)
		col[v] = scored(sc<<16 | uint64(base+v))
		or |= sc
	}
	return or
}

// emaRows is what the stored-form bonds walk produces.
type emaRows struct {
	trust, ranks []Fixed
	// ema[i] is row i of the EMA bonds, each cell packed as value<<16 | column (values are
	// in (0, 1], so 33 bits). (Recomputing the cells where dividends reads them instead
	// spares this 8-byte-a-cell write and read, but costs more than it saves.)
	ema  [][]uint64
	sums []Fixed // the EMA's column sums
}

// clipEMA is clipEMAStored on the stored-form rows: each weight normalised, clipped to the
// consensus (min), added to its row's trust and (times the row's active stake) its
// column's rank, and merged with the stored bond (masked where the column registered at
// or after lastTempo, converted to a proportion) into the EMA α·w + (1-α)·b, kept if
// positive; the EMA's column sums are added in row order.
//
// It departs from clipEMAStored in two places, neither changing a result: a weight clipped
// to a consensus of 0 is kept as 0 rather than dropped (it adds 0 to trust and ranks, and
// its EMA cell is α·0 + (1-α)·b = (1-α)·b, the cell of its bond alone, or 0 and dropped
// without a bond); and the sums use plain addition, since nothing saturates: with
// 0 ≤ α ≤ 1, each EMA value is at most α + (1-α) = 1 (0 ≤ w, b ≤ 1), so a column sum is
// at most N < 2^15, and a rank is at most Σ A_i ≤ 1.
//
// It reports false if some bonds row is not strictly ascending below n (validateRows'
// fast test), checked before any of its uids is used.
func (w *weightRows) clipEMA(s *EpochState, consensus, activeStake []Fixed, alpha Fixed, ws *Workspace, p int) (emaRows, bool) {
	n := s.N
	lastTempo := s.lastTempo()
	var lastReg uint64
	for _, r := range s.BlockAtRegistration {
		lastReg = max(lastReg, r)
	}
	e := emaRows{trust: make([]Fixed, n), ema: make([][]uint64, n)}
	cost := func(i int) int { return len(w.rows[i]) + len(s.Bonds[i]) }
	bound := 0
	for i := range n {
		bound += cost(i)
	}
	if cap(ws.packed) < bound {
		ws.packed = make([]uint64, bound)
	}
	c := cuts(p, func(i int) int { return cost(i) + 1 }, n)
	// Each part's rows carve their EMA from the packed buffer from the bound of the rows
	// before them, and sum into their own columns' ranks and EMA sums.
	cons := make([]uint64, n)
	for j, x := range consensus {
		cons[j] = uint64(x)
	}
	cols := make([]colSums, p)
	oks := make([]bool, p)
	inParts(c, func(k, lo, hi int) {
		off := 0
		for i := range lo {
			off += cost(i)
		}
		cols[k] = colSums{cons: cons, rank: make([]uint64, n), sum: make([]uint64, n)}
		b := bondsWalk{s: s, w: w, activeStake: activeStake, alpha: alpha, lastTempo: lastTempo,
			anyMasked: lastTempo <= lastReg, runAsm: ws.asm(), cols: &cols[k], e: &e}
		oks[k] = b.rows(lo, hi, ws.packed[off:bound])
	})
	e.ranks, e.sums = make([]Fixed, n), make([]Fixed, n)
	for k := range p {
		if !oks[k] {
			return e, false
		}
		for j := range n {
			e.ranks[j] += Fixed(cols[k].rank[j])
			e.sums[j] += Fixed(cols[k].sum[j])
		}
	}
	return e, true
}

// bondsWalk is clipEMA's walk over a range of rows.
type bondsWalk struct {
	s           *EpochState
	w           *weightRows
	activeStake []Fixed
	alpha       Fixed
	lastTempo   uint64
	anyMasked   bool
	runAsm      bool     // lockstep runs on consecutive columns go to the run kernel
	cols        *colSums // the range's column accumulators
	e           *emaRows // trust and ema written for the range's rows only
}

// rows walks rows lo..hi-1, carving their EMA from buf; it reports false if a bonds row
// is not strictly ascending below n.
func (bw *bondsWalk) rows(lo, hi int, buf []uint64) bool {
	s, w, cols, e := bw.s, bw.w, bw.cols, bw.e
	n := s.N
	registered := s.BlockAtRegistration
	alpha, lastTempo := bw.alpha, bw.lastTempo
	oneMinus := One - alpha
	plain := 0 < alpha && alpha < One // see emaLockstep
	var clip []uint64                 // emaLockstep's scratch
	for i := lo; i < hi; i++ {
		nr, or := w.rows[i], s.Bonds[i]
		if len(nr) == 0 && len(or) == 0 {
			continue
		}
		d, scale := w.div[i], bw.activeStake[i]
		dst := buf[:len(nr)+len(or)]
		var tv Fixed
		k, p, b := 0, 0, 0
		lock := !bw.anyMasked && plain && scale < One
		for p < len(nr) || b < len(or) {
			if lock && p+1 < len(nr) && b+1 < len(or) && nr[p].UID == or[b].UID && nr[p+1].UID == or[b+1].UID {
				// A lockstep run (at least two cells): the merge's "both" case throughout.
				// Its bonds' uids are its weights', so in range and ascending, and above
				// the bond before it (consumed at or below an earlier weight's column).
				r := lockstepRun(nr[p:], or[b:], bw.runAsm)
				rn, ro := nr[p:p+r], or[b:b+r]
				for q := 0; q < r; {
					// The run's pieces on consecutive columns go to the run kernel, the
					// rest (and the kernel's last cells) to emaLockstep.
					m, done := scalarPiece, 0
					if bw.runAsm && d.s <= 32 {
						m = consecutiveRun(r-q, func(x int) int { return int(rn[q+x].UID) })
						if m >= runMin {
							kk, tt, dn := emaRun(dst[k:], rn[q:q+m], ro[q:q+m], d, cols, uint64(scale), uint64(alpha), uint64(oneMinus))
							k, tv, done = k+kk, tv+tt, dn
						} else {
							m = max(m, scalarPiece)
						}
					}
					m = min(m, r-q)
					if cap(clip) < m-done {
						clip = make([]uint64, m-done)
					}
					kr, tr := emaLockstep(dst[k:], rn[q+done:q+m], ro[q+done:q+m], d, cols, uint64(scale), uint64(alpha), uint64(oneMinus), clip)
					k, tv = k+kr, tv+tr
					q += m
				}
				p, b = p+r, b+r
				continue
			}
			// The bond row's check (validateRows' fast test), before its uid is used: the
			// lockstep run's columns were the weights row's, ascending below n.
			if b < len(or) && (int(or[b].UID) >= n || (b > 0 && or[b].UID <= or[b-1].UID)) {
				return false
			}
			if b < len(or) && lastTempo <= registered[or[b].UID] {
				b++ // bond on a uid registered since the last epoch: masked
				continue
			}
			var j int
			var v Fixed
			switch {
			case b == len(or) || (p < len(nr) && nr[p].UID < or[b].UID):
				j = int(nr[p].UID)
				c := min(Fixed(d.norm(nr[p].Value)), Fixed(cols.cons[j]))
				tv += c
				cols.rank[j] += uint64(scale.SatMul(c))
				v = alpha.SatMul(c)
				p++
			case p == len(nr) || or[b].UID < nr[p].UID:
				j = int(or[b].UID)
				v = oneMinus.SatMul(U16Proportion(or[b].Value))
				b++
			default:
				j = int(nr[p].UID)
				c := min(Fixed(d.norm(nr[p].Value)), Fixed(cols.cons[j]))
				tv += c
				cols.rank[j] += uint64(scale.SatMul(c))
				v = alpha.SatMul(c) + oneMinus.SatMul(U16Proportion(or[b].Value))
				p++
				b++
			}
			cols.sum[j] += uint64(v)
			dst[k] = uint64(v)<<16 | uint64(j)
			k += b2i(v > 0)
		}
		e.trust[i] = tv
		e.ema[i] = buf[:k:k]
		buf = buf[k:]
	}
	return true
}

// colSums is the columns' consensus and their ranks and EMA sums as clipEMA accumulates
// them (one array each: the run kernel reads and writes each as a vector).
type colSums struct{ cons, rank, sum []uint64 }

// lockstepRun is the number of leading entries of nr and or on the same columns; with
// asm, the run kernels' loop compares them eight at a time first.
//
// It is kept out of line (go:noinline): inlined into its large caller, the loop would
// share the caller's registers and spill its own to the stack.
//
//go:noinline
func lockstepRun(nr, or []Entry, asm bool) int {
	or = or[:min(len(or), len(nr))]
	nr = nr[:len(or)]
	start := 0
	if asm && len(or) >= 8 {
		start = lockstepAVX2(&nr[0], &or[0], len(or))
	}
	for p := start; p < len(or); p++ {
		if nr[p].UID != or[p].UID {
			return p
		}
	}
	return len(or)
}

// emaLockstep is clipEMA's merge on rows nr of weights (normaliser d) and or of stored
// bonds that hold the same columns (lockstepRun: every cell when validators weight and
// bond the same miners), in a state where no bonded column is masked: the merge's "both"
// case throughout. It returns the cells written to dst and the row's trust; clip is
// scratch for the row.
//
// The loops make no call and take no branch but their own: the first normalises each
// weight (a shift and a multiplication) and clips it to the consensus (a min); the
// second adds it to trust and, times the active stake, to its column's rank, forms the
// EMA (emaCell), adds it to its column's sum and writes it, kept by advancing k only if
// positive. Split in two, each loop has few enough values live to keep them in registers
// (the multiplication of norm claims two). The products are plain 64-bit
// multiplications, exact because no operand pair reaches 2^64: the caller ensures scale
// < 1 and 0 < α < 1, so 1-α < 1, while c, b ≤ 1; the sums do not saturate (see clipEMA).
//
//go:noinline
func emaLockstep(dst []uint64, nr, or []Entry, d rowNorm, cols *colSums, scale, alpha, oneMinus uint64, clip []uint64) (k int, trust Fixed) {
	clip = clipStored(clip, nr, d, cols.cons)
	or = or[:len(clip)]
	dst = dst[:len(clip)]
	rank, sum := cols.rank, cols.sum
	var tv uint64
	for p, y := range or {
		c := clip[p]
		tv += c
		rank[y.UID] += scale * c >> fracBits
		v := emaCell(alpha, oneMinus, c, y.Value)
		sum[y.UID] += v
		dst[k] = v<<16 | uint64(y.UID)
		k += b2i(v > 0)
	}
	return k, Fixed(tv)
}

// clipStored writes to clip each weight of nr normalised by d and clipped to its column's
// consensus, and returns it.
//
//go:noinline
func clipStored(clip []uint64, nr []Entry, d rowNorm, cons []uint64) []uint64 {
	clip = clip[:len(nr)]
	for p, x := range nr {
		clip[p] = min(d.norm(x.Value), cons[x.UID])
	}
	return clip
}

// emaCell is the EMA of clipped weight c and stored bond b (u16): α·c + (1-α)·b/65535,
// each product floored, for α and 1-α below 1 and c ≤ 1 (see emaLockstep).
func emaCell(alpha, oneMinus, c uint64, b uint16) uint64 {
	return alpha*c>>fracBits + oneMinus*uint64(U16Proportion(b))>>fracBits
}

// dividends is yuma3BondIncentive on the packed EMA: for each validator the sum over its
// bonds of (bond / column sum) × incentive, and the bonds to store, floor(b × 65535), for
// uids with a new permit (the others store an empty row).
//
// The column sums are at least every value in their column (they sum it, all positive),
// so each quotient is at most 1 and safe_div is the plain truncated quotient
// floor(b·2^32 / sum); for b < 1 it is taken through the column's reciprocal (b·2^32 <
// 2^64, see divisor). The stored value is floor(b·65535) without ToU16Proportion's
// clamps, since 0 < b ≤ 1.
func (e *emaRows) dividends(incentive []Fixed, permits []bool, p int, asm bool) ([]Fixed, [][]Entry) {
	n := len(e.sums)
	// Each column's divisor (the sum and its reciprocal, one array each: the run kernel
	// reads them as vectors) and incentive.
	cd := colDivisors{d: make([]uint64, n), m: make([]uint64, n), inc: make([]uint64, n)}
	below := true // every incentive below 1, as the run kernel needs
	for j, s := range e.sums {
		if s > 0 {
			v := newDivisor(uint64(s))
			cd.d[j], cd.m[j] = v.d, v.m
		}
		cd.inc[j] = uint64(incentive[j])
		below = below && incentive[j] < One
	}
	runAsm := asm && below
	// Each permitted row's stored form from its offset in one allocation for all rows.
	offs := make([]int, n+1)
	for i, row := range e.ema {
		offs[i+1] = offs[i]
		if permits[i] {
			offs[i+1] += len(row)
		}
	}
	entries := make([]Entry, offs[n])
	stored := make([][]Entry, n)
	out := make([]Fixed, n)
	inc := incentive[:n]
	inParts(cuts(p, func(i int) int { return len(e.ema[i]) + 1 }, n), func(_, lo, hi int) {
		var scratch []Entry // the stored form of rows not stored
		for i := lo; i < hi; i++ {
			row := e.ema[i]
			var dst []Entry
			if permits[i] {
				dst = entries[offs[i]:offs[i+1]:offs[i+1]]
				stored[i] = dst
			} else {
				stored[i] = []Entry{}
				if cap(scratch) < len(row) {
					scratch = make([]Entry, len(row))
				}
				dst = scratch[:len(row)]
			}
			var acc Fixed
			var wide uint64
			for q := 0; q < len(row); {
				// The row's pieces on consecutive columns go to the dividend kernel, the
				// rest (and the kernel's last cells) to dividendRow.
				m, done := scalarPiece, 0
				if runAsm {
					m = consecutiveRun(len(row)-q, func(x int) int { return int(row[q+x] & 0xffff) })
					if m >= runMin {
						a, w, dn := dividendRun(dst[q:], row[q:q+m], &cd)
						acc, wide, done = acc+a, wide|w, dn
					} else {
						m = max(m, scalarPiece)
					}
				}
				m = min(m, len(row)-q)
				a, w := dividendRow(dst[q+done:q+m], row[q+done:q+m], &cd)
				acc, wide = acc+a, wide|w
				q += m
			}
			if wide>>fracBits != 0 {
				// A bond or a quotient and an incentive of exactly 1: the row again, with
				// the general arithmetic.
				acc = 0
				for _, c := range row {
					j, v := c&0xffff, c>>16
					acc += Fixed(v).SafeDiv(e.sums[j]).SatMul(inc[j])
				}
			}
			out[i] = acc
		}
	})
	return out, stored
}

// dividendRow is dividends on one row: it writes the stored form of each cell to dst and
// returns Σ floor(q·incentive_j / 2^32) with q = floor(v·2^32 / sum_j) through the
// column's reciprocal, all in plain 64-bit arithmetic, without a call or a branch. That is
// exact unless v = 1 (v·2^32 does not fit) or q = incentive_j = 1 (the product does not):
// then, and only then, bit 32 of the OR it returns is set (every v, q and incentive is at
// most 1 = 2^32, so bit 32 of a value is set only if it is 1), and the caller recomputes.
//
// It is kept out of line (go:noinline): inlined into its large caller, the loop would
// share the caller's registers and spill its own to the stack.
//
//go:noinline
func dividendRow(dst []Entry, row []uint64, cd *colDivisors) (acc Fixed, wide uint64) {
	dst = dst[:len(row)]
	dd, dm, inc := cd.d, cd.m, cd.inc
	var sum uint64
	for k, c := range row {
		j, v := c&0xffff, c>>16
		q := divisor{dd[j], dm[j]}.quo(v << fracBits)
		x := inc[j]
		sum += q * x >> fracBits
		wide |= v | q&x
		dst[k] = Entry{uint16(j), uint16(v * 65535 >> fracBits)}
	}
	return Fixed(sum), wide
}
