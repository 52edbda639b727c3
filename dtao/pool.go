package dtao

import (
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/tessera-net/tessera/internal/safemath"
)

// Accuracy is 1.0 in Perquintill parts: the pool's weights are parts of 1e18.
const Accuracy uint64 = 1_000_000_000_000_000_000

// Pool constants (pallets/swap; runtime values).
const (
	// HalfWeight is the quote weight of a fresh pool, 0.5.
	HalfWeight uint64 = Accuracy / 2
	// MinWeight is the smallest allowed weight on either side, 0.01.
	MinWeight uint64 = Accuracy / 100
	// DefaultFeeRate is FeeRate: 33/65535 ≈ 0.0504 %.
	DefaultFeeRate uint16 = 33
	// MaxFeeRate is the largest FeeRate the pallet accepts.
	MaxFeeRate uint16 = 10_000
	// DefaultMinimumReserve is the runtime's MinimumReserve (1e6 rao); the test mock uses 100.
	DefaultMinimumReserve uint64 = 1_000_000
	// MaxPriceRao and MinPriceRao are the limits used when a swap has none (rao per alpha).
	MaxPriceRao uint64 = 1_000_000_000_000_000_000
	MinPriceRao uint64 = 1_000
	// expPrecision is the precision exp_scaled asks of pow_ratio_scaled (dtao.md §5).
	expPrecision = 256
	// limitPrecision is the precision of the limit-delta powers.
	limitPrecision = 1024
)

// Errors of the pool. A limit error wraps ErrPriceLimitExceeded and names the prices.
var (
	ErrPriceLimitExceeded    = errors.New("dtao: price limit exceeded")
	ErrReservesTooLow        = errors.New("dtao: reserves too low")
	ErrInsufficientLiquidity = errors.New("dtao: insufficient liquidity")
	ErrSwapTooLarge          = errors.New("dtao: swap exceeds 1000 × the input reserve")
	ErrInvalidWeight         = errors.New("dtao: weight out of [0.01, 0.99]")
)

// Pool is a subnet's protocol-owned pool: the TAO reserve (SubnetTAO), the alpha reserve
// (SubnetAlphaIn), both in rao, and the quote (TAO) weight in Perquintill parts. A zero
// QuoteWeight is an uninitialised pool, 0.5 (set lazily at the first swap, as
// PalSwapInitialized does). Stable is mechanism 0 (root and stable subnets): 1:1, no fee.
type Pool struct {
	TAO, Alpha  uint64
	QuoteWeight uint64
	Stable      bool
}

// PoolParams are the swap pallet's parameters.
type PoolParams struct {
	FeeRate        uint16 // FeeRate/65535 of each input goes to the block author
	MinimumReserve uint64 // the output reserve must be at least this
}

// DefaultPoolParams are the runtime's values.
func DefaultPoolParams() PoolParams {
	return PoolParams{FeeRate: DefaultFeeRate, MinimumReserve: DefaultMinimumReserve}
}

// Weights returns (w1, w2): the base (alpha) and quote (TAO) weight in parts of 1e18.
func (p Pool) Weights() (base, quote uint64) {
	q := p.QuoteWeight
	if q == 0 {
		q = HalfWeight
	}
	return Accuracy - q, q
}

// Price is the spot price in TAO per alpha, (w1/w2)·(y/x) in U64F64 (0 if the alpha
// reserve is 0; 1 for a stable pool).
func (p Pool) Price() U64F64 {
	if p.Stable {
		return oneU64F64
	}
	return priceOf(p.weights2(), p.TAO, p.Alpha)
}

// weights2 returns the weights as a pair.
func (p Pool) weights2() [2]uint64 {
	b, q := p.Weights()
	return [2]uint64{b, q}
}

func priceOf(w [2]uint64, y, x uint64) U64F64 {
	return Ratio64(w[0], w[1]).Mul(Ratio64(y, x))
}

// LimitPrice converts a limit in rao per alpha (1e9 = 1.0) to the U64F64 price,
// U64F64(limit)/1e9.
func LimitPrice(rao uint64) U64F64 { return Ratio64(rao, 1_000_000_000) }

