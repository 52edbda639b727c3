package keeper

import (
	"encoding/binary"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// peekNetuid reads the netuid of a neuron call's body without decoding the rest: field 1
// of each of the four messages, which canonical CBOR (the only encoding the handler
// accepts) puts first — a map header, key 1, then the value as an unsigned integer of at
// most 16 bits. A body of any other shape is simply not free; its handler then refuses it
// with its own error. (A full decode of a 256-entry set_weights costs ~8 µs, twice per
// transaction; this costs nothing.)
func peekNetuid(body []byte) (uint16, bool) {
	if len(body) < 3 || body[0]>>5 != 5 || body[0]&0x1f > 23 || body[1] != 0x01 {
		return 0, false
	}
	switch v := body[2]; {
	case v < 24:
		return uint16(v), true
	case v == 0x18 && len(body) >= 4:
		return uint16(body[3]), true
	case v == 0x19 && len(body) >= 5:
		return binary.BigEndian.Uint16(body[3:5]), true
	}
	return 0, false
}

// WaivesFee implements module.FeeWaiver: as in subtensor, a neuron's own calls on its
// subnet — serve_axon, set_weights, commit_weights, reveal_weights — are free for a
// hotkey registered there, so a btcli-style wallet (a funded coldkey, an empty hotkey)
// can run a miner or a validator. Each is bounded instead by a rule its handler checks
// in CheckTx: serving_rate_limit, weights_rate_limit, and a reveal needs a live commit.
// Anything else, or a hotkey not registered on the netuid it names, pays the fee.
func (k *Keeper) WaivesFee(r store.Reader, signer keys.PublicKey, msg tx.Msg) (bool, error) {
	switch msg.Type {
	case subnets.MsgServeAxon, subnets.MsgSetWeights, subnets.MsgCommitWeights, subnets.MsgRevealWeights:
	default:
		return false, nil
	}
	netuid, ok := peekNetuid(msg.Body)
	if !ok {
		return false, nil
	}
	_, ok, err := UIDOf(r, netuid, signer)
	return ok, err
}
