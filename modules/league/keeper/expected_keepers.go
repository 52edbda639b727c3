package keeper

import (
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/store"
)

// SubnetsKeeper is what the league needs of the subnets module: who owns a subnet (the
// owner's coldkey; a coded not_found error when the subnet does not exist) and whether
// a hotkey is registered on it.
type SubnetsKeeper interface {
	SubnetOwner(r store.Reader, netuid uint16) (keys.PublicKey, error)
	UIDOf(r store.Reader, netuid uint16, hotkey keys.PublicKey) (uid uint16, ok bool, err error)
}
