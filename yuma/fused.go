package yuma

// This file holds the fused paths of the bonds step, taken when the bonds penalty is 1 and
// every weights and bonds row is ascending (what the chain stores): each row is clipped,
// summed into trust and ranks and merged with the stored bonds into the EMA in one walk,
// with the same arithmetic in the same order as the step-by-step functions they replace
// (TestFusedMatchesStepByStep compares the two). matEMAStored, the stored-bond merge alone,
// serves the step-by-step path of Yuma3 without liquid alpha.

// clipEMAStored is clipTrustRanks followed by matEMAStored on the clipped weights, or
// with e.liquid by computeBondsSparse's liquid-alpha EMA (the default path: bonds penalty
// 1, Yuma3, every row ascending), done row by row so that each clipped row is merged while
// it is still in cache; the clipped rows go to one reused row buffer, and weights is left
// as it was. Each row's EMA depends only on that row, and the rank and column sums are
// added in row order in both, so the results are the same.
func clipEMAStored(weights sparse, consensus, activeStake []Fixed, n int, e storedEMA, a *rowArena) (trust, ranks []Fixed, ema sparse) {
	trust = make([]Fixed, len(weights))
	ranks = make([]Fixed, n)
	ema = make(sparse, len(weights))
	a.reset()
	var clipped []cell // one row, reused: the clipped weights are not needed afterwards
	for i, row := range weights {
		var scale Fixed
		if i < len(activeStake) {
			scale = activeStake[i]
		}
		if cap(clipped) < len(row) {
			clipped = make([]cell, len(row))
		}
		var r []cell
		r, trust[i] = clipRowTo(clipped, row, consensus, scale, ranks, n)
		if e.liquid != nil {
			ema[i] = e.rowLiquid(i, r, a)
		} else {
			ema[i] = e.row(i, r, a)
		}
	}
	return trust, ranks, ema
}

// clipOriginalEMA is, for original Yuma with bonds penalty 1 and every row ascending, the
// steps from clipping to the EMA bonds: clipTrustRanks (in place), readBonds (raw u16),
// colNormalize of the bonds, rowHadamard of the clipped weights by active stake,
// colNormalize of that, and matEMA. It takes two passes over the rows instead of
// subtensor's eight: the delta's column sums are the ranks (the same products, summed in
// the same order) and the bonds' column sums are read ahead, so each cell is normalised
// as the merge reaches it. It also returns the EMA's column sums (summed in row order,
// as colNormalize would).
func (s *EpochState) clipOriginalEMA(weights sparse, consensus, activeStake []Fixed, lastTempo uint64, alpha Fixed, a *rowArena) (trust, ranks []Fixed, ema sparse, emaSums []Fixed) {
	n := s.N
	trust, ranks = weights.clipTrustRanks(consensus, activeStake, n)
	masked := func(uid uint16) bool { return lastTempo <= s.BlockAtRegistration[uid] }
	bondSums := make([]Fixed, n)
	for _, row := range s.Bonds {
		for _, e := range row {
			if !masked(e.UID) {
				bondSums[e.UID] = bondSums[e.UID].SatAdd(FixedFromU16(e.Value))
			}
		}
	}
	// A cell of the normalised delta and of the normalised bonds.
	delta := func(i int, c cell) Fixed {
		v := c.v.SatMul(activeStake[i])
		if d := ranks[c.j]; d != 0 {
			v = v.SafeDiv(d)
		}
		return v
	}
	bond := func(e Entry) Fixed {
		v := FixedFromU16(e.Value)
		if d := bondSums[e.UID]; d != 0 {
			v = v.SafeDiv(d)
		}
		return v
	}
	oneMinus := One.SatSub(alpha)
	emaSums = make([]Fixed, n)
	ema = make(sparse, len(weights))
	a.reset()
	for i, nr := range weights {
		var or []Entry
		if i < len(s.Bonds) {
			or = s.Bonds[i]
		}
		if len(nr) == 0 && len(or) == 0 {
			continue
		}
		dst := a.reserve(len(nr) + len(or))
		w, p, b := 0, 0, 0
		for p < len(nr) || b < len(or) {
			if b < len(or) && masked(or[b].UID) {
				b++
				continue
			}
			var j uint16
			var v Fixed
			switch {
			case b == len(or) || (p < len(nr) && nr[p].j < or[b].UID):
				j, v = nr[p].j, alpha.SatMul(delta(i, nr[p]))
				p++
			case p == len(nr) || or[b].UID < nr[p].j:
				j, v = or[b].UID, oneMinus.SatMul(bond(or[b]))
				b++
			default:
				j, v = nr[p].j, alpha.SatMul(delta(i, nr[p])).SatAdd(oneMinus.SatMul(bond(or[b])))
				p++
				b++
			}
			if v > 0 {
				dst[w] = cell{j, v}
				emaSums[j] = emaSums[j].SatAdd(v)
				w++
			}
		}
		ema[i] = a.commit(w)
	}
	return trust, ranks, ema, emaSums
}

