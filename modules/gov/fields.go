package gov

import (
	"strconv"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/tx"
)

// MsgFields decodes a message of this module, signed by signer, into the fields a person
// reads (the node's API shows them for every transaction): the proposer or voter as
// SS58, the deposit as a decimal string of the smallest unit, a proposal's action types
// in order. ok is false for a message of another module; err is a body that does not
// decode.
func MsgFields(signer keys.PublicKey, m tx.Msg) (fields map[string]any, ok bool, err error) {
	switch m.Type {
	case MsgSubmit:
		var s Submit
		if err := m.DecodeBody(&s); err != nil {
			return nil, true, err
		}
		types := make([]string, len(s.Actions))
		for i, a := range s.Actions {
			types[i] = a.Type
		}
		return map[string]any{"proposer": signer.String(), "title": s.Title,
			"deposit": strconv.FormatUint(s.Deposit, 10), "actions": types}, true, nil
	case MsgVote:
		var v Vote
		if err := m.DecodeBody(&v); err != nil {
			return nil, true, err
		}
		return map[string]any{"voter": signer.String(), "proposal": strconv.FormatUint(v.Proposal, 10),
			"option": v.Option.String()}, true, nil
	}
	return nil, false, nil
}
