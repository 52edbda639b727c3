package yuma

// This file holds the bonds step of the sparse epoch: from the normalised weights and the
// consensus to the clipped weights' trust and ranks, the EMA bonds, and from those the
// dividends and the bonds to store. sparseBonds chooses between the fused paths (fused.go),
// taken on the chain's common states, and the step-by-step one, which follows subtensor's
// functions one by one and serves every other state.

// bondsStep is what the steps from clipping to the bonds' EMA produce.
type bondsStep struct {
	trust []Fixed // validator trust: row sums of the clipped weights
	ranks []Fixed // Σ_i A_i W̄_ij, the incentive before normalisation
	ema   sparse  // the EMA bonds
	// colSums are the EMA's column sums where the path summed them (a fused path, or the
	// stored-bond merge), else nil.
	colSums []Fixed
	// original is set by the fused original-Yuma path: ema is not yet column-normalised
	// and its dividends are taken with the sums (originalDividends).
	original bool
}

// sparseBonds is the epoch's clipping, validator trust, ranks and bonds' EMA. The default
// path (bonds penalty 1, weights and stored bonds ascending) is fused: Yuma3 (with or
// without liquid alpha) by clipEMAStored, original Yuma by clipOriginalEMA. Any other
// state takes stepBonds.
func (s *EpochState) sparseBonds(p params, weights sparse, consensus, activeStake []Fixed, wSorted, bSorted bool, ws *Workspace) bondsStep {
	n := s.N
	lastTempo := s.lastTempo()
	if p.bondsPenalty != One || !wSorted || !bSorted || ws.unfused {
		return s.stepBonds(p, weights, consensus, activeStake, wSorted, bSorted, ws)
	}
	var b bondsStep
	if !s.Yuma3 {
		// Original Yuma: clipping to the EMA bonds in two passes.
		b.trust, b.ranks, b.ema, b.colSums = s.clipOriginalEMA(weights, consensus, activeStake, lastTempo, p.emaAlpha, &ws.emaRows)
		b.original = true
		return b
	}
	// interpolate_sparse returns the clipped weights for ratio 1, so the bonds' EMA reads
	// the clipped rows, each merged as soon as it is clipped. The stored bonds are read
	// (masked, as proportions) during the merge, without materialising them first.
	b.colSums = make([]Fixed, n)
	e := newStoredEMA(s.Bonds, s.BlockAtRegistration, lastTempo, p.emaAlpha, b.colSums)
	if liquidActive(s, consensus) {
		e.liquid, e.consensus = newAlphaCache(p), consensus
	}
	b.trust, b.ranks, b.ema = clipEMAStored(weights, consensus, activeStake, n, e, &ws.emaRows)
	return b
}

// stepBonds is sparseBonds step by step, in subtensor's functions: col_clip_sparse with
// row_sum_sparse and matmul_sparse (clipTrustRanks), interpolate_sparse by the bonds
// penalty, then the bonds' EMA, Yuma3's compute_bonds_sparse or original Yuma's
// compute_ema_bonds_normal_sparse (originalEMA). wSorted and bSorted assert that the
// weights and the stored bonds are ascending.
func (s *EpochState) stepBonds(p params, weights sparse, consensus, activeStake []Fixed, wSorted, bSorted bool, ws *Workspace) bondsStep {
	n := s.N
	lastTempo := s.lastTempo()
	// A copy is clipped unless the bonds penalty is 1 (then the unclipped weights are not
	// read again).
	clipped := weights
	if p.bondsPenalty != One {
		clipped = weights.clone()
	}
	var b bondsStep
	b.trust, b.ranks = clipped.clipTrustRanks(consensus, activeStake, n)
	weightsForBonds := interpolate(weights, clipped, n, p.bondsPenalty)
	switch {
	case !s.Yuma3:
		b.ema = s.originalEMA(weightsForBonds, activeStake, lastTempo, p.emaAlpha, wSorted, ws)
	case wSorted && bSorted && !liquidActive(s, consensus):
		b.colSums = make([]Fixed, n)
		b.ema = matEMAStored(weightsForBonds, s.Bonds, s.BlockAtRegistration, lastTempo,
			p.emaAlpha, &ws.emaRows, b.colSums)
	default:
		bonds, sorted := s.readBonds(lastTempo, true, take(&ws.bonds, nnzRows(s.Bonds)))
		b.ema = computeBondsSparse(s, p, weightsForBonds, bonds, consensus,
			take(&ws.ema, weightsForBonds.nnz()+bonds.nnz()), wSorted && sorted)
	}
	return b
}

