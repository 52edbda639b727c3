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
	MsgAdd     = "stake/add"
	MsgRemove  = "stake/remove"
	MsgSetTake = "stake/set_take"
	MsgMove    = "stake/move"
)

// DefaultTake is a new hotkey's take, 11_796/65_535 ≈ 18% (Bittensor's default).
const DefaultTake uint16 = 11_796

// MaxTake is the largest take an owner may set (18%).
const MaxTake uint16 = 11_796

// Add stakes Amount of the signer's (coldkey's) balance on Hotkey.
type Add struct {
	Hotkey []byte `cbor:"1,keyasint"`
	Amount uint64 `cbor:"2,keyasint"`
}

// Remove unstakes Amount from Hotkey back to the signer's balance.
type Remove struct {
	Hotkey []byte `cbor:"1,keyasint"`
	Amount uint64 `cbor:"2,keyasint"`
}

// Move moves Amount of the signer's (coldkey's) stake from hotkey From to hotkey To, in
// one step: nothing passes through the balance.
type Move struct {
	From   []byte `cbor:"1,keyasint"`
	To     []byte `cbor:"2,keyasint"`
	Amount uint64 `cbor:"3,keyasint"`
}

// SetTake sets the take of a hotkey the signer owns, in 65535ths.
type SetTake struct {
	Hotkey []byte `cbor:"1,keyasint"`
	Take   uint16 `cbor:"2,keyasint"`
}

// Position is one stake position in query answers.
type Position struct {
	Hotkey  string `json:"hotkey"`
	Coldkey string `json:"coldkey"`
	Stake   uint64 `json:"stake,string"`
}

// HotkeyView answers "hotkey/<address>".
type HotkeyView struct {
	Hotkey     string     `json:"hotkey"`
	Owner      string     `json:"owner,omitempty"`
	Take       uint16     `json:"take"`
	TotalStake uint64     `json:"total_stake,string"`
	Nominators []Position `json:"nominators"`
}

// NewAdd builds a stake/add message.
func NewAdd(hotkey keys.PublicKey, amount uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgAdd, Add{Hotkey: hotkey[:], Amount: amount})
}

// NewRemove builds a stake/remove message.
func NewRemove(hotkey keys.PublicKey, amount uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgRemove, Remove{Hotkey: hotkey[:], Amount: amount})
}

// NewMove builds a stake/move message.
func NewMove(from, to keys.PublicKey, amount uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgMove, Move{From: from[:], To: to[:], Amount: amount})
}

// NewSetTake builds a stake/set_take message.
func NewSetTake(hotkey keys.PublicKey, take uint16) (tx.Msg, error) {
	return tx.NewMsg(MsgSetTake, SetTake{Hotkey: hotkey[:], Take: take})
}
