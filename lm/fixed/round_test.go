package fixed

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// bigRshr is the definition of Rshr on math/big.
func bigRshr(v int64, n uint) int64 {
	num := new(big.Rat).SetFrac(big.NewInt(v), new(big.Int).Lsh(big.NewInt(1), n))
	return ratRound(num).Int64()
}

// ratRound rounds a rational half away from zero.
func ratRound(r *big.Rat) *big.Int {
	a := new(big.Rat).Abs(r)
	a.Add(a, big.NewRat(1, 2))
	q := new(big.Int).Quo(a.Num(), a.Denom())
	if r.Sign() < 0 {
		q.Neg(q)
	}
	return q
}

func TestRshr(t *testing.T) {
	cases := []struct {
		v    int64
		n    uint
		want int64
	}{
		{5, 1, 3}, {-5, 1, -3}, {4, 1, 2}, {3, 1, 2}, {-3, 1, -2}, {1, 1, 1}, {-1, 1, -1},
		{1, 2, 0}, {2, 2, 1}, {-2, 2, -1}, {7, 0, 7}, {-7, 0, -7},
		{math.MaxInt64, 1, 1 << 62}, {math.MinInt64, 1, -(1 << 62)},
		{math.MaxInt64, 63, 1}, {math.MinInt64, 63, -1}, {math.MinInt64, 64, -1},
		{math.MaxInt64, 64, 0}, {math.MinInt64, 65, 0}, {1, 200, 0},
	}
	for _, c := range cases {
		if got := Rshr(c.v, c.n); got != c.want {
			t.Errorf("Rshr(%d, %d) = %d, want %d", c.v, c.n, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(11, 12))
	for range 100000 {
		v := int64(r.Uint64()) >> r.UintN(64)
		n := r.UintN(66)
		if got, want := Rshr(v, n), bigRshr(v, n); got != want {
			t.Fatalf("Rshr(%d, %d) = %d, want %d", v, n, got, want)
		}
	}
}

func TestRdiv(t *testing.T) {
	cases := []struct{ a, b, want int64 }{
		{7, 2, 4}, {-7, 2, -4}, {5, 3, 2}, {4, 3, 1}, {-5, 3, -2}, {1, 2, 1}, {-1, 2, -1},
		{1, 3, 0}, {0, 5, 0}, {7, -2, -4}, {-7, -2, 4},
		{math.MaxInt64, 1, math.MaxInt64}, {math.MinInt64, 1, math.MinInt64},
		{math.MinInt64, 2, -(1 << 62)}, {math.MaxInt64, math.MaxInt64, 1},
		{math.MinInt64, math.MaxInt64, -1}, {math.MaxInt64 / 2, math.MaxInt64, 0},
		{math.MaxInt64/2 + 1, math.MaxInt64, 1},
	}
	for _, c := range cases {
		if got := Rdiv(c.a, c.b); got != c.want {
			t.Errorf("Rdiv(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(13, 14))
	for range 100000 {
		a := int64(r.Uint64()) >> r.UintN(64)
		b := int64(r.Uint64()) >> r.UintN(64)
		if b == 0 || (a == math.MinInt64 && b == -1) {
			continue
		}
		want := ratRound(new(big.Rat).SetFrac(big.NewInt(a), big.NewInt(b))).Int64()
		if got := Rdiv(a, b); got != want {
			t.Fatalf("Rdiv(%d, %d) = %d, want %d", a, b, got, want)
		}
	}
}

func TestSat32(t *testing.T) {
	for _, c := range []struct {
		v    int64
		want int32
	}{
		{0, 0}, {-5, -5}, {math.MaxInt32, math.MaxInt32}, {math.MaxInt32 + 1, math.MaxInt32},
		{math.MinInt32, math.MinInt32}, {math.MinInt32 - 1, math.MinInt32},
		{math.MaxInt64, math.MaxInt32}, {math.MinInt64, math.MinInt32},
	} {
		if got := Sat32(c.v); got != c.want {
			t.Errorf("Sat32(%d) = %d, want %d", c.v, got, c.want)
		}
	}
}

// bigFromFloat is the definition of FromFloat64 on math/big (ok=false when
// out of range).
func bigFromFloat(f float64, frac uint) (int64, bool) {
	r, _ := new(big.Float).SetFloat64(f).Rat(nil)
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), frac)))
	q := ratRound(r)
	if !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
}

func TestFromFloat(t *testing.T) {
	cases := []struct {
		f    float64
		frac uint
		want int64
		err  error
	}{
		{1, 16, 65536, nil},
		{-1, 16, -65536, nil},
		{0.5, 0, 1, nil},
		{-0.5, 0, -1, nil},
		{0.49999999999999994, 0, 0, nil},
		{1.5, 0, 2, nil},
		{2.5, 0, 3, nil},
		{-2.5, 0, -3, nil},
		{math.Copysign(0, -1), 30, 0, nil},
		{1e-5, 30, 10737, nil},
		{10000, 16, 655360000, nil},
		{500000, 16, 32768000000, nil},
		{math.Ldexp(1, 62), 0, 1 << 62, nil},
		{math.Ldexp(-1, 63), 0, math.MinInt64, nil},
		{math.Ldexp(1, 63), 0, 0, ErrRange},
		{math.Ldexp(1, 47), 16, 0, ErrRange},
		{math.Ldexp(-1, 47), 16, math.MinInt64, nil},
		{math.SmallestNonzeroFloat64, 1074, 1, nil},
		{math.SmallestNonzeroFloat64, 1073, 1, nil}, // exactly 1/2
		{math.SmallestNonzeroFloat64, 1072, 0, nil},
		{math.MaxFloat64, 0, 0, ErrRange},
		{1, 5000, 0, ErrRange},
		{0, 5000, 0, nil},
		{math.NaN(), 0, 0, ErrNaN},
		{math.Inf(1), 0, 0, ErrInf},
		{math.Inf(-1), 0, 0, ErrInf},
	}
	for _, c := range cases {
		got, err := FromFloat64(c.f, c.frac)
		if !errors.Is(err, c.err) || (c.err == nil && err != nil) || got != c.want {
			t.Errorf("FromFloat64(%v, %d) = %d, %v; want %d, %v", c.f, c.frac, got, err, c.want, c.err)
		}
	}
	f32 := []struct {
		f    float32
		frac uint
		want int64
		err  error
	}{
		{1e-5, 30, 10737, nil},   // float32(1e-5) = 9.99999974737875e-06
		{1e-6, 40, 1099512, nil}, // float32(1e-6) * 2^40 = 1099511.6...
		{0.1, 16, 6554, nil},     // float32(0.1) = 0.100000001490116
		{-0.75, 2, -3, nil},
		{math.SmallestNonzeroFloat32, 149, 1, nil},
		{math.SmallestNonzeroFloat32, 148, 1, nil},
		{math.SmallestNonzeroFloat32, 147, 0, nil},
		{math.MaxFloat32, 0, 0, ErrRange},
		{float32(math.Inf(1)), 0, 0, ErrInf},
		{float32(math.NaN()), 0, 0, ErrNaN},
		{-(1 << 31), 32, math.MinInt64, nil},
		{1 << 31, 32, 0, ErrRange},
	}
	for _, c := range f32 {
		got, err := FromFloat32(c.f, c.frac)
		if !errors.Is(err, c.err) || (c.err == nil && err != nil) || got != c.want {
			t.Errorf("FromFloat32(%v, %d) = %d, %v; want %d, %v", c.f, c.frac, got, err, c.want, c.err)
		}
	}
	r := rand.New(rand.NewPCG(15, 16))
	for range 50000 {
		f := math.Float64frombits(r.Uint64())
		frac := r.UintN(140)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		checkFromFloat64(t, f, frac)
		f32 := math.Float32frombits(r.Uint32())
		if !math.IsNaN(float64(f32)) && !math.IsInf(float64(f32), 0) {
			g64, e64 := FromFloat64(float64(f32), frac)
			g32, e32 := FromFloat32(f32, frac)
			if g64 != g32 || (e64 == nil) != (e32 == nil) {
				t.Fatalf("FromFloat32(%v, %d) = %d, %v; FromFloat64 gives %d, %v", f32, frac, g32, e32, g64, e64)
			}
		}
	}
	// Values of moderate size, where the result is usually in range.
	for range 50000 {
		f := (r.Float64() - 0.5) * math.Ldexp(1, r.IntN(80)-40)
		checkFromFloat64(t, f, r.UintN(64))
	}
}

func checkFromFloat64(t *testing.T, f float64, frac uint) {
	t.Helper()
	got, err := FromFloat64(f, frac)
	want, ok := bigFromFloat(f, frac)
	if ok != (err == nil) || (ok && got != want) {
		t.Fatalf("FromFloat64(%v, %d) = %d, %v; want %d, %v", f, frac, got, err, want, ok)
	}
	if err != nil && !errors.Is(err, ErrRange) {
		t.Fatalf("FromFloat64(%v, %d): %v", f, frac, err)
	}
}

func TestToFloat64(t *testing.T) {
	if got := ToFloat64(-3<<15, 16); got != -1.5 {
		t.Errorf("ToFloat64 = %v", got)
	}
	if got := ToFloat64(1<<30, 30); got != 1 {
		t.Errorf("ToFloat64 = %v", got)
	}
}

func FuzzFromFloat64(f *testing.F) {
	f.Add(uint64(0x3ff0000000000000), uint(16))
	f.Add(uint64(0x0000000000000001), uint(1074))
	f.Add(uint64(0xc3e0000000000000), uint(0))
	f.Fuzz(func(t *testing.T, b uint64, frac uint) {
		v := math.Float64frombits(b)
		frac %= 5000
		got, err := FromFloat64(v, frac)
		if math.IsNaN(v) {
			if !errors.Is(err, ErrNaN) {
				t.Fatalf("NaN: %v", err)
			}
			return
		}
		if math.IsInf(v, 0) {
			if !errors.Is(err, ErrInf) {
				t.Fatalf("Inf: %v", err)
			}
			return
		}
		want, ok := bigFromFloat(v, frac)
		if ok != (err == nil) || (ok && got != want) {
			t.Fatalf("FromFloat64(%v, %d) = %d, %v; want %d, %v", v, frac, got, err, want, ok)
		}
	})
}
