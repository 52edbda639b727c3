package yuma

import (
	"fmt"
	"math"

	"github.com/tessera-net/tessera/internal/safemath"
)

// MaxN is the largest subnet size the epoch accepts. Above it a row of u16 weights could
// exceed the I32F32 range when summed (32767 × 65535 < 2^31), which subtensor never meets.
const MaxN = 32767

// NoCommit marks a uid without a non-expired weight commit in EpochState.CommitBlocks
// (subtensor's u64::MAX sentinel).
const NoCommit = math.MaxUint64

// Entry is one cell of a sparse row: the column uid and its stored u16 value (a weight
// already max-upscaled by set_weights, or a stored bond).
type Entry struct {
	UID   uint16
	Value uint16
}

// EpochState is everything one epoch of one subnet (mechanism) reads, in the units subtensor
// stores. Vectors are indexed by uid and must have length N. Rows of Weights and Bonds keep
// the order in which they are stored on chain; order matters only where subtensor's own
// algorithms depend on it (the liquid-alpha merge), and is reproduced there.
type EpochState struct {
	N                      int    // number of uids, 0..MaxN
	CurrentBlock           uint64 // block at which the epoch runs
	Tempo                  uint16 // subnet tempo in blocks
	ActivityCutoff         uint64 // blocks; a uid is inactive when last_update + cutoff < current block
	LastMechanismStepBlock uint64 // block of the previous successful epoch, 0 if none

	LastUpdate          []uint64 // block of each uid's last weight update
	BlockAtRegistration []uint64 // block at which each uid was (re)registered

	Stake          []uint64 // alpha stake of each hotkey (inherited), smallest unit
	TaoStake       []uint64 // root (TAO) stake of each hotkey; nil means all zero
	TaoWeight      uint64   // TaoWeight storage value; the weight is TaoWeight / u64::MAX
	StakeThreshold uint64   // stake (integer part of S before normalisation) below which a uid's stake is ignored

	ValidatorPermit      []bool // permits stored by the previous epoch
	MaxAllowedValidators uint16
	HasOwner             bool   // whether the subnet owner's hotkey is registered
	OwnerUID             uint16 // its uid, when HasOwner

	Weights [][]Entry // per uid, the stored weight row
	Bonds   [][]Entry // per uid, the stored bond row

	Kappa                 uint16 // consensus majority, /65535
	BondsPenalty          uint16 // /65535
	BondsMovingAverage    uint64 // /1_000_000; the EMA alpha is 1 - this
	Yuma3                 bool
	LiquidAlpha           bool
	AlphaLow, AlphaHigh   uint16 // liquid alpha bounds, /65535
	AlphaSigmoidSteepness int16

	CommitRevealEnabled bool
	CommitBlocks        []uint64 // earliest non-expired commit block per uid, NoCommit if none; nil means none

	RaoEmission uint64 // emission handed to this epoch, smallest unit
}

// EpochResult is what an epoch produces. Proportions are u16 values floor(x*65535);
// emissions are in the smallest unit.
type EpochResult struct {
	Active             []bool
	StakeWeight        []uint16 // normalised stake S
	Consensus          []uint16
	Incentive          []uint16
	Dividends          []uint16
	ValidatorTrust     []uint16
	NewValidatorPermit []bool // permits for the next epoch
	ServerEmission     []uint64
	ValidatorEmission  []uint64
	Emission           []uint64 // combined, as stored in Emission
	// Bonds is the new stored bond matrix: one row per uid, as the epoch writes it.
	Bonds [][]Entry
}

// FieldError reports an invalid EpochState; Field uses the names of the JSON epoch state
// (docs/yuma.md "§9 The epoch-state JSON"), with an index where one element is at fault.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks that the state is consistent: every vector has length N, every uid in a
// row is below N and appears at most once per row, the owner uid is in range, and the total
// stake fits the I64F64 range. The first problem found is returned as a *FieldError.
func (s *EpochState) Validate() error {
	_, err := s.validate()
	return err
}

// checked is what validate learns about a consistent state that the epoch needs again:
// the I64F64 total stakes and whether every weights and bonds row is in strictly
// ascending uid order. Handing them on saves the epoch second passes over the rows and a
// second computation of the stakes.
type checked struct {
	total            []safemath.U128
	weightsAscending bool
	bondsAscending   bool
}

