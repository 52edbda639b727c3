package stake

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/tx"
)

// Child keys (docs/dtao.md §9, Child keys): the owner of a hotkey lends proportions of
// its stake on one subnet to up to dtao.MaxChildren child hotkeys. The children validate
// with the lent stake and share their dividends back, less their childkey take.

// ChildEntry is one child of a set_children message: Proportion/u64::MAX of the parent's
// stake on the subnet goes to Hotkey.
type ChildEntry struct {
	Proportion uint64 `cbor:"1,keyasint"`
	Hotkey     []byte `cbor:"2,keyasint"`
}

// SetChildren (stake/set_children) schedules the children of Hotkey on subnet Netuid,
// replacing any it has; the empty list revokes them. Signed by the hotkey's owner. The
// set is checked at once (dtao.CheckChildren, the rate limit) and applied at the
// subnet's first epoch after the cooldown (Params.PendingChildKeyCooldown).
type SetChildren struct {
	Hotkey   []byte       `cbor:"1,keyasint"`
	Netuid   uint16       `cbor:"2,keyasint"`
	Children []ChildEntry `cbor:"3,keyasint,omitempty"`
}

// SetChildkeyTake (stake/set_childkey_take) sets the share, in 65535ths, a hotkey keeps
// of what its parents of other coldkeys earn through it on subnet Netuid: within
// dtao.MinChildkeyTake … dtao.MaxChildkeyTake, an increase at most once per
// dtao.ChildkeyTakeRateLimit blocks. Signed by the hotkey's owner.
type SetChildkeyTake struct {
	Hotkey []byte `cbor:"1,keyasint"`
	Netuid uint16 `cbor:"2,keyasint"`
	Take   uint16 `cbor:"3,keyasint"`
}

// Params are the staking module's chain parameters (app_state.stake.params).
type Params struct {
	// PendingChildKeyCooldown is subtensor's PendingChildKeyCooldown: the blocks a new set
	// of children waits before the subnet's next epoch applies it.
	PendingChildKeyCooldown uint64 `cbor:"1,keyasint" json:"pending_child_key_cooldown"`
}

// DefaultParams are subtensor's: a cooldown of 7_200 blocks (a day).
func DefaultParams() Params {
	return Params{PendingChildKeyCooldown: dtao.DefaultPendingChildKeyCooldown}
}

// Genesis is the staking module's app_state section; fields left out keep their defaults.
// Authors bind consensus keys to the accounts their blocks' staking fees go to.
type Genesis struct {
	Params  *Params         `json:"params,omitempty"`
	Authors []GenesisAuthor `json:"authors,omitempty"`
}

// ChildView is one child or parent in the children query: the proportion (of the
// parent's stake, value/u64::MAX) and the other hotkey.
type ChildView struct {
	Proportion uint64 `json:"proportion,string"`
	Hotkey     string `json:"hotkey"`
}

// PendingView is a set of children waiting for its cooldown.
type PendingView struct {
	Children []ChildView `json:"children"`
	// CooldownBlock is the block the cooldown ends: the subnet's first epoch after it
	// applies the set.
	CooldownBlock uint64 `json:"cooldown_block"`
}

// ChildrenView answers "children/<hotkey>/<netuid>": a hotkey's children and parents on
// the subnet, the set waiting to replace its children, its childkey take and the chain's
// cooldown.
type ChildrenView struct {
	Hotkey   string       `json:"hotkey"`
	Netuid   uint16       `json:"netuid"`
	Children []ChildView  `json:"children"`
	Parents  []ChildView  `json:"parents"`
	Pending  *PendingView `json:"pending,omitempty"`
	Take     uint16       `json:"take"`
	Cooldown uint64       `json:"cooldown"`
}

// NewSetChildren builds a stake/set_children message (no children: revoke).
func NewSetChildren(hotkey keys.PublicKey, netuid uint16, children []ChildEntry) (tx.Msg, error) {
	return tx.NewMsg(MsgSetChildren, SetChildren{Hotkey: hotkey[:], Netuid: netuid, Children: children})
}

// NewSetChildkeyTake builds a stake/set_childkey_take message.
func NewSetChildkeyTake(hotkey keys.PublicKey, netuid uint16, take uint16) (tx.Msg, error) {
	return tx.NewMsg(MsgSetChildkeyTake, SetChildkeyTake{Hotkey: hotkey[:], Netuid: netuid, Take: take})
}

// childMsgFields is MsgFields for the child-key messages.
func childMsgFields(signer keys.PublicKey, m tx.Msg) (map[string]any, bool, error) {
	switch m.Type {
	case MsgSetChildren:
		var s SetChildren
		if err := m.DecodeBody(&s); err != nil {
			return nil, true, err
		}
		cs := make([]map[string]string, len(s.Children))
		for i, c := range s.Children {
			cs[i] = map[string]string{"proportion": strconv.FormatUint(c.Proportion, 10), "hotkey": keys.AddressOf(c.Hotkey)}
		}
		return map[string]any{"coldkey": signer.String(), "hotkey": keys.AddressOf(s.Hotkey), "netuid": s.Netuid, "children": cs}, true, nil
	case MsgSetChildkeyTake:
		var s SetChildkeyTake
		if err := m.DecodeBody(&s); err != nil {
			return nil, true, err
		}
		return map[string]any{"coldkey": signer.String(), "hotkey": keys.AddressOf(s.Hotkey), "netuid": s.Netuid, "take": s.Take}, true, nil
	}
	return nil, false, nil
}

// ParseProportion reads a child's proportion written as a fraction ("0.5", "1") or a
// percentage ("50%") into value/u64::MAX, floored (1 is u64::MAX), exactly: no floats.
func ParseProportion(s string) (uint64, error) {
	num, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	r, ok := new(big.Rat).SetString(num)
	if !ok || strings.ContainsAny(num, "/eE") {
		return 0, fmt.Errorf("proportion %q is not a fraction such as 0.5 or a percentage such as 50%%", s)
	}
	if pct {
		r.Quo(r, big.NewRat(100, 1))
	}
	if r.Sign() < 0 || r.Cmp(big.NewRat(1, 1)) > 0 {
		return 0, fmt.Errorf("proportion %q is not between 0 and 1 (0%% and 100%%)", s)
	}
	v := new(big.Int).Mul(r.Num(), new(big.Int).SetUint64(math.MaxUint64))
	return v.Quo(v, r.Denom()).Uint64(), nil
}

// FormatProportion shows a proportion (value/u64::MAX) as a percentage with 4 decimals,
// rounded to the nearest.
func FormatProportion(p uint64) string {
	v := new(big.Int).Mul(new(big.Int).SetUint64(p), big.NewInt(1_000_000))
	v.Add(v, new(big.Int).SetUint64(math.MaxUint64/2))
	v.Quo(v, new(big.Int).SetUint64(math.MaxUint64))
	n := v.Uint64()
	return fmt.Sprintf("%d.%04d%%", n/10_000, n%10_000)
}
