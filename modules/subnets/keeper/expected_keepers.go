package keeper

import (
	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/stake"
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
	// Under dTAO (Params.DTAO): the pools, the coinbase and the alpha payouts.
	CreatePool(kv store.KV, netuid uint16, lock, block uint64) error
	Coinbase(kv store.KV, block uint64, cp stake.CoinbaseParams) (dtao.CoinbaseResult, error)
	EpochStakes(r store.Reader, netuid uint16, hotkeys []keys.PublicKey) (alpha, root []uint64, err error)
	Pending(r store.Reader, netuid uint16) (server, validator, root, ownerCut uint64, err error)
	PayEpoch(kv store.KV, pay stake.EpochPayout) (stake.EpochPaid, error)
	Recycle(kv store.KV, amount uint64) error
	Issuance(r store.Reader) (uint64, error)
	Owner(r store.Reader, hotkey keys.PublicKey) (keys.PublicKey, bool, error)
	Pool(r store.Reader, netuid uint16) (stake.Pool, bool, error)
	DissolvePool(kv store.KV, netuid uint16) (stake.Dissolved, error)
	// ApplyPendingChildren applies, after a subnet's epoch, the child keys whose cooldown ended.
	ApplyPendingChildren(ctx *module.Context, netuid uint16, block uint64) error
	// AutoClaimRoot claims the root dividends of the block's few coldkeys (after the coinbase).
	AutoClaimRoot(ctx *module.Context) error
}
