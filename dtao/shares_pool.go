package dtao

import (
	"errors"
	"math/big"
)

// Share-based stake accounting per (hotkey, netuid) (§1, share-pool): the hotkey's stake
// is a value V (TotalHotkeyAlpha, u64) and a share denominator D; each coldkey holds shares
// S and owns floor(V·S/D). Subtensor holds D and S as SafeFloats (a 1e20–1e21 mantissa and
// an exponent) and loses precision (dtao.md §8.5); here they are exact big integers and
// the first holder's shares are scaled by 2^64, so a credit of one rao still gets shares.
// Rounding always favours the pool: a credit gets floor(u·D/V) shares, a debit burns
// ceil(u·D/V), so no holder's value can rise by another's rounding and Σ values ≤ V.

// shareScale is the shares a first holder gets per rao.
const shareScale = 64

// Errors of the share pool.
var (
	ErrStakeTooSmall     = errors.New("dtao: stake too small to get a share")
	ErrInsufficientStake = errors.New("dtao: not enough stake")
)

// HotkeyStake is one (hotkey, netuid) share pool. The zero value is empty.
type HotkeyStake struct {
	Value uint64   // V: the alpha (rao) the hotkey's stakers own together
	Denom *big.Int // D: the shares outstanding (nil = 0)
}

func (h *HotkeyStake) denom() *big.Int {
	if h.Denom == nil {
		return new(big.Int)
	}
	return h.Denom
}

// ValueOf is the alpha that s shares are worth, floor(V·S/D) (0 if D is 0).
func (h HotkeyStake) ValueOf(s *big.Int) uint64 {
	d := h.denom()
	if s == nil || s.Sign() == 0 || d.Sign() == 0 {
		return 0
	}
	z := new(big.Int).Mul(new(big.Int).SetUint64(h.Value), s)
	z.Quo(z, d)
	if !z.IsUint64() {
		return h.Value
	}
	return min(z.Uint64(), h.Value)
}

// Credit adds u alpha to a holder with shares s and returns the holder's new shares; h
// is updated. A credit whose shares round to 0 is refused (ErrStakeTooSmall).
func (h *HotkeyStake) Credit(s *big.Int, u uint64) (*big.Int, error) {
	if u == 0 {
		return cloneOrZero(s), nil
	}
	d := h.denom()
	var ds *big.Int
	switch {
	case d.Sign() == 0:
		ds = new(big.Int).Lsh(new(big.Int).SetUint64(u), shareScale)
	case h.Value == 0:
		// Shares left without value are worth nothing; the newcomer's dwarf them.
		ds = new(big.Int).Mul(d, new(big.Int).SetUint64(u))
		ds.Lsh(ds, shareScale)
	default:
		ds = new(big.Int).Mul(new(big.Int).SetUint64(u), d)
		ds.Quo(ds, new(big.Int).SetUint64(h.Value))
	}
	if ds.Sign() == 0 {
		return nil, ErrStakeTooSmall
	}
	if h.Value+u < h.Value {
		return nil, ErrStakeTooSmall // would overflow u64: refuse
	}
	h.Value += u
	h.Denom = new(big.Int).Add(d, ds)
	return new(big.Int).Add(cloneOrZero(s), ds), nil
}

// Debit removes u alpha from a holder with shares s (u ≤ ValueOf(s)) and returns the new
// shares. Debiting the whole value burns all of s.
func (h *HotkeyStake) Debit(s *big.Int, u uint64) (*big.Int, error) {
	if u == 0 {
		return cloneOrZero(s), nil
	}
	v := h.ValueOf(s)
	if u > v {
		return nil, ErrInsufficientStake
	}
	d := h.denom()
	ds := new(big.Int).Mul(new(big.Int).SetUint64(u), d)
	m := new(big.Int)
	ds.QuoRem(ds, new(big.Int).SetUint64(h.Value), m)
	if m.Sign() != 0 {
		ds.Add(ds, big.NewInt(1))
	}
	if u == v || ds.Cmp(s) > 0 {
		ds.Set(s)
	}
	h.Value -= u
	h.Denom = new(big.Int).Sub(d, ds)
	return new(big.Int).Sub(s, ds), nil
}

// Distribute is a hotkey-wide credit (emission to the nominators pro rata): only V changes.
func (h *HotkeyStake) Distribute(u uint64) { h.Value = satAdd(h.Value, u) }

// Clone copies h.
func (h HotkeyStake) Clone() HotkeyStake {
	if h.Denom != nil {
		h.Denom = new(big.Int).Set(h.Denom)
	}
	return h
}

func cloneOrZero(s *big.Int) *big.Int {
	if s == nil {
		return new(big.Int)
	}
	return new(big.Int).Set(s)
}
