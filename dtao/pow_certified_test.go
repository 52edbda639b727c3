package dtao

import (
	"math/big"
	"math/rand"
	"testing"

	"github.com/tessera-net/tessera/internal/safemath"
)

// powCertified must give PowRatioScaled's answer at P = 1024 on the inputs the limit
// deltas pass it: prices in U64F64 (limit over current, either way), a pool weight
// w/1e18, the scale 1e18.
func TestPowCertifiedMatchesFull(t *testing.T) {
	rng := rand.New(rand.NewSource(1024))
	n := 400
	if testing.Short() {
		n = 60
	}
	price := func() *big.Int {
		// 1e-6 to 1e4 TAO per alpha, in U64F64 bits.
		v := U64F64FromInt(uint64(rng.Int63n(10_000) + 1)).Div(U64F64FromInt(uint64(rng.Int63n(1_000_000) + 1)))
		return safemath.U128(v).Big()
	}
	decided := 0
	for i := 0; i < n; i++ {
		a, b := price(), price()
		if a.Cmp(b) < 0 {
			a, b = b, a
		}
		w := new(big.Int).SetUint64(uint64(rng.Int63n(980_000_000_000_000_000) + 10_000_000_000_000_000))
		want, ok := PowRatioScaled(a, b, w, bigAccuracy, limitPrecision, bigAccuracy)
		got, ok2 := powCertified(a, b, w, bigAccuracy, limitPrecision, bigAccuracy, certPrecision, certMarginBits)
		if ok != ok2 || want.Cmp(got) != 0 {
			t.Fatalf("(%v/%v)^(%v/1e18): certified %v (%v), full %v (%v)", a, b, w, got, ok2, want, ok)
		}
		nr, dr := reduceExp(w, bigAccuracy)
		if !exactExponent(nr, dr) {
			if _, ok := powDecided(a, b, nr, dr, bigAccuracy, certPrecision, certMarginBits); ok {
				decided++
			}
		}
	}
	if decided < n*9/10 {
		t.Fatalf("only %d of %d fallbacks were decided at P = %d", decided, n, certPrecision)
	}
}

// Where the first evaluation cannot decide (forced here by a margin of the whole
// fraction), the full precision answers.
func TestPowCertifiedUndecidedFallsBack(t *testing.T) {
	a := safemath.U128(LimitPrice(300_000_000)).Big()
	b := safemath.U128(LimitPrice(250_000_000)).Big()
	w := big.NewInt(499_999_997_008_973_068)
	nr, dr := reduceExp(w, bigAccuracy)
	if _, ok := powDecided(a, b, nr, dr, bigAccuracy, certPrecision, 0); ok {
		t.Fatal("a margin of the whole fraction decided")
	}
	r, ok := powDecided(a, b, nr, dr, bigAccuracy, certPrecision, certMarginBits)
	want, _ := PowRatioScaled(a, b, w, bigAccuracy, limitPrecision, bigAccuracy)
	if !ok || r.Cmp(want) != 0 {
		t.Fatalf("decided %v (%v), full %v", r, ok, want)
	}
}
