package dtao

// Subnet is the dTAO state of one subnet that the coinbase reads and writes (dtao.md §1).
type Subnet struct {
	Netuid        uint16
	Pool          Pool   // SubnetTAO, SubnetAlphaIn, SwapBalancer
	AlphaOut      uint64 // SubnetAlphaOut: stakes, pending and unclaimed emission, protocol alpha
	ProtocolAlpha uint64 // SubnetProtocolAlpha: alpha bought by chain buys (inside AlphaOut)
	MovingPrice   U96F32 // SubnetMovingPrice (I96F32 bits; starts at 0)

	FirstEmissionBlock  uint64 // 0: start_call not yet made
	SubtokenEnabled     bool
	RegistrationAllowed bool   // NetworkRegistrationAllowed
	EmissionEnabled     bool   // SubnetEmissionEnabled (do_register_network writes false)
	OwnerCutEnabled     bool   // OwnerCutEnabled (default true)
	MinerBurned         U96F32 // MinerBurned (U96F32)

	PendingServer, PendingValidator, PendingRoot, PendingOwnerCut uint64
}

// AlphaIssuance is AlphaIn + AlphaOut (saturating).
func (s *Subnet) AlphaIssuance() uint64 { return satAdd(s.Pool.Alpha, s.AlphaOut) }

// Eligible is §2.2: non-root, started, subtoken enabled, registration allowed.
func (s *Subnet) Eligible() bool {
	return s.Netuid != 0 && s.FirstEmissionBlock != 0 && s.SubtokenEnabled && s.RegistrationAllowed
}

// State is what the coinbase needs of the chain: the subnets (netuid 0, root, excluded by
// eligibility) in NetworksAdded order and the globals.
type State struct {
	Subnets       []Subnet
	TotalIssuance uint64 // TotalIssuance, TAO rao
	RootTAO       uint64 // SubnetTAO[0]: the total root stake
	TaoWeight     uint64 // TaoWeight (value/u64::MAX)
	OwnerCut      uint16 // SubnetOwnerCut
	Pool          PoolParams
	MovingAlpha   U96F32 // SubnetMovingAlpha
	EMAHalving    uint64 // EMAPriceHalvingBlocks
}

// DefaultState returns a State with the runtime's parameters and no subnets.
func DefaultState() State {
	return State{OwnerCut: DefaultOwnerCut, Pool: DefaultPoolParams(),
		MovingAlpha: DefaultMovingAlpha, EMAHalving: DefaultEMAHalvingBlocks}
}

// Clone copies s deeply (the subnets slice is not shared).
func (s State) Clone() State {
	s.Subnets = append([]Subnet(nil), s.Subnets...)
	return s
}

// SubnetEmission is what one block did to one eligible subnet.
type SubnetEmission struct {
	Netuid        uint16
	Share         U64F64 // the rule's share
	TAOEmission   U96F32 // E_i
	TAOIn         uint64 // TAO injected into the pool
	AlphaIn       uint64 // alpha injected into the pool
	ChainBuyTAO   uint64 // TAO swapped for alpha (excess), into the pool
	ChainBuyAlpha uint64 // alpha bought, to ProtocolAlpha
	AlphaMinted   uint64 // alpha emission A minted into AlphaOut
	OwnerCut      uint64 // → PendingOwnerCut
	Server        uint64 // → PendingServer
	Validator     uint64 // → PendingValidator
	Root          uint64 // → PendingRoot (0 when recycled)
	RootRecycled  uint64 // root alpha recycled because Σ EMA ≤ 1
	AlphaDust     uint64 // A − the floored parts: stays in AlphaOut unowned
	InjectFailed  bool   // the weight update refused the injection
}

// CoinbaseResult is one block's coinbase.
type CoinbaseResult struct {
	Emission     uint64 // TAO credited to the subnets (block emission)
	RecycledTAO  uint64 // the part of it not spent (floors, failures): issuance lowered
	RootSellFlag bool   // Σ eligible EMA > 1
	Subnets      []SubnetEmission
}

// Coinbase is one block's block_step for dTAO, as a pure function: it mints
// MintAmount(TotalIssuance), runs RunCoinbase with it and updates the moving prices, and
// returns the new state (st is not modified).
func Coinbase(st State, block uint64, rule ShareRule) (State, CoinbaseResult) {
	st = st.Clone()
	res := runCoinbase(&st, MintAmount(st.TotalIssuance), rule)
	UpdateMovingPrices(&st, block)
	return st, res
}

// RunCoinbase is run_coinbase(block_emission) on a copy of st (§2.3–§2.6): the emission is
// split by rule, injected or used for chain buys, the alpha emission is minted and split
// into the pending amounts; issuance rises by what was spent. Moving prices are not touched.
func RunCoinbase(st State, blockEmission uint64, rule ShareRule) (State, CoinbaseResult) {
	st = st.Clone()
	res := runCoinbase(&st, blockEmission, rule)
	return st, res
}

