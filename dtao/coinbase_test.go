package dtao

import (
	"math"
	"testing"

	"github.com/tessera-net/tessera/internal/safemath"
)

func u96(bits uint64) U96F32 { return U96F32{0, bits} }

func started(netuid uint16, tao, alpha uint64, ema U96F32) Subnet {
	return Subnet{Netuid: netuid, Pool: Pool{TAO: tao, Alpha: alpha}, MovingPrice: ema,
		FirstEmissionBlock: 1, SubtokenEnabled: true, RegistrationAllowed: true,
		EmissionEnabled: true, OwnerCutEnabled: true}
}

// TestRunCoinbaseV4 is tests/coinbase.rs l.362 with the exact values of dtao.md §7 V4.
func TestRunCoinbaseV4(t *testing.T) {
	st := DefaultState()
	st.RootTAO = 1e18
	st.TaoWeight = math.MaxUint64
	st.Subnets = []Subnet{
		started(1, 1e5, 1e6, u96(429496730)),
		started(2, 1e5, 5e5, u96(858993459)),
	}
	orig := st.Clone()
	out, res := RunCoinbase(st, 1e8, EMAPriceShares)
	if st.Subnets[0] != orig.Subnets[0] {
		t.Fatal("RunCoinbase modified its input")
	}
	want := []struct {
		share, eBits            safemath.U128
		alphaIn, tao, alphaPool uint64
		weight                  uint64
	}{
		{safemath.U128{Hi: 0, Lo: 6148914696008703089}, safemath.U128{}, 333_333_334, 33_433_333, 334_333_334, 499_999_997_008_973_068},
		{safemath.U128{Hi: 0, Lo: 12297829377700848526}, safemath.U128{}, 333_333_333, 66_766_666, 333_833_333, 499_999_997_753_369_932},
	}
	for k, w := range want {
		e := res.Subnets[k]
		if safemath.U128(e.Share) != w.share {
			t.Errorf("subnet %d share bits %v", k+1, safemath.U128(e.Share).Big())
		}
		if e.AlphaIn != w.alphaIn || e.ChainBuyTAO != 0 {
			t.Errorf("subnet %d: %+v", k+1, e)
		}
		s := out.Subnets[k]
		if s.Pool.TAO != w.tao || s.Pool.Alpha != w.alphaPool || s.Pool.QuoteWeight != w.weight {
			t.Errorf("subnet %d pool %+v", k+1, s.Pool)
		}
	}
	// E = 33_333_333.359 / 66_666_666.641 (three decimals of the U96F32).
	for k, milli := range []uint64{33_333_333_359, 66_666_666_641} {
		if got := roundMilli(res.Subnets[k].TAOEmission); got != milli {
			t.Errorf("E_%d = %d milli-rao", k+1, got)
		}
	}
	if p := (Pool{TAO: 1e5, Alpha: 1e6}).Price().ToU96F32(); p != u96(429496729) {
		t.Errorf("spot bits %v", p)
	}
	if res.RecycledTAO != 1 || out.TotalIssuance != 99_999_999 {
		t.Errorf("recycled %d issuance %d", res.RecycledTAO, out.TotalIssuance)
	}
}

