package keeper

import (
	"github.com/fxamacker/cbor/v2"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// netuidPeek reads a message body's netuid and skips the rest (the handler decodes the
// body strictly afterwards): decoding is deterministic, and a body it cannot read is
// simply not free.
var netuidPeek = func() cbor.DecMode {
	m, err := cbor.DecOptions{MaxNestedLevels: 16, MaxArrayElements: 65536, MaxMapPairs: 4096}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// WaivesFee implements module.FeeWaiver: as in subtensor, a neuron's own calls on its
// subnet — serve_axon, set_weights, commit_weights, reveal_weights — are free for a
// hotkey registered there, so a btcli-style wallet (a funded coldkey, an empty hotkey)
// can run a miner or a validator. Each is bounded instead by a rule its handler checks
// in CheckTx: serving_rate_limit, weights_rate_limit, and a reveal needs a live commit.
// Anything else, or a hotkey not registered on the netuid it names, pays the fee.
func (k *Keeper) WaivesFee(r store.Reader, signer keys.PublicKey, msg tx.Msg) (bool, error) {
	var netuid struct {
		Netuid uint16 `cbor:"1,keyasint"` // field 1 of each of the four messages
	}
	switch msg.Type {
	case subnets.MsgServeAxon, subnets.MsgSetWeights, subnets.MsgCommitWeights, subnets.MsgRevealWeights:
	default:
		return false, nil
	}
	if err := netuidPeek.Unmarshal(msg.Body, &netuid); err != nil {
		return false, nil // not free; the handler refuses the body with its own error
	}
	_, ok, err := UIDOf(r, netuid.Netuid, signer)
	return ok, err
}
