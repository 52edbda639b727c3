package keeper

import (
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/store"
)

// SubnetKeeper is what the inference module needs of the subnets module: which subnets
// exist and their mechanism (a participant is a hotkey registered on a poc subnet), and
// each subnet's registrations.
type SubnetKeeper interface {
	Netuids(r store.Reader) ([]uint16, error)
	Subnet(r store.Reader, netuid uint16) (*subnets.Subnet, error)
	UIDOf(r store.Reader, netuid uint16, hotkey keys.PublicKey) (uint16, bool, error)
	Neurons(r store.Reader, s *subnets.Subnet) ([]*subnets.Neuron, error)
	// Params are the subnets module's parameters: whether dTAO is on and tao_weight.
	Params(r store.Reader) (subnets.Params, error)
}

// StakeKeeper is what it needs of the staking module: the stakes a subnet's epoch weighs
// (each hotkey's alpha on the subnet and its root stake), the weight of its verdicts.
type StakeKeeper interface {
	EpochStakes(r store.Reader, netuid uint16, hotkeys []keys.PublicKey) (alpha, root []uint64, err error)
}

// ModelKeeper is what it needs of the model registry: the models an MLNode may declare,
// the ones an epoch group freezes, and the network's parameters.
type ModelKeeper interface {
	Model(r store.Reader, id string) (models.ModelView, bool, error)
	Models(r store.Reader) ([]models.ModelView, error)
	Params(r store.Reader) (models.Params, error)
}

// AccountKeeper is what it needs of the accounts module: moving funds between a user's
// account, the escrow account (inference.EscrowAccount) and an executor's. Move fails
// with tx.CodeInsufficientFunds, writing nothing, when from cannot pay.
type AccountKeeper interface {
	Move(kv store.KV, from, to keys.PublicKey, amount uint64) error
}
