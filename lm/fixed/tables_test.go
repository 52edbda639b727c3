package fixed

import (
	"math/big"
	"testing"
)

func pow2f(n int) *big.Float { return bfNew().SetMantExp(bf(1), n) }

// TestConstants checks every hard-coded constant against its definition,
// computed with math/big.
func TestConstants(t *testing.T) {
	inv := func(v *big.Float) *big.Float { return bfNew().Quo(bf(1), v) }
	twoPi := bfNew().Mul(bigPi, bf(2))
	checks := []struct {
		name string
		got  *big.Int
		want *big.Int
	}{
		{"q120Ln2", q120Ln2.Big(), bigRound(bigLn2, 120)},
		{"q120Pi", q120Pi.Big(), bigRound(bigPi, 120)},
		{"q120Log2E", q120Log2E.Big(), bigRound(inv(bigLn2), 120)},
		{"expLog2E", new(big.Int).SetUint64(expLog2E), bigRound(inv(bigLn2), 63)},
		{"logLn2", new(big.Int).SetUint64(logLn2), bigRound(bigLn2, 63)},
		{"ropeInv2Pi", new(big.Int).SetUint64(ropeInv2Pi), bigRound(inv(twoPi), 66)},
		{"ropeTwoPi", new(big.Int).SetUint64(ropeTwoPi), bigRound(twoPi, 61)},
		{"ropeC2", new(big.Int).SetUint64(ropeC2), bigRound(inv(bf(2)), 62)},
		{"ropeC4", new(big.Int).SetUint64(ropeC4), bigRound(inv(bf(24)), 62)},
		{"ropeC6", new(big.Int).SetUint64(ropeC6), bigRound(inv(bf(720)), 62)},
		{"ropeS3", new(big.Int).SetUint64(ropeS3), bigRound(inv(bf(6)), 62)},
		{"ropeS5", new(big.Int).SetUint64(ropeS5), bigRound(inv(bf(120)), 62)},
		{"ropeS7", new(big.Int).SetUint64(ropeS7), bigRound(inv(bf(5040)), 62)},
	}
	fact := bf(1)
	pw := bf(1)
	for n := range expPoly {
		if n > 0 {
			fact.Mul(fact, bfI(int64(n)))
			pw.Mul(pw, bigLn2)
		}
		checks = append(checks, struct {
			name string
			got  *big.Int
			want *big.Int
		}{"expPoly", new(big.Int).SetUint64(expPoly[n]), bigRound(bfNew().Quo(pw, fact), 63)})
	}
	for n := range logPoly {
		checks = append(checks, struct {
			name string
			got  *big.Int
			want *big.Int
		}{"logPoly", new(big.Int).SetUint64(logPoly[n]), bigRound(inv(bfI(int64(n+1))), 63)})
	}
	for _, c := range checks {
		if c.got.Cmp(c.want) != 0 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestTables checks that every table entry built at init by integer code is
// the correctly rounded value of its definition.
func TestTables(t *testing.T) {
	for j := range expTable {
		want := bigRound(bigExp(bfNew().Quo(bfNew().Mul(bfI(int64(-j)), bigLn2), bf(256))), 62)
		if new(big.Int).SetUint64(expTable[j]).Cmp(want) != 0 {
			t.Errorf("expTable[%d] = %d, want %v", j, expTable[j], want)
		}
	}
	two70 := new(big.Int).Lsh(big.NewInt(1), 70)
	for j := range logRecip {
		d := big.NewInt(int64(256 + j))
		q, r := new(big.Int).QuoRem(two70, d, new(big.Int))
		if r.Sign() != 0 {
			q.Add(q, big.NewInt(1))
		}
		if new(big.Int).SetUint64(logRecip[j]).Cmp(q) != 0 {
			t.Errorf("logRecip[%d] = %d, want %v", j, logRecip[j], q)
		}
		ratio := bfNew().Quo(pow2f(62), bfU(logRecip[j]))
		want := bigRound(bigLn(ratio), 63)
		if new(big.Int).SetUint64(logTable[j]).Cmp(want) != 0 {
			t.Errorf("logTable[%d] = %d, want %v", j, logTable[j], want)
		}
	}
	for j := range ropeSin {
		x := bfNew().Quo(bfNew().Mul(bigPi, bfI(int64(j))), bf(512))
		s, _ := bigSinCos(x)
		want := bigRound(s, 62)
		if new(big.Int).SetUint64(ropeSin[j]).Cmp(want) != 0 {
			t.Errorf("ropeSin[%d] = %d, want %v", j, ropeSin[j], want)
		}
	}
	if ropeSin[0] != 0 || ropeSin[256] != 1<<62 || expTable[0] != 1<<62 || logTable[0] != 0 {
		t.Errorf("endpoints: %d %d %d %d", ropeSin[0], ropeSin[256], expTable[0], logTable[0])
	}
}
