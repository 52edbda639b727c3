// Package stake holds the types of the chain's staking module: coldkeys stake tokens on
// hotkeys, a hotkey belongs to the coldkey that first registered it, and the hotkey's
// owner takes a cut (the take) of what the hotkey earns as a validator before the rest
// is shared among its nominators in proportion to their stake. Emissions are paid as
// stake, so they compound. It imports no store; the ledger itself is package keeper.
package stake

import (
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/tx"
)

// Name is the module name.
const Name = "stake"

// Message types.
const (
	MsgAdd      = "stake/add"
	MsgRemove   = "stake/remove"
	MsgSetTake  = "stake/set_take"
	MsgMove     = "stake/move"
	MsgTransfer = "stake/transfer"
	MsgSwap     = "stake/swap"
	// MsgUnstakeAll and MsgUnstakeAllAlpha take an UnstakeAll body.
	MsgUnstakeAll      = "stake/unstake_all"
	MsgUnstakeAllAlpha = "stake/unstake_all_alpha"
	MsgRemoveFull      = "stake/remove_full"
	// MsgClaimRoot claims the signer's root dividends (docs/dtao.md §9, Root claims).
	MsgClaimRoot = "stake/claim_root"
	// MsgSetChildren and MsgSetChildkeyTake are the child keys (docs/dtao.md §9, Child keys).
	MsgSetChildren     = "stake/set_children"
	MsgSetChildkeyTake = "stake/set_childkey_take"
)

// DefaultTake is a new hotkey's take, 11_796/65_535 ≈ 18% (Bittensor's default).
const DefaultTake uint16 = 11_796

// MaxTake is the largest take an owner may set (18%).
const MaxTake uint16 = 11_796

// Add stakes Amount of the signer's (coldkey's) balance on Hotkey. On the root subnet
// (Netuid 0, the zero value) the stake is TAO, one for one; on a subnet with a dTAO pool
// the TAO buys the subnet's alpha through the pool (see docs/dtao.md). LimitPrice (rao
// per alpha, 0 = none) refuses a buy that would take the price above it, or with
// AllowPartial buys only as much as the limit admits.
type Add struct {
	Hotkey       []byte `cbor:"1,keyasint"`
	Amount       uint64 `cbor:"2,keyasint"`
	Netuid       uint16 `cbor:"3,keyasint,omitempty"`
	LimitPrice   uint64 `cbor:"4,keyasint,omitempty"`
	AllowPartial bool   `cbor:"5,keyasint,omitempty"`
}

// UnstakeAll is subtensor's unstake_all (stake/unstake_all): all of the signer's stake on
// Hotkey, on every subnet, back to its balance — the alpha sold through each pool, root
// TAO one for one; or unstake_all_alpha (stake/unstake_all_alpha): every alpha position
// sold and the TAO staked on root under Hotkey, root stake left as it is. A position the
// pool refuses (a sale below the minimum stake, more than 1000 × the reserve) stays.
type UnstakeAll struct {
	Hotkey []byte `cbor:"1,keyasint"`
}

// RemoveFull is subtensor's remove_stake_full_limit: the signer's whole stake on Hotkey on
// subnet Netuid, as much as it is when the transaction runs, unstaked as Remove does;
// LimitPrice (0: none) refuses a sale that would pass it, never partially.
type RemoveFull struct {
	Hotkey     []byte `cbor:"1,keyasint"`
	Netuid     uint16 `cbor:"2,keyasint,omitempty"`
	LimitPrice uint64 `cbor:"3,keyasint,omitempty"`
}

// Remove unstakes Amount (TAO on root, alpha on a dTAO subnet, sold through the pool)
// from Hotkey back to the signer's balance. LimitPrice refuses a sale that would take the
// price below it (AllowPartial: sell what the limit admits).
type Remove struct {
	Hotkey       []byte `cbor:"1,keyasint"`
	Amount       uint64 `cbor:"2,keyasint"`
	Netuid       uint16 `cbor:"3,keyasint,omitempty"`
	LimitPrice   uint64 `cbor:"4,keyasint,omitempty"`
	AllowPartial bool   `cbor:"5,keyasint,omitempty"`
}