// originalEMA is compute_ema_bonds_normal_sparse, original Yuma's bonds: the stored bonds
// (raw u16, masked) column-normalised, the delta Wb ∘ A column-normalised, and their EMA
// at the fixed alpha.
func (s *EpochState) originalEMA(weightsForBonds sparse, activeStake []Fixed, lastTempo uint64, alpha Fixed, wSorted bool, ws *Workspace) sparse {
	n := s.N
	bonds, bSorted := s.readBonds(lastTempo, false, take(&ws.bonds, nnzRows(s.Bonds)))
	bonds.colNormalize(n)
	delta := weightsForBonds.rowHadamard(activeStake, take(&ws.delta, weightsForBonds.nnz()))
	delta.colNormalize(n)
	return matEMA(delta, bonds, alpha, n, take(&ws.ema, delta.nnz()+bonds.nnz()), wSorted && bSorted)
}

// dividends is the epoch's dividends step on b's EMA bonds and the (normalised) incentive,
// with the bonds to store: the EMA row for uids with a new permit, an empty row for every
// other uid. Yuma3: normalize(A ∘ row_sum(col_normalize(ema) × incentive)), bonds stored as
// proportions. Original Yuma: normalize(col_normalize(ema) · incentive), bonds stored
// column-max-upscaled. b.ema may be modified.
func (b *bondsStep) dividends(yuma3 bool, incentive, activeStake []Fixed, newPermits []bool, n int) ([]Fixed, [][]Entry) {
	var dividends []Fixed
	var stored [][]Entry
	switch {
	case yuma3:
		var perValidator []Fixed
		perValidator, stored = yuma3BondIncentive(b.ema, incentive, n, newPermits, b.colSums)
		dividends = vecMul(perValidator, activeStake)
	case b.original:
		dividends, stored = originalDividends(b.ema, incentive, newPermits, b.colSums)
	default:
		b.ema.colNormalize(n)
		dividends = b.ema.matmulTranspose(incentive)
		b.ema.colMaxUpscale(n)
		stored = storedBondRows(b.ema, newPermits, n)
	}
	normalize(dividends)
	return dividends, stored
}

