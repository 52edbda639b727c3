package scenario

import (
	"fmt"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/tx"
)

// A MsgBuilder builds the message of a message line from its arguments. It reads them
// through the Args getters; the harness refuses the line if any argument is left unread.
type MsgBuilder func(a *Args) (tx.Msg, error)

// MsgBuilders maps message words (the first word of a message line) to their builders.
type MsgBuilders map[string]MsgBuilder

// Merge joins tables into one; a word defined in two tables is an ErrDuplicateMsg error.
func Merge(tables ...MsgBuilders) (MsgBuilders, error) {
	out := MsgBuilders{}
	for _, t := range tables {
		for word, b := range t {
			if _, dup := out[word]; dup {
				return nil, fmt.Errorf("%w: %q", ErrDuplicateMsg, word)
			}
			out[word] = b
		}
	}
	return out, nil
}

// AccountsMsgs are the accounts module's messages:
//
//	transfer to=ACCOUNT amount=TOKENS   (to may be 0x-hex of any length, to test a bad key)
func AccountsMsgs() MsgBuilders {
	return MsgBuilders{"transfer": buildTransfer}
}

func buildTransfer(a *Args) (tx.Msg, error) {
	to, err := a.Bytes("to")
	if err != nil {
		return tx.Msg{}, err
	}
	amount, err := a.Amount("amount")
	if err != nil {
		return tx.Msg{}, err
	}
	// The message is built from its fields (not accounts.NewTransfer, which takes a
	// well-formed key) so that a scenario can send a malformed recipient.
	return tx.NewMsg(accounts.MsgTransfer, accounts.Transfer{To: to, Amount: amount})
}

// StakeMsgs are the stake module's messages:
//
//	add hotkey=ACCOUNT amount=TOKENS [netuid=N limit=PRICE partial=true]
//	remove hotkey=ACCOUNT amount=TOKENS [netuid=N limit=PRICE partial=true]
//	set_take hotkey=ACCOUNT take=N      (N in 65535ths: 11796 is 18%)
//	move from=ACCOUNT to=ACCOUNT amount=TOKENS [from_netuid=N to_netuid=N]
//	transfer_stake dest=ACCOUNT hotkey=ACCOUNT amount=TOKENS [from_netuid=N to_netuid=N]
//	swap hotkey=ACCOUNT from_netuid=N to_netuid=N amount=TOKENS [limit=RATIO partial=true]
//	remove_full hotkey=ACCOUNT [netuid=N limit=PRICE]
//	unstake_all hotkey=ACCOUNT
//	unstake_all_alpha hotkey=ACCOUNT
//
// On a dTAO subnet (netuid > 0) amounts of stake are alpha; a limit price is in TAO per
// alpha, written like an amount (1.5 is 1_500_000_000 rao per alpha).
func StakeMsgs() MsgBuilders {
	return MsgBuilders{
		"add":               hotkeyAmount(stake.NewAddOn),
		"remove":            hotkeyAmount(stake.NewRemoveOn),
		"set_take":          buildSetTake,
		"move":              buildMove,
		"transfer_stake":    buildTransferStake,
		"swap":              buildSwapStake,
		"remove_full":       buildRemoveFull,
		"unstake_all":       func(a *Args) (tx.Msg, error) { return buildUnstakeAll(a, false) },
		"unstake_all_alpha": func(a *Args) (tx.Msg, error) { return buildUnstakeAll(a, true) },
	}
}

func buildRemoveFull(a *Args) (tx.Msg, error) {
	hot, err := a.Account("hotkey")
	if err != nil {
		return tx.Msg{}, err
	}
	netuid, err := optUint16(a, "netuid")
	if err != nil {
		return tx.Msg{}, err
	}
	limit, _, err := limitArgs(a)
	if err != nil {
		return tx.Msg{}, err
	}
	return stake.NewRemoveFull(netuid, hot, limit)
}

func buildUnstakeAll(a *Args, toRoot bool) (tx.Msg, error) {
	hot, err := a.Account("hotkey")
	if err != nil {
		return tx.Msg{}, err
	}
	return stake.NewUnstakeAll(hot, toRoot)
}

// optUint16 reads an optional u16 argument (0 when absent).
func optUint16(a *Args, key string) (uint16, error) {
	if !a.Has(key) {
		return 0, nil
	}
	v, err := a.Uint(key, 16)
	return uint16(v), err
}

// limitArgs reads the optional limit=PRICE and partial=true.
func limitArgs(a *Args) (limit uint64, partial bool, err error) {
	if a.Has("limit") {
		if limit, err = a.Amount("limit"); err != nil {
			return 0, false, err
		}
	}
	if a.Has("partial") {
		v, err := a.String("partial")
		if err != nil {
			return 0, false, err
		}
		partial = v == "true"
	}
	return limit, partial, nil
}

func buildMove(a *Args) (tx.Msg, error) {
	from, err := a.Account("from")
	if err != nil {
		return tx.Msg{}, err
	}
	to, err := a.Account("to")
	if err != nil {
		return tx.Msg{}, err
	}
	amount, err := a.Amount("amount")
	if err != nil {
		return tx.Msg{}, err
	}
	fn, err := optUint16(a, "from_netuid")
	if err != nil {
		return tx.Msg{}, err
	}
	tn, err := optUint16(a, "to_netuid")
	if err != nil {
		return tx.Msg{}, err
	}
	return stake.NewMoveOn(from, fn, to, tn, amount)
}

