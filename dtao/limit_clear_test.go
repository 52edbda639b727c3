package dtao

import (
	"fmt"
	"math/rand/v2"

	"github.com/tessera-net/tessera/internal/safemath"
	"testing"
)

// randomLimitPool is a pool of the shapes the chain holds: reserves from 1 TAO to 10M TAO
// (and a few below the shortcut's guards), weights from 1/2 to a few percent off it, and
// now and then far off.
func randomLimitPool(r *rand.Rand) Pool {
	scale := func() uint64 { return uint64(1e9) << r.IntN(24) }
	p := Pool{TAO: scale() + r.Uint64N(1e9), Alpha: scale() + r.Uint64N(1e9), QuoteWeight: HalfWeight}
	switch r.IntN(4) {
	case 0:
	case 1:
		p.QuoteWeight = HalfWeight - r.Uint64N(HalfWeight/20) + HalfWeight/40
	case 2:
		p.QuoteWeight = Accuracy/20 + r.Uint64N(Accuracy*9/10)
	default:
		p.TAO, p.Alpha = r.Uint64N(1<<32), r.Uint64N(1<<42)+1 // below the guards
	}
	return p
}

// The shortcut and the memo change nothing: for random pools, amounts and limits — far
// from where the swap ends, a little short of it, just past it and beyond — a stake and an
// unstake with a limit give the same side, result and error as subtensor's order
// (refAddStake, refRemoveStake). The shortcut must be taken often enough to matter.
func TestLimitShortcutMatchesFullPath(t *testing.T) {
	sp := DefaultStakeParams()
	r := rand.New(rand.NewPCG(7, 16))
	taken := 0
	const n = 4000
	for i := range n {
		p := randomLimitPool(r)
		buy := i%2 == 0
		amount := uint64(1e6) << r.IntN(36) >> r.IntN(8)
		// The limit around where the swap without a limit ends: from 10 % past to 10 % short.
		probe := p
		var end U64F64
		if buy {
			if _, err := probe.BuyAlpha(amount, LimitPrice(MaxPriceRao), false, sp.Pool); err != nil {
				continue
			}
		} else if _, err := probe.SellAlpha(amount, LimitPrice(MinPriceRao), false, sp.Pool); err != nil {
			continue
		}
		end = probe.Price()
		ppm := int64(r.IntN(200_001)) - 100_000
		if r.IntN(4) == 0 {
			ppm = int64(r.IntN(61)) - 30 // within 30 ppm: where the margin decides
		}
		lim := end.Floor()*1_000_000_000 + (end.Lo>>32)*1_000_000_000>>32
		lim = uint64(int64(lim) + int64(lim)/1_000_000*ppm)
		if lim == 0 {
			lim = 1
		}
		l := Limit{Price: lim, AllowPartial: r.IntN(2) == 0}
		side := Side{Pool: p, AlphaOut: p.Alpha}
		var fast, full string
		if buy {
			s1, r1, e1 := AddStake(side, amount, l, sp)
			s2, r2, e2 := refAddStake(side, amount, l, sp)
			fast, full = fmt.Sprint(s1, r1, e1), fmt.Sprint(s2, r2, e2)
			q := p
			if _, err := q.BuyAlpha(amount, LimitPrice(lim), false, sp.Pool); err == nil && clearOfLimit(p, q, LimitPrice(lim), true) {
				taken++
			}
		} else {
			s1, r1, e1 := RemoveStake(side, amount, amount*2, l, sp)
			s2, r2, e2 := refRemoveStake(side, amount, amount*2, l, sp, false)
			fast, full = fmt.Sprint(s1, r1, e1), fmt.Sprint(s2, r2, e2)
			q := p
			if _, err := q.SellAlpha(amount-Fee(amount, sp.Pool.FeeRate), LimitPrice(lim), true, sp.Pool); err == nil && clearOfLimit(p, q, LimitPrice(lim), false) {
				taken++
			}
		}
		if fast != full {
			t.Fatalf("case %d (buy %v, pool %+v, amount %d, limit %d, %d ppm from the end):\nshortcut %s\nfull     %s", i, buy, p, amount, lim, ppm, fast, full)
		}
	}
	if taken < n/10 {
		t.Fatalf("the shortcut was taken in %d of %d cases", taken, n)
	}
	t.Logf("the shortcut was taken in %d of %d cases", taken, n)
}