// readBonds reads the stored bonds (raw u16 as I32F32, or as proportions u16/65535 for
// Yuma3) and drops the columns of uids registered at or after lastTempo. The rows are
// carved from buf (see take). It also reports whether every row is in strictly ascending
// column order.
func (s *EpochState) readBonds(lastTempo uint64, proportion bool, buf []cell) (sparse, bool) {
	out := make(sparse, s.N)
	buf = buf[:0]
	sorted := true
	for i, row := range s.Bonds {
		start := len(buf)
		prev := -1
		for _, e := range row {
			if lastTempo <= s.BlockAtRegistration[e.UID] {
				continue
			}
			if int(e.UID) <= prev {
				sorted = false
			}
			prev = int(e.UID)
			v := FixedFromU16(e.Value)
			if proportion {
				v = U16Proportion(e.Value)
			}
			buf = append(buf, cell{e.UID, v})
		}
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out, sorted
}

// computeBondsSparse is compute_bonds_sparse (Yuma3): with liquid alpha on and a non-zero
// consensus, the per-cell liquid EMA of mat_ema_alpha_sparse, which keeps only the columns
// present in the row of weights (an old bond with no weight entry is dropped, not decayed);
// otherwise the fixed-alpha EMA of mat_ema_sparse.
func computeBondsSparse(s *EpochState, p params, w, b sparse, consensus []Fixed, buf []cell, sorted bool) sparse {
	n := s.N
	if !liquidActive(s, consensus) {
		return matEMA(w, b, p.emaAlpha, n, buf, sorted)
	}
	// Subtensor computes an n×n matrix of alphas; only the alphas at the columns of each
	// weight row reach the result, so only those are computed (each costs an exp series).
	// The values it reads at column j come from a forward-only merge over the stored rows,
	// reproduced by mergedValues once per row.
	wv := make([]Fixed, n)
	bv := make([]Fixed, n)
	ac := newAlphaCache(p)
	cur := -1
	alphaOf := func(i int, j uint16) Fixed {
		if i != cur {
			cur = i
			mergedValues(wv, w[i])
			var or []cell
			if i < len(b) {
				or = b[i]
			}
			mergedValues(bv, or)
		}
		return ac.alpha(consensus[j], wv[j], bv[j])
	}
	return matEMAAlphaSparse(w, b, n, alphaOf, buf)
}

// matEMAAlphaSparse is mat_ema_alpha_sparse with the alpha matrix given as a function (only
// evaluated at the columns of each new row, once per cell): per row, for each column j of
// the new row, min(1, (1-α_ij)·old_ij + max(0, α_ij·new_ij)), kept if positive, in the new
// row's order. Old entries without a new entry are dropped. cols is the width of the alpha
// matrix; columns at or beyond it are ignored.
func matEMAAlphaSparse(newM, oldM sparse, cols int, alphaOf func(i int, j uint16) Fixed, buf []cell) sparse {
	out := make(sparse, len(newM))
	av := make([]Fixed, cols)
	mark := make([]int, cols) // i+1 where the column is in new row i
	decayed := make([]Fixed, cols)
	buf = buf[:0]
	for i, nr := range newM {
		if len(nr) == 0 {
			continue
		}
		for _, c := range nr {
			if int(c.j) < cols && mark[c.j] != i+1 {
				av[c.j] = alphaOf(i, c.j)
				mark[c.j] = i + 1
				decayed[c.j] = 0
			}
		}
		if i < len(oldM) {
			for _, c := range oldM[i] {
				if int(c.j) < cols && mark[c.j] == i+1 {
					decayed[c.j] = One.SatSub(av[c.j]).SatMul(c.v)
				}
			}
		}
		start := len(buf)
		for _, c := range nr {
			if int(c.j) >= cols {
				continue
			}
			inc := maxF(av[c.j].SatMul(c.v), 0)
			if v := minF(decayed[c.j].SatAdd(inc), One); v > 0 {
				buf = append(buf, cell{c.j, v})
			}
		}
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// yuma3BondIncentive is row_sum_sparse(mat_vec_mul_sparse(col_normalize(ema), incentive)):
// for each validator the sum over its bonds of (bond / column sum) × incentive. It is
// computed without materialising the normalised and multiplied matrices (two copies of
// every bond); dropping the zero products, as mat_vec_mul_sparse does, changes no sum.
// In the same pass it converts the rows of uids with a new permit into the bonds to store,
// floor(b × 65535) (the other rows are stored empty); with a nil permits it only sums.
//
// sums, if not nil, are the column sums of ema (summed in row order, as here), already
// computed by the step that produced it.
func yuma3BondIncentive(ema sparse, incentive []Fixed, n int, permits []bool, sums []Fixed) ([]Fixed, [][]Entry) {
	if sums == nil {
		sums = make([]Fixed, n)
		for _, row := range ema {
			for _, c := range row {
				if int(c.j) < n {
					sums[c.j] = sums[c.j].SatAdd(c.v)
				}
			}
		}
	}
	var stored [][]Entry
	var entries []Entry
	if permits != nil {
		stored = make([][]Entry, len(permits))
		total := 0
		for i := range permits {
			if permits[i] && i < len(ema) {
				total += len(ema[i])
			}
		}
		entries = make([]Entry, total) // one allocation for all rows
	}
	out := make([]Fixed, len(ema))
	for i, row := range ema {
		var dst []Entry
		if permits != nil && i < len(permits) && permits[i] {
			dst, entries = entries[:len(row):len(row)], entries[len(row):]
		}
		var acc Fixed
		for k, c := range row {
			if dst != nil {
				dst[k] = Entry{c.j, c.v.ToU16Proportion()}
			}
			if int(c.j) >= len(incentive) {
				continue
			}
			v := c.v
			if int(c.j) < n && sums[c.j] != 0 {
				// SafeDiv, with its common case (a bond below 1 over a larger positive
				// column sum: no overflow possible) written out to avoid the call.
				if d := sums[c.j]; uint64(v) < 1<<32 && d > 0 && uint64(v)>>31 < uint64(d) {
					v = Fixed(uint64(v) << fracBits / uint64(d))
				} else {
					v = v.SafeDiv(d)
				}
			}
			acc += v.SatMul(incentive[c.j])
		}
		out[i] = acc
		if stored != nil && i < len(stored) {
			if dst == nil {
				dst = []Entry{}
			}
			stored[i] = dst
		}
	}
	for i := range stored {
		if stored[i] == nil {
			stored[i] = []Entry{}
		}
	}
	return out, stored
}

// vecMul is vec_mul: element-wise checked product, 0 on overflow.
func vecMul(a, b []Fixed) []Fixed {
	out := make([]Fixed, min(len(a), len(b)))
	for i := range out {
		if v, ok := a[i].CheckedMul(b[i]); ok {
			out[i] = v
		}
	}
	return out
}
