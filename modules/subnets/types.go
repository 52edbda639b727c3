// Package subnets holds the types of the chain's subnets module: subnets and their
// hyperparameters, neurons (registration by burn, UIDs, replacement when full, axons,
// commitments), weights (set_weights and commit-reveal), the root subnet that splits the
// block emission across subnets, and the incentive Mechanism each subnet runs at every
// tempo — Yuma Consensus (package yuma) first. It imports no store: the state and the
// rules are in package keeper below it.
//
// This is the chain's side of subnets; a subnet's off-chain code is defined with the
// SDK's package sdk/subnet, the built-in subnets live under subnets/ (subnets/textgen),
// and devnet/subnet.go creates and populates a subnet on a local devnet.
package subnets

import (
	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/yuma"
)

// Name is the module name.
const Name = "subnets"

// Genesis is the module's genesis state.
type Genesis struct {
	Params *Params `json:"params,omitempty"`
	// RootHyperparams override the root subnet's parameters (tempo drives nothing there).
}

// RootNetuid is the root subnet: its validators weight the other subnets, and those
// weights split the block emission.
const RootNetuid uint16 = 0

// Message types.
const (
	MsgCreate        = "subnets/create"
	MsgSetHyperparam = "subnets/set_hyperparam"
	MsgRegister      = "subnets/register"
	MsgServeAxon     = "subnets/serve_axon"
	MsgCommit        = "subnets/commit"
	MsgSetWeights    = "subnets/set_weights"
	MsgCommitWeights = "subnets/commit_weights"
	MsgRevealWeights = "subnets/reveal_weights"
	MsgTriggerEpoch  = "subnets/trigger_epoch"
)

// Hyperparams are a subnet's parameters; the owner may change each within its bounds.
type Hyperparams struct {
	Tempo                     uint16 `cbor:"1,keyasint" json:"tempo"`
	Kappa                     uint16 `cbor:"2,keyasint" json:"kappa"`
	BondsMovingAverage        uint64 `cbor:"3,keyasint" json:"bonds_moving_average"`
	BondsPenalty              uint16 `cbor:"4,keyasint" json:"bonds_penalty"`
	LiquidAlpha               bool   `cbor:"5,keyasint" json:"liquid_alpha_enabled"`
	AlphaLow                  uint16 `cbor:"6,keyasint" json:"alpha_low"`
	AlphaHigh                 uint16 `cbor:"7,keyasint" json:"alpha_high"`
	AlphaSigmoidSteepness     int16  `cbor:"8,keyasint" json:"alpha_sigmoid_steepness"`
	Yuma3                     bool   `cbor:"9,keyasint" json:"yuma3_enabled"`
	MaxUIDs                   uint16 `cbor:"10,keyasint" json:"max_uids"`
	MaxValidators             uint16 `cbor:"11,keyasint" json:"max_validators"`
	ImmunityPeriod            uint64 `cbor:"12,keyasint" json:"immunity_period"`
	ActivityCutoffFactorMilli uint32 `cbor:"13,keyasint" json:"activity_cutoff_factor_milli"`
	WeightsRateLimit          uint64 `cbor:"14,keyasint" json:"weights_rate_limit"`
	MinAllowedWeights         uint16 `cbor:"15,keyasint" json:"min_allowed_weights"`
	MaxWeightLimit            uint16 `cbor:"16,keyasint" json:"max_weight_limit"`
	WeightsVersionKey         uint64 `cbor:"17,keyasint" json:"weights_version"`
	MinBurn                   uint64 `cbor:"18,keyasint" json:"min_burn"`
	MaxBurn                   uint64 `cbor:"19,keyasint" json:"max_burn"`
	TargetRegsPerInterval     uint16 `cbor:"20,keyasint" json:"target_regs_per_interval"`
	AdjustmentInterval        uint64 `cbor:"21,keyasint" json:"adjustment_interval"`
	CommitReveal              bool   `cbor:"22,keyasint" json:"commit_reveal_weights_enabled"`
	RevealPeriod              uint64 `cbor:"23,keyasint" json:"commit_reveal_period"`
	StakeThreshold            uint64 `cbor:"24,keyasint" json:"stake_threshold"`
	// ServingRateLimit is the blocks between two serve_axon of one hotkey (free calls are
	// bounded by rate limits, not fees).
	ServingRateLimit uint64 `cbor:"25,keyasint" json:"serving_rate_limit"`
}

