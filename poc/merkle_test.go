package poc

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

func increasing(n int, step uint64) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i)*step + 3
	}
	return out
}

// rfc6962 builds the top node of leaves the way RFC 6962 §2.1 defines the tree: a
// range of n > 1 leaves splits at k, the largest power of two below n.
func rfc6962(t *testing.T, leaves []Node) Node {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := 1 << (bits.Len(uint(len(leaves)-1)) - 1)
	n, err := Join(rfc6962(t, leaves[:k]), rfc6962(t, leaves[k:]))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTreeIsRFC6962Shape(t *testing.T) {
	for n := 1; n <= 70; n++ {
		nonces := increasing(n, 7)
		tr, err := NewTree(nonces)
		if err != nil {
			t.Fatal(err)
		}
		leaves := make([]Node, n)
		for i, x := range nonces {
			leaves[i] = Leaf(x)
		}
		top := rfc6962(t, leaves)
		if c := tr.Commitment(); c.Count != uint64(n) || c.Root != rootOf(uint64(n), top.Hash) {
			t.Fatalf("n=%d: the tree's root differs from RFC 6962's shape", n)
		}
		if top.Min != nonces[0] || top.Max != nonces[n-1] {
			t.Fatalf("n=%d: top spans %d..%d", n, top.Min, top.Max)
		}
	}
}

// TestCommitmentVector pins the encoding: the root of {1, 2, 3} and of no nonces.
func TestCommitmentVector(t *testing.T) {
	le := func(v ...uint64) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint64(b, x)
		}
		return b
	}
	leaf := func(n uint64) []byte {
		s := sha256.Sum256(append([]byte("tessera/poc/leaf/v1"), le(n)...))
		return s[:]
	}
	node := func(l []byte, lmin, lmax uint64, r []byte, rmin, rmax uint64) []byte {
		b := append([]byte("tessera/poc/node/v1"), l...)
		b = append(append(append(b, le(lmin, lmax)...), r...), le(rmin, rmax)...)
		s := sha256.Sum256(b)
		return s[:]
	}
	top := node(node(leaf(1), 1, 1, leaf(2), 2, 2), 1, 2, leaf(3), 3, 3)
	want := sha256.Sum256(append(append([]byte("tessera/poc/root/v1"), le(3)...), top...))
	tr, _ := NewTree([]uint64{1, 2, 3})
	if c := tr.Commitment(); c.Root != want || c.Count != 3 {
		t.Fatalf("root of {1,2,3}: %x, want %x", c.Root, want)
	}
	empty, _ := NewTree(nil)
	wantEmpty := sha256.Sum256(append(append([]byte("tessera/poc/root/v1"), le(0)...), make([]byte, 32)...))
	if c := empty.Commitment(); c.Root != wantEmpty || c.Count != 0 {
		t.Fatalf("empty root %x", c.Root)
	}
	// The same, as a constant another implementation can check against.
	if got := hex.EncodeToString(want[:]); got != "38e5a4d00e5e0b018f2f57bd263f553cbc773eda15b7d010c89132aff6aab5e1" {
		t.Fatalf("root of {1,2,3} = %s", got)
	}
}

func TestProofs(t *testing.T) {
	for n := 1; n <= 70; n++ {
		nonces := increasing(n, 1<<40+1)
		tr, _ := NewTree(nonces)
		c := tr.Commitment()
		for i := uint64(0); i < uint64(n); i++ {
			p, err := tr.Proof(i)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Verify(i, p); err != nil {
				t.Fatalf("n=%d leaf %d: %v", n, i, err)
			}
			if len(p.Path) > bits.Len(uint(n-1)) {
				t.Fatalf("n=%d leaf %d: path of %d", n, i, len(p.Path))
			}
			mustFail := func(what string, c Commitment, i uint64, p Proof) {
				t.Helper()
				if err := c.Verify(i, p); err == nil || !errors.Is(err, ErrProof) {
					t.Fatalf("n=%d leaf %d, %s: %v", n, i, what, err)
				}
			}
			mustFail("another nonce", c, i, Proof{Nonce: p.Nonce + 1, Path: p.Path})
			mustFail("index out of range", c, uint64(n), p)
			mustFail("count+1", Commitment{Root: c.Root, Count: c.Count + 1}, i, p)
			mustFail("another root", Commitment{Root: sha256.Sum256(c.Root[:]), Count: c.Count}, i, p)
			if n > 1 {
				mustFail("another index", c, (i+1)%uint64(n), p)
				mustFail("path too short", c, i, Proof{Nonce: p.Nonce, Path: p.Path[:len(p.Path)-1]})
			}
			mustFail("path too long", c, i, Proof{Nonce: p.Nonce, Path: append(append([]Node{}, p.Path...), Leaf(1))})
			for k := range p.Path {
				for f := 0; f < 3; f++ {
					q := Proof{Nonce: p.Nonce, Path: append([]Node{}, p.Path...)}
					switch f {
					case 0:
						q.Path[k].Hash[5] ^= 1
					case 1:
						q.Path[k].Min--
					case 2:
						q.Path[k].Max++
					}
					mustFail("a changed sibling", c, i, q)
				}
			}
		}
		if _, err := tr.Proof(uint64(n)); err == nil {
			t.Fatalf("n=%d: a proof of leaf %d", n, n)
		}
	}
}

