package keeper

import (
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/store"
)

// AccountKeeper is what staking needs of the accounts module: tokens leave a balance
// when staked and return to it when unstaked.
type AccountKeeper interface {
	Debit(kv store.KV, who keys.PublicKey, amount uint64) error
	Credit(kv store.KV, who keys.PublicKey, amount uint64) error
	// Supply is the total of balances (and uncollected fees): with the root stake and
	// the pools' reserves, where the TAO issuance is.
	Supply(r store.Reader) (uint64, error)
}