// TestInjectionCapV4 is tests/coinbase.rs l.4244: issuance 1e11, root 1e18, tw 1, A = 1e9.
func TestInjectionCapV4(t *testing.T) {
	rp := RootProp(math.MaxUint64, 1e18, 1e11)
	if rp != u96(4294966866) {
		t.Fatalf("root_prop bits %v", safemath.U128(rp).Big())
	}
	cap := rp.Mul(U96F32FromInt(1e9))
	if safemath.U128(cap) != (safemath.U128{Hi: 0, Lo: 4294966866000000000}) {
		t.Fatalf("cap bits %v", safemath.U128(cap).Big())
	}
	for _, c := range []struct {
		E        uint64
		capped   bool
		excessMi uint64 // excess in milli-rao (9_000_000_100.12 in §7, which rounds to two decimals)
	}{{1e8, false, 0}, {1e10, true, 9_000_000_100_117}} {
		st := DefaultState()
		st.RootTAO, st.TaoWeight = 1e18, math.MaxUint64
		s := started(1, 1e11, 1e11, U96F32{})
		e := SubnetEmission{AlphaMinted: 1e9}
		E := U96F32FromInt(c.E)
		// the pieces of injectSubnet, checked on their own
		price := s.Pool.Price().ToU96F32()
		alphaIn := E.Div(price)
		if c.capped != (alphaIn.Cmp(cap) > 0) {
			t.Errorf("E=%d capped=%v", c.E, !c.capped)
		}
		if c.capped {
			excess := E.Sub(cap.Mul(price))
			if got := roundMilli(excess); got != c.excessMi {
				t.Errorf("excess %d", got)
			}
		}
		injectSubnet(&st, &s, E, &e)
		if c.capped && (e.AlphaIn != 999_999_899 || e.ChainBuyTAO != 9_000_000_100) {
			t.Errorf("capped injection %+v", e)
		}
		if !c.capped && (e.AlphaIn != c.E || e.TAOIn != c.E) {
			t.Errorf("injection %+v", e)
		}
	}
}

// TestAlphaSplitV4 is tests/coinbase.rs l.3889: owner cut 6553, A = 1e9, root_prop 0.
func TestAlphaSplitV4(t *testing.T) {
	if got := Ratio96(6553, 65535); got != u96(429463961) {
		t.Fatalf("cut bits %v", got)
	}
	st := DefaultState()
	st.OwnerCut = 6553
	s := started(1, 1e12, 1e12, U96F32{})
	e := SubnetEmission{AlphaMinted: BlockEmission(s.AlphaIssuance())}
	emitAlpha(&st, &s, true, &e)
	if s.PendingOwnerCut != 99_992_370 || s.PendingServer != 450_003_814 || s.PendingValidator != 450_003_814 || s.PendingRoot != 0 {
		t.Errorf("%+v", s)
	}
	if e.AlphaMinted != 1e9 || s.AlphaOut != 1e9 || e.AlphaDust != 2 {
		t.Errorf("%+v", e)
	}
}

func TestBlockEmissionHalvings(t *testing.T) {
	for _, c := range []struct{ issuance, want uint64 }{
		{0, 1e9},
		{10_500_000_000_000_000 - 1, 1e9},
		{10_500_000_000_000_000, 5e8},
		{15_750_000_000_000_000 - 1, 5e8},
		{15_750_000_000_000_000, 25e7},
		{18_375_000_000_000_000, 125e6},
		{MaxSupply - 1, 1e9 >> 32},
		{MaxSupply, 0},
	} {
		if got := BlockEmission(c.issuance); got != c.want {
			t.Errorf("BlockEmission(%d) = %d, want %d", c.issuance, got, c.want)
		}
	}
	if got := MintAmount(MaxSupply - 10); got != 0 && got > 10 {
		t.Errorf("mint clamps: %d", got)
	}
}

func TestEMAPriceSharesRule(t *testing.T) {
	// A higher price gets a larger share; disabled subnets get 0; MinerBurned reweights.
	in := []ShareInput{
		{Netuid: 1, MovingPrice: u96(1 << 30), EmissionEnabled: true},
		{Netuid: 2, MovingPrice: u96(1 << 31), EmissionEnabled: true},
		{Netuid: 3, MovingPrice: u96(1 << 31), EmissionEnabled: false},
	}
	s := EMAPriceShares(in)
	if s[1].Cmp(s[0]) <= 0 || !s[2].IsZero() {
		t.Errorf("%v", s)
	}
	in[1].MinerBurned = oneU96F32 // all miner emission burned: no share
	s = EMAPriceShares(in)
	if !s[1].IsZero() || s[0].Cmp(U64F64{0, math.MaxUint64 - 1}) < 0 {
		t.Errorf("%v", s)
	}
	if s := EMAPriceShares(nil); len(s) != 0 {
		t.Error(s)
	}
}

