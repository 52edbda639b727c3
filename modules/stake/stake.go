// Package stake is the chain's staking ledger: coldkeys stake tokens on hotkeys, a hotkey
// belongs to the coldkey that first registered it, and the hotkey's owner takes a cut
// (the take) of what the hotkey earns as a validator before the rest is shared among its
// nominators in proportion to their stake. Emissions are paid as stake, so they compound.
package stake

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/bits"
	"strconv"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// Name is the module name.
const Name = "stake"

// Message types.
const (
	MsgAdd     = "stake/add"
	MsgRemove  = "stake/remove"
	MsgSetTake = "stake/set_take"
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

// SetTake sets the take of a hotkey the signer owns, in 65535ths.
type SetTake struct {
	Hotkey []byte `cbor:"1,keyasint"`
	Take   uint16 `cbor:"2,keyasint"`
}

var (
	prefixStake = []byte("stk/s/") // hotkey ‖ coldkey → uint64
	prefixTotal = []byte("stk/t/") // hotkey → uint64
	prefixOwner = []byte("stk/o/") // hotkey → coldkey
	prefixTake  = []byte("stk/k/") // hotkey → uint16
	prefixCold  = []byte("stk/c/") // coldkey ‖ hotkey → empty (index of a coldkey's positions)
	keyStaked   = []byte("stk/total")
)

func key(prefix []byte, parts ...keys.PublicKey) []byte {
	k := append(make([]byte, 0, len(prefix)+32*len(parts)), prefix...)
	for _, p := range parts {
		k = append(k, p[:]...)
	}
	return k
}

func getU64(r store.Reader, k []byte) (uint64, error) {
	b, err := r.Get(k)
	if err != nil || b == nil {
		return 0, err
	}
	var v uint64
	return v, tx.UnmarshalState(b, &v)
}

func setU64(kv store.KV, k []byte, v uint64) error {
	if v == 0 {
		return kv.Delete(k)
	}
	b, err := tx.Marshal(v)
	if err != nil {
		return err
	}
	return kv.Set(k, b)
}

// Owner returns the coldkey that owns a hotkey.
func Owner(r store.Reader, hotkey keys.PublicKey) (keys.PublicKey, bool, error) {
	b, err := r.Get(key(prefixOwner, hotkey))
	if err != nil || b == nil {
		return keys.PublicKey{}, false, err
	}
	return keys.PublicKey(b), true, nil
}

// ClaimHotkey makes coldkey the owner of hotkey if it has none; if another coldkey owns
// it the claim is refused.
func ClaimHotkey(kv store.KV, hotkey, coldkey keys.PublicKey) error {
	owner, ok, err := Owner(kv, hotkey)
	if err != nil {
		return err
	}
	if ok {
		if owner != coldkey {
			return tx.Errorf(tx.CodeUnauthorized, "hotkey %s belongs to coldkey %s", hotkey, owner)
		}
		return nil
	}
	return kv.Set(key(prefixOwner, hotkey), coldkey[:])
}

// Take returns a hotkey's take in 65535ths.
func Take(r store.Reader, hotkey keys.PublicKey) (uint16, error) {
	b, err := r.Get(key(prefixTake, hotkey))
	if err != nil || b == nil {
		return DefaultTake, err
	}
	var v uint16
	return v, tx.UnmarshalState(b, &v)
}

// TotalStake is the stake on a hotkey from every coldkey.
func TotalStake(r store.Reader, hotkey keys.PublicKey) (uint64, error) {
	return getU64(r, key(prefixTotal, hotkey))
}

// StakeOf is one coldkey's stake on one hotkey.
func StakeOf(r store.Reader, hotkey, coldkey keys.PublicKey) (uint64, error) {
	return getU64(r, key(prefixStake, hotkey, coldkey))
}

// TotalStaked is the stake on every hotkey together.
func TotalStaked(r store.Reader) (uint64, error) { return getU64(r, keyStaked) }

// AddStake adds amount to (hotkey, coldkey) without touching balances (emissions use it
// to mint stake; stake/add debits the balance first).
func AddStake(kv store.KV, hotkey, coldkey keys.PublicKey, amount uint64) error {
	if amount == 0 {
		return nil
	}
	var had uint64 // the position's stake before
	for i, k := range [][]byte{key(prefixStake, hotkey, coldkey), key(prefixTotal, hotkey), keyStaked} {
		v, err := getU64(kv, k)
		if err != nil {
			return err
		}
		if i == 0 {
			had = v
		}
		sum, carry := bits.Add64(v, amount, 0)
		if carry != 0 {
			return tx.Errorf(tx.CodeInvalidAmount, "stake of %d overflows", amount)
		}
		if err := setU64(kv, k, sum); err != nil {
			return err
		}
	}
	if had > 0 {
		return nil // the coldkey's index lists the position already (it exists while the stake is positive)
	}
	return kv.Set(key(prefixCold, coldkey, hotkey), []byte{})
}

func subStake(kv store.KV, hotkey, coldkey keys.PublicKey, amount uint64) error {
	have, err := StakeOf(kv, hotkey, coldkey)
	if err != nil {
		return err
	}
	if have < amount {
		return tx.Errorf(tx.CodeInsufficientFunds, "%s has %s staked on %s, cannot remove %s", coldkey, accounts.FormatAmount(have), hotkey, accounts.FormatAmount(amount))
	}
	for _, k := range [][]byte{key(prefixStake, hotkey, coldkey), key(prefixTotal, hotkey), keyStaked} {
		v, err := getU64(kv, k)
		if err != nil {
			return err
		}
		if err := setU64(kv, k, v-amount); err != nil {
			return err
		}
	}
	if have == amount {
		return kv.Delete(key(prefixCold, coldkey, hotkey))
	}
	return nil
}

// Nominator is one coldkey's stake on a hotkey.
type Nominator struct {
	Coldkey keys.PublicKey
	Stake   uint64
}

// Nominators lists the coldkeys staked on a hotkey, in ascending coldkey order.
func Nominators(r store.Reader, hotkey keys.PublicKey) ([]Nominator, error) {
	var out []Nominator
	prefix := key(prefixStake, hotkey)
	err := r.Iterate(prefix, func(k, v []byte) (bool, error) {
		var amt uint64
		if err := tx.UnmarshalState(v, &amt); err != nil {
			return false, err
		}
		out = append(out, Nominator{Coldkey: keys.PublicKey(k[len(prefix):]), Stake: amt})
		return true, nil
	})
	return out, err
}

// PayMiner pays a miner's emission as stake of the hotkey's owner on the hotkey.
func PayMiner(kv store.KV, hotkey keys.PublicKey, amount uint64) error {
	owner, ok, err := Owner(kv, hotkey)
	if err != nil || !ok {
		return fmt.Errorf("pay miner %s: hotkey has no owner (%v)", hotkey, err)
	}
	return AddStake(kv, hotkey, owner, amount)
}

// PayValidator pays a validator's emission: the owner's take first, then the rest to every
// nominator (the owner included) in proportion to their stake, rounded down; what
// rounding leaves goes to the owner, so nothing is lost.
func PayValidator(kv store.KV, hotkey keys.PublicKey, amount uint64) error {
	owner, ok, err := Owner(kv, hotkey)
	if err != nil || !ok {
		return fmt.Errorf("pay validator %s: hotkey has no owner (%v)", hotkey, err)
	}
	take, err := Take(kv, hotkey)
	if err != nil {
		return err
	}
	noms, err := Nominators(kv, hotkey)
	if err != nil {
		return err
	}
	total, err := TotalStake(kv, hotkey)
	if err != nil {
		return err
	}
	ownerCut := mulDiv(amount, uint64(take), 65535)
	rest := amount - ownerCut
	paid := uint64(0)
	if total > 0 {
		for _, n := range noms {
			share := mulDiv(rest, n.Stake, total)
			if share == 0 {
				continue
			}
			if err := AddStake(kv, hotkey, n.Coldkey, share); err != nil {
				return err
			}
			paid += share
		}
	}
	return AddStake(kv, hotkey, owner, amount-paid)
}

// mulDiv is floor(a*b/c) without overflow.
func mulDiv(a, b, c uint64) uint64 {
	r := new(big.Int).Mul(new(big.Int).SetUint64(a), new(big.Int).SetUint64(b))
	return r.Div(r, new(big.Int).SetUint64(c)).Uint64()
}

// Module is the staking module.
type Module struct{}

// New returns the staking module.
func New() *Module { return &Module{} }

// Name implements module.Module.
func (*Module) Name() string { return Name }

// InitGenesis implements module.Module; staking starts empty.
func (*Module) InitGenesis(_ *module.Context, raw json.RawMessage) error {
	if len(raw) > 0 && string(raw) != "{}" && string(raw) != "null" {
		return fmt.Errorf("stake genesis must be empty")
	}
	return nil
}

// Handlers implements module.Module.
func (m *Module) Handlers() map[string]module.Handler {
	return map[string]module.Handler{MsgAdd: m.add, MsgRemove: m.remove, MsgSetTake: m.setTake}
}

func hotkeyOf(b []byte) (keys.PublicKey, error) {
	if len(b) != keys.PublicKeySize {
		return keys.PublicKey{}, tx.Errorf(tx.CodeInvalidMessage, "hotkey is %d bytes, want %d", len(b), keys.PublicKeySize)
	}
	return keys.PublicKey(b), nil
}

func (m *Module) add(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var a Add
	if err := msg.DecodeBody(&a); err != nil {
		return err
	}
	hot, err := hotkeyOf(a.Hotkey)
	if err != nil {
		return err
	}
	if a.Amount == 0 {
		return tx.Errorf(tx.CodeInvalidAmount, "stake amount must be greater than zero")
	}
	if _, ok, err := Owner(ctx.KV, hot); err != nil {
		return err
	} else if !ok {
		return tx.Errorf(tx.CodeNotFound, "hotkey %s is not registered on any subnet; register it first", hot)
	}
	if err := accounts.Debit(ctx.KV, signer, a.Amount); err != nil {
		return err
	}
	if err := AddStake(ctx.KV, hot, signer, a.Amount); err != nil {
		return err
	}
	ctx.Emit("stake_added", module.Attr("coldkey", signer.String()), module.Attr("hotkey", hot.String()), module.Attr("amount", strconv.FormatUint(a.Amount, 10)))
	return nil
}

func (m *Module) remove(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var r Remove
	if err := msg.DecodeBody(&r); err != nil {
		return err
	}
	hot, err := hotkeyOf(r.Hotkey)
	if err != nil {
		return err
	}
	if r.Amount == 0 {
		return tx.Errorf(tx.CodeInvalidAmount, "unstake amount must be greater than zero")
	}
	if err := subStake(ctx.KV, hot, signer, r.Amount); err != nil {
		return err
	}
	if err := accounts.Credit(ctx.KV, signer, r.Amount); err != nil {
		return err
	}
	ctx.Emit("stake_removed", module.Attr("coldkey", signer.String()), module.Attr("hotkey", hot.String()), module.Attr("amount", strconv.FormatUint(r.Amount, 10)))
	return nil
}

func (m *Module) setTake(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var s SetTake
	if err := msg.DecodeBody(&s); err != nil {
		return err
	}
	hot, err := hotkeyOf(s.Hotkey)
	if err != nil {
		return err
	}
	owner, ok, err := Owner(ctx.KV, hot)
	if err != nil {
		return err
	}
	if !ok || owner != signer {
		return tx.Errorf(tx.CodeUnauthorized, "only the owner of hotkey %s may set its take", hot)
	}
	if s.Take > MaxTake {
		return tx.Errorf(tx.CodeInvalidMessage, "take %d is above the maximum %d (18%%)", s.Take, MaxTake)
	}
	b, _ := tx.Marshal(s.Take)
	return ctx.KV.Set(key(prefixTake, hot), b)
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

// Query implements module.Module: "coldkey/<address>" (a coldkey's positions),
// "hotkey/<address>" (a hotkey's owner, take and nominators), "total".
func (m *Module) Query(r store.Reader, path string, _ []byte) (any, error) {
	kind, arg, _ := cut(path)
	switch kind {
	case "total":
		t, err := TotalStaked(r)
		return map[string]string{"total_staked": strconv.FormatUint(t, 10)}, err
	case "coldkey":
		cold, err := keys.ParsePublicKey(arg)
		if err != nil {
			return nil, tx.Errorf(tx.CodeInvalidMessage, "%v", err)
		}
		out := []Position{}
		prefix := key(prefixCold, cold)
		err = r.Iterate(prefix, func(k, _ []byte) (bool, error) {
			hot := keys.PublicKey(k[len(prefix):])
			s, err := StakeOf(r, hot, cold)
			out = append(out, Position{Hotkey: hot.String(), Coldkey: cold.String(), Stake: s})
			return true, err
		})
		return out, err
	case "hotkey":
		hot, err := keys.ParsePublicKey(arg)
		if err != nil {
			return nil, tx.Errorf(tx.CodeInvalidMessage, "%v", err)
		}
		v := HotkeyView{Hotkey: hot.String(), Nominators: []Position{}}
		owner, ok, err := Owner(r, hot)
		if err != nil {
			return nil, err
		}
		if ok {
			v.Owner = owner.String()
		}
		if v.Take, err = Take(r, hot); err != nil {
			return nil, err
		}
		if v.TotalStake, err = TotalStake(r, hot); err != nil {
			return nil, err
		}
		noms, err := Nominators(r, hot)
		for _, n := range noms {
			v.Nominators = append(v.Nominators, Position{Hotkey: hot.String(), Coldkey: n.Coldkey.String(), Stake: n.Stake})
		}
		return v, err
	}
	return nil, tx.Errorf(tx.CodeNotFound, "unknown stake query %q", path)
}

func cut(path string) (string, string, bool) {
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			return path[:i], path[i+1:], true
		}
	}
	return path, "", false
}

// NewAdd builds a stake/add message.
func NewAdd(hotkey keys.PublicKey, amount uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgAdd, Add{Hotkey: hotkey[:], Amount: amount})
}

// NewRemove builds a stake/remove message.
func NewRemove(hotkey keys.PublicKey, amount uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgRemove, Remove{Hotkey: hotkey[:], Amount: amount})
}

// NewSetTake builds a stake/set_take message.
func NewSetTake(hotkey keys.PublicKey, take uint16) (tx.Msg, error) {
	return tx.NewMsg(MsgSetTake, SetTake{Hotkey: hotkey[:], Take: take})
}
