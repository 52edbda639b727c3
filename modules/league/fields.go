package league

import (
	"encoding/hex"
	"strconv"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/tx"
)

// MsgFields decodes a message of this module, signed by signer, into the fields a person
// reads (the node's API shows them for every transaction). ok is false for a message of
// another module; err is a body that does not decode. A commit shows only its hash: the
// submission stays secret until its reveal.
func MsgFields(signer keys.PublicKey, m tx.Msg) (fields map[string]any, ok bool, err error) {
	switch m.Type {
	case MsgDefine:
		var d Define
		if err := m.DecodeBody(&d); err != nil {
			return nil, true, err
		}
		return map[string]any{"owner": signer.String(), "netuid": strconv.Itoa(int(d.Netuid)), "definition_hash": hex.EncodeToString(d.DefinitionHash),
			"uri": d.URI, "reveal_delay": strconv.FormatUint(d.RevealDelay, 10)}, true, nil
	case MsgCommit:
		var c Commit
		if err := m.DecodeBody(&c); err != nil {
			return nil, true, err
		}
		return map[string]any{"hotkey": signer.String(), "netuid": strconv.Itoa(int(c.Netuid)), "hash": hex.EncodeToString(c.Hash)}, true, nil
	case MsgReveal:
		var r Reveal
		if err := m.DecodeBody(&r); err != nil {
			return nil, true, err
		}
		return map[string]any{"hotkey": signer.String(), "netuid": strconv.Itoa(int(r.Netuid)), "repo": r.Repo, "commit": r.Commit,
			"target_length": strconv.FormatUint(uint64(r.TargetLength), 10)}, true, nil
	}
	return nil, false, nil
}
