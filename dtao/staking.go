package dtao

import (
	"errors"
	"fmt"
	"math"
	"math/big"
)

// DefaultMinStake is DefaultMinStake: 2_000_000 rao.
const DefaultMinStake uint64 = 2_000_000

// Errors of staking.
var (
	ErrAmountTooLow    = errors.New("dtao: amount below the minimum stake")
	ErrSlippageTooHigh = errors.New("dtao: the limit price admits less than the amount")
	ErrZeroAmount      = errors.New("dtao: zero amount")
)

// StakeParams are the staking parameters.
type StakeParams struct {
	Pool     PoolParams
	MinStake uint64
}

// DefaultStakeParams are the runtime's.
func DefaultStakeParams() StakeParams {
	return StakeParams{Pool: DefaultPoolParams(), MinStake: DefaultMinStake}
}

// Limit is a safe-staking limit price: Price in rao per alpha (1e9 = 1.0; 0 = no limit) and
// whether a limit that admits only part of the amount runs that part (allow_partial) or is
// refused.
type Limit struct {
	Price        uint64
	AllowPartial bool
}

// Side is the part of a subnet's state that staking changes: its pool and AlphaOut.
type Side struct {
	Pool     Pool
	AlphaOut uint64
}

// StakeResult is the effect of an add: the payer's balance falls by TAOTaken, Alpha is
// credited to (hotkey, coldkey), the pool's TAO rises by PaidIn, and Fee goes to the block
// author (burned if there is none).
type StakeResult struct {
	TAOTaken, Fee, PaidIn, Alpha uint64
}

// AddStake is add_stake / add_stake_limit (§4) on side: it validates (amount ≤ 1000·TAO
// reserve, amount ≥ MinStake + fee(MinStake), simulated paid_in ≥ MinStake and alpha > 0),
// applies the limit, swaps and returns the new side. The balance and hotkey checks are the
// caller's.
//
// With a limit the stake first swaps and keeps the swap where it clears the limit
// (clearOfLimit): then get_max_amount_add's answer is surely "all of it" and is not
// simulated. Otherwise, and where the swap surely passes the limit (surelyPastLimit), it
// takes subtensor's order, sharing powers through a swapMemo.
func AddStake(sd Side, tao uint64, lim Limit, sp StakeParams) (Side, StakeResult, error) {
	if tao == 0 {
		return sd, StakeResult{}, ErrZeroAmount
	}
	if !sd.Pool.Stable && tao > satMul1000(sd.Pool.TAO) {
		return sd, StakeResult{}, ErrSwapTooLarge
	}
	if tao < satAdd(sp.MinStake, Fee(sp.MinStake, feeRate(sd, sp))) {
		return sd, StakeResult{}, ErrAmountTooLow
	}
	limit := LimitPrice(MaxPriceRao)
	p := sd.Pool // the simulation is the swap itself, on a copy
	var r SwapResult
	swapped := false
	m := &swapMemo{} // the swaps below are all on sd.Pool at limit
	if lim.Price != 0 {
		limit = LimitPrice(lim.Price)
		if sd.Pool.Stable {
			limit = oneU64F64
		}
		if !sd.Pool.Stable && !surelyPastLimit(sd.Pool, tao-Fee(tao, sp.Pool.FeeRate), limit, true) {
			q := sd.Pool
			if qr, err := q.buy(tao, limit, false, sp.Pool, m); err == nil && clearOfLimit(sd.Pool, q, limit, true) {
				p, r, swapped = q, qr, true
			}
		}
		if !swapped {
			max, err := maxAmountAdd(sd.Pool, lim.Price, sp.Pool, m)
			if err != nil {
				return sd, StakeResult{}, err
			}
			if tao > max {
				if !lim.AllowPartial {
					return sd, StakeResult{}, ErrSlippageTooHigh
				}
				tao = max
			}
		}
	}
	if !swapped {
		var err error
		if r, err = p.buy(tao, limit, false, sp.Pool, m); err != nil {
			return sd, StakeResult{}, err
		}
	}
	if r.PaidIn < sp.MinStake || r.Out == 0 {
		return sd, StakeResult{}, ErrAmountTooLow
	}
	sd.Pool = p
	sd.AlphaOut = satAdd(sd.AlphaOut, r.Out)
	return sd, StakeResult{TAOTaken: r.AmountTaken, Fee: r.Fee, PaidIn: r.PaidIn, Alpha: r.Out}, nil
}

func feeRate(sd Side, sp StakeParams) uint16 {
	if sd.Pool.Stable {
		return 0
	}
	return sp.Pool.FeeRate
}

// UnstakeResult is the effect of a remove: AlphaTaken is debited from (hotkey, coldkey)
// (less than asked when a limit binds: the rest stays staked), TAO goes to the coldkey,
// AuthorTAO to the block author (the alpha fee, sold fee-free).
type UnstakeResult struct {
	AlphaTaken, FeeAlpha, PaidIn, TAO, AuthorTAO uint64
}