// DefaultHyperparams are a new subnet's parameters: subtensor's defaults for a new network,
// with a shorter tempo (Tessera's blocks are 1 s, not 12 s) and commit-reveal off.
func DefaultHyperparams() Hyperparams {
	return Hyperparams{
		Tempo:                     360,
		Kappa:                     32_767,
		BondsMovingAverage:        900_000,
		BondsPenalty:              65_535,
		AlphaLow:                  45_875,
		AlphaHigh:                 58_982,
		AlphaSigmoidSteepness:     1000,
		Yuma3:                     true,
		MaxUIDs:                   256,
		MaxValidators:             64,
		ImmunityPeriod:            5000,
		ActivityCutoffFactorMilli: yuma.DefaultActivityCutoffFactorMilli,
		WeightsRateLimit:          100,
		MinAllowedWeights:         1,
		MaxWeightLimit:            65_535,
		MinBurn:                   500_000,         // 0.0005 token
		MaxBurn:                   100_000_000_000, // 100 tokens
		TargetRegsPerInterval:     2,
		AdjustmentInterval:        360,
		RevealPeriod:              1,
		ServingRateLimit:          10,
	}
}

// Subnet is a subnet's stored record.
type Subnet struct {
	Netuid         uint16      `cbor:"1,keyasint"`
	Owner          []byte      `cbor:"2,keyasint"` // owner coldkey
	OwnerHotkey    []byte      `cbor:"3,keyasint"`
	CreatedAt      int64       `cbor:"4,keyasint"`
	Hyper          Hyperparams `cbor:"5,keyasint"`
	N              uint16      `cbor:"6,keyasint"`
	Burn           uint64      `cbor:"7,keyasint"` // current registration cost
	RegsInInterval uint16      `cbor:"8,keyasint"`
	LastAdjustment uint64      `cbor:"9,keyasint"`
	Pending        uint64      `cbor:"10,keyasint"` // emission accumulated since the last epoch
	LastEpochBlock uint64      `cbor:"11,keyasint"` // LastMechanismStepBlock
	Locked         uint64      `cbor:"12,keyasint"` // tokens locked at creation
	Mechanism      string      `cbor:"13,keyasint"` // the incentive mechanism's name: "yuma", or "root" for root
	// PendingEpochAt is the block an owner-triggered epoch fires at (PendingEpochAt; 0: none),
	// LastTrigger the block of the owner's last trigger_epoch (its rate limit).
	PendingEpochAt uint64 `cbor:"14,keyasint,omitempty"`
	LastTrigger    uint64 `cbor:"15,keyasint,omitempty"`
}

// Axon is where a neuron serves.
type Axon struct {
	IP       string `cbor:"1,keyasint" json:"ip"`
	Port     uint16 `cbor:"2,keyasint" json:"port"`
	Protocol uint8  `cbor:"3,keyasint" json:"protocol"` // 4 = HTTP over IPv4, 6 = over IPv6
	Version  uint32 `cbor:"4,keyasint" json:"version"`
	Block    uint64 `cbor:"5,keyasint" json:"block"`
}

// Neuron is one uid of a subnet. Its stored record holds the identity (hotkey, coldkey,
// registration, last update, axon); the epoch's terms are stored for the whole subnet in
// one vector and the weights and bonds under keys of their own (package keeper, store.go),
// so an epoch writes one vector and the validators' bonds instead of every neuron.
type Neuron struct {
	Hotkey              []byte `cbor:"1,keyasint"`
	Coldkey             []byte `cbor:"2,keyasint"`
	BlockAtRegistration uint64 `cbor:"3,keyasint"`
	LastUpdate          uint64 `cbor:"4,keyasint"`
	Axon                *Axon  `cbor:"5,keyasint,omitempty"`
	ValidatorPermit     bool   `cbor:"-"`
	Active              bool   `cbor:"-"`
	StakeWeight         uint16 `cbor:"-"`
	Consensus           uint16 `cbor:"-"`
	Incentive           uint16 `cbor:"-"`
	Dividends           uint16 `cbor:"-"`
	ValidatorTrust      uint16 `cbor:"-"`
	Emission            uint64 `cbor:"-"` // paid at the last epoch
	Weights             Row    `cbor:"-"`
	Bonds               Row    `cbor:"-"`
}

// Commitment is data a hotkey published on a subnet.
type Commitment struct {
	Block uint64 `cbor:"1,keyasint" json:"block"`
	Data  []byte `cbor:"2,keyasint" json:"data"`
}

// WeightCommit is a pending commit of weights.
type WeightCommit struct {
	Hash  []byte `cbor:"1,keyasint"`
	Block uint64 `cbor:"2,keyasint"`
	Epoch uint64 `cbor:"3,keyasint"`
}

