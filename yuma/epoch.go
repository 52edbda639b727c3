package yuma

import (
	"math"
	"math/bits"
)

// params holds the hyperparameters converted to fixed point exactly as subtensor does.
type params struct {
	kappa        Fixed // Kappa / 65535, truncated
	bondsPenalty Fixed // BondsPenalty / 65535
	emaAlpha     Fixed // 1 - BondsMovingAverage / 1e6 (I64F64 quotient truncated to I32F32)
	alphaLow     Fixed
	alphaHigh    Fixed
	steepness    Fixed
}

func newParams(s *EpochState) params {
	u16max := FixedFromU16(math.MaxUint16)
	return params{
		kappa:        FixedFromU16(s.Kappa).SafeDiv(u16max),
		bondsPenalty: FixedFromU16(s.BondsPenalty).SafeDiv(u16max),
		emaAlpha:     One.SatSub(ratioI64F64ToFixed(s.BondsMovingAverage, 1_000_000)),
		alphaLow:     FixedFromU16(s.AlphaLow).SafeDiv(u16max),
		alphaHigh:    FixedFromU16(s.AlphaHigh).SafeDiv(u16max),
		steepness:    FixedFromInt(int64(s.AlphaSigmoidSteepness)),
	}
}

// lastTempo is the block before which a column's registration keeps its bonds: the block
// after the previous successful epoch, or current_block - tempo (saturating) if none.
func (s *EpochState) lastTempo() uint64 {
	if s.LastMechanismStepBlock == 0 {
		if s.CurrentBlock < uint64(s.Tempo) {
			return 0
		}
		return s.CurrentBlock - uint64(s.Tempo)
	}
	return s.LastMechanismStepBlock + 1
}

// owner returns the owner uid as an int, or -1.
func (s *EpochState) owner() int {
	if s.HasOwner {
		return int(s.OwnerUID)
	}
	return -1
}

// stakeVector is the normalised stake S (I32F32) of the epoch.
func (s *EpochState) stakeVector(ownerExempt bool) []Fixed {
	owner := -1
	if ownerExempt {
		owner = s.owner()
	}
	return normalizedStake(totalStake(s.Stake, s.TaoStake, s.TaoWeight), s.StakeThreshold, owner)
}

// activeMask is the Active output: last_update + cutoff >= current_block (saturating add).
func (s *EpochState) activeMask() []bool {
	active := make([]bool, s.N)
	for i := range active {
		lu := s.LastUpdate[i]
		sum := lu + s.ActivityCutoff
		if sum < lu {
			sum = math.MaxUint64
		}
		active[i] = !(sum < s.CurrentBlock)
	}
	return active
}

// Epoch runs subtensor's epoch_mechanism, the sparse epoch the chain executes, on s and
// returns its outputs. It validates s first and returns a *FieldError if it is inconsistent.
// s is not modified.
// Each call allocates its buffers afresh; a caller running epochs repeatedly should keep a
// Workspace and use its Epoch.
func Epoch(s *EpochState) (*EpochResult, error) { return new(Workspace).Epoch(s) }

