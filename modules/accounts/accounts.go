// Package accounts is the chain's accounts module: balances in the smallest unit
// (10^9 per token), nonces, transfers, and the transaction fee every envelope pays.
package accounts

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"strconv"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/store"
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

var (
	prefixAccount = []byte("acc/a/")
	keyParams     = []byte("acc/params")
	keySupply     = []byte("acc/supply")
	keyFees       = []byte("acc/fees") // fees collected and not yet distributed
)

// Module is the accounts module.
type Module struct{}

// New returns the accounts module.
func New() *Module { return &Module{} }

// Name implements module.Module.
func (*Module) Name() string { return Name }

func accountKey(pub keys.PublicKey) []byte {
	return append(append(make([]byte, 0, len(prefixAccount)+32), prefixAccount...), pub[:]...)
}

// GetAccount reads an account; an account never seen reads as zero.
func GetAccount(r store.Reader, pub keys.PublicKey) (Account, error) {
	var a Account
	b, err := r.Get(accountKey(pub))
	if err != nil || b == nil {
		return a, err
	}
	if err := tx.UnmarshalState(b, &a); err != nil {
		return a, fmt.Errorf("decode account %s: %w", pub, err)
	}
	return a, nil
}

// SetAccount writes an account.
func SetAccount(kv store.KV, pub keys.PublicKey, a Account) error {
	b, err := tx.Marshal(a)
	if err != nil {
		return err
	}
	return kv.Set(accountKey(pub), b)
}

// GetParams reads the module parameters.
func GetParams(r store.Reader) (Params, error) {
	p := DefaultParams()
	b, err := r.Get(keyParams)
	if err != nil || b == nil {
		return p, err
	}
	return p, tx.UnmarshalState(b, &p)
}

func getUint(r store.Reader, key []byte) (uint64, error) {
	b, err := r.Get(key)
	if err != nil || b == nil {
		return 0, err
	}
	var v uint64
	return v, tx.UnmarshalState(b, &v)
}

func setUint(kv store.KV, key []byte, v uint64) error {
	b, err := tx.Marshal(v)
	if err != nil {
		return err
	}
	return kv.Set(key, b)
}

// Supply returns the total of all balances and uncollected fees.
func Supply(r store.Reader) (uint64, error) { return getUint(r, keySupply) }

// CollectedFees returns the fees collected and not yet distributed.
func CollectedFees(r store.Reader) (uint64, error) { return getUint(r, keyFees) }

// Credit adds amount to an account's balance, creating tokens (used by genesis and by
// emission); the supply grows by the same amount.
func Credit(kv store.KV, pub keys.PublicKey, amount uint64) error {
	a, err := GetAccount(kv, pub)
	if err != nil {
		return err
	}
	sum, carry := bits.Add64(a.Balance, amount, 0)
	if carry != 0 {
		return tx.Errorf(tx.CodeInvalidAmount, "crediting %d to %s overflows its balance", amount, pub)
	}
	supply, err := Supply(kv)
	if err != nil {
		return err
	}
	newSupply, carry := bits.Add64(supply, amount, 0)
	if carry != 0 {
		return tx.Errorf(tx.CodeInvalidAmount, "crediting %d overflows the total supply", amount)
	}
	a.Balance = sum
	if err := SetAccount(kv, pub, a); err != nil {
		return err
	}
	return setUint(kv, keySupply, newSupply)
}

// Debit removes amount from an account's balance, destroying tokens (burns, locks).
func Debit(kv store.KV, pub keys.PublicKey, amount uint64) error {
	a, err := GetAccount(kv, pub)
	if err != nil {
		return err
	}
	if a.Balance < amount {
		return tx.Errorf(tx.CodeInsufficientFunds, "%s has %s, needs %s", pub, FormatAmount(a.Balance), FormatAmount(amount))
	}
	supply, err := Supply(kv)
	if err != nil {
		return err
	}
	a.Balance -= amount
	if err := SetAccount(kv, pub, a); err != nil {
		return err
	}
	return setUint(kv, keySupply, supply-amount)
}

// Move transfers amount between two accounts; the supply does not change.
func Move(kv store.KV, from, to keys.PublicKey, amount uint64) error {
	if amount == 0 {
		return tx.Errorf(tx.CodeInvalidAmount, "amount must be greater than zero")
	}
	src, err := GetAccount(kv, from)
	if err != nil {
		return err
	}
	if src.Balance < amount {
		return tx.Errorf(tx.CodeInsufficientFunds, "%s has %s, needs %s", from, FormatAmount(src.Balance), FormatAmount(amount))
	}
	if from == to {
		return nil
	}
	dst, err := GetAccount(kv, to)
	if err != nil {
		return err
	}
	sum, carry := bits.Add64(dst.Balance, amount, 0)
	if carry != 0 {
		return tx.Errorf(tx.CodeInvalidAmount, "transfer of %d overflows the balance of %s", amount, to)
	}
	src.Balance -= amount
	dst.Balance = sum
	if err := SetAccount(kv, from, src); err != nil {
		return err
	}
	return SetAccount(kv, to, dst)
}