// Params are the module's chain-wide parameters.
type Params struct {
	// BlockEmission is minted every block and split across subnets (smallest units).
	BlockEmission uint64 `cbor:"1,keyasint" json:"block_emission,string"`
	// LockCost is what creating a subnet locks: without dTAO the fixed amount (burned);
	// under dTAO the minimum lock, the cost doubling at each registration and decaying
	// back to it over LockReductionInterval blocks (dtao.LockCost, Keeper.LockCost).
	LockCost uint64 `cbor:"2,keyasint" json:"lock_cost,string"`
	// OwnerCut is the owner's share of a subnet's emission, in 65535ths (18%).
	OwnerCut uint16 `cbor:"3,keyasint" json:"owner_cut"`
	// MaxSubnets bounds the number of subnets besides root.
	MaxSubnets uint16 `cbor:"4,keyasint" json:"max_subnets"`
	// RootValidators is how many of the root's top-staked uids may weight subnets.
	RootValidators uint16 `cbor:"5,keyasint" json:"root_validators"`
	// DTAO switches the chain to dynamic TAO (docs/dtao.md): a pool per subnet seeded by
	// its lock, stake on a subnet in its alpha, the block emission split by moving price
	// and paid in alpha. Off, the emission is split by the root subnet's weights and stake
	// is one TAO balance per hotkey (the chain before February 2025).
	DTAO bool `cbor:"6,keyasint" json:"dtao"`
	// TaoWeight is the weight of root (TAO) stake in every subnet's epoch, value/u64::MAX.
	TaoWeight uint64 `cbor:"7,keyasint" json:"tao_weight,string"`
	// NetworkImmunity is, under dTAO, how many blocks a new subnet cannot be pruned: at
	// max_subnets a new subnet replaces the non-immune one with the lowest moving price.
	NetworkImmunity uint64 `cbor:"8,keyasint" json:"network_immunity_period"`
	// LockReductionInterval is subtensor's NetworkLockReductionInterval: under dTAO the
	// blocks over which a doubled lock cost decays linearly back (scaled by the halved
	// block emission; 0: no decay).
	LockReductionInterval uint64 `cbor:"9,keyasint" json:"lock_reduction_interval"`
	// NetworkRateLimit is subtensor's NetworkRateLimit: at least this many blocks between
	// two subnet registrations, chain-wide (the first is always allowed; 0: no limit).
	NetworkRateLimit uint64 `cbor:"10,keyasint" json:"network_rate_limit"`
	// MovingAlpha is subtensor's SubnetMovingAlpha: under dTAO, how fast a subnet's moving
	// price follows its spot price (capped at 1), as I96F32 fraction bits, value/2^32; 0 is
	// subtensor's 12_885 ≈ 0.000003. EMAHalving is its EMAPriceHalvingBlocks: the moving
	// alpha ramps up as b/(b + EMAHalving) over a subnet's first blocks; 0 is 201_600. The
	// devnet sets both so that prices move within minutes (devnet/dtao.go).
	MovingAlpha uint64 `cbor:"20,keyasint,omitempty" json:"moving_alpha,omitempty"`
	EMAHalving  uint64 `cbor:"21,keyasint,omitempty" json:"ema_price_halving_blocks,omitempty"`
}

// CoinbaseMoving is the moving-price pair of the coinbase: MovingAlpha and EMAHalving
// with 0 read as subtensor's defaults.
func (p Params) CoinbaseMoving() (alpha dtao.U96F32, halving uint64) {
	alpha, halving = dtao.DefaultMovingAlpha, dtao.DefaultEMAHalvingBlocks
	if p.MovingAlpha != 0 {
		alpha = dtao.U96F32{Lo: p.MovingAlpha}
	}
	if p.EMAHalving != 0 {
		halving = p.EMAHalving
	}
	return alpha, halving
}

// DefaultNetworkRateLimit is subtensor's NetworkRateLimit, 7200 blocks (a day at 12 s).
const DefaultNetworkRateLimit uint64 = 7200

// DefaultNetworkImmunity is subtensor's NetworkImmunityPeriod, 1_296_000 blocks.
const DefaultNetworkImmunity uint64 = 1_296_000

// DefaultTaoWeight is subtensor's initial TaoWeight, 971_718_665_099_567_868/u64::MAX ≈ 0.0527.
const DefaultTaoWeight uint64 = 971_718_665_099_567_868

// DefaultParams: one token per block, 1,000 tokens to create a subnet, 18% owner cut.
func DefaultParams() Params {
	return Params{BlockEmission: 1_000_000_000, LockCost: 1_000_000_000_000, OwnerCut: 11_796, MaxSubnets: 1024, RootValidators: 64,
		TaoWeight: DefaultTaoWeight, DTAO: true, NetworkImmunity: DefaultNetworkImmunity, LockReductionInterval: dtao.DefaultLockReductionInterval,
		NetworkRateLimit: DefaultNetworkRateLimit}
}

