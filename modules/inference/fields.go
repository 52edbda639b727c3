package inference

import (
	"encoding/hex"
	"strconv"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/tx"
)

// MsgFields decodes a message of this module, signed by signer, into the fields a person
// reads (the node's API shows them for every transaction). ok is false for a message of
// another module; err is a body that does not decode.
func MsgFields(signer keys.PublicKey, m tx.Msg) (fields map[string]any, ok bool, err error) {
	switch m.Type {
	case MsgMLNodes:
		var d HardwareDiff
		if err := m.DecodeBody(&d); err != nil {
			return nil, true, err
		}
		added := make([]string, len(d.Add))
		for i, n := range d.Add {
			added[i] = n.ID
		}
		return map[string]any{"hotkey": signer.String(), "netuid": int(d.Netuid), "added": added, "removed": append([]string{}, d.Remove...)}, true, nil
	case MsgCommit:
		var c Commit
		if err := m.DecodeBody(&c); err != nil {
			return nil, true, err
		}
		return map[string]any{"hotkey": signer.String(), "netuid": int(c.Netuid), "epoch": strconv.FormatUint(c.Epoch, 10),
			"mlnode": c.MLNode, "count": strconv.FormatUint(c.Count, 10), "root": hex.EncodeToString(c.Root[:])}, true, nil
	case MsgVerdict:
		var v Verdict
		if err := m.DecodeBody(&v); err != nil {
			return nil, true, err
		}
		return map[string]any{"validator": signer.String(), "netuid": int(v.Netuid), "epoch": strconv.FormatUint(v.Epoch, 10),
			"judgements": len(v.Judgements)}, true, nil
	case MsgStart:
		var s Start
		if err := m.DecodeBody(&s); err != nil {
			return nil, true, err
		}
		return map[string]any{"ta": signer.String(), "netuid": int(s.Netuid), "entries": len(s.Entries)}, true, nil
	case MsgFinish:
		var f Finish
		if err := m.DecodeBody(&f); err != nil {
			return nil, true, err
		}
		return map[string]any{"executor": signer.String(), "netuid": int(f.Netuid), "entries": len(f.Entries)}, true, nil
	case MsgValidate, MsgVote:
		var v Vote // Validate has the same shape
		if err := m.DecodeBody(&v); err != nil {
			return nil, true, err
		}
		invalid := 0
		for _, e := range v.Entries {
			if !e.Valid {
				invalid++
			}
		}
		return map[string]any{"validator": signer.String(), "netuid": int(v.Netuid), "entries": len(v.Entries), "invalid": invalid}, true, nil
	}
	return nil, false, nil
}
