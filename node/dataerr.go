package node

import (
	"errors"
	"fmt"
)

// The kinds of damaged node data New refuses to start on. A *DataError wraps exactly one
// of them, so callers tell them apart with errors.Is.
var (
	// ErrCorruptData: a database file fails its own checks (a bad checksum, a truncated
	// journal or table), or CometBFT panicked while reading its data.
	ErrCorruptData = errors.New("node data is corrupt")
	// ErrHistoryMissing: the application state has lost the versions below its earliest
	// one, so queries at those heights would answer "version not found".
	ErrHistoryMissing = errors.New("application state history is missing")
	// ErrAppHashMismatch: the application's committed state is not the one the chain
	// recorded for that height.
	ErrAppHashMismatch = errors.New("application state does not match the chain")
	// ErrStoresDisagree: the heights of the block store, CometBFT's state and the
	// application state cannot all be right.
	ErrStoresDisagree = errors.New("node databases disagree on the chain height")
)

// DataError reports damaged or inconsistent node data. Path names the file or directory
// at fault, Kind is one of the Err* kinds above, Detail says what was found and Hint what
// the operator can do about it.
type DataError struct {
	Path   string
	Kind   error
	Detail string
	Hint   string
}

func (e *DataError) Error() string {
	return fmt.Sprintf("%s: %v: %s; %s", e.Path, e.Kind, e.Detail, e.Hint)
}

// Unwrap returns the kind, for errors.Is.
func (e *DataError) Unwrap() error { return e.Kind }

// What an operator can do about each part of the data.
const (
	hintApp = "restore it from a backup, or remove that directory so that the next start " +
		"rebuilds the application state by replaying the block store from height 1"
	hintComet = "CometBFT cannot repair it in place: restore the node's data/ directory from a backup " +
		"or from another node's copy, keeping this node's own priv_validator_state.json"
)
