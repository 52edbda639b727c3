// Package accounts holds the types of the chain's accounts module: balances in the
// smallest unit (10^9 per token), nonces, transfers and the transaction fee every
// envelope pays. It imports no store: clients, the SDK and the gateway link it freely.
// The state and the rules are in package keeper below it.
package accounts

import (
	"fmt"
	"math/bits"
	"strconv"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/tx"
)

// Name is the module name.
const Name = "accounts"

// UnitsPerToken is the number of smallest units in one token.
const UnitsPerToken = 1_000_000_000

// MsgTransfer is the message type of a transfer.
const MsgTransfer = "accounts/transfer"

// Transfer moves Amount from the signer to To.
type Transfer struct {
	To     []byte `cbor:"1,keyasint"` // 32-byte public key of the recipient
	Amount uint64 `cbor:"2,keyasint"` // in the smallest unit; must be > 0
}

// Account is an account's stored state.
type Account struct {
	Balance uint64 `cbor:"1,keyasint"`
	Nonce   uint64 `cbor:"2,keyasint"`
}

// Params are the module's parameters.
type Params struct {
	// MinFee is the minimum fee of any transaction, in the smallest unit.
	MinFee uint64 `json:"min_fee,string" cbor:"1,keyasint"`
}

// DefaultParams are the parameters of a chain whose genesis sets none.
func DefaultParams() Params { return Params{MinFee: 1_000} }

// GenesisBalance is one funded account in the genesis.
type GenesisBalance struct {
	Address string `json:"address"` // SS58 or 0x-hex public key
	Balance uint64 `json:"balance,string"`
}

// Genesis is the module's genesis state.
type Genesis struct {
	Params   *Params          `json:"params,omitempty"`
	Balances []GenesisBalance `json:"balances"`
}

// AccountView is the query answer for an account.
type AccountView struct {
	Address string `json:"address"`
	PubKey  string `json:"public_key"`
	Balance uint64 `json:"balance,string"`
	Nonce   uint64 `json:"nonce"`
}

// NewTransfer builds a transfer message.
func NewTransfer(to keys.PublicKey, amount uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgTransfer, Transfer{To: to[:], Amount: amount})
}

// FormatAmount renders an amount in tokens with nine decimals ("1.500000000").
func FormatAmount(units uint64) string {
	return fmt.Sprintf("%d.%09d", units/UnitsPerToken, units%UnitsPerToken)
}

// ParseAmount reads an amount in tokens ("1.5", "0.000000001", "12") into smallest units.
func ParseAmount(s string) (uint64, error) {
	whole, frac := s, ""
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			whole, frac = s[:i], s[i+1:]
			break
		}
	}
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("amount %q is empty", s)
	}
	if len(frac) > 9 {
		return 0, fmt.Errorf("amount %q has more than 9 decimals", s)
	}
	w := uint64(0)
	if whole != "" {
		var err error
		if w, err = strconv.ParseUint(whole, 10, 64); err != nil {
			return 0, fmt.Errorf("amount %q is not a number", s)
		}
	}
	f := uint64(0)
	if frac != "" {
		var err error
		if f, err = strconv.ParseUint(frac, 10, 64); err != nil {
			return 0, fmt.Errorf("amount %q is not a number", s)
		}
		for i := len(frac); i < 9; i++ {
			f *= 10
		}
	}
	hi, lo := bits.Mul64(w, UnitsPerToken)
	sum, carry := bits.Add64(lo, f, 0)
	if hi != 0 || carry != 0 {
		return 0, fmt.Errorf("amount %q is too large", s)
	}
	return sum, nil
}
