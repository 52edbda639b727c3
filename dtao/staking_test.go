package dtao

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

// TestStakeRoundTripV6 is tests/staking.rs l.4553/l.4856/l.5425 with the exact values of
// dtao.md §7 V6: pool 1e11 τ / 1e12 α, stake 1e8 rao, then unstake everything.
func TestStakeRoundTripV6(t *testing.T) {
	sp := DefaultStakeParams()
	sd := Side{Pool: Pool{TAO: 1e11, Alpha: 1e12}}
	sd, r, err := AddStake(sd, 1e8, Limit{}, sp)
	if err != nil {
		t.Fatal(err)
	}
	if r.Fee != 50_354 || r.PaidIn != 99_949_646 || r.Alpha != 998_498_464 || r.TAOTaken != 1e8 {
		t.Errorf("stake %+v", r)
	}
	if sd.Pool.TAO != 100_099_949_646 || sd.Pool.Alpha != 999_001_501_536 || sd.AlphaOut != 998_498_464 {
		t.Errorf("pool %+v", sd)
	}
	var h HotkeyStake
	s, err := h.Credit(nil, r.Alpha)
	if err != nil || h.ValueOf(s) != r.Alpha {
		t.Fatal(err)
	}
	sd, u, err := RemoveStake(sd, r.Alpha, h.ValueOf(s), Limit{}, sp)
	if err != nil {
		t.Fatal(err)
	}
	if u.FeeAlpha != 502_791 || u.PaidIn != 997_995_673 || u.TAO != 99_899_366 || u.AuthorTAO != 50_279 || u.AlphaTaken != r.Alpha {
		t.Errorf("unstake %+v", u)
	}
	if sd.Pool.TAO != 100_000_000_001 || sd.Pool.Alpha != 1e12 || sd.AlphaOut != 0 {
		t.Errorf("pool %+v", sd)
	}
	// Nothing created or lost: the staker's TAO out + the author's two fees + the pool's
	// gain is the TAO put in.
	if u.TAO+u.AuthorTAO+r.Fee+(sd.Pool.TAO-1e11) != 1e8 {
		t.Error("TAO not conserved")
	}
	if _, err := h.Debit(s, u.AlphaTaken); err != nil || h.Value != 0 {
		t.Errorf("debit %v %+v", err, h)
	}
}

func TestAddStakeChecks(t *testing.T) {
	sp := DefaultStakeParams()
	sd := Side{Pool: Pool{TAO: 1e11, Alpha: 1e12}}
	if Fee(sp.MinStake, DefaultFeeRate) != 1007 {
		t.Errorf("fee(MinStake) = %d", Fee(sp.MinStake, DefaultFeeRate))
	}
	if _, _, err := AddStake(sd, sp.MinStake, Limit{}, sp); !errors.Is(err, ErrAmountTooLow) {
		t.Errorf("min stake: %v", err)
	}
	if _, _, err := AddStake(sd, sp.MinStake+Fee(sp.MinStake, DefaultFeeRate), Limit{}, sp); err != nil {
		t.Errorf("min stake + fee: %v", err)
	}
	// limit 0.101: about 5e8 rao fits; refused without allow_partial, partial with it.
	lim := Limit{Price: 101_000_000}
	if _, _, err := AddStake(sd, 1e10, lim, sp); !errors.Is(err, ErrSlippageTooHigh) {
		t.Errorf("slippage: %v", err)
	}
	lim.AllowPartial = true
	nsd, r, err := AddStake(sd, 1e10, lim, sp)
	if err != nil || r.TAOTaken >= 1e10 || nsd.Pool.Price().Cmp(LimitPrice(lim.Price)) > 0 {
		t.Errorf("partial: %+v %v price %s", r, err, FormatPrice(nsd.Pool.Price()))
	}
	// a limit below the price is refused with the price named
	_, _, err = AddStake(sd, 1e10, Limit{Price: 50_000_000}, sp)
	var le *LimitError
	if !errors.As(err, &le) {
		t.Errorf("limit below price: %v", err)
	}
	// root (stable) stake: 1:1, no fee
	root := Side{Pool: Pool{Stable: true}}
	root, r, err = AddStake(root, 5e9, Limit{}, sp)
	if err != nil || r.Alpha != 5e9 || r.Fee != 0 || root.Pool.TAO != 5e9 {
		t.Errorf("root %+v %v %+v", r, err, root)
	}
}

