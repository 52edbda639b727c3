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
