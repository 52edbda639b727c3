// Package keeper is the staking ledger of the chain (its types are in package stake
// above): stake positions (hotkey ‖ coldkey), each hotkey's owner and take, and the
// payment of emissions as stake.
package keeper

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"strconv"

	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/internal/safemath"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

var (
	prefixStake = []byte("stk/s/") // hotkey ‖ coldkey → uint64
	prefixTotal = []byte("stk/t/") // hotkey → uint64
	prefixOwner = []byte("stk/o/") // hotkey → coldkey
	prefixTake  = []byte("stk/k/") // hotkey → uint16
	prefixCold  = []byte("stk/c/") // coldkey ‖ hotkey → empty (index of a coldkey's positions)
	keyStaked   = []byte("stk/total")
	// keyRootHotkeys counts the hotkeys with stake (the entries under prefixTotal): an
	// epoch reads the root stakes of its uids by a scan of prefixTotal when there are fewer
	// of those than uids. The count chooses the way only; either gives the same stakes.
	keyRootHotkeys = []byte("stk/tn")
)

// Owner returns the coldkey that owns a hotkey.
func (sk *Keeper) Owner(r store.Reader, hotkey keys.PublicKey) (keys.PublicKey, bool, error) {
	b, err := r.Get(module.Key(prefixOwner, hotkey[:]))
	if err != nil || b == nil {
		return keys.PublicKey{}, false, err
	}
	return keys.PublicKey(b), true, nil
}

// ClaimHotkey makes coldkey the owner of hotkey if it has none; if another coldkey owns
// it the claim is refused.
func (sk *Keeper) ClaimHotkey(kv store.KV, hotkey, coldkey keys.PublicKey) error {
	owner, ok, err := sk.Owner(kv, hotkey)
	if err != nil {
		return err
	}
	if ok {
		if owner != coldkey {
			return tx.Errorf(tx.CodeUnauthorized, "hotkey %s belongs to coldkey %s", hotkey, owner)
		}
		return nil
	}
	return kv.Set(module.Key(prefixOwner, hotkey[:]), coldkey[:])
}

// Take returns a hotkey's take in 65535ths.
func (sk *Keeper) Take(r store.Reader, hotkey keys.PublicKey) (uint16, error) {
	take := stake.DefaultTake
	_, err := module.Get(r, module.Key(prefixTake, hotkey[:]), &take)
	return take, err
}

// TotalStake is the stake on a hotkey from every coldkey.
func (sk *Keeper) TotalStake(r store.Reader, hotkey keys.PublicKey) (uint64, error) {
	return module.GetUint64(r, module.Key(prefixTotal, hotkey[:]))
}

// StakeOf is one coldkey's stake on one hotkey.
func (sk *Keeper) StakeOf(r store.Reader, hotkey, coldkey keys.PublicKey) (uint64, error) {
	return module.GetUint64(r, module.Key(prefixStake, hotkey[:], coldkey[:]))
}

// ColdkeyStake is the stake a coldkey holds, on every hotkey together (its governance
// voting weight).
func (sk *Keeper) ColdkeyStake(r store.Reader, coldkey keys.PublicKey) (uint64, error) {
	var total uint64
	prefix := module.Key(prefixCold, coldkey[:])
	err := r.Iterate(prefix, func(k, _ []byte) (bool, error) {
		s, err := sk.StakeOf(r, keys.PublicKey(k[len(prefix):]), coldkey)
		if err != nil {
			return false, err
		}
		sum, carry := bits.Add64(total, s, 0)
		if carry != 0 {
			return false, fmt.Errorf("stake of %s overflows", coldkey)
		}
		total = sum
		return true, nil
	})
	return total, err
}

// TotalStaked is the stake on every hotkey together.
func (sk *Keeper) TotalStaked(r store.Reader) (uint64, error) { return module.GetUint64(r, keyStaked) }