// originalDividends is, after clipOriginalEMA, colNormalize of the EMA bonds (by sums),
// the dividends matmulTranspose(ema, incentive), and colMaxUpscale, whose result is
// stored (floor(b × 65535)) for uids with a new permit and empty for the others: two
// passes over the rows instead of five. ema is normalised in place.
func originalDividends(ema sparse, incentive []Fixed, permits []bool, sums []Fixed) ([]Fixed, [][]Entry) {
	maxs := make([]Fixed, len(sums))
	dividends := make([]Fixed, len(ema))
	total := 0
	for i, row := range ema {
		var acc Fixed
		for k, c := range row {
			v := c.v
			if d := sums[c.j]; d != 0 {
				v = v.SafeDiv(d)
			}
			row[k].v = v
			var x Fixed
			if int(c.j) < len(incentive) {
				x = incentive[c.j]
			}
			acc = acc.SatAdd(x.SatMul(v))
			maxs[c.j] = maxF(maxs[c.j], v)
		}
		dividends[i] = acc
		if i < len(permits) && permits[i] {
			total += len(row)
		}
	}
	stored := make([][]Entry, len(permits))
	entries := make([]Entry, total) // one allocation for all rows
	for i := range stored {
		if !permits[i] || i >= len(ema) {
			stored[i] = []Entry{}
			continue
		}
		row := ema[i]
		dst := entries[:len(row):len(row)]
		entries = entries[len(row):]
		for k, c := range row {
			v := c.v
			if m := maxs[c.j]; m != 0 {
				v = v.SafeDiv(m)
			}
			dst[k] = Entry{c.j, v.ToU16Proportion()}
		}
		stored[i] = dst
	}
	return dividends, stored
}

// storedEMA merges rows of new values with the stored bonds, as matEMAStored does.
type storedEMA struct {
	stored          [][]Entry
	registered      []uint64
	lastTempo       uint64
	alpha, oneMinus Fixed
	sums            []Fixed
	// With liquid, rowLiquid's per-cell alphas (and the consensus they read) replace
	// the fixed alpha.
	liquid    *alphaCache
	consensus []Fixed
}

func newStoredEMA(stored [][]Entry, registered []uint64, lastTempo uint64, alpha Fixed, sums []Fixed) storedEMA {
	return storedEMA{stored: stored, registered: registered, lastTempo: lastTempo, alpha: alpha, oneMinus: One.SatSub(alpha), sums: sums}
}

