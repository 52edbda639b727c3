package dtao

import (
	"fmt"
	"math/rand/v2"
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

// The shortcut changes nothing: for random pools, amounts and limits — far from where the
// swap ends, a little short of it, just past it and beyond — a stake and an unstake with a
// limit give the same side, result and error with and without it, and where it was
// taken that was because the swap cleared the limit. It must be taken often enough to
// matter.
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
			s1, r1, e1 := addStake(side, amount, l, sp, true)
			s2, r2, e2 := addStake(side, amount, l, sp, false)
			fast, full = fmt.Sprint(s1, r1, e1), fmt.Sprint(s2, r2, e2)
			q := p
			if _, err := q.BuyAlpha(amount, LimitPrice(lim), false, sp.Pool); err == nil && clearOfLimit(p, q, LimitPrice(lim), true) {
				taken++
			}
		} else {
			s1, r1, e1 := removeStake(side, amount, amount*2, l, sp, false, true)
			s2, r2, e2 := removeStake(side, amount, amount*2, l, sp, false, false)
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