func TestNewTreeRefuses(t *testing.T) {
	for _, ns := range [][]uint64{{1, 1}, {2, 1}, {1, 2, 3, 3}, {5, 6, 4}} {
		if _, err := NewTree(ns); err == nil || !errors.Is(err, ErrProof) {
			t.Errorf("NewTree(%v): %v", ns, err)
		}
	}
}

// rawTree is a dishonest participant's tree: any leaves, joined without the order
// check, in the same shape; stated gives the Min and Max a node is said to have in its
// parent's hash (and so in the proofs where it is a sibling), given what it has.
func rawTree(leaves []uint64, stated func(level, i int, n Node) Node) (Commitment, func(i uint64) Proof) {
	if stated == nil {
		stated = func(_, _ int, n Node) Node { return n }
	}
	level := make([]Node, len(leaves))
	for i, n := range leaves {
		level[i] = Leaf(n)
	}
	var said [][]Node // said[j][i]: level j's node i as its parent's hash states it
	for j := 0; len(level) > 1; j++ {
		s := make([]Node, len(level))
		for i, n := range level {
			s[i] = stated(j, i, n)
		}
		said = append(said, s)
		next := make([]Node, (len(level)+1)/2)
		for i := range next {
			if 2*i+1 == len(level) {
				next[i] = level[2*i]
				continue
			}
			l, r := s[2*i], s[2*i+1]
			h := newHasher(domainNode).bytes(l.Hash[:]).u64(l.Min).u64(l.Max).bytes(r.Hash[:]).u64(r.Min).u64(r.Max)
			lo, hi := level[2*i], level[2*i+1]
			next[i] = Node{Hash: h.sum(), Min: min(lo.Min, hi.Min), Max: max(lo.Max, hi.Max)}
		}
		level = next
	}
	c := Commitment{Root: rootOf(uint64(len(leaves)), level[0].Hash), Count: uint64(len(leaves))}
	return c, func(i uint64) Proof {
		p := Proof{Nonce: leaves[i]}
		for _, lv := range said {
			if s := i ^ 1; s < uint64(len(lv)) {
				p.Path = append(p.Path, lv[s])
			}
			i >>= 1
		}
		return p
	}
}

