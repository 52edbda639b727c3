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

// vary moves the reserves by i rao so that no two iterations share a logarithm (the ln
// memo would otherwise make every iteration after the first a hit): the cold cost.
func vary(p Pool, i uint64) Pool {
	p.TAO += i * 7919
	p.Alpha += i * 104729
	return p
}

func benchSwap(b *testing.B, p Pool, buy bool) {
	pp := DefaultPoolParams()
	i := uint64(0)
	cpu := processCPU()
	for b.Loop() {
		i++
		q := vary(p, i)
		if buy {
			_, _ = q.BuyAlpha(1e9, noMax, false, pp)
		} else {
			_, _ = q.SellAlpha(4e9, noMin, false, pp)
		}
	}
	reportCPU(b, cpu)
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
			i := uint64(0)
			cpu := processCPU()
			for b.Loop() {
				i++
				_, _ = vary(c.p, i).QuoteBuy(1e9, noMax, false, pp)
			}
			reportCPU(b, cpu)
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
			i := uint64(0)
			cpu := processCPU()
			for b.Loop() {
				i++
				_, _, _ = AddStake(Side{Pool: vary(c.p, i)}, 1e9, Limit{}, sp)
			}
			reportCPU(b, cpu)
		})
		b.Run("remove/"+c.name, func(b *testing.B) {
			i := uint64(0)
			cpu := processCPU()
			for b.Loop() {
				i++
				_, _, _ = RemoveStake(Side{Pool: vary(c.p, i), AlphaOut: 1e12}, 4e9, 1e12, Limit{}, sp)
			}
			reportCPU(b, cpu)
		})
		b.Run("add-limit/"+c.name, func(b *testing.B) {
			i := uint64(0)
			cpu := processCPU()
			for b.Loop() {
				i++
				_, _, _ = AddStake(Side{Pool: vary(c.p, i)}, 1e9, Limit{Price: 260_000_000, AllowPartial: true}, sp)
			}
			reportCPU(b, cpu)
		})
		// A limit the stake reaches: 1000 TAO would move the price 0.25 → 0.255, the limit
		// is 0.2501, so the stake is cut at it (subtensor's full path, get_max_amount_add).
		b.Run("add-limit-binding/"+c.name, func(b *testing.B) {
			i := uint64(0)
			cpu := processCPU()
			for b.Loop() {
				i++
				_, _, _ = AddStake(Side{Pool: vary(c.p, i)}, 1e12, Limit{Price: 250_100_000, AllowPartial: true}, sp)
			}
			reportCPU(b, cpu)
		})
		b.Run("remove-limit/"+c.name, func(b *testing.B) {
			i := uint64(0)
			cpu := processCPU()
			for b.Loop() {
				i++
				_, _, _ = RemoveStake(Side{Pool: vary(c.p, i), AlphaOut: 1e12}, 4e9, 1e12, Limit{Price: 240_000_000, AllowPartial: true}, sp)
			}
			reportCPU(b, cpu)
		})
	}
}

func BenchmarkPow(b *testing.B) {
	// the base moves every iteration so that the ln memo never hits
	n, m := big.NewInt(499_999_999_999_500_000), big.NewInt(500_000_000_000_500_000)
	for _, c := range []struct {
		name string
		prec uint
	}{{"exact", 0}, {"fallback/256", 256}, {"fallback/1024", 1024}} {
		b.Run(c.name, func(b *testing.B) {
			x, d := big.NewInt(21e15), big.NewInt(21e15+100)
			one := big.NewInt(1)
			cpu := processCPU()
			for b.Loop() {
				x.Add(x, one)
				d.Add(d, one)
				if c.prec == 0 {
					PowExact(x, d, 1, 1, bigAccuracy)
				} else {
					PowFallback(x, d, n, m, c.prec, bigAccuracy)
				}
			}
			reportCPU(b, cpu)
		})
	}
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
			cpu := processCPU()
			for b.Loop() {
				// each block sees new pools (the previous block's chain buys moved them)
				st.Subnets[0].Pool.TAO++
				for k := range st.Subnets {
					st.Subnets[k].Pool.TAO += 1 + uint64(k)
				}
				_, _ = Coinbase(st, 1000, EMAPriceShares)
			}
			reportCPU(b, cpu)
		})
	}
}