// Move moves Amount of the signer's (coldkey's) stake from hotkey From on subnet
// FromNetuid to hotkey To on subnet ToNetuid, in one step: nothing passes through the
// balance. On one subnet no swap happens and no fee is paid; across subnets the alpha is
// sold on the origin pool and the TAO buys alpha on the destination (one fee).
type Move struct {
	From       []byte `cbor:"1,keyasint"`
	To         []byte `cbor:"2,keyasint"`
	Amount     uint64 `cbor:"3,keyasint"`
	FromNetuid uint16 `cbor:"4,keyasint,omitempty"`
	ToNetuid   uint16 `cbor:"5,keyasint,omitempty"`
}

// Transfer gives Amount of the signer's stake on (Hotkey, FromNetuid) to coldkey Dest,
// on (Hotkey, ToNetuid): the hotkey stays, the owner changes.
type Transfer struct {
	Dest       []byte `cbor:"1,keyasint"`
	Hotkey     []byte `cbor:"2,keyasint"`
	Amount     uint64 `cbor:"3,keyasint"`
	FromNetuid uint16 `cbor:"4,keyasint,omitempty"`
	ToNetuid   uint16 `cbor:"5,keyasint,omitempty"`
}

// Swap moves Amount of the signer's stake on Hotkey from subnet FromNetuid to subnet
// ToNetuid through both pools. LimitPrice, if set, is the least origin/destination price
// ratio (rao per alpha of the ratio, 1e9 = 1.0) the swap accepts.
type Swap struct {
	Hotkey       []byte `cbor:"1,keyasint"`
	Amount       uint64 `cbor:"2,keyasint"`
	FromNetuid   uint16 `cbor:"3,keyasint"`
	ToNetuid     uint16 `cbor:"4,keyasint"`
	LimitPrice   uint64 `cbor:"5,keyasint,omitempty"`
	AllowPartial bool   `cbor:"6,keyasint,omitempty"`
}

// ClaimRoot claims the root dividends the signer (a coldkey with stake on root) has
// accrued: on the subnets Netuids (all if empty), under Hotkey (every hotkey the coldkey
// stakes on root if empty). By default (subtensor's claim type Swap) the alpha is sold on
// the subnet's pool, fee-free, and the TAO staked on root under the same hotkey; with Keep
// the alpha is staked on the subnet under the hotkey instead.
type ClaimRoot struct {
	Netuids []uint16 `cbor:"1,keyasint,omitempty"`
	Keep    bool     `cbor:"2,keyasint,omitempty"`
	Hotkey  []byte   `cbor:"3,keyasint,omitempty"`
}

// RootClaimable is one entry of the "root_claimable/<coldkey>" query: what a coldkey may
// claim of the root dividends its root stake under Hotkey earned on subnet Netuid.
type RootClaimable struct {
	Hotkey    string `json:"hotkey"`
	Netuid    uint16 `json:"netuid"`
	RootStake uint64 `json:"root_stake,string"` // the coldkey's TAO on root under the hotkey
	Owed      uint64 `json:"owed,string"`       // alpha on the subnet
	// TAOValue is what claiming it (Swap) would stake on root now: the owed alpha sold on
	// the pool, fee-free (0 if the pool would refuse the sale).
	TAOValue uint64 `json:"tao_value,string"`
}

// SetTake sets the take of a hotkey the signer owns, in 65535ths.
type SetTake struct {
	Hotkey []byte `cbor:"1,keyasint"`
	Take   uint16 `cbor:"2,keyasint"`
}

// Position is one stake position in query answers. Stake is TAO on root (netuid 0) and
// alpha on a dTAO subnet; TAOValue is what selling it all would return now (a quote: fee
// and slippage included), equal to Stake on root.
type Position struct {
	Hotkey   string `json:"hotkey"`
	Coldkey  string `json:"coldkey"`
	Netuid   uint16 `json:"netuid"`
	Stake    uint64 `json:"stake,string"`
	TAOValue uint64 `json:"tao_value,string"`
}

// HotkeyView answers "hotkey/<address>".
type HotkeyView struct {
	Hotkey     string     `json:"hotkey"`
	Owner      string     `json:"owner,omitempty"`
	Take       uint16     `json:"take"`
	TotalStake uint64     `json:"total_stake,string"`
	Nominators []Position `json:"nominators"`
}