// RemoveStake is remove_stake / remove_stake_limit (§4): alpha is clamped to stake (the
// holder's value); the sale must be ≤ 1000·AlphaIn; if stake would remain, its simulated
// TAO must be ≥ MinStake. unstake_from_subnet sells alpha − fee_α, then sells fee_α
// fee-free for the block author.
func RemoveStake(sd Side, alpha, stake uint64, lim Limit, sp StakeParams) (Side, UnstakeResult, error) {
	return removeStake(sd, alpha, stake, lim, sp, false)
}

// removeStake is RemoveStake with the fees dropped or not; a limit is handled as in
// AddStake.
func removeStake(sd Side, alpha, stake uint64, lim Limit, sp StakeParams, dropFees bool) (Side, UnstakeResult, error) {
	alpha = min(alpha, stake)
	if alpha == 0 {
		return sd, UnstakeResult{}, ErrZeroAmount
	}
	if !sd.Pool.Stable && alpha > satMul1000(sd.Pool.Alpha) {
		return sd, UnstakeResult{}, ErrSwapTooLarge
	}
	limit := LimitPrice(MinPriceRao)
	if sd.Pool.Stable {
		dropFees = true
	}
	fee := func(alpha uint64) uint64 {
		if dropFees {
			return 0
		}
		return Fee(alpha, sp.Pool.FeeRate)
	}
	p := sd.Pool
	var r SwapResult
	swapped := false
	m := &swapMemo{} // the swaps below are all on sd.Pool at limit
	if lim.Price != 0 {
		limit = LimitPrice(lim.Price)
		if sd.Pool.Stable {
			limit = oneU64F64
		}
		if !sd.Pool.Stable && !surelyPastLimit(sd.Pool, alpha-fee(alpha), limit, false) {
			q := sd.Pool
			if qr, err := q.sell(alpha-fee(alpha), limit, true, sp.Pool, m); err == nil && clearOfLimit(sd.Pool, q, limit, false) {
				p, r, swapped = q, qr, true
			}
		}
		if !swapped {
			max, err := maxAmountRemove(sd.Pool, lim.Price, sp.Pool, m)
			if err != nil {
				return sd, UnstakeResult{}, err
			}
			if alpha > max {
				if !lim.AllowPartial {
					return sd, UnstakeResult{}, ErrSlippageTooHigh
				}
				alpha = max
			}
		}
	}
	feeA := fee(alpha)
	if !swapped {
		var err error
		if r, err = p.sell(alpha-feeA, limit, true, sp.Pool, m); err != nil {
			return sd, UnstakeResult{}, err
		}
	}
	if alpha < stake && r.Out < sp.MinStake {
		return sd, UnstakeResult{}, ErrAmountTooLow
	}
	res := UnstakeResult{AlphaTaken: r.PaidIn, PaidIn: r.PaidIn, TAO: r.Out}
	if feeA > 0 {
		if f, err := p.SellAlpha(feeA, LimitPrice(MinPriceRao), true, sp.Pool); err == nil {
			res.FeeAlpha, res.AuthorTAO = feeA, f.Out
			res.AlphaTaken += feeA
		}
	}
	sd.Pool = p
	sd.AlphaOut = satSub(sd.AlphaOut, res.AlphaTaken)
	return sd, res, nil
}

// MoveResult is a stake move across subnets: AlphaTaken leaves the origin stake, TAO is
// what the sale gave, and either Alpha is credited at the destination (Restaked) or TAO is
// paid to the coldkey's free balance because it is below MinStake. AuthorTAO is the fee.
type MoveResult struct {
	AlphaTaken, TAO, Alpha, AuthorTAO uint64
	Restaked                          bool
}

// MoveStake is move_stake / swap_stake / transfer_stake across two different subnets (§4):
// unstake on the origin with drop_fees = (origin is root), re-stake on the destination with
// the opposite, so one fee is charged. lim.Price, if set, is the least origin/destination
// price ratio (rao per alpha of the ratio, 1e9 = 1.0), as swap_stake_limit takes it: the
// alpha (clamped to stake) may be at most MaxAmountMove's; more is refused
// (a *MoveLimitError, which is ErrSlippageTooHigh) or, with AllowPartial, cut to it. A
// limit above the current ratio admits nothing (a *LimitError naming the ratio). On the
// same subnet use MoveShares (no swap, no fee).
func MoveStake(from, to Side, alpha, stake uint64, lim Limit, sp StakeParams) (Side, Side, MoveResult, error) {
	if lim.Price != 0 {
		max, err := MaxAmountMove(from.Pool, to.Pool, lim.Price, sp.Pool)
		if err != nil {
			return from, to, MoveResult{}, err
		}
		if alpha = min(alpha, stake); alpha > max {
			if !lim.AllowPartial {
				return from, to, MoveResult{}, &MoveLimitError{Ratio: from.Pool.Price().Div(to.Pool.Price()), Max: max}
			}
			alpha = max
		}
	}
	originRoot := from.Pool.Stable
	nf, u, err := removeStake(from, alpha, stake, Limit{}, sp, originRoot)
	if err != nil {
		return from, to, MoveResult{}, err
	}
	res := MoveResult{AlphaTaken: u.AlphaTaken, TAO: u.TAO, AuthorTAO: u.AuthorTAO}
	if u.TAO < sp.MinStake {
		return nf, to, res, nil
	}
	p := to.Pool
	r, err := p.BuyAlpha(u.TAO, LimitPrice(MaxPriceRao), !originRoot, sp.Pool)
	if err != nil || r.Out == 0 || r.AmountTaken != u.TAO {
		return nf, to, res, nil // not re-staked: the TAO stays liquid
	}
	to.Pool = p
	to.AlphaOut = satAdd(to.AlphaOut, r.Out)
	res.AuthorTAO += r.Fee
	res.Alpha, res.Restaked = r.Out, true
	return nf, to, res, nil
}