func runCoinbase(st *State, blockEmission uint64, rule ShareRule) CoinbaseResult {
	if rule == nil {
		rule = EMAPriceShares
	}
	var idx []int
	var in []ShareInput
	emaSum := U96F32{}
	for i := range st.Subnets {
		s := &st.Subnets[i]
		if !s.Eligible() {
			continue
		}
		idx = append(idx, i)
		in = append(in, ShareInput{Netuid: s.Netuid, MovingPrice: s.MovingPrice,
			Stable: s.Pool.Stable, MinerBurned: s.MinerBurned, EmissionEnabled: s.EmissionEnabled})
		emaSum = emaSum.Add(s.MovingPrice)
	}
	res := CoinbaseResult{Emission: blockEmission, RootSellFlag: emaSum.Cmp(oneU96F32) > 0}
	shares := rule(in)
	be := U64F64FromInt(blockEmission)
	spent := uint64(0)
	res.Subnets = make([]SubnetEmission, len(idx))
	for k, i := range idx {
		s := &st.Subnets[i]
		e := &res.Subnets[k]
		e.Netuid = s.Netuid
		e.Share = shares[k]
		E := be.Mul(shares[k]).ToU96F32()
		e.TAOEmission = E
		// A is the alpha emission of the issuance before this block: it caps the
		// injection and is what §2.6 mints.
		e.AlphaMinted = BlockEmission(s.AlphaIssuance())
		spent += injectSubnet(st, s, E, e)
	}
	for k, i := range idx {
		emitAlpha(st, &st.Subnets[i], res.RootSellFlag, &res.Subnets[k])
	}
	if spent > blockEmission {
		spent = blockEmission // cannot happen: each part is a floor of a share
	}
	res.RecycledTAO = blockEmission - spent
	st.TotalIssuance = satAdd(st.TotalIssuance, spent)
	return res
}

// injectSubnet is §2.5 for one subnet; it returns the TAO spent (injected + chain buy).
func injectSubnet(st *State, s *Subnet, E U96F32, e *SubnetEmission) uint64 {
	if E.IsZero() {
		return 0
	}
	A := U96F32FromInt(e.AlphaMinted)
	price := s.Pool.Price().ToU96F32()
	alphaIn := E.Div(price)
	taoIn := E
	rootProp := RootProp(st.TaoWeight, st.RootTAO, s.AlphaIssuance())
	if cap := rootProp.Mul(A); alphaIn.Cmp(cap) > 0 {
		alphaIn = cap
		taoIn = alphaIn.Mul(price)
	}
	excess := E.Sub(taoIn)
	tin, ain := taoIn.Floor(), alphaIn.Floor()
	// 1. the weight update for the injection (adjust_protocol_liquidity).
	if s.Pool.Stable {
		tin, ain = 0, 0
	} else {
		s.Pool.initWeights()
		if err := s.Pool.UpdateWeightsForInjection(tin, ain); err != nil {
			tin, ain = 0, 0
			e.InjectFailed = true
		}
	}
	spent := uint64(0)
	// 2. the chain buy, on the pre-injection reserves, fee-free.
	if x := excess.Floor(); x > 0 {
		r, err := s.Pool.BuyAlpha(x, LimitPrice(MaxPriceRao), true, st.Pool)
		if err == nil {
			s.AlphaOut = satAdd(s.AlphaOut, r.Out)
			s.ProtocolAlpha = satAdd(s.ProtocolAlpha, r.Out)
			e.ChainBuyTAO, e.ChainBuyAlpha = r.PaidIn, r.Out
			spent += r.PaidIn
		}
	}
	// 3. the injection.
	s.Pool.Alpha = satAdd(s.Pool.Alpha, ain)
	s.Pool.TAO = satAdd(s.Pool.TAO, tin)
	e.TAOIn, e.AlphaIn = tin, ain
	return spent + tin
}

// emitAlpha is §2.6 for one subnet: it mints e.AlphaMinted.
func emitAlpha(st *State, s *Subnet, rootSell bool, e *SubnetEmission) {
	a := e.AlphaMinted
	s.AlphaOut = satAdd(s.AlphaOut, a)
	A := U96F32FromInt(a)
	if s.OwnerCutEnabled {
		cut := A.Mul(Ratio96(uint64(st.OwnerCut), 65535))
		e.OwnerCut = cut.Floor()
		A = A.Sub(cut)
	}
	rootProp := RootProp(st.TaoWeight, st.RootTAO, s.AlphaIssuance())
	half := U96F32{0, 1 << 31}
	root := rootProp.Mul(A).Mul(half)
	server := A.Mul(half)
	validator := A.Sub(server).Sub(root)
	e.Server, e.Validator = server.Floor(), validator.Floor()
	r := root.Floor()
	if rootSell {
		e.Root = r
	} else {
		e.RootRecycled = r
		s.AlphaOut = satSub(s.AlphaOut, r)
	}
	s.PendingOwnerCut = satAdd(s.PendingOwnerCut, e.OwnerCut)
	s.PendingServer = satAdd(s.PendingServer, e.Server)
	s.PendingValidator = satAdd(s.PendingValidator, e.Validator)
	s.PendingRoot = satAdd(s.PendingRoot, e.Root)
	e.AlphaDust = a - e.OwnerCut - e.Server - e.Validator - r
}

// UpdateMovingPrices is update_moving_prices for the subnets that emit (§2.3, after the
// coinbase): b = block − (FirstEmissionBlock − 1), α = MovingAlpha·b/(b + halving) in
// U64F64, EMA ← α·min(spot, 1) + (1 − α)·EMA, stored truncated to I96F32.
func UpdateMovingPrices(st *State, block uint64) {
	for i := range st.Subnets {
		s := &st.Subnets[i]
		if !s.Eligible() {
			continue
		}
		s.MovingPrice = NextMovingPrice(s.MovingPrice, s.Pool.Price(), block,
			s.FirstEmissionBlock, st.MovingAlpha, st.EMAHalving)
	}
}

// NextMovingPrice is one step of the moving price (update_moving_price).
func NextMovingPrice(old U96F32, spot U64F64, block, firstEmission uint64, movingAlpha U96F32, halving uint64) U96F32 {
	b := satSub(block, satSub(firstEmission, 1))
	alpha := movingAlpha.ToU64F64().Mul(U64F64FromInt(b)).Div(U64F64FromInt(satAdd(b, halving)))
	cur := spot.Min(oneU64F64)
	nw := alpha.Mul(cur).Add(oneU64F64.Sub(alpha).Mul(old.ToU64F64()))
	return nw.ToU96F32()
}
