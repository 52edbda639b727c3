package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
)

func collect(t *testing.T, r Reader, prefix []byte) []string {
	t.Helper()
	var out []string
	if err := r.Iterate(prefix, func(k, v []byte) (bool, error) {
		out = append(out, string(k)+"="+string(v))
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCacheMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 50; round++ {
		s := OpenMemory()
		model := map[string]string{}
		base := s.Working()
		for i := 0; i < 40; i++ {
			k := fmt.Sprintf("k%02d", rng.IntN(60))
			v := fmt.Sprintf("v%d", rng.IntN(1000))
			if err := base.Set([]byte(k), []byte(v)); err != nil {
				t.Fatal(err)
			}
			model[k] = v
		}
		if _, _, err := s.Commit(); err != nil {
			t.Fatal(err)
		}
		committed, err := s.Committed(0)
		if err != nil {
			t.Fatal(err)
		}
		c := NewCache(committed)
		inner := NewCache(c)
		for i := 0; i < 30; i++ {
			k := fmt.Sprintf("k%02d", rng.IntN(70))
			target := Reader(c)
			if rng.IntN(2) == 0 {
				target = inner
			}
			kv := target.(KV)
			if rng.IntN(3) == 0 {
				_ = kv.Delete([]byte(k))
			} else {
				_ = kv.Set([]byte(k), []byte(fmt.Sprintf("w%d", i)))
			}
		}
		// The model of inner: apply c's writes, then inner's.
		for _, layer := range []*Cache{c, inner} {
			for k, v := range layer.writes {
				if v == nil {
					delete(model, k)
				} else {
					model[k] = string(v)
				}
			}
		}
		var want []string
		for k, v := range model {
			want = append(want, k+"="+v)
		}
		sort.Strings(want)
		got := collect(t, inner, []byte("k"))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("round %d: iterate\n got %v\nwant %v", round, got, want)
		}
		for k, v := range model {
			g, _ := inner.Get([]byte(k))
			if string(g) != v {
				t.Fatalf("get %s = %q, want %q", k, g, v)
			}
		}
		// Early stop after 3 keys.
		n := 0
		_ = inner.Iterate([]byte("k"), func(k, v []byte) (bool, error) { n++; return n < 3, nil })
		if len(want) >= 3 && n != 3 {
			t.Fatalf("early stop visited %d keys, want 3", n)
		}
		// Flushing gives the model.
		if err := inner.Write(c); err != nil {
			t.Fatal(err)
		}
		if err := c.Write(s.Working()); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(collect(t, s.Working(), []byte("k"))) != fmt.Sprint(want) {
			t.Fatalf("after flush the tree differs from the model")
		}
	}
}

// The app hash must not depend on the order in which a block made its writes.
func TestHashIndependentOfWriteOrder(t *testing.T) {
	keys := make([]string, 200)
	for i := range keys {
		keys[i] = fmt.Sprintf("acc/%03d", i)
	}
	hash := func(order []string) []byte {
		s := OpenMemory()
		c := NewCache(s.Working())
		for _, k := range order {
			_ = c.Set([]byte(k), []byte("v"+k))
		}
		if err := c.Write(s.Working()); err != nil {
			t.Fatal(err)
		}
		h, _, err := s.Commit()
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	h1 := hash(keys)
	rev := append([]string(nil), keys...)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(rev), func(i, j int) { rev[i], rev[j] = rev[j], rev[i] })
	if h2 := hash(rev); !bytes.Equal(h1, h2) {
		t.Fatalf("hash depends on write order: %x vs %x", h1, h2)
	}
}

func TestReopenKeepsCommittedState(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Working().Set([]byte("a"), []byte("1"))
	h1, v1, err := s.Commit()
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Working().Set([]byte("b"), []byte("2")) // never committed
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, h := s.LastCommit()
	if v != v1 || !bytes.Equal(h, h1) {
		t.Fatalf("reopened at %d %x, want %d %x", v, h, v1, h1)
	}
	r, _ := s.Committed(0)
	if got, _ := r.Get([]byte("a")); string(got) != "1" {
		t.Fatalf("a = %q", got)
	}
	if got, _ := r.Get([]byte("b")); got != nil {
		t.Fatalf("uncommitted write survived: %q", got)
	}
	val, proof, _, err := s.Proof([]byte("a"), 0)
	if err != nil || string(val) != "1" || proof.GetExist() == nil {
		t.Fatalf("proof: %q %v %v", val, proof, err)
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct{ in, want []byte }{
		{[]byte("abc"), []byte("abd")},
		{[]byte{1, 0xff}, []byte{2}},
		{[]byte{0xff, 0xff}, nil},
	} {
		if got := PrefixEnd(c.in); !bytes.Equal(got, c.want) {
			t.Errorf("PrefixEnd(%x) = %x, want %x", c.in, got, c.want)
		}
	}
}

func TestVersionsSpanEveryCommit(t *testing.T) {
	s := OpenMemory()
	if e, l := s.Versions(); e != 0 || l != 0 {
		t.Fatalf("empty store: versions %d..%d, want 0..0", e, l)
	}
	for i := 0; i < 5; i++ {
		if err := s.Working().Set([]byte("k"), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if e, l := s.Versions(); e != 1 || l != 5 {
		t.Fatalf("versions %d..%d, want 1..5", e, l)
	}
	// History lost below version 3 shows as a later earliest version.
	if err := s.tree.DeleteVersionsTo(2); err != nil {
		t.Fatal(err)
	}
	if e, l := s.Versions(); e != 3 || l != 5 {
		t.Fatalf("after losing 1..2: versions %d..%d, want 3..5", e, l)
	}
}

// LastCommit may be called while a block commits (the node answers abci_info beside
// consensus), from the first commit on; `go test -race` checks that it reads nothing the
// commit writes. The versions it sees only grow, each with the hash Commit returned.
func TestLastCommitDuringCommits(t *testing.T) {
	s := OpenMemory()
	_, empty := s.LastCommit()
	hashes := make([][]byte, 21)
	hashes[0] = empty
	done := make(chan struct{})
	seen := make(chan error, 1)
	go func() {
		defer close(seen)
		last := int64(0)
		for {
			select {
			case <-done:
				return
			default:
			}
			v, _ := s.LastCommit()
			if v < last {
				seen <- fmt.Errorf("version %d after %d", v, last)
				return
			}
			last = v
		}
	}()
	for i := 1; i <= 20; i++ {
		if err := s.Working().Set([]byte("k"), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		h, v, err := s.Commit()
		if err != nil || v != int64(i) {
			t.Fatalf("commit %d: version %d, %v", i, v, err)
		}
		hashes[i] = h
		if lv, lh := s.LastCommit(); lv != v || !bytes.Equal(lh, h) {
			t.Fatalf("after commit %d: LastCommit %d %x, want %d %x", i, lv, lh, v, h)
		}
	}
	close(done)
	if err := <-seen; err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(hashes[0], hashes[1]) {
		t.Fatal("the empty store's hash is the first version's")
	}
}

// TestCommittedReadsDuringBlockExecution: readers walk the latest saved version while the
// writer overwrites keys and saves new versions, as queries run beside block execution.
// Every key of a view reads the value of that view's version (each value is the version
// that last wrote it), and under -race the readers' nodes are never the writer's (see
// Store.views).
func TestCommittedReadsDuringBlockExecution(t *testing.T) {
	s := OpenMemory()
	const keysN, versions = 64, 40
	key := func(i int) []byte { return fmt.Appendf(nil, "k%03d", i) }
	write := func(v int) {
		// Every key the first time; then a third of them, so saved nodes are copied on write.
		for i := range keysN {
			if v == 1 || i%3 == v%3 {
				if err := s.Working().Set(key(i), []byte{byte(v)}); err != nil {
					t.Error(err)
				}
			}
		}
	}
	write(1)
	if _, _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	seen := make(chan error, 1)
	go func() {
		defer close(seen)
		for {
			select {
			case <-done:
				return
			default:
			}
			r, err := s.Committed(0)
			if err != nil {
				seen <- err
				return
			}
			ver := int(r.(interface{ Version() int64 }).Version())
			n := 0
			err = r.Iterate([]byte("k"), func(k, val []byte) (bool, error) {
				n++
				if len(val) != 1 || int(val[0]) > ver {
					return false, fmt.Errorf("version %d: %s reads %v", ver, k, val)
				}
				return true, nil
			})
			if err == nil && n != keysN {
				err = fmt.Errorf("version %d: %d keys, want %d", ver, n, keysN)
			}
			if err != nil {
				seen <- err
				return
			}
			for i := range keysN {
				if val, err := r.Get(key(i)); err != nil || len(val) != 1 || int(val[0]) > ver {
					seen <- fmt.Errorf("version %d: get %s: %v %v", ver, key(i), val, err)
					return
				}
			}
		}
	}()
	for v := 2; v <= versions; v++ {
		write(v)
		if _, _, err := s.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	if err := <-seen; err != nil {
		t.Fatal(err)
	}
}

// Values Iterate hands out uncopied (Reader's contract) stay what they were read as while
// the store goes on: later steps of the scan, writes over the same keys and commits, on a
// reopened on-disk store whose leaves come from the database.
func TestIteratedValuesStayValid(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	value := func(i, gen int) []byte { return bytes.Repeat([]byte{byte(i), byte(gen)}, 100) }
	for i := range 64 {
		_ = s.Working().Set([]byte{'k', byte(i)}, value(i, 0))
	}
	if _, _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, _ := s.Committed(0)
	gen := 0 // the generation of the values the next scan reads
	for _, kv := range []Reader{r, s.Working()} {
		var kept [][]byte
		if err := kv.Iterate([]byte("k"), func(_, v []byte) (bool, error) {
			kept = append(kept, v)
			return true, nil
		}); err != nil {
			t.Fatal(err)
		}
		for i := range 64 {
			_ = s.Working().Set([]byte{'k', byte(i)}, value(i, gen+1))
		}
		if _, _, err := s.Commit(); err != nil {
			t.Fatal(err)
		}
		if len(kept) != 64 {
			t.Fatalf("the scan read %d values, want 64", len(kept))
		}
		for i, v := range kept {
			if !bytes.Equal(v, value(i, gen)) {
				t.Fatalf("the value of key %d read as %x became %x", i, value(i, gen)[:4], v[:4])
			}
		}
		gen++
	}
}
