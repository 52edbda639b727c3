package subnets

import (
	"encoding/hex"
	"strconv"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/tx"
)

// MsgFields decodes a message of this module, signed by signer, into the fields a person
// reads: addresses as SS58, amounts as decimal strings of the smallest unit, bytes as
// "0x" hex. ok is false for a message of another module; err is a body that does not
// decode.
func MsgFields(signer keys.PublicKey, m tx.Msg) (fields map[string]any, ok bool, err error) {
	var f map[string]any
	switch m.Type {
	case MsgCreate:
		var c Create
		if err = m.DecodeBody(&c); err == nil {
			mech := c.Mechanism
			if mech == "" {
				mech = MechanismYuma
			}
			f = map[string]any{"owner": signer.String(), "hotkey": keys.AddressOf(c.Hotkey), "mechanism": mech}
			if c.MaxLock > 0 {
				f["max_lock"] = strconv.FormatUint(c.MaxLock, 10)
			}
		}
	case MsgSetHyperparam:
		var h SetHyperparam
		if err = m.DecodeBody(&h); err == nil {
			f = map[string]any{"netuid": h.Netuid, "name": h.Name, "value": h.Value}
		}
	case MsgTriggerEpoch:
		var e TriggerEpoch
		if err = m.DecodeBody(&e); err == nil {
			f = map[string]any{"netuid": e.Netuid, "owner": signer.String()}
		}
	case MsgRegister:
		var r Register
		if err = m.DecodeBody(&r); err == nil {
			f = map[string]any{"netuid": r.Netuid, "coldkey": signer.String(), "hotkey": keys.AddressOf(r.Hotkey), "max_burn": strconv.FormatUint(r.MaxBurn, 10)}
		}
	case MsgServeAxon:
		var a ServeAxon
		if err = m.DecodeBody(&a); err == nil {
			f = map[string]any{"netuid": a.Netuid, "hotkey": signer.String(), "ip": a.IP, "port": a.Port, "protocol": a.Protocol, "version": a.Version}
		}
	case MsgCommit:
		var c Commit
		if err = m.DecodeBody(&c); err == nil {
			f = map[string]any{"netuid": c.Netuid, "hotkey": signer.String(), "data": "0x" + hex.EncodeToString(c.Data)}
		}
	case MsgSetWeights:
		var w SetWeights
		if err = m.DecodeBody(&w); err == nil {
			f = map[string]any{"netuid": w.Netuid, "hotkey": signer.String(), "uids": orEmpty(w.UIDs), "weights": orEmpty(w.Values), "version_key": w.VersionKey}
		}
	case MsgCommitWeights:
		var c CommitWeights
		if err = m.DecodeBody(&c); err == nil {
			f = map[string]any{"netuid": c.Netuid, "hotkey": signer.String(), "hash": "0x" + hex.EncodeToString(c.Hash)}
		}
	case MsgRevealWeights:
		var r RevealWeights
		if err = m.DecodeBody(&r); err == nil {
			f = map[string]any{"netuid": r.Netuid, "hotkey": signer.String(), "uids": orEmpty(r.UIDs), "weights": orEmpty(r.Values), "salt": orEmpty(r.Salt), "version_key": r.VersionKey}
		}
	default:
		return nil, false, nil
	}
	return f, true, err
}

// orEmpty keeps a missing list an empty JSON array rather than null.
func orEmpty(v []uint16) []uint16 {
	if v == nil {
		return []uint16{}
	}
	return v
}
