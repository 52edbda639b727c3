package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/iavl"
	idb "github.com/cosmos/iavl/db"
	ics23 "github.com/cosmos/ics23/go"
)

// Options configure a Store.
type Options struct {
	// Backend is the cosmos-db backend: "goleveldb" (default), "pebbledb" or "memdb".
	Backend string
	// CacheNodes is the IAVL node cache size, of the writer's tree and of the readers'
	// views each (see Store.views); size it above the working set (default 1,000,000
	// nodes).
	CacheNodes int
}

// Store is the versioned, merkleised state. The block executor writes through Working and
// calls Commit once per block; readers use Committed, which is safe to call concurrently
// with block execution.
type Store struct {
	db   dbm.DB
	tree *iavl.MutableTree
	// views opens the saved versions that readers use, over the same database but with a
	// node cache of its own. A saved version opened through tree would share its node
	// objects with the mutable tree, which rewrites a shared node's child pointers when
	// it copies the node on write (iavl's Node.clone), so a reader walking that node
	// concurrently with block execution would race with the writer. Through views the
	// readers' nodes are their own, decoded from the database, which a save never
	// changes; the writer's nodes are never handed out.
	views *iavl.MutableTree

	mu        sync.RWMutex
	committed *iavl.ImmutableTree // the last saved version (nil before the first commit)
	// initial is the hash of the tree as Open found it, what LastCommit reports before the
	// first commit: read once, since the mutable tree's own Hash races with SaveVersion.
	initial []byte
}

// Open opens (or creates) the store named "state" in dir and loads its latest version.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Backend == "" {
		opts.Backend = string(dbm.GoLevelDBBackend)
	}
	if opts.CacheNodes <= 0 {
		opts.CacheNodes = 1_000_000
	}
	db, err := dbm.NewDB("state", dbm.BackendType(opts.Backend), dir)
	if err != nil {
		return nil, fmt.Errorf("open state database in %s: %w", dir, err)
	}
	tree := iavl.NewMutableTree(idb.NewWrapper(db), opts.CacheNodes, true, iavl.NewNopLogger())
	if _, err := tree.Load(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("load state tree in %s: %w", dir, err)
	}
	s := &Store{db: db, tree: tree, initial: tree.Hash(),
		views: iavl.NewMutableTree(idb.NewWrapper(db), opts.CacheNodes, true, iavl.NewNopLogger())}
	if v := tree.Version(); v > 0 {
		if s.committed, err = s.views.GetImmutable(v); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("load state version %d: %w", v, err)
		}
	}
	return s, nil
}

// OpenMemory opens a store that lives in memory only (for tests and simulations).
func OpenMemory() *Store {
	s, err := Open("", Options{Backend: string(dbm.MemDBBackend), CacheNodes: 100_000})
	if err != nil {
		panic(fmt.Sprintf("memory store: %v", err)) // memdb cannot fail to open
	}
	return s
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Working returns the uncommitted working state that block execution writes.
func (s *Store) Working() KV { return treeKV{s.tree} }

// WorkingHash returns the root hash the working state would have if committed now.
func (s *Store) WorkingHash() []byte { return s.tree.WorkingHash() }

// Rollback drops every uncommitted write.
func (s *Store) Rollback() { s.tree.Rollback() }

// Commit saves the working state as the next version and returns its hash and number.
func (s *Store) Commit() ([]byte, int64, error) {
	hash, version, err := s.tree.SaveVersion()
	if err != nil {
		return nil, 0, fmt.Errorf("save state version: %w", err)
	}
	imm, err := s.views.GetImmutable(version)
	if err != nil {
		return nil, 0, fmt.Errorf("open saved version %d: %w", version, err)
	}
	s.mu.Lock()
	s.committed = imm
	s.mu.Unlock()
	return hash, version, nil
}

// LastCommit returns the latest saved version and its hash (0 and the empty-tree hash
// before the first commit).
func (s *Store) LastCommit() (int64, []byte) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.committed == nil {
		return 0, s.initial
	}
	return s.committed.Version(), s.committed.Hash()
}

