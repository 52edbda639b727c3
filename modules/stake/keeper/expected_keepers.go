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
}
