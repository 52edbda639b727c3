package keeper

import (
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/store"
)

// AccountKeeper is what governance needs of the accounts module: the deposit leaves the
// proposer's balance at submission (Debit) and comes back on a refund (Credit); a burned
// deposit is simply never credited again.
type AccountKeeper interface {
	Debit(kv store.KV, who keys.PublicKey, amount uint64) error
	Credit(kv store.KV, who keys.PublicKey, amount uint64) error
}

// StakeKeeper is what governance needs of the staking module: a coldkey's stake on every
// hotkey together (its voting weight) and all the stake on the chain (the quorum's base).
type StakeKeeper interface {
	ColdkeyStake(r store.Reader, coldkey keys.PublicKey) (uint64, error)
	TotalStaked(r store.Reader) (uint64, error)
}
