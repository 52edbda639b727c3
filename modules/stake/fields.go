package stake

import (
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/tx"
)

// MsgFields decodes a message of this module, signed by signer (the coldkey), into the
// fields a person reads: addresses as SS58, amounts as decimal strings of the smallest
// unit. ok is false for a message of another module; err is a body that does not decode.
func MsgFields(signer keys.PublicKey, m tx.Msg) (fields map[string]any, ok bool, err error) {
	amount := func(a uint64) string { return strconv.FormatUint(a, 10) }
	switch m.Type {
	case MsgAdd:
		var a Add
		if err := m.DecodeBody(&a); err != nil {
			return nil, true, err
		}
		return withLimit(map[string]any{"coldkey": signer.String(), "hotkey": keys.AddressOf(a.Hotkey), "amount": amount(a.Amount)}, a.Netuid, a.LimitPrice, a.AllowPartial), true, nil
	case MsgRemove:
		var r Remove
		if err := m.DecodeBody(&r); err != nil {
			return nil, true, err
		}
		return withLimit(map[string]any{"coldkey": signer.String(), "hotkey": keys.AddressOf(r.Hotkey), "amount": amount(r.Amount)}, r.Netuid, r.LimitPrice, r.AllowPartial), true, nil
	case MsgRemoveFull:
		var f RemoveFull
		if err := m.DecodeBody(&f); err != nil {
			return nil, true, err
		}
		return withLimit(map[string]any{"coldkey": signer.String(), "hotkey": keys.AddressOf(f.Hotkey)}, f.Netuid, f.LimitPrice, false), true, nil
	case MsgUnstakeAll, MsgUnstakeAllAlpha:
		var u UnstakeAll
		if err := m.DecodeBody(&u); err != nil {
			return nil, true, err
		}
		return map[string]any{"coldkey": signer.String(), "hotkey": keys.AddressOf(u.Hotkey)}, true, nil
	case MsgMove:
		var mv Move
		if err := m.DecodeBody(&mv); err != nil {
			return nil, true, err
		}
		f := map[string]any{"coldkey": signer.String(), "from": keys.AddressOf(mv.From), "to": keys.AddressOf(mv.To), "amount": amount(mv.Amount)}
		if mv.FromNetuid != 0 || mv.ToNetuid != 0 {
			f["from_netuid"], f["to_netuid"] = mv.FromNetuid, mv.ToNetuid
		}
		return f, true, nil
	case MsgTransfer:
		var t Transfer
		if err := m.DecodeBody(&t); err != nil {
			return nil, true, err
		}
		return map[string]any{"coldkey": signer.String(), "dest": keys.AddressOf(t.Dest), "hotkey": keys.AddressOf(t.Hotkey), "amount": amount(t.Amount),
			"from_netuid": t.FromNetuid, "to_netuid": t.ToNetuid}, true, nil
	case MsgSwap:
		var sw Swap
		if err := m.DecodeBody(&sw); err != nil {
			return nil, true, err
		}
		f := withLimit(map[string]any{"coldkey": signer.String(), "hotkey": keys.AddressOf(sw.Hotkey), "amount": amount(sw.Amount)}, 0, sw.LimitPrice, sw.AllowPartial)
		f["from_netuid"], f["to_netuid"] = sw.FromNetuid, sw.ToNetuid
		return f, true, nil
	case MsgSetTake:
		var s SetTake
		if err := m.DecodeBody(&s); err != nil {
			return nil, true, err
		}
		return map[string]any{"hotkey": keys.AddressOf(s.Hotkey), "take": s.Take}, true, nil
	case MsgClaimRoot:
		var c ClaimRoot
		if err := m.DecodeBody(&c); err != nil {
			return nil, true, err
		}
		f := map[string]any{"coldkey": signer.String()}
		if len(c.Netuids) > 0 {
			f["netuids"] = c.Netuids
		}
		if len(c.Hotkey) > 0 {
			f["hotkey"] = keys.AddressOf(c.Hotkey)
		}
		if c.Keep {
			f["keep"] = true
		}
		return f, true, nil
	case MsgSetRootClaimType:
		var c SetRootClaimType
		if err := m.DecodeBody(&c); err != nil {
			return nil, true, err
		}
		return map[string]any{"coldkey": signer.String(), "type": ClaimTypeName(c.Type), "netuids": c.Netuids}, true, nil
	case MsgSetAuthor:
		var a SetAuthor
		if err := m.DecodeBody(&a); err != nil {
			return nil, true, err
		}
		return map[string]any{"account": signer.String(), "consensus_address": strings.ToUpper(hex.EncodeToString(ConsensusAddress(a.PubKey)))}, true, nil
	}
	return childMsgFields(signer, m)
}

// withLimit adds the dTAO fields of a stake message when they are set.
func withLimit(f map[string]any, netuid uint16, limit uint64, partial bool) map[string]any {
	if netuid != 0 {
		f["netuid"] = netuid
	}
	if limit != 0 {
		f["limit_price"] = strconv.FormatUint(limit, 10)
		f["allow_partial"] = partial
	}
	return f
}
