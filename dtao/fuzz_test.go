package dtao

import "testing"

// FuzzSwap checks, for any pool and amount, that a swap either fails cleanly or: takes no
// more than offered, pays out less than the output reserve, moves the reserves by exactly
// what it reports, moves the price the right way, matches its quote, and that selling back
// what a buy gave (and the reverse) never returns more than was paid in.
func FuzzSwap(f *testing.F) {
	f.Add(uint64(1e9), uint64(4e9), uint64(HalfWeight), uint64(123_456), true)
	f.Add(uint64(33_433_333), uint64(334_333_334), uint64(499_999_997_008_973_068), uint64(1e6), true)
	f.Add(uint64(33_433_333), uint64(334_333_334), uint64(499_999_997_008_973_068), uint64(1e7), false)
	f.Add(uint64(1e11), uint64(1e12), uint64(3e17), uint64(1e8), false)
	f.Fuzz(func(t *testing.T, tao, alpha, w, amount uint64, buy bool) {
		w = MinWeight + w%(Accuracy-2*MinWeight+1)
		p := Pool{TAO: tao, Alpha: alpha, QuoteWeight: w}
		pp := DefaultPoolParams()
		before := p.Price()
		// Every fourth input swaps against a limit a few percent from the price.
		hi, lo := noMax, noMin
		if amount%4 == 0 {
			hi = before.Add(U64F64{0, 1 << 59})
			lo = before.Sub(U64F64{0, 1 << 59})
		}
		q, qerr := p.QuoteBuy(amount, hi, false, pp)
		if !buy {
			q, qerr = p.QuoteSell(amount, lo, false, pp)
		}
		var r SwapResult
		var err error
		if buy {
			r, err = p.BuyAlpha(amount, hi, false, pp)
		} else {
			r, err = p.SellAlpha(amount, lo, false, pp)
		}
		if (err == nil) != (qerr == nil) || r != q {
			t.Fatalf("quote %+v %v vs swap %+v %v", q, qerr, r, err)
		}
		if err != nil {
			if p.TAO != tao || p.Alpha != alpha {
				t.Fatal("a failed swap changed the pool")
			}
			return
		}
		if r.AmountTaken > amount || r.AmountTaken != r.PaidIn+r.Fee {
			t.Fatalf("%+v of %d", r, amount)
		}
		inR, outR := tao, alpha
		if !buy {
			inR, outR = alpha, tao
		}
		if r.Out > outR {
			t.Fatalf("out %d > reserve %d", r.Out, outR)
		}
		if buy && (p.TAO != tao+r.PaidIn || p.Alpha != alpha-r.Out) ||
			!buy && (p.Alpha != alpha+r.PaidIn || p.TAO != tao-r.Out) {
			t.Fatalf("reserves %+v after %+v", p, r)
		}
		_ = inR
		after := p.Price()
		if p.Alpha > 0 && (buy && after.Cmp(before) < 0 || !buy && after.Cmp(before) > 0) {
			t.Fatalf("price moved the wrong way: %v → %v", before, after)
		}
		if buy && after.Cmp(hi) > 0 || !buy && after.Cmp(lo) < 0 {
			t.Fatalf("price %v passed the limit (%v, %v)", after, lo, hi)
		}
		// Round trip, fee-free: never profitable.
		var back SwapResult
		if buy {
			back, err = p.SellAlpha(r.Out, noMin, true, pp)
		} else {
			back, err = p.BuyAlpha(r.Out, noMax, true, pp)
		}
		if err == nil && back.AmountTaken == r.Out && back.Out > r.PaidIn {
			t.Fatalf("round trip profit: in %d, back %d (%+v)", r.PaidIn, back.Out, p)
		}
	})
}
