package node

import (
	"errors"
	"testing"

	"github.com/tessera-net/tessera/store"
)

// fakeChain is CometBFT's stores as a test wants them: block h's header carries
// headers[h], the state is at stateHeight with stateHash.
type fakeChain struct {
	base, height int64
	stateHeight  int64
	stateHash    []byte
	headers      map[int64][]byte
	finalized    map[int64][]byte
}

func (f *fakeChain) Blocks() (int64, int64, error) { return f.base, f.height, nil }
func (f *fakeChain) State() (int64, []byte, error) { return f.stateHeight, f.stateHash, nil }
func (f *fakeChain) HeaderAppHash(h int64) ([]byte, bool, error) {
	b, ok := f.headers[h]
	return b, ok, nil
}
func (f *fakeChain) FinalizedAppHash(h int64) ([]byte, bool, error) {
	b, ok := f.finalized[h]
	return b, ok, nil
}

// chainOf commits n versions to a memory store and returns it with the stores of a chain
// that recorded exactly those hashes, its block store one block ahead of the application
// (block n+1 saved, not yet executed).
func chainOf(t *testing.T, n int64) (*store.Store, *fakeChain) {
	t.Helper()
	st := store.OpenMemory()
	c := &fakeChain{base: 1, height: n + 1, stateHeight: n, headers: map[int64][]byte{}, finalized: map[int64][]byte{}}
	for v := int64(1); v <= n; v++ {
		if err := st.Working().Set([]byte("height"), []byte{byte(v)}); err != nil {
			t.Fatal(err)
		}
		hash, _, err := st.Commit()
		if err != nil {
			t.Fatal(err)
		}
		c.headers[v+1], c.finalized[v], c.stateHash = hash, hash, hash
	}
	return st, c
}

var testFiles = DataFiles{App: "data/app/state.db", BlockStore: "data/blockstore.db", State: "data/state.db"}

func TestVerifyStateAcceptsEveryCrashPoint(t *testing.T) {
	cases := []struct {
		name  string
		shape func(c *fakeChain)
	}{
		{"block saved, not executed", func(c *fakeChain) {}},
		{"all saved", func(c *fakeChain) { c.height--; delete(c.headers, c.height+1) }},
		{"app committed, state not saved", func(c *fakeChain) {
			c.height--
			delete(c.headers, c.height+1)
			c.stateHeight--
			c.stateHash = nil
		}},
		{"app behind: replays", func(c *fakeChain) {
			for h := c.height + 1; h <= c.height+5; h++ {
				c.headers[h] = []byte("later")
			}
			c.height, c.stateHeight = c.height+5, c.height+4
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, c := chainOf(t, 4)
			tc.shape(c)
			r, err := VerifyState(st, c, testFiles)
			if err != nil {
				t.Fatal(err)
			}
			if !r.HashChecked || r.AppEarliest != 1 || r.AppLatest != 4 {
				t.Fatalf("report %+v", r)
			}
		})
	}
}

func TestVerifyStateAcceptsAFreshNode(t *testing.T) {
	r, err := VerifyState(store.OpenMemory(), &fakeChain{}, testFiles)
	if err != nil || r.HashChecked {
		t.Fatalf("fresh node: %+v, %v", r, err)
	}
}

// Each kind of damage is refused with its kind and the file at fault.
func TestVerifyStateNamesTheDamage(t *testing.T) {
	cases := []struct {
		name     string
		break_   func(c *fakeChain)
		kind     error
		path     string
		lostLow1 bool
	}{
		{"wrong app hash", func(c *fakeChain) { c.headers[5] = []byte("other") }, ErrAppHashMismatch, testFiles.App, false},
		{"wrong state hash", func(c *fakeChain) {
			c.height--
			delete(c.headers, 5)
			c.stateHash = []byte("other")
		}, ErrAppHashMismatch, testFiles.App, false},
		{"block store behind the state", func(c *fakeChain) { c.height = 2 }, ErrStoresDisagree, testFiles.BlockStore, false},
		{"block store behind the app", func(c *fakeChain) { c.height, c.stateHeight = 3, 3 }, ErrStoresDisagree, testFiles.BlockStore, false},
		{"state store behind", func(c *fakeChain) { c.stateHeight = 1 }, ErrStoresDisagree, testFiles.State, false},
		{"history lost", func(c *fakeChain) {}, ErrHistoryMissing, testFiles.App, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, c := chainOf(t, 4)
			tc.break_(c)
			var app AppVersions = st
			if tc.lostLow1 {
				app = lostHistory{st, 3}
			}
			_, err := VerifyState(app, c, testFiles)
			var de *DataError
			if !errors.Is(err, tc.kind) || !errors.As(err, &de) || de.Path != tc.path || de.Hint == "" {
				t.Fatalf("got %v, want a %v naming %s", err, tc.kind, tc.path)
			}
		})
	}
}

// lostHistory is a store whose versions below earliest are gone.
type lostHistory struct {
	*store.Store
	earliest int64
}

func (l lostHistory) Versions() (int64, int64) {
	_, latest := l.Store.Versions()
	return l.earliest, latest
}
