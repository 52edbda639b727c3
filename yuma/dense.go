package yuma

// This file is the dense variant, subtensor's epoch_dense_mechanism ("used only for
// testing" there): the same steps on n×n matrices. It differs from the sparse epoch in
// ways that subtensor's own code does: no stake-threshold exemption and no forced permit
// for the owner, the owner's self-weight removed as well, no commit-reveal mask, liquid
// alpha decaying (not dropping) bonds without a weight entry, and stored bond rows holding
// all n columns. It costs O(n²) memory and time; use it for small subnets and cross-checks.

// MaxDenseN bounds the dense epoch, whose n×n matrices (8 bytes a cell, several alive at
// once) would otherwise take gigabytes for a large subnet.
const MaxDenseN = 1024

type dense [][]Fixed

func newDense(n int) dense {
	buf := make([]Fixed, n*n)
	m := make(dense, n)
	for i := range m {
		m[i] = buf[i*n : (i+1)*n : (i+1)*n]
	}
	return m
}

func (m dense) clone() dense {
	out := newDense(len(m))
	for i := range m {
		copy(out[i], m[i])
	}
	return out
}

// rowNormalize is inplace_row_normalize.
func (m dense) rowNormalize() {
	for _, row := range m {
		s := sumFixed(row)
		if s > 0 {
			for j, v := range row {
				row[j] = v.SafeDiv(s)
			}
		}
	}
}

// colNormalize is inplace_col_normalize.
func (m dense) colNormalize() {
	if len(m) == 0 {
		return
	}
	sums := make([]Fixed, len(m[0]))
	for _, row := range m {
		for j, v := range row {
			sums[j] = sums[j].SatAdd(v)
		}
	}
	for _, row := range m {
		for j, v := range row {
			if sums[j] != 0 {
				row[j] = v.SafeDiv(sums[j])
			}
		}
	}
}

// colMaxUpscale is inplace_col_max_upscale.
func (m dense) colMaxUpscale() {
	if len(m) == 0 {
		return
	}
	maxs := make([]Fixed, len(m[0]))
	for _, row := range m {
		for j, v := range row {
			if maxs[j] < v {
				maxs[j] = v
			}
		}
	}
	for _, row := range m {
		for j, v := range row {
			if maxs[j] != 0 {
				row[j] = v.SafeDiv(maxs[j])
			}
		}
	}
}

// weightedMedianCol is weighted_median_col: per column the stake-weighted median over the
// rows with positive stake.
func weightedMedianCol(stake []Fixed, m dense, kappa Fixed) []Fixed {
	n := 0
	if len(m) > 0 {
		n = len(m[0])
	}
	out := make([]Fixed, n)
	var useStake []Fixed
	var rows []int
	for r, s := range stake {
		if s > 0 && r < len(m) {
			useStake = append(useStake, s)
			rows = append(rows, r)
		}
	}
	if len(useStake) == 0 {
		return out
	}
	normalize(useStake)
	stakeSum := sumFixed(useStake)
	minority := stakeSum.SatSub(kappa)
	idx := make([]int, len(useStake))
	for i := range idx {
		idx[i] = i
	}
	score := make([]Fixed, len(useStake))
	var bufs [3][]int
	for c := 0; c < n; c++ {
		for k, r := range rows {
			score[k] = m[r][c]
		}
		out[c] = weightedMedian(useStake, score, idx, minority, 0, stakeSum, &bufs)
	}
	return out
}

// EpochDense runs subtensor's epoch_dense_mechanism on s. It validates s first. Bonds rows
// of uids with neither an old nor a new permit are returned unchanged, as the dense epoch
// leaves them in storage.
func EpochDense(s *EpochState) (*EpochResult, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if s.N > MaxDenseN {
		return nil, fieldErr("n", "%d is above %d, the largest subnet the dense epoch accepts (use the sparse epoch)", s.N, MaxDenseN)
	}
	return epochDense(s), nil
}