// Fee is floor(amount × (rate/65535)) with the rate as U64F64 bits, as calculate_fee_amount.
func Fee(amount uint64, rate uint16) uint64 {
	return Ratio64(uint64(rate), math.MaxUint16).mulU64(amount)
}

// limitFee is the fee charged when a limit binds: floor(delta × rate/(65535 − rate)).
func limitFee(delta uint64, rate uint16) uint64 {
	return Ratio64(uint64(rate), math.MaxUint16-uint64(rate)).mulU64(delta)
}

// SwapResult is what a swap computed. AmountTaken = PaidIn + Fee is what leaves the payer
// (less than the amount offered when a limit binds); PaidIn enters the input reserve; Out
// leaves the output reserve and goes to the payer; Fee goes to the block author.
type SwapResult struct {
	AmountTaken, Fee, PaidIn, Out uint64
}

// expScaled is exp_scaled(r, d, base_quote) for d ≥ 0: min((r/(r+d))^(num/den), 1) in
// U64F64 with num/den = w1/w2 (base side) or w2/w1 (quote side).
func expScaled(w [2]uint64, r, d uint64, baseQuote bool) U64F64 {
	rd := r + d
	if rd < r {
		rd = math.MaxUint64
	}
	if rd == 0 {
		return U64F64{}
	}
	num, den := w[1], w[0]
	if baseQuote {
		num, den = w[0], w[1]
	}
	R, ok := PowRatioScaled(new(big.Int).SetUint64(r), new(big.Int).SetUint64(rd),
		new(big.Int).SetUint64(num), new(big.Int).SetUint64(den), expPrecision, bigAccuracy)
	if !ok || !R.IsUint64() {
		return U64F64{}
	}
	return Ratio64(R.Uint64(), Accuracy).Min(oneU64F64)
}

var bigAccuracy = new(big.Int).SetUint64(Accuracy)

// outFor is floor(reserve × (1 − e)).
func outFor(reserve uint64, e U64F64) uint64 {
	return U64F64FromInt(reserve).Mul(oneU64F64.Sub(e)).Floor()
}

// limitDelta is calculate_{quote,base}_delta_in: floor(reserve × (pow(a/b, w/1e18) − 1)).
func limitDelta(a, b U64F64, w, reserve uint64) uint64 {
	R, ok := powCertified(safemath.U128(a).Big(), safemath.U128(b).Big(), new(big.Int).SetUint64(w), bigAccuracy,
		limitPrecision, bigAccuracy, certPrecision, certMarginBits)
	if !ok {
		return 0
	}
	var rf U64F64
	switch {
	case R.IsUint64():
		rf = U64F64FromInt(R.Uint64())
	case R.Sign() > 0:
		rf = U64F64FromInt(math.MaxUint64)
	}
	return U64F64FromInt(reserve).Mul(rf.Div(U64F64FromInt(Accuracy)).Sub(oneU64F64)).Floor()
}

// BuyLimitDelta is the TAO that moves the price from the current one to limit on a buy
// (0 if limit ≤ current): the largest input that keeps the price within the limit.
func (p Pool) BuyLimitDelta(limit U64F64) uint64 {
	cur := p.Price()
	if limit.Cmp(cur) <= 0 {
		return 0
	}
	w1, _ := p.Weights()
	return limitDelta(limit, cur, w1, p.TAO)
}

// SellLimitDelta is the alpha that moves the price down to limit on a sell.
func (p Pool) SellLimitDelta(limit U64F64) uint64 {
	cur := p.Price()
	if limit.Cmp(cur) >= 0 {
		return 0
	}
	_, w2 := p.Weights()
	return limitDelta(cur, limit, w2, p.Alpha)
}

func (p *Pool) initWeights() {
	if p.QuoteWeight == 0 {
		p.QuoteWeight = HalfWeight
	}
}

// BuyAlpha swaps TAO for alpha (swap_tao_for_alpha) with a price limit in U64F64 (use
// LimitPrice(MaxPriceRao) for none) and applies it to p: TAO += PaidIn, Alpha −= Out. If
// the full amount would move the price past limit, only the amount that reaches the limit
// is swapped. dropFees charges no fee (chain buys, the second leg of a move).
func (p *Pool) BuyAlpha(tao uint64, limit U64F64, dropFees bool, pp PoolParams) (SwapResult, error) {
	return p.buy(tao, limit, dropFees, pp, nil)
}

