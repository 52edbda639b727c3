package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	cmtdb "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"
	sm "github.com/cometbft/cometbft/state"
	cmtstore "github.com/cometbft/cometbft/store"
	"github.com/syndtr/goleveldb/leveldb"
	lerrors "github.com/syndtr/goleveldb/leveldb/errors"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

// strictReadOnly are the options that open a goleveldb database without writing to it
// and fail on any damage to its manifest or journal. A normal open silently drops a
// damaged journal record (and whatever that record held), then rewrites the journal
// without it.
func strictReadOnly() *opt.Options {
	return &opt.Options{ReadOnly: true, Strict: opt.DefaultStrict | opt.StrictManifest | opt.StrictJournal}
}

// Names of CometBFT's databases under data/.
const (
	blockStoreDB = "blockstore"
	stateDB      = "state"
)

// dataFilesOf names a home's databases.
func dataFilesOf(cfg *cmtcfg.Config) DataFiles {
	return DataFiles{
		App:        filepath.Join(cfg.DBDir(), "app", "state.db"),
		BlockStore: filepath.Join(cfg.DBDir(), blockStoreDB+".db"),
		State:      filepath.Join(cfg.DBDir(), stateDB+".db"),
	}
}

// checkLevelDB opens the goleveldb database at path read-only and strictly, and closes it.
// A database that does not exist yet passes. Damage is a *DataError naming the damaged
// file and carrying hint.
func checkLevelDB(path, hint string) error {
	db, err := openLevelDB(path, hint)
	if db != nil {
		err = db.Close()
	}
	return err
}

// openLevelDB opens the goleveldb database at path as strictReadOnly describes; it
// returns nil and no error when there is no database there.
func openLevelDB(path, hint string) (*leveldb.DB, error) {
	if !exists(path) {
		return nil, nil
	}
	db, err := leveldb.OpenFile(path, strictReadOnly())
	if err != nil {
		return nil, openError(path, hint, err)
	}
	return db, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}

// openError reports a failed open of the goleveldb database at path: damage as a
// *DataError naming the damaged file.
func openError(path, hint string, err error) error {
	if !lerrors.IsCorrupted(err) {
		return fmt.Errorf("open %s: %w", path, err)
	}
	file := path
	var c *lerrors.ErrCorrupted
	if errors.As(err, &c) && !c.Fd.Zero() {
		file = filepath.Join(path, c.Fd.String())
	}
	return &DataError{Path: file, Kind: ErrCorruptData, Detail: err.Error(), Hint: hint}
}

// cometStores reads CometBFT's block store and state store, opened read-only. Every read
// turns a panic of CometBFT's (its answer to bytes it cannot decode) into a *DataError
// naming the database.
type cometStores struct {
	files  DataFiles
	dbs    []cmtdb.DB
	blocks *cmtstore.BlockStore
	states sm.Store
}

var _ ChainStores = (*cometStores)(nil)

// openCometStores opens the block store and the state store of cfg. With goleveldb (the
// backend Tessera homes use) they are opened read-only and strictly, so nothing is
// written to them before they are verified.
func openCometStores(cfg *cmtcfg.Config) (*cometStores, error) {
	c := &cometStores{files: dataFilesOf(cfg)}
	blocks, err := c.open(cfg, blockStoreDB, c.files.BlockStore)
	if err != nil {
		return nil, err
	}
	states, err := c.open(cfg, stateDB, c.files.State)
	if err != nil {
		c.Close()
		return nil, err
	}
	if err := guard(c.files.BlockStore, hintComet, func() { c.blocks = cmtstore.NewBlockStore(blocks) }); err != nil {
		c.Close()
		return nil, err
	}
	c.states = sm.NewStore(states, sm.StoreOptions{DiscardABCIResponses: cfg.Storage.DiscardABCIResponses})
	return c, nil
}

func (c *cometStores) open(cfg *cmtcfg.Config, name, path string) (db cmtdb.DB, err error) {
	switch {
	case cfg.DBBackend != string(cmtdb.GoLevelDBBackend):
		if db, err = cmtcfg.DefaultDBProvider(&cmtcfg.DBContext{ID: name, Config: cfg}); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	case !exists(path):
		db = cmtdb.NewMemDB() // no database yet: an empty store
	default:
		if db, err = cmtdb.NewGoLevelDBWithOpts(name, cfg.DBDir(), strictReadOnly()); err != nil {
			return nil, openError(path, hintComet, err)
		}
	}
	c.dbs = append(c.dbs, db)
	return db, nil
}

// Close closes both databases.
func (c *cometStores) Close() {
	for _, db := range c.dbs {
		_ = db.Close()
	}
}

func (c *cometStores) Blocks() (base, height int64, err error) {
	err = guard(c.files.BlockStore, hintComet, func() { base, height = c.blocks.Base(), c.blocks.Height() })
	return base, height, err
}

func (c *cometStores) State() (height int64, appHash []byte, err error) {
	var s sm.State
	if gerr := guard(c.files.State, hintComet, func() { s, err = c.states.Load() }); gerr != nil {
		return 0, nil, gerr
	}
	if err != nil {
		return 0, nil, &DataError{Path: c.files.State, Kind: ErrCorruptData, Detail: err.Error(), Hint: hintComet}
	}
	return s.LastBlockHeight, s.AppHash, nil
}

func (c *cometStores) HeaderAppHash(h int64) (hash []byte, ok bool, err error) {
	err = guard(c.files.BlockStore, hintComet, func() {
		if m := c.blocks.LoadBlockMeta(h); m != nil {
			hash, ok = m.Header.AppHash, true
		}
	})
	return hash, ok, err
}

func (c *cometStores) FinalizedAppHash(h int64) (hash []byte, ok bool, err error) {
	err = guard(c.files.State, hintComet, func() {
		// A missing or unreadable response only means there is nothing to compare with.
		if r, lerr := c.states.LoadLastFinalizeBlockResponse(h); lerr == nil {
			hash, ok = r.AppHash, true
		}
	})
	return hash, ok, err
}

// guard runs f and turns a panic in it into a *DataError naming path: CometBFT panics
// when its databases hold what it cannot read.
func guard(path, hint string, f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &DataError{Path: path, Kind: ErrCorruptData, Detail: fmt.Sprintf("CometBFT could not read it: %v", r), Hint: hint}
		}
	}()
	f()
	return nil
}
