package node

import (
	"bytes"
	"fmt"
)

// AppVersions is what start-up verification reads of the application state; a
// *store.Store is one.
type AppVersions interface {
	// Versions returns the earliest and latest saved version (0, 0 when empty).
	Versions() (earliest, latest int64)
	// LastCommit returns the latest saved version and its hash.
	LastCommit() (int64, []byte)
}

// ChainStores is what start-up verification reads of CometBFT's block store and state
// store. An error means the store could not be read (a *DataError naming its file).
type ChainStores interface {
	// Blocks returns the block store's lowest and highest height (0, 0 when empty).
	Blocks() (base, height int64, err error)
	// State returns the height of CometBFT's last saved state and the app hash it holds
	// (the application's hash after that height).
	State() (height int64, appHash []byte, err error)
	// HeaderAppHash returns the app hash in block h's header (the application's hash
	// after h-1); ok is false when the block store does not hold block h.
	HeaderAppHash(h int64) (hash []byte, ok bool, err error)
	// FinalizedAppHash returns the app hash of block h's saved FinalizeBlock response;
	// ok is false when none is saved for h.
	FinalizedAppHash(h int64) (hash []byte, ok bool, err error)
}

// DataFiles are the paths that verification errors name.
type DataFiles struct {
	App        string // the application state database
	BlockStore string // CometBFT's block store
	State      string // CometBFT's state store
}

// StateReport is what a verification that passed found.
type StateReport struct {
	AppEarliest, AppLatest int64
	BlockBase, BlockHeight int64
	StateHeight            int64
	// HashChecked is false when the chain holds no app hash for the application's latest
	// version yet (a fresh node, or one stopped between saving a block and executing it).
	HashChecked bool
}

// VerifyState checks, before CometBFT replays anything, that the application state and
// CometBFT's stores describe the same chain: the block store and the state store are at
// most one block apart; the application is not ahead of the block store; its history
// starts at version 1 (the store never prunes); and its latest version's hash is the one
// the chain recorded for that height (in the next block's header, in the saved state, or
// in the saved FinalizeBlock response). An application that is behind is fine: CometBFT
// replays the missing blocks. A failure is a *DataError naming the file at fault.
func VerifyState(app AppVersions, chain ChainStores, files DataFiles) (StateReport, error) {
	var r StateReport
	var err error
	if r.BlockBase, r.BlockHeight, err = chain.Blocks(); err != nil {
		return r, err
	}
	height, stateHash, err := chain.State()
	if err != nil {
		return r, err
	}
	r.StateHeight = height
	if err := checkChainHeights(r, files); err != nil {
		return r, err
	}
	r.AppEarliest, r.AppLatest = app.Versions()
	if err := checkAppHistory(r, files); err != nil {
		return r, err
	}
	if r.AppLatest == 0 {
		return r, nil
	}
	version, hash := app.LastCommit()
	want, ok, err := recordedAppHash(chain, version, r, stateHash)
	if err != nil || !ok {
		return r, err
	}
	if !bytes.Equal(hash, want) {
		return r, &DataError{Path: files.App, Kind: ErrAppHashMismatch, Hint: hintApp,
			Detail: fmt.Sprintf("its version %d has hash %X, the chain recorded %X", version, hash, want)}
	}
	r.HashChecked = true
	return r, nil
}

// checkChainHeights: CometBFT saves a block before executing it and its state after, so
// the state is at the block store's height or one below.
func checkChainHeights(r StateReport, files DataFiles) error {
	switch {
	case r.StateHeight > r.BlockHeight:
		return &DataError{Path: files.BlockStore, Kind: ErrStoresDisagree, Hint: hintComet,
			Detail: fmt.Sprintf("the block store ends at height %d but CometBFT's state is at height %d: blocks are missing", r.BlockHeight, r.StateHeight)}
	case r.BlockHeight > r.StateHeight+1:
		return &DataError{Path: files.State, Kind: ErrStoresDisagree, Hint: hintComet,
			Detail: fmt.Sprintf("CometBFT's state is at height %d but the block store holds blocks up to %d: the state store lost its latest states", r.StateHeight, r.BlockHeight)}
	}
	return nil
}

// checkAppHistory: the application holds every version from 1 and none past the last
// block.
func checkAppHistory(r StateReport, files DataFiles) error {
	switch {
	case r.AppLatest > r.BlockHeight:
		return &DataError{Path: files.BlockStore, Kind: ErrStoresDisagree, Hint: hintComet,
			Detail: fmt.Sprintf("the application state (%s) is at height %d but the block store ends at height %d: blocks are missing, or the application state belongs to another chain", files.App, r.AppLatest, r.BlockHeight)}
	case r.AppLatest > 0 && r.AppEarliest != 1:
		return &DataError{Path: files.App, Kind: ErrHistoryMissing, Hint: hintApp,
			Detail: fmt.Sprintf("it holds versions %d to %d; versions 1 to %d are gone", r.AppEarliest, r.AppLatest, r.AppEarliest-1)}
	}
	return nil
}

// recordedAppHash returns the app hash the chain recorded for the state after height v:
// block v+1's header if the block store has it, else the saved state's when that is at v,
// else v's saved FinalizeBlock response. ok is false when none of them holds it.
func recordedAppHash(chain ChainStores, v int64, r StateReport, stateHash []byte) (hash []byte, ok bool, err error) {
	if v+1 <= r.BlockHeight {
		return chain.HeaderAppHash(v + 1)
	}
	if v == r.StateHeight {
		return stateHash, true, nil
	}
	return chain.FinalizedAppHash(v)
}