// buy is BuyAlpha with a memo of the powers shared with other swaps on p at limit (nil:
// none).
func (p *Pool) buy(tao uint64, limit U64F64, dropFees bool, pp PoolParams, m *swapMemo) (SwapResult, error) {
	if p.Stable {
		return p.stableSwap(tao, limit, true)
	}
	p.initWeights()
	w := p.weights2()
	cur := p.Price()
	if cur.Cmp(limit) >= 0 {
		return SwapResult{}, limitErr(cur, limit, true)
	}
	fee := uint64(0)
	if !dropFees {
		fee = Fee(tao, pp.FeeRate)
	}
	delta := tao - fee
	limDelta := func() uint64 { return m.limitDelta(func() uint64 { return p.BuyLimitDelta(limit) }) }
	if lim, ok := limitBindsSurely(*p, delta, true, limDelta); ok {
		return p.buyToLimit(w, delta, lim, dropFees, pp, m)
	}
	out := m.output(delta, func() uint64 { return outFor(p.Alpha, expScaled(w, p.TAO, delta, false)) })
	target := priceOf(w, satAdd(p.TAO, delta), satSub(p.Alpha, out))
	if target.Cmp(limit) > 0 {
		return p.buyToLimit(w, delta, limDelta(), dropFees, pp, m)
	}
	return p.applyBuy(delta, fee, out, pp)
}

// buyToLimit is BuyAlpha where the whole amount would pass the limit: it buys with the
// limit delta lim, clamped to the full amount (where rounding puts the limit delta past
// it, the payer is never charged more than offered), and the fee at the limit.
func (p *Pool) buyToLimit(w [2]uint64, delta, lim uint64, dropFees bool, pp PoolParams, m *swapMemo) (SwapResult, error) {
	delta = min(lim, delta)
	fee := uint64(0)
	if !dropFees {
		fee = limitFee(delta, pp.FeeRate)
	}
	return p.applyBuy(delta, fee, m.output(delta, func() uint64 { return outFor(p.Alpha, expScaled(w, p.TAO, delta, false)) }), pp)
}

func (p *Pool) applyBuy(delta, fee, out uint64, pp PoolParams) (SwapResult, error) {
	if err := checkSwap(delta, out, p.TAO, p.Alpha, pp); err != nil {
		return SwapResult{}, err
	}
	p.TAO += delta
	p.Alpha -= out
	return SwapResult{AmountTaken: delta + fee, Fee: fee, PaidIn: delta, Out: out}, nil
}

// SellAlpha swaps alpha for TAO (swap_alpha_for_tao) with a lower price limit (use
// LimitPrice(MinPriceRao) for none): Alpha += PaidIn, TAO −= Out.
func (p *Pool) SellAlpha(alpha uint64, limit U64F64, dropFees bool, pp PoolParams) (SwapResult, error) {
	return p.sell(alpha, limit, dropFees, pp, nil)
}

// sell is SellAlpha with a memo, as buy.
func (p *Pool) sell(alpha uint64, limit U64F64, dropFees bool, pp PoolParams, m *swapMemo) (SwapResult, error) {
	if p.Stable {
		return p.stableSwap(alpha, limit, false)
	}
	p.initWeights()
	w := p.weights2()
	cur := p.Price()
	if cur.Cmp(limit) <= 0 {
		return SwapResult{}, limitErr(cur, limit, false)
	}
	fee := uint64(0)
	if !dropFees {
		fee = Fee(alpha, pp.FeeRate)
	}
	delta := alpha - fee
	limDelta := func() uint64 { return m.limitDelta(func() uint64 { return p.SellLimitDelta(limit) }) }
	if lim, ok := limitBindsSurely(*p, delta, false, limDelta); ok {
		return p.sellToLimit(w, delta, lim, dropFees, pp, m)
	}
	out := m.output(delta, func() uint64 { return outFor(p.TAO, expScaled(w, p.Alpha, delta, true)) })
	target := priceOf(w, satSub(p.TAO, out), satAdd(p.Alpha, delta))
	if target.Cmp(limit) < 0 {
		return p.sellToLimit(w, delta, limDelta(), dropFees, pp, m)
	}
	return p.applySell(delta, fee, out, pp)
}

