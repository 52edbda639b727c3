package dtao

import (
	"errors"
	"math"
	"math/big"
	"testing"

	"github.com/tessera-net/tessera/internal/safemath"
)

var noMax = LimitPrice(MaxPriceRao)
var noMin = LimitPrice(MinPriceRao)

// TestSwapV1 is test_swap_basic (dtao.md §7 V1): y = 1e9 τ, x = 4e9 α, w = 0.5, fee 33.
func TestSwapV1(t *testing.T) {
	if got := Ratio64(33, 65535); got.Lo != 9_288_815_967_535_137 || got.Hi != 0 {
		t.Fatalf("fee-rate bits %v", got)
	}
	pp := DefaultPoolParams()
	for _, c := range []struct {
		buy                  bool
		amount, fee, in, out uint64
	}{
		{true, 1_000, 0, 1_000, 3_999},
		{true, 2_000, 1, 1_999, 7_995},
		{true, 123_456, 62, 123_394, 493_515},
		{true, 1_000_000_000, 503_547, 999_496_453, 1_999_496_326},
		{true, 10_000_000_000, 5_035_477, 9_994_964_523, 3_636_197_098},
		{false, 1_000, 0, 1_000, 249},
		{false, 2_000, 1, 1_999, 499},
		{false, 123_456, 62, 123_394, 30_847},
	} {
		p := Pool{TAO: 1e9, Alpha: 4e9}
		var r SwapResult
		var err error
		if c.buy {
			r, err = p.BuyAlpha(c.amount, noMax, false, pp)
		} else {
			r, err = p.SellAlpha(c.amount, noMin, false, pp)
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Fee != c.fee || r.PaidIn != c.in || r.Out != c.out || r.AmountTaken != c.amount {
			t.Errorf("%+v: got %+v", c, r)
		}
		if c.buy && (p.TAO != 1e9+c.in || p.Alpha != 4e9-c.out) {
			t.Errorf("reserves %+v", p)
		}
		if !c.buy && (p.Alpha != 4e9+c.in || p.TAO != 1e9-c.out) {
			t.Errorf("reserves %+v", p)
		}
	}
}

// TestExpScaledV2 is balancer.rs l.1288 (V2).
func TestExpScaledV2(t *testing.T) {
	for _, c := range []struct {
		w2, r, d uint64
		base     bool
		R        string
		bits     string
	}{
		{Accuracy / 2, 1e5, 100, true, "999000999000999000", "18428315757951599997"},
		{Accuracy / 4, 5e5, 5000, true, "970590147927644445", "17904228059285152206"},
		{Accuracy / 4 * 3, 2e5, 2000, false, "970590147927644445", "17904228059285152206"},
		{Accuracy / 10 * 9, 13513642, 1673, false, "998886481979889627", "18426203291771111799"},
		{Accuracy / 1000 * 773, 7e9, 1e4, true, "999999580484586504", "18446736335016083878"},
	} {
		w := [2]uint64{Accuracy - c.w2, c.w2}
		num, den := w[1], w[0]
		if c.base {
			num, den = w[0], w[1]
		}
		R, _ := PowRatioScaled(new(big.Int).SetUint64(c.r), new(big.Int).SetUint64(c.r+c.d),
			new(big.Int).SetUint64(num), new(big.Int).SetUint64(den), expPrecision, bigAccuracy)
		if R.String() != c.R {
			t.Errorf("%+v: R = %v", c, R)
		}
		e := expScaled(w, c.r, c.d, c.base)
		if safemath.U128(e).Big().String() != c.bits {
			t.Errorf("%+v: bits = %v", c, safemath.U128(e).Big())
		}
	}
}

// TestLimitDeltasV2 is balancer.rs l.1017 and l.1036 (asserted exactly): w2 = 0.25,
// price 0.1 → 0.2 on y = 1e9 gives Δy = 681_792_830; 0.2 → 0.1 on x = 1e9 gives Δx = 189_207_115.
func TestLimitDeltasV2(t *testing.T) {
	p01, p02 := Ratio64(1, 10), Ratio64(2, 10)
	w1, w2 := Accuracy/4*3, Accuracy/4
	if got := limitDelta(p02, p01, w1, 1e9); got != 681_792_830 {
		t.Errorf("Δy = %d", got)
	}
	if got := limitDelta(p02, p01, w2, 1e9); got != 189_207_115 {
		t.Errorf("Δx = %d", got)
	}
}

// TestMaxAmountAddV3 is get_max_amount_add (tests/staking.rs l.2826, V3), on the mock's
// minimum reserve of 100.
func TestMaxAmountAddV3(t *testing.T) {
	pp := PoolParams{FeeRate: DefaultFeeRate, MinimumReserve: 100}
	for _, c := range []struct {
		tao, alpha, limit, want uint64
		err                     bool
	}{
		{100, 100, 1_100_000_000, 4, false},
		{1e3, 1e3, 1_100_000_000, 48, false},
		{1e4, 1e4, 1_100_000_000, 488, false},
		{1e6, 1e6, 4e9, 1_000_503, false},
		{1e6, 1e6, 9e9, 2_001_007, false},
		{1e6, 1e6, 16e9, 3_001_511, false},
		{1e12, 1e12, 16e9, 3_001_511_404_231, false},
		{150e9, 100e9, 1_500_000_000, 0, true},
		{150e9, 100e9, 1_500_000_001, 49, false},
		{150e9, 100e9, 6e9, 150_075_570_211, false},
	} {
		p := Pool{TAO: c.tao, Alpha: c.alpha}
		got, err := MaxAmountAdd(p, c.limit, pp)
		if c.err {
			if !errors.Is(err, ErrPriceLimitExceeded) {
				t.Errorf("%+v: err %v", c, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%+v: got %d, %v", c, got, err)
		}
	}
}

// TestSwapAfterInjectionV4 is the derived example of V4: subnet 1 after the two-subnet
// coinbase (weights off 0.5, so the fallback power path).
func TestSwapAfterInjectionV4(t *testing.T) {
	p := Pool{TAO: 33_433_333, Alpha: 334_333_334, QuoteWeight: 499_999_997_008_973_068}
	pp := DefaultPoolParams()
	r, err := p.QuoteBuy(1e6, noMax, false, pp)
	if err != nil || r.Fee != 503 || r.Out != 9_704_841 {
		t.Errorf("buy: %+v %v", r, err)
	}
	r, err = p.QuoteSell(1e7, noMin, false, pp)
	if err != nil || r.Fee != 5035 || r.Out != 970_483 {
		t.Errorf("sell: %+v %v", r, err)
	}
	if p.TAO != 33_433_333 || p.Alpha != 334_333_334 {
		t.Errorf("quote changed the pool: %+v", p)
	}
}

func TestLimitRefusedNamesPrice(t *testing.T) {
	p := Pool{TAO: 150e9, Alpha: 100e9}
	_, err := p.BuyAlpha(1e9, LimitPrice(1_400_000_000), false, DefaultPoolParams())
	var le *LimitError
	if !errors.As(err, &le) || !errors.Is(err, ErrPriceLimitExceeded) {
		t.Fatalf("err %v", err)
	}
	if got := err.Error(); got != "dtao: price limit exceeded: price 1500000000 rao/α, limit 1399999999 rao/α (a buy needs the limit above the price)" {
		t.Errorf("%s", got)
	}
}

func TestPartialFillAtLimit(t *testing.T) {
	p := Pool{TAO: 1e12, Alpha: 1e12}
	lim := LimitPrice(1_100_000_000)
	r, err := p.BuyAlpha(1e12, lim, false, DefaultPoolParams())
	if err != nil {
		t.Fatal(err)
	}
	if r.AmountTaken >= 1e12 || p.Price().Cmp(lim) > 0 {
		t.Errorf("%+v price %v", r, p.Price())
	}
	// The limit price is (almost) reached.
	if FormatPrice(p.Price()) != "1099999999 rao/α" && FormatPrice(p.Price()) != "1100000000 rao/α" {
		t.Errorf("price %s", FormatPrice(p.Price()))
	}
}

func TestMaxAmountRemoveAndSellLimit(t *testing.T) {
	pp := DefaultPoolParams()
	p := Pool{TAO: 1e12, Alpha: 1e13} // price 0.1
	max, err := MaxAmountRemove(p, 90_000_000, pp)
	if err != nil || max == 0 {
		t.Fatal(max, err)
	}
	r, err := p.QuoteSell(max, LimitPrice(90_000_000), false, pp)
	if err != nil || r.AmountTaken > max {
		t.Fatal(r, err)
	}
	q := p
	if _, err := q.SellAlpha(max*2, LimitPrice(90_000_000), false, pp); err != nil || q.Price().Cmp(LimitPrice(90_000_000)) < 0 {
		t.Errorf("sell past the limit: %v price %s", err, FormatPrice(q.Price()))
	}
	if _, err := MaxAmountRemove(p, 200_000_000, pp); !errors.Is(err, ErrPriceLimitExceeded) {
		t.Errorf("limit above the price: %v", err)
	}
	if m, _ := MaxAmountAdd(Pool{Stable: true}, 1e9, pp); m != math.MaxUint64 {
		t.Error(m)
	}
	if m, _ := MaxAmountRemove(Pool{Stable: true}, 2e9, pp); m != 0 {
		t.Error(m)
	}
}

func TestInjectionWeightBounds(t *testing.T) {
	p := Pool{TAO: 1e9, Alpha: 1e9}
	// adding only TAO, 1000× the reserve, would push the quote weight to ≈ 0.001: refused
	if err := p.UpdateWeightsForInjection(0, 1000e9); !errors.Is(err, ErrInvalidWeight) || p.QuoteWeight != 0 {
		t.Errorf("%v %d", err, p.QuoteWeight)
	}
	// adding at the price ratio keeps w = 0.5 exactly
	if err := p.UpdateWeightsForInjection(5e8, 5e8); err != nil || p.QuoteWeight != HalfWeight {
		t.Errorf("%v %d", err, p.QuoteWeight)
	}
}