// TestDuplicatesAreCaught: a participant that commits the same nonces several times
// (to multiply its count) or out of order has proofs that fail, and the leaves whose
// proofs pass are strictly increasing, so they are distinct.
func TestDuplicatesAreCaught(t *testing.T) {
	hits := increasing(40, 11)
	for _, tc := range []struct {
		name   string
		leaves []uint64
		minBad int
	}{
		{"the list twice", append(append([]uint64{}, hits...), hits...), 40},
		{"each nonce twice", func() []uint64 {
			var out []uint64
			for _, h := range hits {
				out = append(out, h, h)
			}
			return out
		}(), 40},
		{"one duplicate", append(append([]uint64{}, hits[:20]...), hits[19:]...), 1},
		{"two swapped", func() []uint64 {
			out := append([]uint64{}, hits...)
			out[7], out[8] = out[8], out[7]
			return out
		}(), 1},
	} {
		c, proof := rawTree(tc.leaves, nil)
		var passed []uint64
		bad := 0
		for i := range tc.leaves {
			if c.Verify(uint64(i), proof(uint64(i))) == nil {
				passed = append(passed, tc.leaves[i])
			} else {
				bad++
			}
		}
		for i := 1; i < len(passed); i++ {
			if passed[i] <= passed[i-1] {
				t.Fatalf("%s: passing leaves %v are not strictly increasing", tc.name, passed)
			}
		}
		if bad < tc.minBad {
			t.Errorf("%s: only %d of %d proofs fail, want at least %d", tc.name, bad, len(tc.leaves), tc.minBad)
		}
		t.Logf("%s: %d of %d proofs fail", tc.name, bad, len(tc.leaves))
	}
	// An honest tree built the same way passes everywhere.
	c, proof := rawTree(hits, nil)
	for i := range hits {
		if err := c.Verify(uint64(i), proof(uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLyingTreesYieldDistinctLeaves: however a dishonest tree states its nodes' ranges
// (here at random, as a lie or the truth), the leaves whose proofs pass are strictly
// increasing in index: the soundness argument of Commitment.Verify, tried on 2,000
// random trees with duplicates.
func TestLyingTreesYieldDistinctLeaves(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	most := 0.0
	for trial := 0; trial < 2000; trial++ {
		n := 2 + r.IntN(40)
		leaves := make([]uint64, n)
		for i := range leaves {
			leaves[i] = uint64(r.IntN(30))
		}
		if r.IntN(2) == 0 {
			slices.Sort(leaves) // sorted with duplicates
		}
		c, proof := rawTree(leaves, func(_, _ int, nd Node) Node {
			switch r.IntN(4) {
			case 0:
				nd.Min = uint64(r.IntN(32))
			case 1:
				nd.Max = uint64(r.IntN(32))
			}
			return nd
		})
		var passed []uint64
		for i := range leaves {
			if c.Verify(uint64(i), proof(uint64(i))) == nil {
				passed = append(passed, leaves[i])
			}
		}
		for i := 1; i < len(passed); i++ {
			if passed[i] <= passed[i-1] {
				t.Fatalf("trial %d: leaves %v, passing %v are not strictly increasing", trial, leaves, passed)
			}
		}
		most = max(most, float64(len(passed))/float64(n))
	}
	t.Logf("at most %.0f%% of a lying tree's leaves passed", 100*most)
}

func TestProofEncoding(t *testing.T) {
	tr, _ := NewTree(increasing(45, 3))
	for i := uint64(0); i < 45; i++ {
		p, _ := tr.Proof(i)
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 9+48*len(p.Path) {
			t.Fatalf("%d bytes for %d nodes", len(b), len(p.Path))
		}
		var q Proof
		if err := q.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip: %v, %+v != %+v", err, q, p)
		}
		for _, bad := range [][]byte{b[:len(b)-1], append(append([]byte{}, b...), 0), b[:8]} {
			if err := q.UnmarshalBinary(bad); err == nil {
				t.Fatalf("decoded %d bytes", len(bad))
			}
		}
	}
	long := make([]byte, 9)
	long[8] = MaxPath + 1
	if err := new(Proof).UnmarshalBinary(long); err == nil {
		t.Fatal("decoded a path longer than MaxPath")
	}
	if _, err := (Proof{Path: make([]Node, MaxPath+1)}).MarshalBinary(); err == nil {
		t.Fatal("encoded a path longer than MaxPath")
	}
}

// FuzzVerify: whatever bytes a participant serves for whatever index, Verify never
// panics, and a proof it accepts is the true one: the committed nonce at that index
// (its path may differ only where it is not checked, which is nowhere).
func FuzzVerify(f *testing.F) {
	nonces := increasing(37, 1<<33+7) // an odd count: carried-up nodes on several levels
	tr, _ := NewTree(nonces)
	c := tr.Commitment()
	for _, i := range []uint64{0, 1, 17, 35, 36} {
		p, _ := tr.Proof(i)
		b, _ := p.MarshalBinary()
		f.Add(b, i, uint16(0), byte(0))
		f.Add(b, i, uint16(100), byte(1))
	}
	f.Add([]byte{}, uint64(0), uint16(0), byte(0))
	f.Fuzz(func(t *testing.T, b []byte, index uint64, at uint16, flip byte) {
		if len(b) > 0 && flip != 0 {
			b = bytes.Clone(b)
			b[int(at)%len(b)] ^= flip
		}
		var p Proof
		if p.UnmarshalBinary(b) != nil {
			return
		}
		if err := c.Verify(index, p); err != nil {
			if !errors.Is(err, ErrProof) {
				t.Fatalf("an error that is not ErrProof: %v", err)
			}
			return
		}
		want, err := tr.Proof(index)
		if err != nil || !reflect.DeepEqual(p, want) {
			t.Fatalf("Verify accepted a proof of leaf %d that is not the tree's: %+v", index, p)
		}
	})
}
