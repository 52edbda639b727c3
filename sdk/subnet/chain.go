package subnet

import (
	"context"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/sdk/metagraph"
	"github.com/tessera-net/tessera/tx"
)

// Chain is what the miner and validator runtimes need of the chain: metagraph reads, and
// sending a transaction signed by the neuron's hotkey. ClientChain implements it.
type Chain interface {
	metagraph.Chain
	Send(ctx context.Context, msg tx.Msg) (*client.TxView, error)
}

// ClientChain is the chain as the runtimes use it: a node client for reads and a signer
// for the neuron's hotkey (serve_axon, set_weights). It implements Chain. The signer tracks the hotkey's nonce, so one ClientChain serves one
// runtime.
type ClientChain struct {
	*client.Client
	Signer *client.Signer // signs as the neuron's hotkey
}

// Send signs msg with the hotkey, broadcasts it and waits for its block. A refusal is a
// *client.TxError with the chain's code and reason.
func (c ClientChain) Send(ctx context.Context, msg tx.Msg) (*client.TxView, error) {
	return c.Signer.Send(ctx, msg)
}