// Create makes a new subnet owned by the signer with Hotkey as the owner's hotkey (uid 0),
// run by the named incentive mechanism ("" is "yuma").
type Create struct {
	Hotkey    []byte `cbor:"1,keyasint"`
	Mechanism string `cbor:"2,keyasint,omitempty"`
	// MaxLock refuses the creation if the lock cost is above it (0: any), so that a
	// registration landing first (which doubles the cost) cannot take more than was shown.
	MaxLock uint64 `cbor:"3,keyasint,omitempty"`
}

// LockView is the answer of the lock_cost query: what a subnets/create in the next block
// locks, and the state it comes from.
type LockView struct {
	// Block is the block the cost is for (the one after the queried height).
	Block    uint64 `json:"block"`
	LockCost uint64 `json:"lock_cost,string"`
	MinLock  uint64 `json:"min_lock,string"`
	// LastLock and LastLockBlock are the last registration's lock and its block (0, 0
	// before the first).
	LastLock      uint64 `json:"last_lock,string"`
	LastLockBlock uint64 `json:"last_lock_block"`
	// DecayPerBlock is how much the cost falls each block until it reaches MinLock.
	DecayPerBlock uint64 `json:"decay_per_block,string"`
	// Dynamic is false on a chain without dTAO, where the lock is the fixed lock_cost.
	Dynamic bool `json:"dynamic"`
	// LastRegistrationBlock is the block of the last subnet registration (0: none yet),
	// RateLimit the network_rate_limit, and NextRegistrationBlock the first block at which
	// a registration is allowed (LastRegistrationBlock + RateLimit; 0 before the first).
	LastRegistrationBlock uint64 `json:"last_registration_block"`
	RateLimit             uint64 `json:"network_rate_limit"`
	NextRegistrationBlock uint64 `json:"next_registration_block"`
}

// SetHyperparam sets one hyperparameter by its JSON name (as `subnet hyperparams` shows).
type SetHyperparam struct {
	Netuid uint16 `cbor:"1,keyasint"`
	Name   string `cbor:"2,keyasint"`
	Value  uint64 `cbor:"3,keyasint"` // booleans are 0/1, alpha_sigmoid_steepness is two's complement int16
}

// TriggerEpoch asks, as the subnet's owner, for its next epoch now: under dTAO it fires
// dtao.AdminFreezeWindow blocks later (subtensor's trigger_epoch).
type TriggerEpoch struct {
	Netuid uint16 `cbor:"1,keyasint"`
}

// Register registers Hotkey on a subnet, the signer (coldkey) paying the burn.
type Register struct {
	Netuid uint16 `cbor:"1,keyasint"`
	Hotkey []byte `cbor:"2,keyasint"`
	// MaxBurn refuses the registration if the burn is above it (0: any).
	MaxBurn uint64 `cbor:"3,keyasint"`
}

// ServeAxon announces where the signer's (hotkey's) axon serves on a subnet.
type ServeAxon struct {
	Netuid   uint16 `cbor:"1,keyasint"`
	IP       string `cbor:"2,keyasint"`
	Port     uint16 `cbor:"3,keyasint"`
	Protocol uint8  `cbor:"4,keyasint"`
	Version  uint32 `cbor:"5,keyasint"`
}

// Commit publishes data for the signer's hotkey on a subnet (competitions use it).
type Commit struct {
	Netuid uint16 `cbor:"1,keyasint"`
	Data   []byte `cbor:"2,keyasint"`
}

// SetWeights sets the signer's (hotkey's) weights on a subnet.
type SetWeights struct {
	Netuid     uint16 `cbor:"1,keyasint"`
	UIDs       U16s   `cbor:"2,keyasint"`
	Values     U16s   `cbor:"3,keyasint"`
	VersionKey uint64 `cbor:"4,keyasint"`
}

// CommitWeights commits to weights by their hash (see CommitHash).
type CommitWeights struct {
	Netuid uint16 `cbor:"1,keyasint"`
	Hash   []byte `cbor:"2,keyasint"`
}

// RevealWeights reveals committed weights.
type RevealWeights struct {
	Netuid     uint16 `cbor:"1,keyasint"`
	UIDs       U16s   `cbor:"2,keyasint"`
	Values     U16s   `cbor:"3,keyasint"`
	Salt       U16s   `cbor:"4,keyasint"`
	VersionKey uint64 `cbor:"5,keyasint"`
}

// MaxCommitmentBytes bounds a commitment.
const MaxCommitmentBytes = 1024