func buildTransferStake(a *Args) (tx.Msg, error) {
	dest, err := a.Account("dest")
	if err != nil {
		return tx.Msg{}, err
	}
	hot, err := a.Account("hotkey")
	if err != nil {
		return tx.Msg{}, err
	}
	amount, err := a.Amount("amount")
	if err != nil {
		return tx.Msg{}, err
	}
	fn, err := optUint16(a, "from_netuid")
	if err != nil {
		return tx.Msg{}, err
	}
	tn, err := optUint16(a, "to_netuid")
	if err != nil {
		return tx.Msg{}, err
	}
	return stake.NewTransfer(dest, hot, fn, tn, amount)
}

func buildSwapStake(a *Args) (tx.Msg, error) {
	hot, err := a.Account("hotkey")
	if err != nil {
		return tx.Msg{}, err
	}
	amount, err := a.Amount("amount")
	if err != nil {
		return tx.Msg{}, err
	}
	fn, err := optUint16(a, "from_netuid")
	if err != nil {
		return tx.Msg{}, err
	}
	tn, err := optUint16(a, "to_netuid")
	if err != nil {
		return tx.Msg{}, err
	}
	limit, partial, err := limitArgs(a)
	if err != nil {
		return tx.Msg{}, err
	}
	return stake.NewSwap(hot, fn, tn, amount, limit, partial)
}

// hotkeyAmount builds messages of the shape "hotkey=ACCOUNT amount=TOKENS [netuid=N
// limit=PRICE partial=true]".
func hotkeyAmount(build func(netuid uint16, hotkey keys.PublicKey, amount, limit uint64, partial bool) (tx.Msg, error)) MsgBuilder {
	return func(a *Args) (tx.Msg, error) {
		hot, err := a.Account("hotkey")
		if err != nil {
			return tx.Msg{}, err
		}
		amount, err := a.Amount("amount")
		if err != nil {
			return tx.Msg{}, err
		}
		netuid, err := optUint16(a, "netuid")
		if err != nil {
			return tx.Msg{}, err
		}
		limit, partial, err := limitArgs(a)
		if err != nil {
			return tx.Msg{}, err
		}
		return build(netuid, hot, amount, limit, partial)
	}
}

func buildSetTake(a *Args) (tx.Msg, error) {
	hot, err := a.Account("hotkey")
	if err != nil {
		return tx.Msg{}, err
	}
	take, err := a.Uint("take", 16)
	if err != nil {
		return tx.Msg{}, err
	}
	return stake.NewSetTake(hot, uint16(take))
}

// SubnetsMsgs are the subnets module's messages:
//
//	create hotkey=ACCOUNT [mechanism=NAME]       (locks the chain's lock cost)
//	register netuid=N hotkey=ACCOUNT [max_burn=TOKENS]
//	set_hyperparam netuid=N name=NAME value=V
//	trigger_epoch netuid=N
//	serve_axon netuid=N ip=IP port=P
//	set_weights netuid=N uids=U,U,… weights=W,W,… [version=V]
func SubnetsMsgs() MsgBuilders {
	return MsgBuilders{"create": buildCreate, "register": buildRegister, "set_hyperparam": buildSetHyperparam,
		"serve_axon": buildServeAxon, "set_weights": buildSetWeights, "trigger_epoch": buildTriggerEpoch}
}

func buildTriggerEpoch(a *Args) (tx.Msg, error) {
	netuid, err := a.Uint("netuid", 16)
	if err != nil {
		return tx.Msg{}, err
	}
	return subnets.NewTriggerEpoch(uint16(netuid))
}

func buildSetHyperparam(a *Args) (tx.Msg, error) {
	netuid, err := a.Uint("netuid", 16)
	if err != nil {
		return tx.Msg{}, err
	}
	name, err := a.String("name")
	if err != nil {
		return tx.Msg{}, err
	}
	v, err := a.Uint("value", 64)
	if err != nil {
		return tx.Msg{}, err
	}
	return subnets.NewSetHyperparam(uint16(netuid), name, v)
}

func buildServeAxon(a *Args) (tx.Msg, error) {
	netuid, err := a.Uint("netuid", 16)
	if err != nil {
		return tx.Msg{}, err
	}
	ip, err := a.String("ip")
	if err != nil {
		return tx.Msg{}, err
	}
	port, err := a.Uint("port", 16)
	if err != nil {
		return tx.Msg{}, err
	}
	return subnets.NewServeAxon(uint16(netuid), ip, uint16(port), 0)
}

func buildSetWeights(a *Args) (tx.Msg, error) {
	netuid, err := a.Uint("netuid", 16)
	if err != nil {
		return tx.Msg{}, err
	}
	uids, err := a.Uint16s("uids")
	if err != nil {
		return tx.Msg{}, err
	}
	ws, err := a.Uint16s("weights")
	if err != nil {
		return tx.Msg{}, err
	}
	var version uint64
	if a.Has("version") {
		if version, err = a.Uint("version", 64); err != nil {
			return tx.Msg{}, err
		}
	}
	return subnets.NewSetWeights(uint16(netuid), uids, ws, version)
}

func buildCreate(a *Args) (tx.Msg, error) {
	hot, err := a.Account("hotkey")
	if err != nil {
		return tx.Msg{}, err
	}
	mech := ""
	if a.Has("mechanism") {
		if mech, err = a.String("mechanism"); err != nil {
			return tx.Msg{}, err
		}
	}
	return subnets.NewCreate(hot, mech)
}

func buildRegister(a *Args) (tx.Msg, error) {
	netuid, err := a.Uint("netuid", 16)
	if err != nil {
		return tx.Msg{}, err
	}
	hot, err := a.Account("hotkey")
	if err != nil {
		return tx.Msg{}, err
	}
	var maxBurn uint64
	if a.Has("max_burn") {
		if maxBurn, err = a.Amount("max_burn"); err != nil {
			return tx.Msg{}, err
		}
	}
	return subnets.NewRegister(uint16(netuid), hot, maxBurn)
}