// Ante applies what every transaction does before its message: the nonce must be the
// account's next one, the fee must reach the minimum and be payable; the fee is then
// collected and the nonce advanced.
func Ante(kv store.KV, t *tx.Tx) error {
	p, err := GetParams(kv)
	if err != nil {
		return err
	}
	a, err := GetAccount(kv, t.SignerKey)
	if err != nil {
		return err
	}
	switch {
	case t.Nonce < a.Nonce:
		return tx.Errorf(tx.CodeStaleNonce, "nonce %d was already used; the account's next nonce is %d", t.Nonce, a.Nonce)
	case t.Nonce > a.Nonce:
		return tx.Errorf(tx.CodeFutureNonce, "nonce %d is ahead of the account's next nonce %d", t.Nonce, a.Nonce)
	}
	if t.Fee < p.MinFee {
		return tx.Errorf(tx.CodeInsufficientFee, "fee %d is below the minimum fee %d", t.Fee, p.MinFee)
	}
	if a.Balance < t.Fee {
		return tx.Errorf(tx.CodeInsufficientFunds, "%s cannot pay the fee %s: balance %s", t.SignerKey, FormatAmount(t.Fee), FormatAmount(a.Balance))
	}
	fees, err := CollectedFees(kv)
	if err != nil {
		return err
	}
	a.Balance -= t.Fee
	a.Nonce++
	if err := SetAccount(kv, t.SignerKey, a); err != nil {
		return err
	}
	return setUint(kv, keyFees, fees+t.Fee) // fees ≤ supply, which fits in a uint64
}

// InitGenesis implements module.Module.
func (m *Module) InitGenesis(ctx *module.Context, raw json.RawMessage) error {
	var g Genesis
	if raw != nil {
		if err := json.Unmarshal(raw, &g); err != nil {
			return fmt.Errorf("accounts genesis: %w", err)
		}
	}
	p := DefaultParams()
	if g.Params != nil {
		p = *g.Params
	}
	b, err := tx.Marshal(p)
	if err != nil {
		return err
	}
	if err := ctx.KV.Set(keyParams, b); err != nil {
		return err
	}
	seen := map[keys.PublicKey]bool{}
	for i, gb := range g.Balances {
		pub, err := keys.ParsePublicKey(gb.Address)
		if err != nil {
			return fmt.Errorf("accounts genesis: balances[%d]: %w", i, err)
		}
		if seen[pub] {
			return fmt.Errorf("accounts genesis: balances[%d]: %s is listed twice", i, gb.Address)
		}
		seen[pub] = true
		if err := Credit(ctx.KV, pub, gb.Balance); err != nil {
			return fmt.Errorf("accounts genesis: balances[%d]: %w", i, err)
		}
	}
	return nil
}

// Handlers implements module.Module.
func (m *Module) Handlers() map[string]module.Handler {
	return map[string]module.Handler{MsgTransfer: m.transfer}
}

func (m *Module) transfer(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var t Transfer
	if err := msg.DecodeBody(&t); err != nil {
		return err
	}
	if len(t.To) != keys.PublicKeySize {
		return tx.Errorf(tx.CodeInvalidMessage, "recipient is %d bytes, want a %d-byte public key", len(t.To), keys.PublicKeySize)
	}
	to := keys.PublicKey(t.To)
	if err := Move(ctx.KV, signer, to, t.Amount); err != nil {
		return err
	}
	ctx.Emit("transfer",
		module.Attr("from", signer.String()),
		module.Attr("to", to.String()),
		module.Attr("amount", strconv.FormatUint(t.Amount, 10)))
	return nil
}

// AccountView is the query answer for an account.
type AccountView struct {
	Address string `json:"address"`
	PubKey  string `json:"public_key"`
	Balance uint64 `json:"balance,string"`
	Nonce   uint64 `json:"nonce"`
}

// Query implements module.Module: "account/<address>", "params", "supply".
func (m *Module) Query(r store.Reader, path string, _ []byte) (any, error) {
	switch {
	case len(path) > len("account/") && path[:len("account/")] == "account/":
		pub, err := keys.ParsePublicKey(path[len("account/"):])
		if err != nil {
			return nil, tx.Errorf(tx.CodeInvalidMessage, "%v", err)
		}
		a, err := GetAccount(r, pub)
		if err != nil {
			return nil, err
		}
		return AccountView{Address: pub.String(), PubKey: pub.Hex(), Balance: a.Balance, Nonce: a.Nonce}, nil
	case path == "params":
		return GetParams(r)
	case path == "supply":
		s, err := Supply(r)
		if err != nil {
			return nil, err
		}
		f, err := CollectedFees(r)
		return map[string]string{"supply": strconv.FormatUint(s, 10), "collected_fees": strconv.FormatUint(f, 10)}, err
	}
	return nil, tx.Errorf(tx.CodeNotFound, "unknown accounts query %q", path)
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
