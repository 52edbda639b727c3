package yuma

import (
	"math"

	"github.com/tessera-net/tessera/internal/safemath"
)

// Epoch runs subtensor's epoch_mechanism, the sparse epoch the chain executes, on s and
// returns its outputs. It validates s first and returns a *FieldError if it is inconsistent.
// s is not modified.
// Each call allocates its buffers afresh; a caller running epochs repeatedly should keep a
// Workspace and use its Epoch.
func Epoch(s *EpochState) (*EpochResult, error) { return new(Workspace).Epoch(s) }

// epochSparse is epoch_mechanism on a validated state (c is what validation established),
// its large matrices carved from ws: each step below is one of subtensor's, in its order.
func epochSparse(s *EpochState, c checked, ws *Workspace) *EpochResult {
	p := newParams(s)
	t, permits, owner := s.stakeTerms(c.total)

	// Weights: masked and row-normalised (see normalizedWeights).
	weights, wSorted := s.normalizedWeights(permits, owner, c.weightsAscending, &ws.weights)

	// Consensus.
	t.consensus = weightedMedianColSparse(t.activeStake, weights, s.N, p.kappa, wSorted)

	// Clipping, validator trust, ranks and the bonds' EMA.
	b := s.sparseBonds(p, weights, t.consensus, t.activeStake, wSorted, c.bondsAscending, ws)
	t.trust = b.trust

	// Incentive: normalised ranks.
	t.incentive = b.ranks
	normalize(t.incentive)

	// Dividends, and the bonds to store.
	var stored [][]Entry
	t.dividends, stored = b.dividends(s.Yuma3, t.incentive, t.activeStake, t.newPermits, s.N)

	res := t.result(s.RaoEmission)
	res.Bonds = stored
	return res
}

// stakeTerms is the epoch's steps up to the active stake, on the I64F64 total stakes:
// the active mask, the normalised stake, the stored permits (returned: they mask this
// epoch), the new ones, and the active stake. It also returns the owner uid or -1.
func (s *EpochState) stakeTerms(total []safemath.U128) (t terms, permits []bool, owner int) {
	owner = s.owner()
	t.active = s.activeMask()

	// Stake: threshold filter (owner exempt), I64F64 normalisation, truncation to I32F32.
	t.stake = normalizedStake(total, s.StakeThreshold, owner)

	// Validator permits: the stored ones mask this epoch, the new ones are for the next.
	permits, t.newPermits = s.permits(t.stake, owner)

	// Active stake: stake of active, permitted uids, normalised.
	t.activeStake = activeStakeOf(t.stake, t.active, permits)
	return t, permits, owner
}

// permits returns the stored validator permits, which mask this epoch, and the new ones,
// output for the next epoch: the top-k non-zero stakes (isTopkNonzero, k =
// max_allowed_validators). An owner (owner >= 0, the sparse epoch) holds both.
func (s *EpochState) permits(stake []Fixed, owner int) (permits, newPermits []bool) {
	permits = append([]bool(nil), s.ValidatorPermit...)
	newPermits = isTopkNonzero(stake, int(s.MaxAllowedValidators))
	if owner >= 0 {
		permits[owner] = true
		newPermits[owner] = true
	}
	return permits, newPermits
}

// activeStakeOf is the active stake A: the stake of uids both active and permitted,
// normalised.
func activeStakeOf(stake []Fixed, active, permits []bool) []Fixed {
	activeStake := make([]Fixed, len(stake))
	for i := range activeStake {
		if active[i] && permits[i] {
			activeStake[i] = stake[i]
		}
	}
	normalize(activeStake)
	return activeStake
}

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

// normalizedWeights is the epoch's weights step: the rows of permitted uids, with
// self-weights dropped (except the owner's), weights set before the target registered
// dropped, and (with commit-reveal) weights whose earliest live commit predates the
// target's registration dropped; then the rows normalised. All masks are applied in one
// pass, which keeps exactly the entries the chained subtensor masks keep. The rows are
// carved from *buf (see take). It also reports whether every kept row is in strictly
// ascending column order, which ascending (every stored row is) implies.
//
// Row normalisation (inplace_row_normalize_sparse) divides each I32F32 weight w·2^32 by
// the row sum W·2^32 (exact: n·65535 < 2^31), i.e. floor(w·2^64 / (W·2^32)), which equals
// floor(w·2^32 / W): a 64-bit division instead of a 128-bit one per weight.
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
