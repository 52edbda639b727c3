package subnets

import (
	"bytes"
	"sort"
	"sync"

	"github.com/tessera-net/tessera/internal/safemath"
	"github.com/tessera-net/tessera/yuma"
)

// Mechanism is a subnet's incentive mechanism: at the end of every tempo it turns the
// subnet's state into the terms the metagraph shows and what each uid is paid. A subnet
// chooses its mechanism at creation (`subnet create --mechanism`, stored in
// Subnet.Mechanism); the chain's registry (package modules) names the mechanisms it has.
//
// Contract: Epoch is a pure function of its input — no clock, no randomness, no map
// order, no floats — because every validator runs it and must reach the same bits. It
// may keep buffers between calls (Yuma does), so it must be safe for one call at a time;
// the keeper never calls it concurrently. Paying what it returns (as stake, with the
// validators' takes) stays with the keeper.
type Mechanism interface {
	Epoch(in *EpochInput) (*EpochResult, error)
}

// EpochInput is what a mechanism sees of a subnet at its epoch.
type EpochInput struct {
	Subnet  *Subnet
	Neurons []*Neuron // by uid, with weights and bonds
	Stake   []uint64  // the total stake on each uid's hotkey (under dTAO: its alpha on the subnet)
	// TaoStake is, under dTAO, each uid's root (TAO) stake, weighed by TaoWeight
	// (value/u64::MAX) beside the alpha; nil without dTAO.
	TaoStake  []uint64
	TaoWeight uint64
	// CommitBlocks is, with commit-reveal on, the block of each uid's commit that is
	// still to be revealed (yuma.NoCommit when none); nil otherwise.
	CommitBlocks []uint64
	Block        uint64 // the block the epoch runs at
	Emission     uint64 // what the epoch distributes: the pending emission less the owner's cut
	// State is the chain's state as the epoch sees it, read-only: a mechanism other than
	// Yuma reads its own module's state from it (the poc mechanism its epoch group).
	// Reading it keeps Epoch a pure function of its input; writing through it is not
	// allowed.
	State StateReader
}

// StateReader is store.Reader's method set, declared here so that the subnets types,
// which clients and the SDK link, do not link the store: the keeper passes its
// store.Reader.
type StateReader interface {
	Get(key []byte) ([]byte, error)
	Iterate(prefix []byte, fn func(key, value []byte) (bool, error)) error
}

// EpochResult is what a mechanism returns, by uid: the terms the metagraph shows
// (active, stake weight, consensus, incentive, dividends, validator trust, the next
// permits, the new bonds) and each uid's miner and validator emission. It has Yuma's
// shape, which any mechanism fills.
type EpochResult = yuma.EpochResult

// Mechanism names.
const (
	MechanismYuma = "yuma"
	MechanismRoot = "root" // the root subnet's: it runs no epoch
)

// Mechanisms are the incentive mechanisms a chain offers, by name.
type Mechanisms map[string]Mechanism

// Names lists the mechanisms in alphabetical order.
func (ms Mechanisms) Names() []string {
	out := make([]string, 0, len(ms))
	for n := range ms {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// OwnerCut is the subnet owner's share of an epoch's pending emission; the mechanism
// distributes the rest. The chain's epoch and the epoch-state query (what `yuma
// simulate` replays) both take it from here.
func OwnerCut(pending uint64, p Params) uint64 {
	return safemath.MulDiv(pending, uint64(p.OwnerCut), 65535)
}

// Yuma is Yuma Consensus as a Mechanism. It keeps the epoch's buffers (a 4096-uid
// subnet's epoch works through tens of megabytes) between epochs, so every epoch after
// the first reuses them.
type Yuma struct {
	mu sync.Mutex
	ws yuma.Workspace
}

// NewYuma returns the Yuma mechanism.
func NewYuma() *Yuma { return &Yuma{} }

// Epoch implements Mechanism.
func (y *Yuma) Epoch(in *EpochInput) (*EpochResult, error) {
	es := YumaState(in)
	y.mu.Lock()
	defer y.mu.Unlock()
	return y.ws.Epoch(es)
}

// YumaState is Yuma's epoch state for an input: the subnet's hyperparameters and every
// uid's registration, activity, stake, permit, weights and bonds.
func YumaState(in *EpochInput) *yuma.EpochState {
	s, n := in.Subnet, len(in.Neurons)
	h := s.Hyper
	es := &yuma.EpochState{
		N:                      n,
		CurrentBlock:           in.Block,
		Tempo:                  h.Tempo,
		ActivityCutoff:         yuma.ActivityCutoffBlocks(h.ActivityCutoffFactorMilli, h.Tempo),
		LastMechanismStepBlock: s.LastEpochBlock,
		LastUpdate:             make([]uint64, n),
		BlockAtRegistration:    make([]uint64, n),
		Stake:                  in.Stake,
		TaoStake:               in.TaoStake,
		TaoWeight:              in.TaoWeight,
		StakeThreshold:         h.StakeThreshold,
		ValidatorPermit:        make([]bool, n),
		MaxAllowedValidators:   h.MaxValidators,
		Weights:                make([][]yuma.Entry, n),
		Bonds:                  make([][]yuma.Entry, n),
		Kappa:                  h.Kappa,
		BondsPenalty:           h.BondsPenalty,
		BondsMovingAverage:     h.BondsMovingAverage,
		Yuma3:                  h.Yuma3,
		LiquidAlpha:            h.LiquidAlpha,
		AlphaLow:               h.AlphaLow,
		AlphaHigh:              h.AlphaHigh,
		AlphaSigmoidSteepness:  h.AlphaSigmoidSteepness,
		CommitRevealEnabled:    h.CommitReveal,
		CommitBlocks:           in.CommitBlocks,
		RaoEmission:            in.Emission,
	}
	for uid, nr := range in.Neurons {
		es.LastUpdate[uid] = nr.LastUpdate
		es.BlockAtRegistration[uid] = nr.BlockAtRegistration
		es.ValidatorPermit[uid] = nr.ValidatorPermit
		es.Weights[uid] = nr.Weights
		es.Bonds[uid] = nr.Bonds
		if bytes.Equal(nr.Hotkey, s.OwnerHotkey) {
			es.HasOwner, es.OwnerUID = true, uint16(uid)
		}
	}
	return es
}
