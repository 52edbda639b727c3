package yuma

// This file holds liquid alpha (Yuma3 with liquid_alpha): the per-bond EMA alpha of
// alpha_sigmoid, and when the epoch uses it.

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
