package dtao

// ShareInput is what a ShareRule sees of one eligible subnet.
type ShareInput struct {
	Netuid          uint16
	MovingPrice     U96F32 // SubnetMovingPrice (I96F32 bits, non-negative)
	Stable          bool   // mechanism 0: price 1
	MinerBurned     U96F32 // share of last epoch's miner incentive withheld
	EmissionEnabled bool
}

// ShareRule splits the block's TAO emission across the eligible subnets: one U64F64 share
// per input, in the same order. Subtensor has changed this rule five times (dtao.md §0,
// §8.1); the rule is a parameter of Coinbase so that a chain version pins one.
type ShareRule func(subnets []ShareInput) []U64F64

// EMAPriceShares is the rule of the snapshot (subnet_emissions.rs l.354–418, l.34–76):
// s_i = p_i/Σp with p_i = U64F64(EMA_i) (1 for a stable subnet); w_i = s_i·(1 − min(MB_i, 1)),
// s_i' = w_i/Σw (s kept if Σw = 0); subnets with emission disabled get 0 and the enabled
// ones s_i'/Σ_enabled s'.
func EMAPriceShares(in []ShareInput) []U64F64 {
	n := len(in)
	p := make([]U64F64, n)
	var sum U64F64
	for i, s := range in {
		if s.Stable {
			p[i] = oneU64F64
		} else {
			p[i] = s.MovingPrice.ToU64F64()
		}
		sum = sum.Add(p[i])
	}
	sh := make([]U64F64, n)
	for i := range p {
		sh[i] = p[i].Div(sum)
	}
	w := make([]U64F64, n)
	var sw U64F64
	for i, s := range in {
		mb := s.MinerBurned.ToU64F64().Min(oneU64F64)
		w[i] = sh[i].Mul(oneU64F64.Sub(mb))
		sw = sw.Add(w[i])
	}
	if !sw.IsZero() {
		for i := range w {
			sh[i] = w[i].Div(sw)
		}
	}
	var se U64F64
	for i, s := range in {
		if s.EmissionEnabled {
			se = se.Add(sh[i])
		}
	}
	out := make([]U64F64, n)
	for i, s := range in {
		if s.EmissionEnabled {
			out[i] = sh[i].Div(se)
		}
	}
	return out
}
