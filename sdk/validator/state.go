package validator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tessera-net/tessera/sdk/metagraph"
)

// StateVersion is the version of the state file's format.
const StateVersion = 1

// StateFile is the state file's name inside the state directory.
const StateFile = "validator-state.json"

// State is what a validator keeps across restarts: its scores, the hotkeys they belong
// to, its round counter and what happened to its last weights.
type State struct {
	Version int    `json:"version"` // StateVersion
	Netuid  uint16 `json:"netuid"`  // the subnet the state belongs to
	Hotkey  string `json:"hotkey"`  // the validator's hotkey (SS58)
	// Step counts rounds; Block is the chain's height at the last round.
	Step  uint64 `json:"step"`
	Block int64  `json:"block"` // see Step
	// Hotkeys[uid] held the uid when Scores[uid] was last updated.
	Hotkeys []string  `json:"hotkeys"`
	Scores  []float64 `json:"scores"` // moving averages in [0, 1], by uid
	// LastWeightsBlock is the block the last accepted weights landed in;
	// LastWeightsError the chain's or the SDK's reason the last attempt failed ("" if
	// it succeeded).
	LastWeightsBlock int64  `json:"last_weights_block"`
	LastWeightsError string `json:"last_weights_error,omitempty"` // see LastWeightsBlock
	// Pending is a weight commit waiting for its reveal epoch (commit-reveal subnets).
	Pending *PendingReveal `json:"pending_reveal,omitempty"`
	SavedAt time.Time      `json:"saved_at"` // when the state was last written (UTC)
}

// PendingReveal is what a validator keeps between committing weights and revealing them.
type PendingReveal struct {
	UIDs       []uint16 `json:"uids"`        // the committed weights
	Values     []uint16 `json:"values"`      // see UIDs
	Salt       []uint16 `json:"salt"`        // the random salt in the commit hash
	VersionKey uint64   `json:"version_key"` // the version key in the commit hash
	// Block and Epoch are where the commit landed; the reveal is due in epoch
	// Epoch + commit_reveal_period.
	Block int64  `json:"block"`
	Epoch uint64 `json:"epoch"` // see Block
}

// LoadState reads the state in dir. A missing file is no error: ok is false.
func LoadState(dir string) (st *State, ok bool, err error) {
	path := filepath.Join(dir, StateFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("validator state: %w", err)
	}
	st = new(State)
	if err := json.Unmarshal(raw, st); err != nil {
		return nil, false, fmt.Errorf("validator state %s is not valid JSON (move it away to start afresh): %w", path, err)
	}
	if st.Version != StateVersion {
		return nil, false, fmt.Errorf("validator state %s has version %d; this validator reads version %d", path, st.Version, StateVersion)
	}
	if len(st.Scores) != len(st.Hotkeys) {
		return nil, false, fmt.Errorf("validator state %s is inconsistent: %d scores for %d hotkeys", path, len(st.Scores), len(st.Hotkeys))
	}
	for uid, s := range st.Scores {
		if math.IsNaN(s) || s < 0 || s > 1 {
			return nil, false, fmt.Errorf("validator state %s: score of uid %d is %v, outside [0, 1]", path, uid, s)
		}
	}
	return st, true, nil
}

// Save writes the state to dir atomically: a temporary file, synced, renamed over the
// old one, and the directory synced, so a crash leaves the old state or the new one.
func (s State) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("validator state directory: %w", err)
	}
	s.Version = StateVersion
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("validator state: %w", err)
	}
	f, err := os.CreateTemp(dir, StateFile+".tmp-*")
	if err != nil {
		return fmt.Errorf("validator state: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(append(raw, '\n'))
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, filepath.Join(dir, StateFile))
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("validator state: %w", werr)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Resync carries the scores over to a new metagraph (see metagraph.Resize) and returns
// the uids whose score restarted because their hotkey changed.
func (s *State) Resync(g *metagraph.Graph) []uint16 {
	scores, reset := metagraph.Resize(s.Hotkeys, s.Scores, g.Hotkeys)
	s.Scores, s.Hotkeys = scores, slices.Clone(g.Hotkeys)
	return reset
}

// UpdateScores folds a round's rewards into the moving averages: for each queried uid,
// score ← α·reward + (1−α)·score. Rewards are clamped to [0, 1] (NaN counts as 0); uids
// beyond the scores are ignored.
func UpdateScores(scores []float64, uids []uint16, rewards []float64, alpha float64) {
	for i, uid := range uids {
		if int(uid) >= len(scores) || i >= len(rewards) {
			continue
		}
		r := rewards[i]
		if math.IsNaN(r) || r < 0 {
			r = 0
		}
		r = min(r, 1)
		scores[uid] = alpha*r + (1-alpha)*scores[uid]
	}
}

// SelectMiners picks up to k uids to query from g: those serving an axon, other than
// self, and not validators (a validator permit and more than vpermitLimit stake). The
// sample is random (from rng) and returned in increasing order.
func SelectMiners(g *metagraph.Graph, self int, k int, vpermitLimit uint64, rng *rand.Rand) []uint16 {
	var cand []uint16
	for uid := range g.Size() {
		if uid == self {
			continue
		}
		if _, ok := g.Axon(uint16(uid)); !ok {
			continue
		}
		if g.ValidatorPermit[uid] && g.Stake[uid] > vpermitLimit {
			continue
		}
		cand = append(cand, uint16(uid))
	}
	if len(cand) > k {
		rng.Shuffle(len(cand), func(i, j int) { cand[i], cand[j] = cand[j], cand[i] })
		cand = cand[:k]
		slices.Sort(cand)
	}
	return cand
}
