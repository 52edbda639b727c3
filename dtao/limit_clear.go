package dtao

import "github.com/tessera-net/tessera/internal/safemath"

// The safe-staking shortcut. add_stake_limit and remove_stake_limit first simulate a swap
// of 1000 × the input reserve at the limit (get_max_amount_add/remove) to learn the most
// the limit admits, and only then swap the amount. On a pool whose weights are off 1/2 (any
// pool after an injection) that simulation costs three big-integer powers, one of them for
// an input a thousand times the reserve, whose series run long: about 95 µs of a 120 µs
// stake. A user's limit is almost always far from where the stake ends (a 0.5 % tolerance
// against a move of hundredths of a percent), and then the simulation can only answer "the
// whole amount fits". clearOfLimit proves that from the swap itself, so such a stake costs
// one swap; when it cannot prove it, the stake takes subtensor's path.
//
// The argument, for a buy (a sell is its mirror, with the weights exchanged): buying x TAO
// on reserves (T, A) with weights (w0, w1), w0 + w1 = 1, moves the spot price to
// P(x) = P0·(1 + x/T)^(1/w0), so the input L at which the price reaches the limit λ exceeds
// the amount δ the swap paid in by
//
//	L − δ ≥ (T + δ) · w0 · ln(λ / P(δ)).
//
// clearOfLimit asks that the swap end at least 2^-16 of λ short of it, with T ≥ 2^30 rao,
// w0 ≥ 1/16, the spot price before ≥ 2^-20, an input of at most 16·T, an output of at
// least 128 rao and the output reserve left ≥ 2^40. Then the
// computed end price is within 2^-34 of P(δ) (the 2^-59 grid of the power, the floor of
// the output, the 2^-64 grid of the price), so L − δ ≥ (T + δ)·2^-21 ≥ 512 rao. The limit
// delta get_max_amount_add computes is within 2 + T·2^-43 rao of L (the price it starts
// from is within 2^-44, its power on a 1e-18 grid, two floors) — or, where the power
// saturates at u64::MAX/1e18 ≈ 18.4, it is 17.4·T, still past the input — and the amount it admits
// is that delta plus the fee at the limit, while the stake's amount is δ plus its fee:
// the two fees differ by at most 2 rao on amounts 3 rao apart; the swap of that delta gives
// a positive output, as the smaller one did (the outputs are within 66 rao of their exact
// values, which grow with the input). So the amount is within the
// maximum, the full path would swap exactly this amount at this limit, and the result is
// the swap already made, bit for bit (TestLimitShortcutMatchesFullPath).
const (
	clearMarginShift = 16 // the end price at least λ·2^-16 short of the limit
	clearMinInput    = 1 << 30
	clearMinOutput   = 1 << 40
	clearMinOut      = 128
	clearMaxInput    = 16      // the amount at most 16 × the input reserve
	clearMinPrice    = 1 << 44 // 2^-20 in U64F64 bits (the low word)
	clearMinWeight   = Accuracy / 16
)

// clearOfLimit reports whether a swap that took the pool from before to after (a buy of
// alpha when buy, else a sale) certainly admitted its whole amount under limit: the
// amount is at most what get_max_amount_add (or _remove) would return for that limit.
func clearOfLimit(before, after Pool, limit U64F64, buy bool) bool {
	if before.Stable {
		return false
	}
	w0, w1 := before.Weights()
	inRes, inAfter, outBefore, outLeft := before.TAO, after.TAO, before.Alpha, after.Alpha
	if !buy {
		inRes, inAfter, outBefore, outLeft = before.Alpha, after.Alpha, before.TAO, after.TAO
	}
	cur := before.Price()
	if w0 < clearMinWeight || w1 < clearMinWeight || inRes < clearMinInput || outLeft < clearMinOutput ||
		outBefore-outLeft < clearMinOut || inAfter-inRes > clearMaxInput*inRes || (cur.Hi == 0 && cur.Lo < clearMinPrice) {
		return false
	}
	end := after.Price()
	if buy {
		// end ≤ λ − λ·2^-16
		return end.Cmp(limit.Sub(U64F64(safemath.U128(limit).Shr(clearMarginShift)))) <= 0
	}
	// end ≥ λ + end·2^-16: the sale stops at least 2^-16 of its end price above the limit
	return end.Sub(U64F64(safemath.U128(end).Shr(clearMarginShift))).Cmp(limit) >= 0
}