// AddStake adds amount to (hotkey, coldkey) without touching balances (emissions use it
// to mint stake; stake/add debits the balance first).
func (sk *Keeper) AddStake(kv store.KV, hotkey, coldkey keys.PublicKey, amount uint64) error {
	if amount == 0 {
		return nil
	}
	var had uint64 // the position's stake before
	for i, k := range [][]byte{module.Key(prefixStake, hotkey[:], coldkey[:]), module.Key(prefixTotal, hotkey[:]), keyStaked} {
		v, err := module.GetUint64(kv, k)
		if err != nil {
			return err
		}
		if i == 0 {
			had = v
		}
		if i == 1 && v == 0 {
			if err := countRootHotkeys(kv, 1); err != nil {
				return err
			}
		}
		sum, carry := bits.Add64(v, amount, 0)
		if carry != 0 {
			return tx.Errorf(tx.CodeInvalidAmount, "stake of %d overflows", amount)
		}
		if err := module.PutUint64OrDelete(kv, k, sum); err != nil {
			return err
		}
	}
	if err := sk.rootStakeChanged(kv, hotkey, coldkey, amount, false); err != nil {
		return err
	}
	if had == 0 {
		if err := sk.indexRootStaker(kv, coldkey); err != nil { // the auto-claim's index (root_claim_auto.go)
			return err
		}
	}
	if had > 0 {
		return nil // the coldkey's index lists the position already (it exists while the stake is positive)
	}
	return kv.Set(module.Key(prefixCold, coldkey[:], hotkey[:]), []byte{})
}

// countRootHotkeys moves the count of hotkeys with stake by d (never below 0).
func countRootHotkeys(kv store.KV, d int) error {
	n, err := module.GetUint64(kv, keyRootHotkeys)
	if err != nil {
		return err
	}
	if d < 0 {
		n -= min(n, 1)
	} else {
		n++
	}
	return module.PutUint64OrDelete(kv, keyRootHotkeys, n)
}

func (sk *Keeper) subStake(kv store.KV, hotkey, coldkey keys.PublicKey, amount uint64) error {
	have, err := sk.StakeOf(kv, hotkey, coldkey)
	if err != nil {
		return err
	}
	if have < amount {
		return tx.Errorf(tx.CodeInsufficientFunds, "%s has %s staked on %s, cannot remove %s", coldkey, accounts.FormatAmount(have), hotkey, accounts.FormatAmount(amount))
	}
	for i, k := range [][]byte{module.Key(prefixStake, hotkey[:], coldkey[:]), module.Key(prefixTotal, hotkey[:]), keyStaked} {
		v, err := module.GetUint64(kv, k)
		if err != nil {
			return err
		}
		if err := module.PutUint64OrDelete(kv, k, v-amount); err != nil {
			return err
		}
		if i == 1 && v == amount && amount > 0 {
			if err := countRootHotkeys(kv, -1); err != nil {
				return err
			}
		}
	}
	if err := sk.rootStakeChanged(kv, hotkey, coldkey, amount, true); err != nil {
		return err
	}
	if have == amount {
		if err := sk.rootPositionClosing(kv, hotkey, coldkey); err != nil { // the auto-claim's index (root_claim_auto.go)
			return err
		}
	}
	if have == amount {
		return kv.Delete(module.Key(prefixCold, coldkey[:], hotkey[:]))
	}
	return nil
}

// Nominator is one coldkey's stake on a hotkey.
type Nominator struct {
	Coldkey keys.PublicKey
	Stake   uint64
}