// NewAdd builds a stake/add message on the root subnet.
func NewAdd(hotkey keys.PublicKey, amount uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgAdd, Add{Hotkey: hotkey[:], Amount: amount})
}

// NewUnstakeAll builds stake/unstake_all, or with toRoot stake/unstake_all_alpha.
func NewUnstakeAll(hotkey keys.PublicKey, toRoot bool) (tx.Msg, error) {
	typ := MsgUnstakeAll
	if toRoot {
		typ = MsgUnstakeAllAlpha
	}
	return tx.NewMsg(typ, UnstakeAll{Hotkey: hotkey[:]})
}

// NewRemoveFull builds stake/remove_full: all of the signer's stake on hotkey on netuid.
func NewRemoveFull(netuid uint16, hotkey keys.PublicKey, limitPrice uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgRemoveFull, RemoveFull{Hotkey: hotkey[:], Netuid: netuid, LimitPrice: limitPrice})
}

// NewAddOn builds a stake/add message on a subnet, with an optional limit price.
func NewAddOn(netuid uint16, hotkey keys.PublicKey, amount, limitPrice uint64, allowPartial bool) (tx.Msg, error) {
	return tx.NewMsg(MsgAdd, Add{Hotkey: hotkey[:], Amount: amount, Netuid: netuid, LimitPrice: limitPrice, AllowPartial: allowPartial})
}

// NewRemove builds a stake/remove message on the root subnet.
func NewRemove(hotkey keys.PublicKey, amount uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgRemove, Remove{Hotkey: hotkey[:], Amount: amount})
}

// NewRemoveOn builds a stake/remove message on a subnet, with an optional limit price.
func NewRemoveOn(netuid uint16, hotkey keys.PublicKey, amount, limitPrice uint64, allowPartial bool) (tx.Msg, error) {
	return tx.NewMsg(MsgRemove, Remove{Hotkey: hotkey[:], Amount: amount, Netuid: netuid, LimitPrice: limitPrice, AllowPartial: allowPartial})
}

// NewMove builds a stake/move message on the root subnet.
func NewMove(from, to keys.PublicKey, amount uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgMove, Move{From: from[:], To: to[:], Amount: amount})
}

// NewMoveOn builds a stake/move message between hotkeys and subnets.
func NewMoveOn(from keys.PublicKey, fromNetuid uint16, to keys.PublicKey, toNetuid uint16, amount uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgMove, Move{From: from[:], To: to[:], Amount: amount, FromNetuid: fromNetuid, ToNetuid: toNetuid})
}

// NewTransfer builds a stake/transfer message.
func NewTransfer(dest, hotkey keys.PublicKey, fromNetuid, toNetuid uint16, amount uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgTransfer, Transfer{Dest: dest[:], Hotkey: hotkey[:], Amount: amount, FromNetuid: fromNetuid, ToNetuid: toNetuid})
}

// NewSwap builds a stake/swap message.
func NewSwap(hotkey keys.PublicKey, fromNetuid, toNetuid uint16, amount, limitPrice uint64, allowPartial bool) (tx.Msg, error) {
	return tx.NewMsg(MsgSwap, Swap{Hotkey: hotkey[:], Amount: amount, FromNetuid: fromNetuid, ToNetuid: toNetuid, LimitPrice: limitPrice, AllowPartial: allowPartial})
}

// NewSetTake builds a stake/set_take message.
func NewSetTake(hotkey keys.PublicKey, take uint16) (tx.Msg, error) {
	return tx.NewMsg(MsgSetTake, SetTake{Hotkey: hotkey[:], Take: take})
}

// NewClaimRoot builds a stake/claim_root message: on netuids (all if none), under hotkey
// (every root position if nil), keep to stake the alpha on the subnet instead of selling it.
func NewClaimRoot(netuids []uint16, keep bool, hotkey *keys.PublicKey) (tx.Msg, error) {
	c := ClaimRoot{Netuids: netuids, Keep: keep}
	if hotkey != nil {
		c.Hotkey = hotkey[:]
	}
	return tx.NewMsg(MsgClaimRoot, c)
}