// sellToLimit is buyToLimit's mirror.
func (p *Pool) sellToLimit(w [2]uint64, delta, lim uint64, dropFees bool, pp PoolParams, m *swapMemo) (SwapResult, error) {
	delta = min(lim, delta)
	fee := uint64(0)
	if !dropFees {
		fee = limitFee(delta, pp.FeeRate)
	}
	return p.applySell(delta, fee, m.output(delta, func() uint64 { return outFor(p.TAO, expScaled(w, p.Alpha, delta, true)) }), pp)
}

func (p *Pool) applySell(delta, fee, out uint64, pp PoolParams) (SwapResult, error) {
	if err := checkSwap(delta, out, p.Alpha, p.TAO, pp); err != nil {
		return SwapResult{}, err
	}
	p.Alpha += delta
	p.TAO -= out
	return SwapResult{AmountTaken: delta + fee, Fee: fee, PaidIn: delta, Out: out}, nil
}

// QuoteBuy is BuyAlpha on a copy of p: the same result, no side effect.
func (p Pool) QuoteBuy(tao uint64, limit U64F64, dropFees bool, pp PoolParams) (SwapResult, error) {
	return p.BuyAlpha(tao, limit, dropFees, pp)
}

// QuoteSell is SellAlpha on a copy of p.
func (p Pool) QuoteSell(alpha uint64, limit U64F64, dropFees bool, pp PoolParams) (SwapResult, error) {
	return p.SellAlpha(alpha, limit, dropFees, pp)
}

// stableSwap is the 1:1 swap of mechanism 0 (no fee; the limit passes when it is at least
// 1.0 for a buy, at most 1.0 for a sell).
func (p *Pool) stableSwap(amount uint64, limit U64F64, buy bool) (SwapResult, error) {
	if (buy && limit.Cmp(oneU64F64) < 0) || (!buy && limit.Cmp(oneU64F64) > 0) {
		return SwapResult{}, limitErr(oneU64F64, limit, buy)
	}
	if buy {
		p.TAO = satAdd(p.TAO, amount)
		p.Alpha = satSub(p.Alpha, amount)
	} else {
		if amount > p.TAO {
			return SwapResult{}, ErrInsufficientLiquidity
		}
		p.TAO -= amount
		p.Alpha = satAdd(p.Alpha, amount)
	}
	return SwapResult{AmountTaken: amount, PaidIn: amount, Out: amount}, nil
}

func checkSwap(delta, out, inRes, outRes uint64, pp PoolParams) error {
	if delta/1000 > inRes || (delta/1000 == inRes && delta%1000 != 0) {
		return ErrSwapTooLarge
	}
	if outRes < pp.MinimumReserve {
		return ErrReservesTooLow
	}
	if delta > 0 && out == 0 {
		return ErrReservesTooLow
	}
	if out > outRes {
		return ErrInsufficientLiquidity
	}
	return nil
}

// LimitError is a refused limit price, naming the current price and the limit.
type LimitError struct {
	Current, Limit U64F64
	Buy            bool
}

func (e *LimitError) Error() string {
	side := "a buy needs the limit above"
	if !e.Buy {
		side = "a sell needs the limit below"
	}
	return fmt.Sprintf("dtao: price limit exceeded: price %s, limit %s (%s the price)",
		FormatPrice(e.Current), FormatPrice(e.Limit), side)
}

func (e *LimitError) Unwrap() error { return ErrPriceLimitExceeded }

func limitErr(cur, lim U64F64, buy bool) error { return &LimitError{cur, lim, buy} }

// FormatPrice writes a U64F64 price in rao per alpha (floored), e.g. "1500000000 rao/α".
func FormatPrice(v U64F64) string {
	return fmt.Sprintf("%d rao/α", v.mulU64(1_000_000_000))
}

