package accounts

import (
	"strconv"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/tx"
)

// MsgFields decodes a message of this module, signed by signer, into the fields a person
// reads (the node's API shows them for every transaction): addresses as SS58, amounts as
// decimal strings of the smallest unit. ok is false for a message of another module; err
// is a body that does not decode.
func MsgFields(signer keys.PublicKey, m tx.Msg) (fields map[string]any, ok bool, err error) {
	switch m.Type {
	case MsgTransfer:
		var t Transfer
		if err := m.DecodeBody(&t); err != nil {
			return nil, true, err
		}
		return map[string]any{"from": signer.String(), "to": keys.AddressOf(t.To), "amount": strconv.FormatUint(t.Amount, 10)}, true, nil
	}
	return nil, false, nil
}
