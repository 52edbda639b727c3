package stake

import (
	"strconv"

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
		return map[string]any{"coldkey": signer.String(), "hotkey": keys.AddressOf(a.Hotkey), "amount": amount(a.Amount)}, true, nil
	case MsgRemove:
		var r Remove
		if err := m.DecodeBody(&r); err != nil {
			return nil, true, err
		}
		return map[string]any{"coldkey": signer.String(), "hotkey": keys.AddressOf(r.Hotkey), "amount": amount(r.Amount)}, true, nil
	case MsgMove:
		var mv Move
		if err := m.DecodeBody(&mv); err != nil {
			return nil, true, err
		}
		return map[string]any{"coldkey": signer.String(), "from": keys.AddressOf(mv.From), "to": keys.AddressOf(mv.To), "amount": amount(mv.Amount)}, true, nil
	case MsgSetTake:
		var s SetTake
		if err := m.DecodeBody(&s); err != nil {
			return nil, true, err
		}
		return map[string]any{"hotkey": keys.AddressOf(s.Hotkey), "take": s.Take}, true, nil
	}
	return nil, false, nil
}