// row returns the EMA of new row nr and stored row i, carved from a (nil if both inputs
// are empty).
func (e *storedEMA) row(i int, nr []cell, a *rowArena) []cell {
	alpha, oneMinus, sums, registered, lastTempo := e.alpha, e.oneMinus, e.sums, e.registered, e.lastTempo
	var or []Entry
	if i < len(e.stored) {
		or = e.stored[i]
	}
	if len(nr) == 0 && len(or) == 0 {
		return nil
	}
	dst := a.reserve(len(nr) + len(or))
	w, p, b := 0, 0, 0
	// Lockstep run: while the next weight and the next bond are on the same column and the
	// bond is not masked (every cell when validators weight and bond the same miners), this
	// is the merge's "both" case without its other tests. The first cell that breaks the
	// run goes to the general merge below.
	for p < len(nr) && b < len(or) {
		x, y := nr[p], or[b]
		if x.j != y.UID || lastTempo <= registered[y.UID] {
			break
		}
		v := alpha.SatMul(x.v).SatAdd(oneMinus.SatMul(U16Proportion(y.Value)))
		dst[w] = cell{x.j, v}
		if v > 0 {
			sums[x.j] = sums[x.j].SatAdd(v)
			w++
		}
		p++
		b++
	}
	for p < len(nr) || b < len(or) {
		if b < len(or) && lastTempo <= registered[or[b].UID] {
			b++ // bond on a uid registered since the last epoch: masked
			continue
		}
		switch {
		case b == len(or) || (p < len(nr) && nr[p].j < or[b].UID):
			dst[w] = cell{nr[p].j, alpha.SatMul(nr[p].v)}
			p++
		case p == len(nr) || or[b].UID < nr[p].j:
			dst[w] = cell{or[b].UID, oneMinus.SatMul(U16Proportion(or[b].Value))}
			b++
		default:
			dst[w] = cell{nr[p].j, alpha.SatMul(nr[p].v).SatAdd(oneMinus.SatMul(U16Proportion(or[b].Value)))}
			p++
			b++
		}
		if dst[w].v > 0 {
			sums[dst[w].j] = sums[dst[w].j].SatAdd(dst[w].v)
			w++
		}
	}
	return a.commit(w)
}

// rowLiquid is row for liquid alpha: mat_ema_alpha_sparse on ascending rows. For each
// weight w at column j, with b the stored bond at j (masked, as a proportion; 0 if none)
// and α = alpha_sigmoid(consensus_j, w, b), the cell is min(1, (1-α)·b + max(0, α·w)),
// kept if positive; a bond without a weight is dropped. On ascending rows the value
// subtensor's forward-only cursor reads at j is the row's value there, so one merge walk
// gives the same alphas as computeBondsSparse.
func (e *storedEMA) rowLiquid(i int, nr []cell, a *rowArena) []cell {
	if len(nr) == 0 {
		return nil
	}
	var or []Entry
	if i < len(e.stored) {
		or = e.stored[i]
	}
	dst := a.reserve(len(nr))
	w, b := 0, 0
	for _, x := range nr {
		for b < len(or) && or[b].UID < x.j {
			b++
		}
		var bond Fixed
		if b < len(or) && or[b].UID == x.j && e.lastTempo > e.registered[x.j] {
			bond = U16Proportion(or[b].Value)
		}
		al := e.liquid.alpha(e.consensus[x.j], x.v, bond)
		decayed := One.SatSub(al).SatMul(bond)
		inc := maxF(al.SatMul(x.v), 0)
		if v := minF(decayed.SatAdd(inc), One); v > 0 {
			dst[w] = cell{x.j, v}
			e.sums[x.j] = e.sums[x.j].SatAdd(v)
			w++
		}
	}
	return a.commit(w)
}

// matEMAStored is matEMA(newM, readBonds(lastTempo, proportion = true), alpha) for rows in
// ascending column order (newM's and the stored bonds'): the stored bonds are masked
// (dropped where lastTempo <= the column's registration block) and converted to u16/65535
// proportions as the merge reaches them, with the same arithmetic as the two steps. It
// adds each kept value to sums[column] (rows in order, as a later column sum would).
//
// The rows are carved from a (reset first).
func matEMAStored(newM sparse, stored [][]Entry, registered []uint64, lastTempo uint64, alpha Fixed, a *rowArena, sums []Fixed) sparse {
	e := newStoredEMA(stored, registered, lastTempo, alpha, sums)
	out := make(sparse, len(newM))
	a.reset()
	for i, nr := range newM {
		out[i] = e.row(i, nr, a)
	}
	return out
}