func epochSparse(s *EpochState, c checked, ws *Workspace) *EpochResult {
	n := s.N
	p := newParams(s)
	owner := s.owner()

	// Active & updated.
	active := s.activeMask()

	// Stake: threshold filter (owner exempt), I64F64 normalisation, truncation to I32F32.
	stake := normalizedStake(c.total, s.StakeThreshold, owner)

	// Validator permits: the stored ones (owner forced) mask this epoch; the top-k by stake
	// (owner forced) are the output for the next epoch.
	permits := append([]bool(nil), s.ValidatorPermit...)
	if owner >= 0 {
		permits[owner] = true
	}
	newPermits := isTopkNonzero(stake, int(s.MaxAllowedValidators))
	if owner >= 0 {
		newPermits[owner] = true
	}

	// Active stake: stake of active, permitted uids, normalised.
	activeStake := make([]Fixed, n)
	for i := range activeStake {
		if active[i] && permits[i] {
			activeStake[i] = stake[i]
		}
	}
	normalize(activeStake)

	// Weights: drop rows without permit, self-weights (except the owner's), weights set
	// before the target registered, and (with commit-reveal) weights whose earliest live
	// commit predates the target's registration; then normalise rows. All masks are applied
	// in one pass, which keeps exactly the entries the chained subtensor masks keep.
	//
	// Row normalisation (inplace_row_normalize_sparse) divides each I32F32 weight w·2^32 by
	// the row sum W·2^32 (exact: n·65535 < 2^31), i.e. floor(w·2^64 / (W·2^32)), which equals
	// floor(w·2^32 / W): a 64-bit division instead of a 128-bit one per weight.
	weights, wSorted := s.normalizedWeights(permits, owner, c.weightsAscending, &ws.weights)

	// Consensus.
	consensus := weightedMedianColSparse(activeStake, weights, n, p.kappa, wSorted)

	// Clipping, validator trust, ranks and the bonds' EMA.
	lastTempo := s.lastTempo()
	var validatorTrust, incentive, dividends []Fixed
	var emaBonds sparse
	var storedBonds [][]Entry // the rows to store, when made with the dividends
	var colSums []Fixed       // column sums of the EMA bonds, when the merge made them
	if s.Yuma3 && p.bondsPenalty == One && wSorted && c.bondsAscending && !ws.unfused {
		// The default path (and Yuma3 with liquid alpha). interpolate_sparse returns the
		// clipped weights for ratio 1, so the bonds' EMA reads the clipped rows, each
		// merged as soon as it is clipped. The stored bonds are read (masked, as
		// proportions) during the merge, without materialising them first.
		colSums = make([]Fixed, n)
		e := newStoredEMA(s.Bonds, s.BlockAtRegistration, lastTempo, p.emaAlpha, colSums)
		if liquidActive(s, consensus) {
			e.liquid, e.consensus = newAlphaCache(p), consensus
		}
		validatorTrust, incentive, emaBonds = clipEMAStored(weights, consensus, activeStake, n, e, &ws.emaRows)
	} else if !s.Yuma3 && p.bondsPenalty == One && wSorted && c.bondsAscending && !ws.unfused {
		// Original Yuma on the same conditions: clipping to the EMA bonds in two passes.
		validatorTrust, incentive, emaBonds, colSums = s.clipOriginalEMA(weights, consensus, activeStake, lastTempo, p.emaAlpha, &ws.emaRows)
	} else {
		// Clipping, validator trust (row sums of the clipped weights) and ranks
		// (stake-weighted column sums) in one pass; a copy is clipped unless the bonds
		// penalty is 1 (then the unclipped weights are not read again).
		clipped := weights
		if p.bondsPenalty != One {
			clipped = weights.clone()
		}
		validatorTrust, incentive = clipped.clipTrustRanks(consensus, activeStake, n)
		weightsForBonds := interpolate(weights, clipped, n, p.bondsPenalty)
		switch {
		case !s.Yuma3:
		case wSorted && !liquidActive(s, consensus) && c.bondsAscending:
			colSums = make([]Fixed, n)
			emaBonds = matEMAStored(weightsForBonds, s.Bonds, s.BlockAtRegistration, lastTempo,
				p.emaAlpha, &ws.emaRows, colSums)
		default:
			bonds, bSorted := s.readBonds(lastTempo, true, take(&ws.bonds, nnzRows(s.Bonds)))
			emaBonds = computeBondsSparse(s, p, weightsForBonds, bonds, consensus,
				take(&ws.ema, weightsForBonds.nnz()+bonds.nnz()), wSorted && bSorted)
		}
		if !s.Yuma3 {
			bonds, bSorted := s.readBonds(lastTempo, false, take(&ws.bonds, nnzRows(s.Bonds)))
			bonds.colNormalize(n)
			delta := weightsForBonds.rowHadamard(activeStake, take(&ws.delta, weightsForBonds.nnz()))
			delta.colNormalize(n)
			emaBonds = matEMA(delta, bonds, p.emaAlpha, n, take(&ws.ema, delta.nnz()+bonds.nnz()), wSorted && bSorted)
		}
	}

	// Incentive: normalised ranks.
	normalize(incentive)

	// Dividends.
	if s.Yuma3 {
		var perValidator []Fixed
		perValidator, storedBonds = yuma3BondIncentive(emaBonds, incentive, n, newPermits, colSums)
		dividends = vecMul(perValidator, activeStake)
		normalize(dividends)
	} else if colSums != nil {
		dividends, storedBonds = originalDividends(emaBonds, incentive, newPermits, colSums)
		normalize(dividends)
	} else {
		emaBonds.colNormalize(n)
		dividends = emaBonds.matmulTranspose(incentive)
		normalize(dividends)
		emaBonds.colMaxUpscale(n)
	}

	res := emissionResult(stake, activeStake, incentive, dividends, s.RaoEmission)
	res.Active = active
	res.StakeWeight = toU16(stake)
	res.Consensus = toU16(consensus)
	res.Incentive = toU16(incentive)
	res.Dividends = toU16(dividends)
	res.ValidatorTrust = toU16(validatorTrust)
	res.NewValidatorPermit = newPermits

	// Stored bonds: the EMA row for uids with a new permit, an empty row for everyone else
	// (the epoch's terms carry an empty bond for them and every row is written).
	if storedBonds != nil {
		res.Bonds = storedBonds
		return res
	}
	res.Bonds = make([][]Entry, n)
	total := 0
	for i := range res.Bonds {
		if newPermits[i] && i < len(emaBonds) {
			total += len(emaBonds[i])
		}
	}
	entries := make([]Entry, total) // one allocation for all rows
	for i := range res.Bonds {
		if !newPermits[i] || i >= len(emaBonds) {
			res.Bonds[i] = []Entry{}
			continue
		}
		row := entries[:len(emaBonds[i]):len(emaBonds[i])]
		entries = entries[len(emaBonds[i]):]
		for k, c := range emaBonds[i] {
			row[k] = Entry{c.j, c.v.ToU16Proportion()}
		}
		res.Bonds[i] = row
	}
	return res
}