// A limit just past where the swap ends is not cleared (the margin is 2^-16), nor is any
// stake on a stable pool or on a pool under the guards.
func TestClearOfLimitRefusesNearAndSmall(t *testing.T) {
	sp := DefaultStakeParams()
	p := benchFallback
	q := p
	if _, err := q.BuyAlpha(1e9, LimitPrice(MaxPriceRao), false, sp.Pool); err != nil {
		t.Fatal(err)
	}
	end := q.Price()
	near := end.Add(U64F64{Lo: end.Lo >> 17, Hi: end.Hi >> 17})
	far := end.Add(U64F64{Lo: end.Lo >> 10, Hi: end.Hi >> 10})
	if clearOfLimit(p, q, near, true) {
		t.Error("a limit 2^-17 past the end was cleared")
	}
	if !clearOfLimit(p, q, far, true) {
		t.Error("a limit 2^-10 past the end was not cleared")
	}
	small := Pool{TAO: 1 << 29, Alpha: 1 << 45, QuoteWeight: HalfWeight}
	sq := small
	if _, err := sq.BuyAlpha(1e6, LimitPrice(MaxPriceRao), false, sp.Pool); err != nil {
		t.Fatal(err)
	}
	if clearOfLimit(small, sq, LimitPrice(MaxPriceRao), true) {
		t.Error("a pool under 2^30 rao of TAO was cleared")
	}
	if clearOfLimit(Pool{Stable: true, TAO: 1e15, Alpha: 1e15}, Pool{Stable: true, TAO: 1e15, Alpha: 1e15}, far, true) {
		t.Error("a stable pool was cleared")
	}
}

// Where limitBindsSurely says a swap passes its limit, the swap of the whole amount
// computed as subtensor does (the power for the whole amount, the end price) does pass
// it, and the limit delta it returns is the pool's. Cases: get_max_amount's 1000 ×
// reserve and smaller multiples, weights 1/3 to 2/3, limits from a hair above the price to
// far past what the swap reaches.
func TestLimitBindsSurelyAgreesWithTheSwap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 1000))
	taken := 0
	const n = 3000
	for i := range n {
		p := Pool{TAO: uint64(1e9)<<r.IntN(24) + r.Uint64N(1e9), Alpha: uint64(1e9)<<r.IntN(24) + r.Uint64N(1e9),
			QuoteWeight: Accuracy/3 + r.Uint64N(Accuracy/3)}
		buy := i%2 == 0
		in := p.TAO
		if !buy {
			in = p.Alpha
		}
		mult := []uint64{1000, 999, 500, 120, 100, 99}[r.IntN(6)]
		delta := in * mult
		cur := p.Price()
		// λ = price·(1 ± x), x from 2^-40 to 2^4
		step := U64F64(safemath.U128(cur).Shr(uint(r.IntN(44))))
		limit := cur.Add(step)
		if !buy {
			limit = cur.Sub(U64F64(safemath.U128(cur).Shr(uint(1 + r.IntN(43)))))
		}
		l, ok := limitBindsSurely(p, delta, buy, func() uint64 {
			if buy {
				return p.BuyLimitDelta(limit)
			}
			return p.SellLimitDelta(limit)
		})
		if !ok {
			continue
		}
		taken++
		w := p.weights2()
		if buy {
			out := outFor(p.Alpha, expScaled(w, p.TAO, delta, false))
			if target := priceOf(w, satAdd(p.TAO, delta), satSub(p.Alpha, out)); target.Cmp(limit) <= 0 {
				t.Fatalf("case %d: a buy of %d on %+v said to pass %v ends at %v", i, delta, p, limit, target)
			}
			if l != p.BuyLimitDelta(limit) {
				t.Fatalf("case %d: limit delta %d, the pool's %d", i, l, p.BuyLimitDelta(limit))
			}
		} else {
			out := outFor(p.TAO, expScaled(w, p.Alpha, delta, true))
			if target := priceOf(w, satSub(p.TAO, out), satAdd(p.Alpha, delta)); target.Cmp(limit) >= 0 {
				t.Fatalf("case %d: a sale of %d on %+v said to pass %v ends at %v", i, delta, p, limit, target)
			}
			if l != p.SellLimitDelta(limit) {
				t.Fatalf("case %d: limit delta %d, the pool's %d", i, l, p.SellLimitDelta(limit))
			}
		}
	}
	if taken < n/4 {
		t.Fatalf("limitBindsSurely held in %d of %d cases", taken, n)
	}
	t.Logf("limitBindsSurely held in %d of %d cases", taken, n)
}