func epochDense(s *EpochState) *EpochResult {
	n := s.N
	p := newParams(s)
	active := s.activeMask()
	lastTempo := s.lastTempo()
	recentlyRegistered := make([]bool, n)
	for j := range recentlyRegistered {
		recentlyRegistered[j] = lastTempo <= s.BlockAtRegistration[j]
	}

	stake := s.stakeVector(false)
	permits, newPermits := s.permits(stake, -1) // no owner exemption in the dense epoch
	activeStake := activeStakeOf(stake, active, permits)

	// Weights: rows without permit zeroed, the whole diagonal zeroed (the dense epoch masks
	// the diagonal again after sparing the owner's entry), outdated cells zeroed.
	weights := newDense(n)
	for i, row := range s.Weights {
		if !permits[i] {
			continue
		}
		for _, e := range row {
			j := int(e.UID)
			if j == i || s.LastUpdate[i] <= s.BlockAtRegistration[j] {
				continue
			}
			weights[i][j] = FixedFromU16(e.Value)
		}
	}
	weights.rowNormalize()

	consensus := weightedMedianCol(activeStake, weights, p.kappa)
	clipped := weights.clone()
	for _, row := range clipped {
		for j, v := range row {
			row[j] = minF(consensus[j], v)
		}
	}
	validatorTrust := make([]Fixed, n)
	for i, row := range clipped {
		validatorTrust[i] = sumFixed(row)
	}

	incentive := make([]Fixed, n)
	for i, row := range clipped {
		for j, v := range row {
			incentive[j] = incentive[j].SatAdd(activeStake[i].SatMul(v))
		}
	}
	normalize(incentive)

	// interpolate: ratio 0 or 1 selects a matrix, anything else blends cell by cell.
	var wb dense
	switch p.bondsPenalty {
	case 0:
		wb = weights
	case One:
		wb = clipped
	default:
		wb = newDense(n)
		for i := range wb {
			for j := range wb[i] {
				wb[i][j] = weights[i][j].SatAdd(p.bondsPenalty.SatMul(clipped[i][j].SatSub(weights[i][j])))
			}
		}
	}

	var dividends []Fixed
	var ema dense
	if s.Yuma3 {
		bonds := s.readBondsDense(recentlyRegistered, true)
		ema = computeBondsDense(s, p, wb, bonds, consensus)
		norm := ema.clone()
		norm.colNormalize()
		perValidator := make([]Fixed, n)
		for i, row := range norm {
			var acc Fixed
			for j, v := range row {
				if x, ok := v.CheckedMul(incentive[j]); ok {
					acc += x
				}
			}
			perValidator[i] = acc
		}
		dividends = vecMul(perValidator, activeStake)
		normalize(dividends)
	} else {
		bonds := s.readBondsDense(recentlyRegistered, false)
		bonds.colNormalize()
		delta := newDense(n)
		for i := range delta {
			for j := range delta[i] {
				delta[i][j] = activeStake[i].SatMul(wb[i][j])
			}
		}
		delta.colNormalize()
		ema = newDense(n)
		oneMinus := One.SatSub(p.emaAlpha)
		for i := range ema {
			for j := range ema[i] {
				ema[i][j] = p.emaAlpha.SatMul(delta[i][j]).SatAdd(oneMinus.SatMul(bonds[i][j]))
			}
		}
		ema.colNormalize()
		dividends = make([]Fixed, n)
		for i, row := range ema {
			var acc Fixed
			for j, v := range row {
				acc = acc.SatAdd(v.SatMul(incentive[j]))
			}
			dividends[i] = acc
		}
		normalize(dividends)
		ema.colMaxUpscale()
	}

	t := terms{
		active: active, newPermits: newPermits,
		stake: stake, activeStake: activeStake,
		consensus: consensus, incentive: incentive, dividends: dividends, trust: validatorTrust,
	}
	res := t.result(s.RaoEmission)
	res.Bonds = make([][]Entry, n)
	for i := range res.Bonds {
		switch {
		case newPermits[i]:
			row := make([]Entry, n)
			for j, v := range ema[i] {
				row[j] = Entry{uint16(j), v.ToU16Proportion()}
			}
			res.Bonds[i] = row
		case permits[i]:
			res.Bonds[i] = []Entry{}
		default:
			res.Bonds[i] = append([]Entry{}, s.Bonds[i]...)
		}
	}
	return res
}

// readBondsDense is get_bonds (or get_bonds_fixed_proportion) with the columns of recently
// registered uids zeroed.
func (s *EpochState) readBondsDense(masked []bool, proportion bool) dense {
	m := newDense(s.N)
	for i, row := range s.Bonds {
		for _, e := range row {
			v := FixedFromU16(e.Value)
			if proportion {
				v = U16Proportion(e.Value)
			}
			m[i][e.UID] = v
		}
	}
	for _, row := range m {
		for j := range row {
			if masked[j] {
				row[j] = 0
			}
		}
	}
	return m
}

// computeBondsDense is compute_bonds: liquid alpha per cell (mat_ema_alpha, which decays
// every bond) when enabled and the consensus is not all zero, else the fixed-alpha mat_ema.
func computeBondsDense(s *EpochState, p params, w, b dense, consensus []Fixed) dense {
	n := s.N
	out := newDense(n)
	if !liquidActive(s, consensus) {
		oneMinus := One.SatSub(p.emaAlpha)
		for i := range out {
			for j := range out[i] {
				out[i][j] = p.emaAlpha.SatMul(w[i][j]).SatAdd(oneMinus.SatMul(b[i][j]))
			}
		}
		return out
	}
	ac := newAlphaCache(p)
	for i := range out {
		for j := range out[i] {
			a := ac.alpha(consensus[j], w[i][j], b[i][j])
			decayed := One.SatSub(a).SatMul(b[i][j])
			inc := maxF(a.SatMul(w[i][j]), 0)
			out[i][j] = minF(decayed.SatAdd(inc), One)
		}
	}
	return out
}
