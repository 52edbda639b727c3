package modules

import (
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/subnets"
	subnetskeeper "github.com/tessera-net/tessera/modules/subnets/keeper"
	"github.com/tessera-net/tessera/store"
)

// subnetsView is the subnets module's stored state (its keeper's package-level readers)
// as the methods other modules declare in their expected keepers: the inference
// module's SubnetKeeper and the league's SubnetsKeeper.
type subnetsView struct{}

func (subnetsView) Netuids(r store.Reader) ([]uint16, error) { return subnetskeeper.Netuids(r) }

func (subnetsView) Subnet(r store.Reader, netuid uint16) (*subnets.Subnet, error) {
	return subnetskeeper.GetSubnet(r, netuid)
}

func (subnetsView) SubnetOwner(r store.Reader, netuid uint16) (keys.PublicKey, error) {
	s, err := subnetskeeper.GetSubnet(r, netuid)
	if err != nil {
		return keys.PublicKey{}, err
	}
	return module.PublicKey("owner", s.Owner)
}

func (subnetsView) UIDOf(r store.Reader, netuid uint16, hotkey keys.PublicKey) (uint16, bool, error) {
	return subnetskeeper.UIDOf(r, netuid, hotkey)
}

func (subnetsView) Neurons(r store.Reader, s *subnets.Subnet) ([]*subnets.Neuron, error) {
	return subnetskeeper.Neurons(r, s)
}

func (subnetsView) Params(r store.Reader) (subnets.Params, error) { return subnetskeeper.GetParams(r) }