// MoveShares moves u alpha of value from one holder to another on one subnet (move to
// another hotkey, or transfer to another coldkey): no swap, no fee; u must be ≥ MinStake.
// from and to may be the same pool (a transfer between two coldkeys of one hotkey). It
// returns the two holders' new shares and changes nothing if it fails.
func MoveShares(from *HotkeyStake, fromShares *big.Int, to *HotkeyStake, toShares *big.Int, u uint64, sp StakeParams) (*big.Int, *big.Int, error) {
	if u < sp.MinStake {
		return nil, nil, ErrAmountTooLow
	}
	same := from == to
	f := from.Clone()
	nf, err := f.Debit(fromShares, u)
	if err != nil {
		return nil, nil, err
	}
	t := to.Clone()
	if same {
		t = f
	}
	nt, err := t.Credit(toShares, u)
	if err != nil {
		return nil, nil, err
	}
	if same {
		*from = t
	} else {
		*from, *to = f, t
	}
	return nf, nt, nil
}

// MaxAmountMove is get_max_amount_move: the most origin alpha a swap from pool from to
// pool to may take at limitRao, the least origin/destination price ratio (rao per alpha
// of the ratio). Between two stable pools (root) it is unlimited unless the limit is above
// 1.0; from a stable pool it is MaxAmountAdd on the destination at the inverse limit; to
// a stable pool, MaxAmountRemove on the origin. Between two dynamic pools it is
// subtensor's closed form, which takes both pools as equal-weight and fee-free:
//
//	max = α₂·(τ₁/(τ₁+τ₂)) / limit − α₁·(τ₂/(τ₁+τ₂))
//
// in U64F64 steps, floored; a limit above the current ratio, an empty reserve or a max of
// 0 admits nothing and is an error (a *LimitError naming the ratio where a ratio applies).
// A zero limit is unlimited.
func MaxAmountMove(from, to Pool, limitRao uint64, pp PoolParams) (uint64, error) {
	const rao = 1_000_000_000
	ratio := from.Price().Div(to.Price())
	nothing := limitErr(ratio, LimitPrice(limitRao), false)
	switch {
	case from.Stable && to.Stable:
		if limitRao > rao {
			return 0, nothing
		}
		return math.MaxUint64, nil
	case from.Stable:
		if limitRao == 0 {
			return math.MaxUint64, nil
		}
		// The ratio is 1/destination price: the destination's limit is its inverse.
		dest := Ratio64(rao, limitRao).Mul(U64F64FromInt(rao)).Floor()
		return maxAmountAdd(to, dest, pp, nil)
	case to.Stable:
		return maxAmountRemove(from, limitRao, pp, nil)
	}
	if from.TAO == 0 || to.TAO == 0 || from.Alpha == 0 || to.Alpha == 0 {
		return 0, nothing
	}
	limit := LimitPrice(limitRao)
	if limit.Cmp(ratio) > 0 {
		return 0, nothing
	}
	if limitRao == 0 {
		return math.MaxUint64, nil
	}
	t1, t2 := U64F64FromInt(from.TAO), U64F64FromInt(to.TAO)
	sum := t1.Add(t2)
	max := U64F64FromInt(to.Alpha).Mul(t1.Div(sum)).Div(limit).Sub(U64F64FromInt(from.Alpha).Mul(t2.Div(sum))).Floor()
	if max == 0 {
		return 0, nothing
	}
	return max, nil
}

// MoveLimitError is a swap refused by its limit: at the least ratio asked the origin can
// give at most Max alpha (MaxAmountMove), less than the amount; Ratio is the current
// origin/destination price ratio.
type MoveLimitError struct {
	Ratio U64F64
	Max   uint64
}

func (e *MoveLimitError) Error() string {
	return fmt.Sprintf("dtao: the limit admits at most %d origin alpha (the ratio is %s)", e.Max, FormatPrice(e.Ratio))
}

func (e *MoveLimitError) Unwrap() error { return ErrSlippageTooHigh }