// normalizedWeights is the epoch's weights step (see epochSparse): the rows of permitted
// uids, masked and row-normalised, carved from *buf (see take). It also reports whether
// every kept row is in strictly ascending column order, which ascending (every stored row
// is) implies.
func (s *EpochState) normalizedWeights(permits []bool, owner int, ascending bool, buf *[]cell) (sparse, bool) {
	n := s.N
	weights := make(sparse, n)
	sorted := true
	total := 0
	for i, row := range s.Weights {
		if permits[i] {
			total += len(row)
		}
	}
	// A row updated after every registration (and, with commit-reveal, committed after
	// every registration) loses only its self-weight to the masks: the common case skips
	// the per-entry registration tests.
	var lastReg uint64
	for _, r := range s.BlockAtRegistration {
		lastReg = max(lastReg, r)
	}
	out := take(buf, total)
	for i, row := range s.Weights {
		if !permits[i] {
			continue
		}
		lu := s.LastUpdate[i]
		cb := uint64(NoCommit)
		if s.CommitRevealEnabled && len(s.CommitBlocks) == n {
			cb = s.CommitBlocks[i]
		}
		start := len(out)
		dst := out[start : start+len(row)] // capacity for the whole row (total counts it)
		w := 0
		var sum uint64
		prev := -1
		if ascending && lu > lastReg && (!s.CommitRevealEnabled || cb >= lastReg) {
			self := -1
			if i != owner {
				self = i
			}
			for _, e := range row {
				dst[w] = cell{e.UID, Fixed(e.Value)}
				keep := b2i(int(e.UID) != self)
				w += keep
				sum += uint64(e.Value) & -uint64(keep)
			}
		} else {
			for _, e := range row {
				j := int(e.UID)
				if j == i && i != owner {
					continue
				}
				reg := s.BlockAtRegistration[j]
				if lu <= reg {
					continue
				}
				if s.CommitRevealEnabled && cb < reg {
					continue
				}
				dst[w] = cell{e.UID, Fixed(e.Value)}
				w++
				sum += uint64(e.Value)
				if j <= prev {
					sorted = false
				}
				prev = j
			}
		}
		out = out[:start+w]
		r := out[start:len(out):len(out)]
		if sum > 0 {
			// The row's quotients share one divisor: multiply by its reciprocal.
			d := newDivisor(sum)
			for k := range r {
				r[k].v = Fixed(d.quo(uint64(r[k].v) << fracBits))
			}
		} else {
			for k := range r {
				r[k].v <<= fracBits // an all-zero row stays as it is
			}
		}
		weights[i] = r
	}
	return weights, sorted
}