func TestRemoveStakeKeepsMinimum(t *testing.T) {
	sp := DefaultStakeParams()
	sd := Side{Pool: Pool{TAO: 1e11, Alpha: 1e12}, AlphaOut: 1e10}
	// selling 1000 α of a 1e10 α stake gives ≈ 100 rao < MinStake while stake remains
	if _, _, err := RemoveStake(sd, 1000, 1e10, Limit{}, sp); !errors.Is(err, ErrAmountTooLow) {
		t.Errorf("%v", err)
	}
	// the whole stake may go even if small
	if _, _, err := RemoveStake(sd, 1000, 1000, Limit{}, sp); err != nil {
		t.Errorf("%v", err)
	}
}

func TestMoveStakeOneFee(t *testing.T) {
	sp := DefaultStakeParams()
	a := Side{Pool: Pool{TAO: 1e11, Alpha: 1e12}, AlphaOut: 1e10}
	b := Side{Pool: Pool{TAO: 1e11, Alpha: 5e11}}
	na, nb, r, err := MoveStake(a, b, 1e10, 1e10, Limit{}, sp)
	if err != nil || !r.Restaked {
		t.Fatal(err, r)
	}
	// one fee (the origin's), paid in alpha and sold for the author
	if r.AuthorTAO == 0 || na.Pool.TAO+nb.Pool.TAO+r.AuthorTAO != 2e11 {
		t.Errorf("%+v %+v %+v", r, na, nb)
	}
	if nb.AlphaOut != r.Alpha {
		t.Error(nb)
	}
	// a ratio limit above the current ratio (0.1/0.2 = 0.5, floored) is refused, naming it
	var le *LimitError
	if _, _, _, err := MoveStake(a, b, 1e10, 1e10, Limit{Price: 600_000_000}, sp); !errors.As(err, &le) || le.Current != a.Pool.Price().Div(b.Pool.Price()) {
		t.Errorf("%v", err)
	}
	// from root: no fee on the origin, one on the destination
	root := Side{Pool: Pool{Stable: true, TAO: 1e10, Alpha: 0}, AlphaOut: 1e10}
	_, nb, r, err = MoveStake(root, b, 1e9, 1e10, Limit{}, sp)
	if err != nil || !r.Restaked || r.AuthorTAO != Fee(1e9, DefaultFeeRate) || nb.Pool.TAO != 1e11+1e9-r.AuthorTAO {
		t.Errorf("%+v %v %+v", r, err, nb)
	}
}

