package dtao

import (
	"math/big"
	"testing"
)

func bi(s string) *big.Int {
	z, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return z
}

// TestPowRatioScaledV5 checks safe-bigmath's own asserted values (dtao.md §7 V5).
func TestPowRatioScaledV5(t *testing.T) {
	cases := []struct {
		bn, bd, en, ed string
		prec           uint
		scale, want    string
		fallback       bool
	}{
		{"2", "3", "1", "2", 0, "1000", "816", false},
		{"21000000000000000", "28000000000000000", "600000000000000000", "400000000000000000", 256, "1000000000000000000", "649519052838328985", false},
		{"21000000000000000", "21000000000000100", "500000000000000000", "500000000000000000", 256, "1000000000000000000", "999999999999995238", false},
		{"21000000000000000", "21000000000000100", "499999999999500000", "500000000000500000", 256, "1000000000000000000", "999999999999995238", true},
		{"21000000000000000", "21000000000000100", "500000000000250000", "499999999999750000", 256, "1000000000000000000", "999999999999995238", true},
		{"21000000000000000", "21000000000000001", "499999999500000000", "500000000500000000", 256, "1000000000000000000", "999999999999999952", true},
	}
	for i, c := range cases {
		n, d := reduceExp(bi(c.en), bi(c.ed))
		if exactExponent(n, d) == c.fallback {
			t.Errorf("case %d: exact path = %v", i, !c.fallback)
		}
		got, ok := PowRatioScaled(bi(c.bn), bi(c.bd), bi(c.en), bi(c.ed), c.prec, bi(c.scale))
		if !ok || got.String() != c.want {
			t.Errorf("case %d: got %v, want %s", i, got, c.want)
		}
	}
	// The fallback path on an exact-path input agrees with the exact path to within one unit.
	ex, _ := PowRatioScaled(bi("2"), bi("3"), bi("1"), bi("2"), 256, bi("1000000000000000000"))
	fb := PowFallback(bi("2"), bi("3"), bi("1"), bi("2"), 256, bi("1000000000000000000"))
	if d := new(big.Int).Sub(ex, fb); d.CmpAbs(big.NewInt(1)) > 0 {
		t.Errorf("exact %v vs fallback %v", ex, fb)
	}
	if got := PowExact(bi("21000000000000000"), bi("28000000000000000"), 3, 2, bi("1000000000000000000")); got.String() != "649519052838328985" {
		t.Errorf("PowExact = %v", got)
	}
}