// mulU64 on U64F64 with a big multiplier can saturate; FormatPrice is informational only.

// UpdateWeightsForInjection is update_weights_for_added_liquidity: the quote weight that
// keeps the price when Δy TAO and Δx alpha are added to the reserves. It returns
// ErrInvalidWeight (and leaves p unchanged) if the weight would leave [0.01, 0.99]. The
// reserves themselves are not changed.
func (p *Pool) UpdateWeightsForInjection(dTAO, dAlpha uint64) error {
	w1, w2 := p.Weights()
	y := new(big.Int).SetUint64(p.TAO)
	x := new(big.Int).SetUint64(p.Alpha)
	ny := new(big.Int).SetUint64(dTAO)
	ny.Add(ny, y)
	nx := new(big.Int).SetUint64(dAlpha)
	nx.Add(nx, x)
	q1 := mulPerquintillRound(w1, satU128(new(big.Int).Mul(y, nx)))
	q2 := mulPerquintillRound(w2, satU128(new(big.Int).Mul(x, ny)))
	sum := satU128(new(big.Int).Add(q1, q2))
	nw := HalfWeight
	if sum.Sign() != 0 {
		// Perquintill::from_rational(q2, sum), rounded down.
		z := new(big.Int).Mul(q2, bigAccuracy)
		nw = z.Quo(z, sum).Uint64()
	}
	if nw < MinWeight || Accuracy-nw < MinWeight {
		return ErrInvalidWeight
	}
	p.QuoteWeight = nw
	return nil
}

// mulPerquintillRound is floor((v·parts + 5e17)/1e18), saturated to u128.
func mulPerquintillRound(parts uint64, v *big.Int) *big.Int {
	z := new(big.Int).Mul(v, new(big.Int).SetUint64(parts))
	z.Add(z, new(big.Int).SetUint64(Accuracy/2))
	z.Quo(z, bigAccuracy)
	return satU128(z)
}

func satU128(z *big.Int) *big.Int {
	if z.Cmp(bigMaxU128) > 0 {
		return new(big.Int).Set(bigMaxU128)
	}
	return z
}

func satAdd(a, b uint64) uint64 {
	if c := a + b; c >= a {
		return c
	}
	return math.MaxUint64
}

func satSub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// MaxAmountAdd is get_max_amount_add: the TAO (fee included) that a buy at limit (rao per
// alpha) can take, simulated as a buy of 1000 × SubnetTAO. A stable pool gives u64::MAX if
// the limit is at least 1.0, else 0.
func MaxAmountAdd(p Pool, limitRao uint64, pp PoolParams) (uint64, error) {
	return maxAmountAdd(p, limitRao, pp, nil)
}

func maxAmountAdd(p Pool, limitRao uint64, pp PoolParams, m *swapMemo) (uint64, error) {
	if p.Stable {
		if limitRao >= 1_000_000_000 {
			return math.MaxUint64, nil
		}
		return 0, nil
	}
	r, err := p.buy(satMul1000(p.TAO), LimitPrice(limitRao), false, pp, m)
	if err != nil {
		return 0, err
	}
	return r.PaidIn + r.Fee, nil
}

// MaxAmountRemove is get_max_amount_remove: the alpha (fee included) that a sell at limit
// can take, simulated as a sell of 1000 × AlphaIn.
func MaxAmountRemove(p Pool, limitRao uint64, pp PoolParams) (uint64, error) {
	return maxAmountRemove(p, limitRao, pp, nil)
}

func maxAmountRemove(p Pool, limitRao uint64, pp PoolParams, m *swapMemo) (uint64, error) {
	if p.Stable {
		if limitRao <= 1_000_000_000 {
			return math.MaxUint64, nil
		}
		return 0, nil
	}
	r, err := p.sell(satMul1000(p.Alpha), LimitPrice(limitRao), false, pp, m)
	if err != nil {
		return 0, err
	}
	return r.PaidIn + r.Fee, nil
}

func satMul1000(v uint64) uint64 {
	if v > math.MaxUint64/1000 {
		return math.MaxUint64
	}
	return v * 1000
}
