// Package keeper is the state and the rules of the accounts module (its types are in
// package accounts above): balances, nonces, the supply, transfers and the ante step
// every transaction passes (nonce and fee).
//
// Other modules reach it through the small interfaces they declare
// (expected_keepers.go in each consumer), never through its storage keys.
package keeper

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"strconv"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

var (
	prefixAccount = []byte("acc/a/")
	keyParams     = []byte("acc/params")
	keySupply     = []byte("acc/supply")
	keyFees       = []byte("acc/fees") // fees collected and not yet distributed
)

// Keeper is the accounts module. It holds no state of its own: everything is in the
// store it is given.
type Keeper struct{}

// New returns the accounts keeper.
func New() *Keeper { return &Keeper{} }

// Name implements module.Module.
func (*Keeper) Name() string { return accounts.Name }

func accountKey(pub keys.PublicKey) []byte { return module.Key(prefixAccount, pub[:]) }

// Account reads an account; an account never seen reads as zero.
func (*Keeper) Account(r store.Reader, pub keys.PublicKey) (accounts.Account, error) {
	var a accounts.Account
	_, err := module.Get(r, accountKey(pub), &a)
	return a, err
}

func setAccount(kv store.KV, pub keys.PublicKey, a accounts.Account) error {
	return module.Put(kv, accountKey(pub), a)
}

// Params reads the module parameters.
func (*Keeper) Params(r store.Reader) (accounts.Params, error) {
	p := accounts.DefaultParams()
	_, err := module.Get(r, keyParams, &p)
	return p, err
}

// Supply returns the total of all balances and uncollected fees.
func (*Keeper) Supply(r store.Reader) (uint64, error) { return module.GetUint64(r, keySupply) }

// CollectedFees returns the fees collected and not yet distributed.
func (*Keeper) CollectedFees(r store.Reader) (uint64, error) { return module.GetUint64(r, keyFees) }

// Credit adds amount to an account's balance, creating tokens (used by genesis and by
// emission); the supply grows by the same amount.
func (k *Keeper) Credit(kv store.KV, pub keys.PublicKey, amount uint64) error {
	a, err := k.Account(kv, pub)
	if err != nil {
		return err
	}
	sum, carry := bits.Add64(a.Balance, amount, 0)
	if carry != 0 {
		return tx.Errorf(tx.CodeInvalidAmount, "crediting %d to %s overflows its balance", amount, pub)
	}
	supply, err := k.Supply(kv)
	if err != nil {
		return err
	}
	newSupply, carry := bits.Add64(supply, amount, 0)
	if carry != 0 {
		return tx.Errorf(tx.CodeInvalidAmount, "crediting %d overflows the total supply", amount)
	}
	a.Balance = sum
	if err := setAccount(kv, pub, a); err != nil {
		return err
	}
	return module.PutUint64(kv, keySupply, newSupply)
}

// Debit removes amount from an account's balance, destroying tokens (burns, locks).
func (k *Keeper) Debit(kv store.KV, pub keys.PublicKey, amount uint64) error {
	a, err := k.Account(kv, pub)
	if err != nil {
		return err
	}
	if a.Balance < amount {
		return tx.Errorf(tx.CodeInsufficientFunds, "%s has %s, needs %s", pub, accounts.FormatAmount(a.Balance), accounts.FormatAmount(amount))
	}
	supply, err := k.Supply(kv)
	if err != nil {
		return err
	}
	a.Balance -= amount
	if err := setAccount(kv, pub, a); err != nil {
		return err
	}
	return module.PutUint64(kv, keySupply, supply-amount)
}

// Move transfers amount between two accounts; the supply does not change.
func (k *Keeper) Move(kv store.KV, from, to keys.PublicKey, amount uint64) error {
	if amount == 0 {
		return tx.Errorf(tx.CodeInvalidAmount, "amount must be greater than zero")
	}
	src, err := k.Account(kv, from)
	if err != nil {
		return err
	}
	if src.Balance < amount {
		return tx.Errorf(tx.CodeInsufficientFunds, "%s has %s, needs %s", from, accounts.FormatAmount(src.Balance), accounts.FormatAmount(amount))
	}
	if from == to {
		return nil
	}
	dst, err := k.Account(kv, to)
	if err != nil {
		return err
	}
	sum, carry := bits.Add64(dst.Balance, amount, 0)
	if carry != 0 {
		return tx.Errorf(tx.CodeInvalidAmount, "transfer of %d overflows the balance of %s", amount, to)
	}
	src.Balance -= amount
	dst.Balance = sum
	if err := setAccount(kv, from, src); err != nil {
		return err
	}
	return setAccount(kv, to, dst)
}