func nnzRows(m [][]Entry) int {
	t := 0
	for _, r := range m {
		t += len(r)
	}
	return t
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

// liquidActive reports whether subtensor's bonds step takes the liquid-alpha branch (in
// compute_bonds_sparse and in the dense compute_bonds alike): liquid alpha on and some
// consensus value non-zero. Otherwise the bonds' EMA uses the fixed alpha.
func liquidActive(s *EpochState, consensus []Fixed) bool {
	if !s.LiquidAlpha {
		return false
	}
	for _, c := range consensus {
		if c != 0 {
			return true
		}
	}
	return false
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

// clipEMAStored is clipTrustRanks followed by matEMAStored on the clipped weights, or
// with e.liquid by computeBondsSparse's liquid-alpha EMA (the default path: bonds penalty
// 1, Yuma3, every row ascending), done
// row by row so that each clipped row is merged while it is still in cache; the clipped
// rows go to one reused row buffer, and weights is left as it was. Each row's
// EMA depends only on that row, and the rank and column sums are added in row order in
// both, so the results are the same.
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

// alphaSigmoid is subtensor's alpha_sigmoid: the liquid EMA alpha of one (validator, miner)
// bond, between low and high, steeper as the validator's weight departs from consensus
// (buying) or falls below its bond (selling).
func alphaSigmoid(consensus, weight, bond, low, high, steepness Fixed) Fixed {
	return alphaOfDiff(sigmoidDiff(consensus, weight, bond), low, high, steepness)
}

// sigmoidDiff is the distance alpha_sigmoid feeds its sigmoid: how far the weight is above
// consensus when buying (weight ≥ bond), how far it is below the bond when selling, in [0, 1].
func sigmoidDiff(consensus, weight, bond Fixed) Fixed {
	if weight >= bond {
		return clamp(weight.SatSub(consensus), 0, One)
	}
	return clamp(bond.SatSub(weight), 0, One)
}

// alphaOfDiff is the rest of alpha_sigmoid: low + sigmoid × (high − low), clamped.
func alphaOfDiff(diff, low, high, steepness Fixed) Fixed {
	e := ExpSafe(steepness.SatDiv(FixedFromInt(-100)).SatMul(diff.SatSub(half)))
	sig := One.SatDiv(One.SatAdd(e))
	a := low.SatAdd(sig.SatMul(high.SatSub(low)))
	return clamp(a, low, high)
}

// alphaCache remembers alphaOfDiff at the two ends of its range: a weight at or below
// consensus (diff 0, the common case when validators agree) and a full departure (diff 1).
// The alpha is a function of diff alone within an epoch, so this only skips recomputing
// the exp series.
type alphaCache struct {
	low, high, steepness Fixed
	at0, at1             Fixed
}

func newAlphaCache(p params) *alphaCache {
	return &alphaCache{
		low: p.alphaLow, high: p.alphaHigh, steepness: p.steepness,
		at0: alphaOfDiff(0, p.alphaLow, p.alphaHigh, p.steepness),
		at1: alphaOfDiff(One, p.alphaLow, p.alphaHigh, p.steepness),
	}
}

func (c *alphaCache) alpha(consensus, weight, bond Fixed) Fixed {
	switch d := sigmoidDiff(consensus, weight, bond); d {
	case 0:
		return c.at0
	case One:
		return c.at1
	default:
		return alphaOfDiff(d, c.low, c.high, c.steepness)
	}
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

func toU16(x []Fixed) []uint16 {
	out := make([]uint16, len(x))
	for i, v := range x {
		out[i] = v.ToU16Proportion()
	}
	return out
}

// emissionResult splits rao between servers (incentive) and validators (dividends),
// normalising both by Σ(incentive + dividends); when that sum is zero the validators get it
// all in proportion to active stake, or to stake if no stake is active.
func emissionResult(stake, activeStake, incentive, dividends []Fixed, rao uint64) *EpochResult {
	n := len(stake)
	combined := make([]Fixed, n)
	for i := range combined {
		combined[i] = incentive[i].SatAdd(dividends[i])
	}
	sum := sumFixed(combined)
	server := append([]Fixed(nil), incentive...)
	validator := append([]Fixed(nil), dividends...)
	normalizeUsingSum(server, sum)
	normalizeUsingSum(validator, sum)
	normalize(combined)
	if sum == 0 {
		src := activeStake
		if isZero(activeStake) {
			src = stake
		}
		validator = append([]Fixed(nil), src...)
		combined = append([]Fixed(nil), src...)
	}
	return &EpochResult{
		ServerEmission:    toRao(server, rao),
		ValidatorEmission: toRao(validator, rao),
		Emission:          toRao(combined, rao),
	}
}

// toRao is floor(I96F32(x) × I96F32(rao)) saturated to u64: the I96F32 product of an
// I32F32 value and an integer is exactly x_bits × rao / 2^32.
func toRao(x []Fixed, rao uint64) []uint64 {
	out := make([]uint64, len(x))
	for i, v := range x {
		if v <= 0 {
			continue
		}
		hi, lo := bits.Mul64(uint64(v), rao)
		if hi>>32 != 0 {
			out[i] = math.MaxUint64
			continue
		}
		out[i] = hi<<32 | lo>>32
	}
	return out
}