func TestSharePool(t *testing.T) {
	var h HotkeyStake
	a, err := h.Credit(nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := h.Credit(nil, 3000)
	h.Distribute(4000) // emission doubles every stake
	if h.ValueOf(a) != 2000 || h.ValueOf(b) != 6000 {
		t.Errorf("%d %d", h.ValueOf(a), h.ValueOf(b))
	}
	a, _ = h.Debit(a, 1999)
	if h.ValueOf(a) != 1 || h.ValueOf(b) != 6000 || h.Value != 6001 {
		t.Errorf("%d %d %d", h.ValueOf(a), h.ValueOf(b), h.Value)
	}
	if _, err := h.Debit(a, 2); !errors.Is(err, ErrInsufficientStake) {
		t.Error(err)
	}
	// a credit of one rao still gets shares
	c, err := h.Credit(nil, 1)
	if err != nil || h.ValueOf(c) != 1 {
		t.Error(err, h.ValueOf(c))
	}
	// transfer between two coldkeys of the same hotkey
	sp := DefaultStakeParams()
	h2 := HotkeyStake{}
	big1, _ := h2.Credit(nil, 1e9)
	nf, nt, err := MoveShares(&h2, big1, &h2, new(big.Int), 4e8, sp)
	if err != nil || h2.ValueOf(nf) != 6e8 || h2.ValueOf(nt) != 4e8 || h2.Value != 1e9 {
		t.Errorf("%v %d %d", err, h2.ValueOf(nf), h2.ValueOf(nt))
	}
	if _, _, err := MoveShares(&h2, nf, &h2, nt, 1, sp); !errors.Is(err, ErrAmountTooLow) {
		t.Error(err)
	}
}

// maxMoveRef is get_max_amount_move's main case in big integers: each U64F64 value is
// its integer times 2^64, each step floored and saturated as U64F64's.
func maxMoveRef(t1, a1, t2, a2, limitRao uint64) uint64 {
	one := new(big.Int).Lsh(big.NewInt(1), 64)
	top := new(big.Int).Sub(new(big.Int).Lsh(one, 64), big.NewInt(1)) // U64F64's largest
	sat := func(v *big.Int) *big.Int {
		if v.Cmp(top) > 0 {
			return new(big.Int).Set(top)
		}
		return v
	}
	fix := func(n uint64) *big.Int { return new(big.Int).Mul(new(big.Int).SetUint64(n), one) }
	div := func(a, b *big.Int) *big.Int { return sat(new(big.Int).Quo(new(big.Int).Mul(a, one), b)) }
	mul := func(a, b *big.Int) *big.Int { return sat(new(big.Int).Quo(new(big.Int).Mul(a, b), one)) }
	sum := fix(t1 + t2)
	limit := div(fix(limitRao), fix(1e9))
	x := div(mul(fix(a2), div(fix(t1), sum)), limit)
	y := mul(fix(a1), div(fix(t2), sum))
	if x.Cmp(y) <= 0 {
		return 0
	}
	return new(big.Int).Rsh(x.Sub(x, y), 64).Uint64()
}

// get_max_amount_move: the closed form between two dynamic pools, to the rao of a
// big-integer reference; the corners (root on either side, a limit above the ratio, an
// empty reserve, no limit).
func TestMaxAmountMove(t *testing.T) {
	pp := DefaultPoolParams()
	a := Pool{TAO: 1e11, Alpha: 1e12} // price 0.1
	b := Pool{TAO: 2e11, Alpha: 1e12} // price 0.2
	c := Pool{TAO: 5e12, Alpha: 3e12} // price 1.67
	for _, tc := range []struct {
		from, to Pool
		limit    uint64
	}{
		{a, b, 400_000_000}, {a, b, 499_999_999}, {a, b, 1}, {b, a, 1_900_000_000}, {c, a, 15_000_000_000}, {a, c, 50_000_000},
	} {
		got, err := MaxAmountMove(tc.from, tc.to, tc.limit, pp)
		want := maxMoveRef(tc.from.TAO, tc.from.Alpha, tc.to.TAO, tc.to.Alpha, tc.limit)
		if err != nil || got != want || want == 0 {
			t.Errorf("%+v → %+v at %d: %d %v, want %d", tc.from, tc.to, tc.limit, got, err, want)
		}
	}
	// 0.1/0.2 ≈ 0.5 (floored: 0.499999999) ⇒ at limit 0.4: α₂·(1/3)/0.4 − α₁·(2/3) = 1e12·(5/6 − 2/3) ≈ 1.667e11.
	if got, _ := MaxAmountMove(a, b, 400_000_000, pp); got/1e9 != 166 {
		t.Errorf("a → b at 0.4: %d", got)
	}
	var le *LimitError
	if _, err := MaxAmountMove(a, b, 500_000_000, pp); !errors.As(err, &le) || le.Current != a.Price().Div(b.Price()) {
		t.Errorf("a limit above the ratio (0.5 > 0.499999999): %v", err)
	}
	if _, err := MaxAmountMove(Pool{TAO: 0, Alpha: 1e12}, b, 1, pp); !errors.Is(err, ErrPriceLimitExceeded) {
		t.Errorf("an empty reserve: %v", err)
	}
	if got, err := MaxAmountMove(a, b, 0, pp); err != nil || got != math.MaxUint64 {
		t.Errorf("no limit: %d %v", got, err)
	}
	root := Pool{Stable: true}
	if got, err := MaxAmountMove(root, root, 1e9, pp); err != nil || got != math.MaxUint64 {
		t.Errorf("root to root at 1.0: %d %v", got, err)
	}
	if _, err := MaxAmountMove(root, root, 1e9+1, pp); !errors.Is(err, ErrPriceLimitExceeded) {
		t.Errorf("root to root above 1.0: %v", err)
	}
	// To root: a sale at the limit; from root: a buy at the inverse limit (1/4 → 4.0).
	if got, err := MaxAmountMove(a, root, 90_000_000, pp); err != nil || got != must(MaxAmountRemove(a, 90_000_000, pp)) {
		t.Errorf("to root: %d %v", got, err)
	}
	if got, err := MaxAmountMove(root, c, 250_000_000, pp); err != nil || got != must(MaxAmountAdd(c, 4_000_000_000, pp)) {
		t.Errorf("from root: %d %v", got, err)
	}
}

func must(v uint64, err error) uint64 {
	if err != nil {
		panic(err)
	}
	return v
}

// swap_stake_limit: an amount above get_max_amount_move's is refused, naming the most
// the limit admits, or with allow_partial cut to it; an amount below it runs whole. On
// equal-weight pools without a fee the cut swap ends near the limit ratio, as the
// closed form intends.
func TestMoveStakeLimit(t *testing.T) {
	sp := DefaultStakeParams()
	a := Side{Pool: Pool{TAO: 1e11, Alpha: 1e12}, AlphaOut: 1e12}
	b := Side{Pool: Pool{TAO: 2e11, Alpha: 1e12}}
	max := must(MaxAmountMove(a.Pool, b.Pool, 400_000_000, sp.Pool))
	var me *MoveLimitError
	if _, _, _, err := MoveStake(a, b, 5e11, 5e11, Limit{Price: 400_000_000}, sp); !errors.As(err, &me) || me.Max != max ||
		!errors.Is(err, ErrSlippageTooHigh) || me.Ratio != a.Pool.Price().Div(b.Pool.Price()) {
		t.Fatalf("above the max: %v", err)
	}
	_, _, r, err := MoveStake(a, b, 5e11, 5e11, Limit{Price: 400_000_000, AllowPartial: true}, sp)
	if err != nil || r.AlphaTaken != max || !r.Restaked {
		t.Fatalf("partial: %+v %v (max %d)", r, err, max)
	}
	if _, _, r, err := MoveStake(a, b, 1e10, 5e11, Limit{Price: 400_000_000}, sp); err != nil || r.AlphaTaken != 1e10 {
		t.Fatalf("below the max: %+v %v", r, err)
	}
	// More than the stake is clamped to it before the comparison.
	if _, _, r, err := MoveStake(a, b, 5e11, 1e10, Limit{Price: 400_000_000}, sp); err != nil || r.AlphaTaken != 1e10 {
		t.Fatalf("clamped to the stake: %+v %v", r, err)
	}
	free := sp
	free.Pool.FeeRate = 0
	_, _, r, err = MoveStake(a, b, 5e11, 5e11, Limit{Price: 400_000_000, AllowPartial: true}, free)
	if err != nil {
		t.Fatal(err)
	}
	// moved/unstaked: α₂ received per α₁ sold, as a ratio of 1e9.
	if got := float64(r.Alpha) / float64(r.AlphaTaken); got < 0.4*0.999999 || got > 0.4*1.000001 {
		t.Errorf("the cut swap's ratio is %v, the limit 0.4", got)
	}
}