func TestMovingPrice(t *testing.T) {
	// spot above 1 is capped at 1; the EMA moves up from 0 by α = 3e-6·b/(b+201600).
	p := NextMovingPrice(U96F32{}, U64F64FromInt(5), 1, 1, DefaultMovingAlpha, DefaultEMAHalvingBlocks)
	if p.IsZero() || p.Cmp(u96(1)) > 0 {
		// α ≈ 3e-6/201601 ≈ 1.5e-11, below one U96F32 ulp (2.3e-10): truncated to 0.
		t.Logf("ema %v", p)
	}
	p = NextMovingPrice(U96F32{}, U64F64FromInt(5), 201_600, 1, DefaultMovingAlpha, DefaultEMAHalvingBlocks)
	if p != u96(6442) { // 3e-6 × 0.5 ≈ 1.5e-6 → 6442 bits
		t.Errorf("ema bits %v", safemath.U128(p).Big())
	}
}

// roundMilli is x in thousandths, rounded to nearest (how §7 writes the E values).
func roundMilli(x U96F32) uint64 { return x.Mul(U96F32FromInt(1000)).Add(U96F32{0, 1 << 31}).Floor() }

// Without root stake the cap is 0: the whole emission is a fee-free chain buy whose alpha
// goes to ProtocolAlpha; with Σ EMA ≤ 1 the root alpha is recycled, above 1 it is pending.
func TestCoinbaseChainBuyAndRootFlag(t *testing.T) {
	st := DefaultState()
	st.Subnets = []Subnet{started(1, 1e12, 1e12, u96(1<<31)), started(2, 1e12, 2e12, u96(1<<30))}
	st.TotalIssuance = 1e15
	out, res := Coinbase(st, 10, EMAPriceShares)
	if res.Emission != 1e9 || res.RootSellFlag {
		t.Fatalf("%+v", res)
	}
	var spent uint64
	for k, e := range res.Subnets {
		s := out.Subnets[k]
		if e.TAOIn != 0 || e.AlphaIn != 0 || e.ChainBuyTAO == 0 || s.ProtocolAlpha != e.ChainBuyAlpha {
			t.Errorf("subnet %d: %+v", k+1, e)
		}
		if s.Pool.TAO != st.Subnets[k].Pool.TAO+e.ChainBuyTAO {
			t.Errorf("pool %+v", s.Pool)
		}
		if e.Root != 0 || s.AlphaOut != e.ChainBuyAlpha+e.OwnerCut+e.Server+e.Validator+e.AlphaDust {
			t.Errorf("alpha out %d vs %+v", s.AlphaOut, e)
		}
		spent += e.ChainBuyTAO
	}
	if out.TotalIssuance != 1e15+spent || spent+res.RecycledTAO != 1e9 {
		t.Errorf("issuance %d spent %d recycled %d", out.TotalIssuance, spent, res.RecycledTAO)
	}
	// the higher EMA got the larger share
	if res.Subnets[0].ChainBuyTAO <= res.Subnets[1].ChainBuyTAO {
		t.Error("shares not by price")
	}
	// Σ EMA > 1 with root stake: root dividends accrue instead of being recycled.
	st.Subnets[0].MovingPrice, st.Subnets[1].MovingPrice = oneU96F32, u96(1<<31)
	st.RootTAO, st.TaoWeight = 1e15, math.MaxUint64/10
	out, res = Coinbase(st, 300_000, EMAPriceShares) // late enough for α to move the EMA
	if !res.RootSellFlag || res.Subnets[0].Root == 0 || out.Subnets[0].PendingRoot != res.Subnets[0].Root || res.Subnets[0].RootRecycled != 0 {
		t.Errorf("%+v", res.Subnets[0])
	}
	// the moving prices moved toward the spot (capped at 1)
	if out.Subnets[1].MovingPrice == st.Subnets[1].MovingPrice {
		t.Error("EMA not updated")
	}
	// a custom rule replaces the split: everything to subnet 2
	rule := func(in []ShareInput) []U64F64 { return []U64F64{{}, oneU64F64} }
	_, res = Coinbase(st, 10, rule)
	if res.Subnets[0].TAOEmission != (U96F32{}) || res.Subnets[1].TAOEmission != U96F32FromInt(1e9) {
		t.Errorf("custom rule: %+v", res.Subnets)
	}
}