func (s *EpochState) validate() (checked, error) {
	var c checked
	if err := s.validateShape(); err != nil {
		return c, err
	}
	wAsc, err := validateRows("weights", s.Weights, s.N)
	if err != nil {
		return c, err
	}
	bAsc, err := validateRows("bonds", s.Bonds, s.N)
	if err != nil {
		return c, err
	}
	total, err := s.validateStake()
	if err != nil {
		return c, err
	}
	return checked{total: total, weightsAscending: wAsc, bondsAscending: bAsc}, nil
}

// validateShape is validate's first checks: n in range, every vector of length n, the
// owner uid below n.
func (s *EpochState) validateShape() error {
	if s.N < 0 || s.N > MaxN {
		return fieldErr("n", "must be between 0 and %d, got %d", MaxN, s.N)
	}
	n := s.N
	lengths := []struct {
		name     string
		l        int
		optional bool
	}{
		{"last_update", len(s.LastUpdate), false},
		{"block_at_registration", len(s.BlockAtRegistration), false},
		{"stake", len(s.Stake), false},
		{"tao_stake", len(s.TaoStake), true},
		{"validator_permit", len(s.ValidatorPermit), false},
		{"weights", len(s.Weights), false},
		{"bonds", len(s.Bonds), false},
		{"commit_blocks", len(s.CommitBlocks), true},
	}
	for _, v := range lengths {
		if v.optional && v.l == 0 {
			continue
		}
		if v.l != n {
			return fieldErr(v.name, "has %d entries, want n = %d", v.l, n)
		}
	}
	if s.HasOwner && int(s.OwnerUID) >= n {
		return fieldErr("owner_uid", "uid %d out of range (n = %d)", s.OwnerUID, n)
	}
	return nil
}

// validateStake is validate's last check, on a state of valid shape: the I64F64 sum of
// the stakes must not overflow (subtensor's plain sum would). It returns the total stakes.
func (s *EpochState) validateStake() ([]safemath.U128, error) {
	total := totalStake(s.Stake, s.TaoStake, s.TaoWeight)
	if _, ok := sumStake(total); !ok {
		return nil, fieldErr("stake", "total stake exceeds 2^63 (the I64F64 range)")
	}
	return total, nil
}

// validateRows checks that every uid in m is below n and unique in its row. It also
// reports whether every row is in strictly ascending uid order (all took the fast path).
func validateRows(name string, m [][]Entry, n int) (bool, error) {
	var seen []int // row index+1 at which a column was last seen; only for unsorted rows
	asc := true
	for i, row := range m {
		// Fast path: a row in strictly ascending column order whose last column is below n
		// has no duplicates and no column out of range.
		prev, ok := -1, true
		for _, e := range row {
			ok = ok && int(e.UID) > prev
			prev = int(e.UID)
		}
		if ok && prev < n {
			continue
		}
		asc = false
		if seen == nil {
			seen = make([]int, n)
		}
		for k, e := range row {
			if int(e.UID) >= n {
				return false, fieldErr(fmt.Sprintf("%s[%d][%d]", name, i, k), "uid %d out of range (n = %d)", e.UID, n)
			}
			if seen[e.UID] == i+1 {
				return false, fieldErr(fmt.Sprintf("%s[%d][%d]", name, i, k), "duplicate uid %d in row", e.UID)
			}
			seen[e.UID] = i + 1
		}
	}
	return asc, nil
}

// ActivityCutoffBlocks is subtensor's get_activity_cutoff_blocks: max(1, factor_milli ×
// tempo / 1000). The default factor 13_889 gives 5000 blocks for tempo 360.
func ActivityCutoffBlocks(factorMilli uint32, tempo uint16) uint64 {
	return max(uint64(factorMilli)*uint64(tempo)/1000, 1)
}

// DefaultActivityCutoffFactorMilli is ActivityCutoffFactorMilli's default.
const DefaultActivityCutoffFactorMilli = 13_889

// Advance prepares s for the next epoch after r: the new permits and bonds are carried
// forward, LastMechanismStepBlock becomes this epoch's block and CurrentBlock moves on by
// Tempo. Other inputs (stake, weights, last updates) are left as they are.
func (s *EpochState) Advance(r *EpochResult) {
	s.ValidatorPermit = append([]bool(nil), r.NewValidatorPermit...)
	s.Bonds = cloneRows(r.Bonds)
	s.LastMechanismStepBlock = s.CurrentBlock
	s.CurrentBlock += uint64(s.Tempo)
}

func cloneRows(m [][]Entry) [][]Entry {
	out := make([][]Entry, len(m))
	for i, r := range m {
		out[i] = append([]Entry{}, r...)
	}
	return out
}
