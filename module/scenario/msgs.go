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
//	add hotkey=ACCOUNT amount=TOKENS
//	remove hotkey=ACCOUNT amount=TOKENS
//	set_take hotkey=ACCOUNT take=N      (N in 65535ths: 11796 is 18%)
//	move from=ACCOUNT to=ACCOUNT amount=TOKENS
func StakeMsgs() MsgBuilders {
	return MsgBuilders{
		"add":      hotkeyAmount(stake.NewAdd),
		"remove":   hotkeyAmount(stake.NewRemove),
		"set_take": buildSetTake,
		"move":     buildMove,
	}
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
	return stake.NewMove(from, to, amount)
}

// hotkeyAmount builds messages of the shape "hotkey=ACCOUNT amount=TOKENS".
func hotkeyAmount(build func(hotkey keys.PublicKey, amount uint64) (tx.Msg, error)) MsgBuilder {
	return func(a *Args) (tx.Msg, error) {
		hot, err := a.Account("hotkey")
		if err != nil {
			return tx.Msg{}, err
		}
		amount, err := a.Amount("amount")
		if err != nil {
			return tx.Msg{}, err
		}
		return build(hot, amount)
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
//	serve_axon netuid=N ip=IP port=P
//	set_weights netuid=N uids=U,U,… weights=W,W,… [version=V]
func SubnetsMsgs() MsgBuilders {
	return MsgBuilders{"create": buildCreate, "register": buildRegister, "set_hyperparam": buildSetHyperparam,
		"serve_axon": buildServeAxon, "set_weights": buildSetWeights}
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