// Ante is the module.AnteHandler of the chain: the nonce must be the account's next one,
// the fee must reach the minimum and be payable; the fee is then collected and the
// nonce advanced. A waived fee (a registered hotkey's neuron call) is not charged: only
// the nonce is checked and advanced.
func (k *Keeper) Ante(kv store.KV, t *tx.Tx, feeWaived bool) error {
	p, err := k.Params(kv)
	if err != nil {
		return err
	}
	a, err := k.Account(kv, t.SignerKey)
	if err != nil {
		return err
	}
	switch {
	case t.Nonce < a.Nonce:
		return tx.Errorf(tx.CodeStaleNonce, "nonce %d was already used; the account's next nonce is %d", t.Nonce, a.Nonce)
	case t.Nonce > a.Nonce:
		return tx.Errorf(tx.CodeFutureNonce, "nonce %d is ahead of the account's next nonce %d", t.Nonce, a.Nonce)
	}
	if feeWaived {
		a.Nonce++
		return setAccount(kv, t.SignerKey, a)
	}
	if t.Fee < p.MinFee {
		return tx.Errorf(tx.CodeInsufficientFee, "fee %d is below the minimum fee %d", t.Fee, p.MinFee)
	}
	if a.Balance < t.Fee {
		return tx.Errorf(tx.CodeInsufficientFunds, "%s cannot pay the fee %s: balance %s", t.SignerKey, accounts.FormatAmount(t.Fee), accounts.FormatAmount(a.Balance))
	}
	fees, err := k.CollectedFees(kv)
	if err != nil {
		return err
	}
	a.Balance -= t.Fee
	a.Nonce++
	if err := setAccount(kv, t.SignerKey, a); err != nil {
		return err
	}
	return module.PutUint64(kv, keyFees, fees+t.Fee) // fees ≤ supply, which fits in a uint64
}

// InitGenesis implements module.Module.
func (k *Keeper) InitGenesis(ctx *module.Context, raw json.RawMessage) error {
	var g accounts.Genesis
	if raw != nil {
		if err := json.Unmarshal(raw, &g); err != nil {
			return fmt.Errorf("accounts genesis: %w", err)
		}
	}
	p := accounts.DefaultParams()
	if g.Params != nil {
		p = *g.Params
	}
	if err := module.Put(ctx.KV, keyParams, p); err != nil {
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
		if err := k.Credit(ctx.KV, pub, gb.Balance); err != nil {
			return fmt.Errorf("accounts genesis: balances[%d]: %w", i, err)
		}
	}
	return nil
}

// Handlers implements module.Module.
func (k *Keeper) Handlers() map[string]module.Handler {
	return map[string]module.Handler{accounts.MsgTransfer: k.transfer}
}

func (k *Keeper) transfer(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var t accounts.Transfer
	if err := msg.DecodeBody(&t); err != nil {
		return err
	}
	to, err := module.PublicKey("recipient", t.To)
	if err != nil {
		return err
	}
	if err := k.Move(ctx.KV, signer, to, t.Amount); err != nil {
		return err
	}
	ctx.Emit("transfer",
		module.Attr("from", signer.String()),
		module.Attr("to", to.String()),
		module.Attr("amount", strconv.FormatUint(t.Amount, 10)))
	return nil
}

// Queries implements module.Module: "account/<address>", "params", "supply".
func (k *Keeper) Queries() map[string]module.Route {
	return map[string]module.Route{
		"account": {Args: []string{"address"}, Query: k.queryAccount},
		"params":  {Query: func(q module.QueryRequest) (any, error) { return k.Params(q.State) }},
		"supply":  {Query: k.querySupply},
	}
}

func (k *Keeper) queryAccount(q module.QueryRequest) (any, error) {
	r, args := q.State, q.Args
	pub, err := module.AddressArg(args[0])
	if err != nil {
		return nil, err
	}
	a, err := k.Account(r, pub)
	if err != nil {
		return nil, err
	}
	return accounts.AccountView{Address: pub.String(), PubKey: pub.Hex(), Balance: a.Balance, Nonce: a.Nonce}, nil
}

func (k *Keeper) querySupply(q module.QueryRequest) (any, error) {
	r := q.State
	s, err := k.Supply(r)
	if err != nil {
		return nil, err
	}
	f, err := k.CollectedFees(r)
	return map[string]string{"supply": strconv.FormatUint(s, 10), "collected_fees": strconv.FormatUint(f, 10)}, err
}
