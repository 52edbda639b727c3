package stake

import (
	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/keys"
)

// EpochPayout is what the subnets module hands the staking ledger at a dTAO epoch of
// one subnet: by uid, the hotkeys, the incentives and dividends its mechanism computed,
// which uids the subnet's owner holds (their incentive is withheld), and the stakes the
// epoch saw. The ledger drains the subnet's pending emission and pays it in alpha.
type EpochPayout struct {
	Netuid          uint16
	Hotkeys         []keys.PublicKey
	Incentive       []uint64 // the mechanism's server emission per uid (alpha)
	Dividends       []uint64 // its validator emission per uid: shares of the pots
	OwnerAssociated []bool
	AlphaStake      []uint64 // the stakes the epoch saw (EpochStakes)
	RootStake       []uint64
	TaoWeight       uint64
	Owner           keys.PublicKey // the subnet owner's coldkey and hotkey (the owner cut)
	OwnerHotkey     keys.PublicKey
}

// EpochPaid is what an epoch paid, by uid, and in total.
type EpochPaid struct {
	Miner     []uint64 // incentive paid, alpha
	Validator []uint64 // alpha dividends paid (take included)
	Root      []uint64 // root dividends, alpha: the take staked to the owner, the rest accrued for root claims
	// RootTAO is the TAO root dividends became at once: 0 since they accrue for claims
	// (stake/claim_root); RootAccrued is the alpha accrued (inside Root).
	RootTAO     uint64
	RootAccrued uint64
	OwnerCut    uint64 // alpha staked to the owner
	Withheld    uint64 // incentive of owner hotkeys, recycled
	Recycled    uint64 // the rest of the pending emission (floors, no receiver), recycled
	Drained     uint64 // the pending emission the epoch took, owner cut included
	// ServerPot, ValidatorPot and RootPot are the pending amounts drained (the owner cut is
	// OwnerCut): the pots the mechanism's shares divide.
	ServerPot, ValidatorPot, RootPot uint64
	// ToParents is the dividends (alpha and root) paid to parent hotkeys that are not uids
	// of the subnet: their share of their children's dividends (child keys).
	ToParents uint64
}

// CoinbaseParams are the chain parameters of one block's coinbase.
type CoinbaseParams struct {
	// BlockEmission is the emission per block before any halving (1e9: 1 TAO); the
	// halving schedule of dtao.BlockEmission scales it by the issuance.
	BlockEmission uint64
	TaoWeight     uint64 // value/u64::MAX
	OwnerCut      uint16 // /65535
	// MovingAlpha and EMAHalving drive the moving prices (subnets.Params.CoinbaseMoving);
	// the zero values are subtensor's defaults.
	MovingAlpha dtao.U96F32
	EMAHalving  uint64
	// Rule splits the emission across subnets; nil is dtao.EMAPriceShares (the rule of
	// subtensor's June-2026 snapshot).
	Rule dtao.ShareRule
}

// Dissolved is what dissolving a subnet's pool paid.
type Dissolved struct {
	Pot       uint64 // the pool's TAO
	Paid      uint64 // to the stakers' balances
	Recycled  uint64 // the protocol alpha's share and what no one held
	Positions int
}
