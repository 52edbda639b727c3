package dtao

import (
	"math"
	"testing"
)

// TestLockCostV7 is tests/migration.rs l.2510: last lock 1250 TAO at block b → 2500 TAO
// at b; at b+1 with the mock's interval of 2 blocks → 1875 TAO.
func TestLockCostV7(t *testing.T) {
	const tao = 1_000_000_000
	lp := LockParams{MinLock: 100 * tao, ReductionInterval: 2}
	b := uint64(1000)
	if got := LockCost(1250*tao, b, b, DefaultBlockEmission, lp); got != 2500*tao {
		t.Errorf("at b: %d", got)
	}
	if got := LockCost(1250*tao, b, b+1, DefaultBlockEmission, lp); got != 1875*tao {
		t.Errorf("at b+1: %d", got)
	}
	// decays to the minimum, never below
	if got := LockCost(1250*tao, b, b+100, DefaultBlockEmission, lp); got != 100*tao {
		t.Errorf("decayed: %d", got)
	}
	// before any registration: ×1
	if got := LockCost(1250*tao, 0, 0, DefaultBlockEmission, lp); got != 1250*tao {
		t.Errorf("first: %d", got)
	}
	// the halving halves I_eff, so the decay per block doubles
	lp.ReductionInterval = 4
	full := LockCost(1000*tao, b, b+1, DefaultBlockEmission, lp)
	half := LockCost(1000*tao, b, b+1, DefaultBlockEmission/2, lp)
	if full != 1750*tao || half != 1500*tao {
		t.Errorf("halving: %d %d", full, half)
	}
}

// TestSeedPoolV7 is tests/networks.rs l.2770 and l.2862.
func TestSeedPoolV7(t *testing.T) {
	p := SeedPool(2000e9, 1000e9, nil)
	if p.TAO != 2000e9 || p.Alpha != 2000e9 || p.QuoteWeight != HalfWeight {
		t.Errorf("%+v", p)
	}
	m := MedianPrice([]U64F64{U64F64FromInt(5), U64F64FromInt(2), {}})
	if m != (U64F64{3, 1 << 63}) {
		t.Errorf("median %v", m)
	}
	p = SeedPool(700e9, 1000e9, []U64F64{U64F64FromInt(5), U64F64FromInt(2)})
	if p.TAO != 1000e9 || p.Alpha != 285_714_285_714 {
		t.Errorf("%+v", p)
	}
	if m := MedianPrice([]U64F64{U64F64FromInt(5), U64F64FromInt(2), U64F64FromInt(3)}); m != U64F64FromInt(3) {
		t.Errorf("odd median %v", m)
	}
}

func TestPruneCandidate(t *testing.T) {
	subs := []PruneInfo{
		{0, U96F32{}, 0}, // root: never
		{1, u96(100), 10},
		{2, u96(50), 20},
		{3, u96(50), 15},
		{4, u96(1), 999}, // immune
	}
	n, ok := PruneCandidate(subs, 1000, 100)
	if !ok || n != 3 {
		t.Errorf("%d %v", n, ok)
	}
	if _, ok := PruneCandidate(subs[4:], 1000, 100); ok {
		t.Error("immune pruned")
	}
}

func TestDissolvePayout(t *testing.T) {
	got := DissolvePayout(10, []uint64{1, 1, 1})
	if got[0] != 4 || got[1] != 3 || got[2] != 3 {
		t.Errorf("%v", got)
	}
	got = DissolvePayout(1e9, []uint64{math.MaxUint64 / 4, math.MaxUint64 / 4, 0})
	if got[0]+got[1] != 1e9 || got[2] != 0 {
		t.Errorf("%v", got)
	}
	if got := DissolvePayout(5, []uint64{0, 0}); got[0] != 0 || got[1] != 0 {
		t.Error(got)
	}
}
