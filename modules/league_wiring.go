package modules

import (
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	subnetskeeper "github.com/tessera-net/tessera/modules/subnets/keeper"
	"github.com/tessera-net/tessera/store"
)

// subnetsView is the league keeper's view of the subnets module (its SubnetsKeeper): the
// subnets keeper's exported readers, as methods.
type subnetsView struct{}

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