// Versions returns the earliest and the latest saved version (0, 0 before the first
// commit). The store never prunes, so a healthy store's earliest version is 1; a larger
// one means the history below it is gone.
func (s *Store) Versions() (earliest, latest int64) {
	latest, _ = s.LastCommit()
	if latest == 0 {
		return 0, 0
	}
	// VersionExists holds exactly on [earliest, latest]: search its lower end.
	lo, hi := int64(1), latest
	for lo < hi {
		mid := lo + (hi-lo)/2
		if s.tree.VersionExists(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, latest
}

// ErrVersionNotFound is returned for a version the store does not hold.
var ErrVersionNotFound = errors.New("state version not found")

// Committed returns a read-only view of a saved version; 0 means the latest. Before the
// first commit the latest view is empty.
func (s *Store) Committed(version int64) (Reader, error) {
	imm, err := s.immutable(version)
	if err != nil {
		return nil, err
	}
	if imm == nil {
		return emptyReader{}, nil
	}
	return immKV{imm}, nil
}

func (s *Store) immutable(version int64) (*iavl.ImmutableTree, error) {
	s.mu.RLock()
	latest := s.committed
	s.mu.RUnlock()
	if version == 0 || (latest != nil && version == latest.Version()) {
		return latest, nil
	}
	if !s.tree.VersionExists(version) {
		return nil, fmt.Errorf("%w: %d", ErrVersionNotFound, version)
	}
	return s.views.GetImmutable(version)
}

// Proof returns the value of key at a saved version (0 = latest) with an ICS-23 proof of
// membership, or of absence when the key is not there, against that version's hash.
func (s *Store) Proof(key []byte, version int64) (value []byte, proof *ics23.CommitmentProof, v int64, err error) {
	imm, err := s.immutable(version)
	if err != nil {
		return nil, nil, 0, err
	}
	if imm == nil {
		return nil, nil, 0, fmt.Errorf("%w: nothing committed yet", ErrVersionNotFound)
	}
	value, err = imm.Get(key)
	if err != nil {
		return nil, nil, 0, err
	}
	proof, err = imm.GetProof(key)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("build proof: %w", err)
	}
	return value, proof, imm.Version(), nil
}

// treeKV adapts the mutable tree.
type treeKV struct{ t *iavl.MutableTree }

func (k treeKV) Get(key []byte) ([]byte, error) { return k.t.Get(key) }
func (k treeKV) Set(key, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	_, err := k.t.Set(key, value)
	return err
}
func (k treeKV) Delete(key []byte) error {
	_, _, err := k.t.Remove(key)
	return err
}
func (k treeKV) Iterate(prefix []byte, fn func(key, value []byte) (bool, error)) error {
	it, err := k.t.Iterator(prefix, PrefixEnd(prefix), true)
	if err != nil {
		return err
	}
	return drain(it, fn)
}

// immKV adapts a saved version.
type immKV struct{ t *iavl.ImmutableTree }

func (k immKV) Get(key []byte) ([]byte, error) { return k.t.Get(key) }

// Version is the saved version (block height) this view reads.
func (k immKV) Version() int64 { return k.t.Version() }
func (k immKV) Iterate(prefix []byte, fn func(key, value []byte) (bool, error)) error {
	it, err := k.t.Iterator(prefix, PrefixEnd(prefix), true)
	if err != nil {
		return err
	}
	return drain(it, fn)
}

// drain hands fn each key of it, copied, and its value as the tree holds it: a tree
// iterator's value is its leaf's, which no write changes in place (a Set makes a new
// leaf), so it is safe to hand out under Reader's contract, and an epoch's thousands of
// rows are not copied just to be decoded. That holds for the tree's own iterator, the one
// both trees give with the fast-node index off (skipFastStorageUpgrade, as Open builds
// them): the index's iterator returns values within the database iterator's buffer,
// which its next step reuses, and would need the copy back.
func drain(it dbm.Iterator, fn func(key, value []byte) (bool, error)) error {
	defer it.Close()
	for ; it.Valid(); it.Next() {
		more, err := fn(bytes.Clone(it.Key()), it.Value())
		if err != nil || !more {
			return err
		}
	}
	return it.Error()
}

type emptyReader struct{}

func (emptyReader) Get([]byte) ([]byte, error)                                  { return nil, nil }
func (emptyReader) Iterate([]byte, func(key, value []byte) (bool, error)) error { return nil }