// The other side: a swap that surely passes its limit. get_max_amount_add (and _remove)
// simulate a swap of 1000 × the input reserve, and its first step is the power for that
// whole amount, only to learn that its end price passes the limit and the swap is cut at
// the limit delta. limitBindsSurely decides that from the limit delta L alone, which the
// cut needs anyway.
//
// For a buy of δ ≥ 100·T (a sale mirrors it): the exact end price is P(δ) = λ·((T + δ) /
// (T + L*))^(1/w0) ≥ λ·(T + δ)/(T + L*), where L* is the exact input that reaches λ. With
// the guards of clearOfLimit and L < 16·T (so its power did not saturate), L* is within
// 3 + T·2^-43 of L; with L ≤ δ/10 the end price is then above 9·λ. The computed end price
// is within 2^-19 of it: with w0 ≥ 1/3 the alpha left is at least A·(T/(T + δ))^2 ≥ 2^20
// for δ ≤ 1001·T and A ≥ 2^40, against an error of at most 34 rao, and T + δ < 2^63 keeps
// the sum from saturating. So the swap of the whole amount would pass the limit, and the
// cut at L is what subtensor computes, without the power of the whole amount.
const (
	bindMinRatio  = 100  // the swap at least 100 × the input reserve,
	bindMaxRatio  = 1001 // at most 1001 × it (get_max_amount's 1000, less its fee),
	bindLimitPart = 10   // the limit delta at most a tenth of it,
	bindMaxDelta  = 16   // and under 16 × the reserve (its power not saturated)
)

// limitBindsSurely reports whether a swap of delta on p (a buy when buy) surely ends past
// its limit, and then the limit delta, which limDelta computes.
func limitBindsSurely(p Pool, delta uint64, buy bool, limDelta func() uint64) (uint64, bool) {
	w0, w1 := p.Weights()
	inRes, outRes, wIn := p.TAO, p.Alpha, w0
	if !buy {
		inRes, outRes, wIn = p.Alpha, p.TAO, w1
	}
	if p.Stable || inRes < clearMinInput || delta/bindMinRatio < inRes || delta/bindMaxRatio > inRes ||
		inRes+delta >= 1<<63 || outRes < clearMinOutput || wIn < Accuracy/3 {
		return 0, false
	}
	if cur := p.Price(); cur.Hi == 0 && cur.Lo < clearMinPrice {
		return 0, false
	}
	l := limDelta()
	if l >= bindMaxDelta*inRes || l > delta/bindLimitPart {
		return 0, false
	}
	return l, true
}

// swapMemo carries, between the swaps of one stake on one pool at one limit, the powers
// they share: the limit delta, and the output for one input. get_max_amount_add ends with
// the cut at the limit delta; the stake it admits, when the limit binds, swaps that same
// delta on the same pool again, and with the memo that second swap costs no power. A nil
// memo remembers nothing.
type swapMemo struct {
	lim, in, out     uint64
	haveLim, haveOut bool
}

func (m *swapMemo) limitDelta(f func() uint64) uint64 {
	if m == nil {
		return f()
	}
	if !m.haveLim {
		m.lim, m.haveLim = f(), true
	}
	return m.lim
}

func (m *swapMemo) output(in uint64, f func() uint64) uint64 {
	if m == nil {
		return f()
	}
	if !m.haveOut || m.in != in {
		m.in, m.out, m.haveOut = in, f(), true
	}
	return m.out
}

// surelyPastLimit reports whether a swap of delta on p (a buy when buy) ends past limit by
// a lower bound on how far a swap moves the price: P(δ) = P0·(1 + δ/T)^(1/w0) ≥
// P0·(1 + δ/(T·w0)) for a buy, and for a sale P(δ) ≤ P0 / (1 + δ/(A·w1)) (Bernoulli). It
// only chooses which exact path a limited stake takes — a stake whose swap surely passes
// the limit does not try clearOfLimit's swap first — so its roundings cost at most a
// power, never a rao.
func surelyPastLimit(p Pool, delta uint64, limit U64F64, buy bool) bool {
	if p.Stable {
		return false
	}
	w0, w1 := p.Weights()
	cur := p.Price()
	if buy {
		rise := Ratio64(delta, p.TAO).Mul(Ratio64(Accuracy, w0))
		return cur.Add(cur.Mul(rise)).Cmp(limit) > 0
	}
	fall := Ratio64(delta, p.Alpha).Mul(Ratio64(Accuracy, w1))
	return cur.Div(oneU64F64.Add(fall)).Cmp(limit) < 0
}
