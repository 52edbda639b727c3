package dtao

import (
	"errors"
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
	// a ratio limit above the current ratio (0.1/0.2 = 0.5) is refused
	if _, _, _, err := MoveStake(a, b, 1e10, 1e10, Limit{Price: 600_000_000}, sp); !errors.Is(err, ErrPriceLimitExceeded) {
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