// refAddStake and refRemoveStake are AddStake and removeStake as subtensor orders them,
// without the shortcut or the memo: get_max_amount first, then the swap. They are the
// oracle of TestLimitShortcutMatchesFullPath.
func refAddStake(sd Side, tao uint64, lim Limit, sp StakeParams) (Side, StakeResult, error) {
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
	if lim.Price != 0 {
		max, err := MaxAmountAdd(sd.Pool, lim.Price, sp.Pool)
		if err != nil {
			return sd, StakeResult{}, err
		}
		if tao > max {
			if !lim.AllowPartial {
				return sd, StakeResult{}, ErrSlippageTooHigh
			}
			tao = max
		}
		limit = LimitPrice(lim.Price)
		if sd.Pool.Stable {
			limit = oneU64F64
		}
	}
	p := sd.Pool // the simulation is the swap itself, on a copy
	r, err := p.BuyAlpha(tao, limit, false, sp.Pool)
	if err != nil {
		return sd, StakeResult{}, err
	}
	if r.PaidIn < sp.MinStake || r.Out == 0 {
		return sd, StakeResult{}, ErrAmountTooLow
	}
	sd.Pool = p
	sd.AlphaOut = satAdd(sd.AlphaOut, r.Out)
	return sd, StakeResult{TAOTaken: r.AmountTaken, Fee: r.Fee, PaidIn: r.PaidIn, Alpha: r.Out}, nil
}

func refRemoveStake(sd Side, alpha, stake uint64, lim Limit, sp StakeParams, dropFees bool) (Side, UnstakeResult, error) {
	alpha = min(alpha, stake)
	if alpha == 0 {
		return sd, UnstakeResult{}, ErrZeroAmount
	}
	if !sd.Pool.Stable && alpha > satMul1000(sd.Pool.Alpha) {
		return sd, UnstakeResult{}, ErrSwapTooLarge
	}
	limit := LimitPrice(MinPriceRao)
	if lim.Price != 0 {
		max, err := MaxAmountRemove(sd.Pool, lim.Price, sp.Pool)
		if err != nil {
			return sd, UnstakeResult{}, err
		}
		if alpha > max {
			if !lim.AllowPartial {
				return sd, UnstakeResult{}, ErrSlippageTooHigh
			}
			alpha = max
		}
		limit = LimitPrice(lim.Price)
		if sd.Pool.Stable {
			limit = oneU64F64
		}
	}
	if sd.Pool.Stable {
		dropFees = true
	}
	feeA := uint64(0)
	if !dropFees {
		feeA = Fee(alpha, sp.Pool.FeeRate)
	}
	p := sd.Pool
	r, err := p.SellAlpha(alpha-feeA, limit, true, sp.Pool)
	if err != nil {
		return sd, UnstakeResult{}, err
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