// Nominators lists the coldkeys staked on a hotkey, in ascending coldkey order.
func (sk *Keeper) Nominators(r store.Reader, hotkey keys.PublicKey) ([]Nominator, error) {
	var out []Nominator
	prefix := module.Key(prefixStake, hotkey[:])
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
func (sk *Keeper) PayMiner(kv store.KV, hotkey keys.PublicKey, amount uint64) error {
	owner, ok, err := sk.Owner(kv, hotkey)
	if err != nil || !ok {
		return fmt.Errorf("pay miner %s: hotkey has no owner (%v)", hotkey, err)
	}
	return sk.AddStake(kv, hotkey, owner, amount)
}

// PayValidator pays a validator's emission: the owner's take first, then the rest to every
// nominator (the owner included) in proportion to their stake, rounded down; what
// rounding leaves goes to the owner, so nothing is lost.
func (sk *Keeper) PayValidator(kv store.KV, hotkey keys.PublicKey, amount uint64) error {
	owner, ok, err := sk.Owner(kv, hotkey)
	if err != nil || !ok {
		return fmt.Errorf("pay validator %s: hotkey has no owner (%v)", hotkey, err)
	}
	take, err := sk.Take(kv, hotkey)
	if err != nil {
		return err
	}
	noms, err := sk.Nominators(kv, hotkey)
	if err != nil {
		return err
	}
	total, err := sk.TotalStake(kv, hotkey)
	if err != nil {
		return err
	}
	ownerCut := safemath.MulDiv(amount, uint64(take), 65535)
	rest := amount - ownerCut
	paid := uint64(0)
	if total > 0 {
		for _, n := range noms {
			share := safemath.MulDiv(rest, n.Stake, total)
			if share == 0 {
				continue
			}
			if err := sk.AddStake(kv, hotkey, n.Coldkey, share); err != nil {
				return err
			}
			paid += share
		}
	}
	return sk.AddStake(kv, hotkey, owner, amount-paid)
}

// Keeper is the staking module: the ledger of stake positions, hotkey ownership and
// takes. What it needs of the accounts module is the AccountKeeper it is given.
type Keeper struct {
	accounts AccountKeeper
}

// New returns the staking keeper over the given accounts.
func New(accounts AccountKeeper) *Keeper { return &Keeper{accounts: accounts} }

// Name implements module.Module.
func (*Keeper) Name() string { return stake.Name }

// InitGenesis implements module.Module; staking starts empty, with the parameters the
// genesis sets (stake.Genesis; child keys' cooldown) and the block authors' bindings
// ("authors": stake.GenesisAuthor).
func (sk *Keeper) InitGenesis(ctx *module.Context, raw json.RawMessage) error {
	return sk.initGenesis(ctx, raw)
}

// Handlers implements module.Module.
func (sk *Keeper) Handlers() map[string]module.Handler {
	return map[string]module.Handler{stake.MsgAdd: sk.add, stake.MsgRemove: sk.remove, stake.MsgSetTake: sk.setTake, stake.MsgMove: sk.move,
		stake.MsgTransfer: sk.transfer, stake.MsgSwap: sk.swap, stake.MsgClaimRoot: sk.claimRoot,
		stake.MsgSetChildren: sk.setChildren, stake.MsgSetChildkeyTake: sk.setChildkeyTake,
		stake.MsgSetRootClaimType: sk.setRootClaimType,
		stake.MsgSetAuthor:        sk.setAuthor,
		stake.MsgRemoveFull:       sk.removeFull,
		stake.MsgUnstakeAll: func(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
			return sk.unstakeAll(ctx, signer, msg, false)
		},
		stake.MsgUnstakeAllAlpha: func(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
			return sk.unstakeAll(ctx, signer, msg, true)
		},
	}
}

func (sk *Keeper) add(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var a stake.Add
	if err := msg.DecodeBody(&a); err != nil {
		return err
	}
	hot, err := module.PublicKey("hotkey", a.Hotkey)
	if err != nil {
		return err
	}
	if a.Amount == 0 {
		return tx.Errorf(tx.CodeInvalidAmount, "stake amount must be greater than zero")
	}
	if _, ok, err := sk.Owner(ctx.KV, hot); err != nil {
		return err
	} else if !ok {
		return tx.Errorf(tx.CodeNotFound, "hotkey %s is not registered on any subnet; register it first", hot)
	}
	if a.Netuid != 0 {
		return sk.addAlpha(ctx, signer, hot, a)
	}
	if err := sk.accounts.Debit(ctx.KV, signer, a.Amount); err != nil {
		return err
	}
	if err := sk.AddStake(ctx.KV, hot, signer, a.Amount); err != nil {
		return err
	}
	ctx.Emit("stake_added", module.Attr("coldkey", signer.String()), module.Attr("hotkey", hot.String()), module.Attr("amount", strconv.FormatUint(a.Amount, 10)))
	return nil
}

func (sk *Keeper) remove(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var r stake.Remove
	if err := msg.DecodeBody(&r); err != nil {
		return err
	}
	hot, err := module.PublicKey("hotkey", r.Hotkey)
	if err != nil {
		return err
	}
	if r.Amount == 0 {
		return tx.Errorf(tx.CodeInvalidAmount, "unstake amount must be greater than zero")
	}
	return sk.removeStake(ctx, signer, hot, r)
}

// removeStake is stake/remove of r on hot (decoded and checked).
func (sk *Keeper) removeStake(ctx *module.Context, signer, hot keys.PublicKey, r stake.Remove) error {
	if r.Netuid != 0 {
		return sk.removeAlpha(ctx, signer, hot, r)
	}
	if err := sk.subStake(ctx.KV, hot, signer, r.Amount); err != nil {
		return err
	}
	if err := sk.accounts.Credit(ctx.KV, signer, r.Amount); err != nil {
		return err
	}
	ctx.Emit("stake_removed", module.Attr("coldkey", signer.String()), module.Attr("hotkey", hot.String()), module.Attr("amount", strconv.FormatUint(r.Amount, 10)))
	return nil
}

// removeFull is stake/remove_full: stake/remove of the whole position as it is now.
func (sk *Keeper) removeFull(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var f stake.RemoveFull
	if err := msg.DecodeBody(&f); err != nil {
		return err
	}
	hot, err := module.PublicKey("hotkey", f.Hotkey)
	if err != nil {
		return err
	}
	if f.Netuid == 0 && f.LimitPrice != 0 {
		return tx.Errorf(tx.CodeInvalidMessage, "root stake is TAO one for one: it has no price to limit")
	}
	have, err := sk.positionOf(ctx.KV, f.Netuid, hot, signer)
	if err != nil {
		return err
	}
	if have == 0 {
		return tx.Errorf(tx.CodeNotFound, "%s has no stake on %s on subnet %d", signer, hot, f.Netuid)
	}
	return sk.removeStake(ctx, signer, hot, stake.Remove{Hotkey: f.Hotkey, Amount: have, Netuid: f.Netuid, LimitPrice: f.LimitPrice})
}

func (sk *Keeper) move(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var m stake.Move
	if err := msg.DecodeBody(&m); err != nil {
		return err
	}
	from, err := module.PublicKey("from hotkey", m.From)
	if err != nil {
		return err
	}
	to, err := module.PublicKey("to hotkey", m.To)
	if err != nil {
		return err
	}
	if m.FromNetuid != 0 || m.ToNetuid != 0 {
		if from == to && m.FromNetuid == m.ToNetuid {
			return tx.Errorf(tx.CodeInvalidMessage, "the stake is already on hotkey %s on subnet %d", to, m.ToNetuid)
		}
		return sk.moveStake(ctx, "stake_moved", signer, from, m.FromNetuid, signer, to, m.ToNetuid, m.Amount, dtao.Limit{})
	}
	switch {
	case m.Amount == 0:
		return tx.Errorf(tx.CodeInvalidAmount, "move amount must be greater than zero")
	case from == to:
		return tx.Errorf(tx.CodeInvalidMessage, "the stake is already on hotkey %s", to)
	}
	if _, ok, err := sk.Owner(ctx.KV, to); err != nil {
		return err
	} else if !ok {
		return tx.Errorf(tx.CodeNotFound, "hotkey %s is not registered on any subnet; register it first", to)
	}
	if err := sk.subStake(ctx.KV, from, signer, m.Amount); err != nil {
		return err
	}
	if err := sk.AddStake(ctx.KV, to, signer, m.Amount); err != nil {
		return err
	}
	ctx.Emit("stake_moved", module.Attr("coldkey", signer.String()), module.Attr("from", from.String()), module.Attr("to", to.String()),
		module.Attr("amount", strconv.FormatUint(m.Amount, 10)))
	return nil
}

func (sk *Keeper) setTake(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var s stake.SetTake
	if err := msg.DecodeBody(&s); err != nil {
		return err
	}
	hot, err := module.PublicKey("hotkey", s.Hotkey)
	if err != nil {
		return err
	}
	owner, ok, err := sk.Owner(ctx.KV, hot)
	if err != nil {
		return err
	}
	if !ok || owner != signer {
		return tx.Errorf(tx.CodeUnauthorized, "only the owner of hotkey %s may set its take", hot)
	}
	if s.Take > stake.MaxTake {
		return tx.Errorf(tx.CodeInvalidMessage, "take %d is above the maximum %d (18%%)", s.Take, stake.MaxTake)
	}
	return module.Put(ctx.KV, module.Key(prefixTake, hot[:]), s.Take)
}

// Queries implements module.Module: "coldkey/<address>" (a coldkey's positions),
// "hotkey/<address>" (a hotkey's owner, take and nominators), "total".
func (sk *Keeper) Queries() map[string]module.Route {
	return map[string]module.Route{
		"total":   {Query: sk.queryTotal},
		"coldkey": {Args: []string{"address"}, Query: sk.queryColdkey},
		"hotkey":  {Args: []string{"address"}, Query: sk.queryHotkey},
		"pools":   {Query: sk.queryPools},
		"pool":    {Args: []string{"netuid"}, Query: sk.queryPool},
		"dtao":    {Query: sk.queryDTAO},
		// root_claimable/<coldkey>: the root dividends a coldkey may claim.
		"root_claimable": {Args: []string{"address"}, Query: sk.queryRootClaimable},
		// children/<hotkey>/<netuid>: a hotkey's children, parents, pending set and childkey take.
		"children": {Args: []string{"hotkey", "netuid"}, Query: sk.queryChildren},
		// root_claim_type/<coldkey>: its claim type and its place in the auto-claim's index.
		"root_claim_type": {Args: []string{"address"}, Query: sk.queryRootClaimType},
		// author/<consensus address>, authors: the accounts block fees go to.
		"author":  {Args: []string{"consensus_address"}, Query: sk.queryAuthor},
		"authors": {Query: sk.queryAuthors},
	}
}

func (sk *Keeper) queryTotal(q module.QueryRequest) (any, error) {
	r := q.State
	t, err := sk.TotalStaked(r)
	return map[string]string{"total_staked": strconv.FormatUint(t, 10)}, err
}

func (sk *Keeper) queryColdkey(q module.QueryRequest) (any, error) {
	r, args := q.State, q.Args
	cold, err := module.AddressArg(args[0])
	if err != nil {
		return nil, err
	}
	out := []stake.Position{}
	prefix := module.Key(prefixCold, cold[:])
	err = r.Iterate(prefix, func(k, _ []byte) (bool, error) {
		hot := keys.PublicKey(k[len(prefix):])
		s, err := sk.StakeOf(r, hot, cold)
		out = append(out, stake.Position{Hotkey: hot.String(), Coldkey: cold.String(), Stake: s, TAOValue: s})
		return true, err
	})
	if err != nil {
		return nil, err
	}
	alpha, err := sk.AlphaPositions(r, cold)
	return append(out, alpha...), err
}

func (sk *Keeper) queryHotkey(q module.QueryRequest) (any, error) {
	r, args := q.State, q.Args
	hot, err := module.AddressArg(args[0])
	if err != nil {
		return nil, err
	}
	v := stake.HotkeyView{Hotkey: hot.String(), Nominators: []stake.Position{}}
	owner, ok, err := sk.Owner(r, hot)
	if err != nil {
		return nil, err
	}
	if ok {
		v.Owner = owner.String()
	}
	if v.Take, err = sk.Take(r, hot); err != nil {
		return nil, err
	}
	if v.TotalStake, err = sk.TotalStake(r, hot); err != nil {
		return nil, err
	}
	noms, err := sk.Nominators(r, hot)
	for _, n := range noms {
		v.Nominators = append(v.Nominators, stake.Position{Hotkey: hot.String(), Coldkey: n.Coldkey.String(), Stake: n.Stake, TAOValue: n.Stake})
	}
	return v, err
}
