package keeper

import (
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/store"
)

// AccountKeeper is what the subnets module needs of the accounts module: the lock of a
// new subnet and registration burns leave balances; the owner's cut is credited.
type AccountKeeper interface {
	Debit(kv store.KV, who keys.PublicKey, amount uint64) error
	Credit(kv store.KV, who keys.PublicKey, amount uint64) error
}

// StakeKeeper is what the subnets module needs of the staking module: a registration
// claims its hotkey for the coldkey; epochs read stake and pay emissions as stake.
type StakeKeeper interface {
	ClaimHotkey(kv store.KV, hotkey, coldkey keys.PublicKey) error
	TotalStake(r store.Reader, hotkey keys.PublicKey) (uint64, error)
	PayMiner(kv store.KV, hotkey keys.PublicKey, amount uint64) error
	PayValidator(kv store.KV, hotkey keys.PublicKey, amount uint64) error
}
