package dtao

import (
	"math"
	"math/big"
	"testing"
)

// w = 0.5: the exact power path (a division). After an injection (V4): the fallback path.
var (
	benchExact    = Pool{TAO: 1e13, Alpha: 4e13, QuoteWeight: HalfWeight}
	benchFallback = Pool{TAO: 1e13, Alpha: 4e13, QuoteWeight: 499_999_997_008_973_068}
)

func benchSwap(b *testing.B, p Pool, buy bool) {
	pp := DefaultPoolParams()
	for b.Loop() {
		q := p
		if buy {
			_, _ = q.BuyAlpha(1e9, noMax, false, pp)
		} else {
			_, _ = q.SellAlpha(4e9, noMin, false, pp)
		}
	}
}

func BenchmarkSwap(b *testing.B) {
	b.Run("buy/exact", func(b *testing.B) { benchSwap(b, benchExact, true) })
	b.Run("sell/exact", func(b *testing.B) { benchSwap(b, benchExact, false) })
	b.Run("buy/fallback", func(b *testing.B) { benchSwap(b, benchFallback, true) })
	b.Run("sell/fallback", func(b *testing.B) { benchSwap(b, benchFallback, false) })
}

func BenchmarkQuote(b *testing.B) {
	pp := DefaultPoolParams()
	for _, c := range []struct {
		name string
		p    Pool
	}{{"exact", benchExact}, {"fallback", benchFallback}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				_, _ = c.p.QuoteBuy(1e9, noMax, false, pp)
			}
		})
	}
}

func BenchmarkStake(b *testing.B) {
	sp := DefaultStakeParams()
	for _, c := range []struct {
		name string
		p    Pool
	}{{"exact", benchExact}, {"fallback", benchFallback}} {
		b.Run("add/"+c.name, func(b *testing.B) {
			for b.Loop() {
				_, _, _ = AddStake(Side{Pool: c.p}, 1e9, Limit{}, sp)
			}
		})
		b.Run("remove/"+c.name, func(b *testing.B) {
			for b.Loop() {
				_, _, _ = RemoveStake(Side{Pool: c.p, AlphaOut: 1e12}, 4e9, 1e12, Limit{}, sp)
			}
		})
		b.Run("add-limit/"+c.name, func(b *testing.B) {
			for b.Loop() {
				_, _, _ = AddStake(Side{Pool: c.p}, 1e9, Limit{Price: 260_000_000, AllowPartial: true}, sp)
			}
		})
	}
}

func BenchmarkPow(b *testing.B) {
	x, d := big.NewInt(21e15), big.NewInt(21e15+100)
	b.Run("exact", func(b *testing.B) {
		for b.Loop() {
			PowExact(x, d, 1, 1, bigAccuracy)
		}
	})
	b.Run("fallback/256", func(b *testing.B) {
		n, m := big.NewInt(499_999_999_999_500_000), big.NewInt(500_000_000_000_500_000)
		for b.Loop() {
			PowFallback(x, d, n, m, 256, bigAccuracy)
		}
	})
	b.Run("fallback/1024", func(b *testing.B) {
		n, m := big.NewInt(499_999_999_999_500_000), big.NewInt(500_000_000_000_500_000)
		for b.Loop() {
			PowFallback(x, d, n, m, 1024, bigAccuracy)
		}
	})
}

// BenchmarkCoinbase128 is one block's coinbase over 128 subnets with weights off 0.5 (the
// fallback power path). "inject": root stake, so the emission is injected (no swap);
// "chainbuy": no root stake, so every subnet's emission is a chain buy through the pool
// (one fallback power each: the worst case).
func BenchmarkCoinbase128(b *testing.B) {
	for _, c := range []struct {
		name string
		root uint64
	}{{"inject", 5e15}, {"chainbuy", 0}} {
		st := DefaultState()
		st.RootTAO = c.root
		st.TaoWeight = math.MaxUint64 / 5
		st.TotalIssuance = 10e15
		for n := 1; n <= 128; n++ {
			s := started(uint16(n), 1e13+uint64(n)*1e10, 4e13, U96F32{0, uint64(n) << 24})
			s.AlphaOut = 1e13
			s.Pool.QuoteWeight = 499_999_997_008_973_068 + uint64(n)
			st.Subnets = append(st.Subnets, s)
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				_, _ = Coinbase(st, 1000, EMAPriceShares)
			}
		})
	}
}
