package poc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrProof is wrapped by every error about a proof or a tree that does not hold.
var ErrProof = errors.New("poc: bad proof")

// Node is a node of a commitment tree: its hash and the smallest and largest nonce in
// the leaves beneath it.
type Node struct {
	Hash     [32]byte
	Min, Max uint64
}

// Leaf is the node of one nonce:
//
//	Hash = SHA-256("tessera/poc/leaf/v1" ‖ nonce (8 bytes LE)), Min = Max = nonce
func Leaf(nonce uint64) Node {
	return Node{Hash: newHasher(domainLeaf).u64(nonce).sum(), Min: nonce, Max: nonce}
}

// Join is the parent of two adjacent nodes, left before right:
//
//	Hash = SHA-256("tessera/poc/node/v1" ‖ l.Hash ‖ l.Min ‖ l.Max ‖ r.Hash ‖ r.Min ‖ r.Max)
//	Min = l.Min, Max = r.Max
//
// (the integers 8 bytes LE). It fails unless l.Max < r.Min: every nonce on the left is
// below every nonce on the right.
func Join(l, r Node) (Node, error) {
	if l.Max >= r.Min {
		return Node{}, fmt.Errorf("%w: left subtree's largest nonce %d is not below the right's smallest %d", ErrProof, l.Max, r.Min)
	}
	h := newHasher(domainNode).bytes(l.Hash[:]).u64(l.Min).u64(l.Max).bytes(r.Hash[:]).u64(r.Min).u64(r.Max)
	return Node{Hash: h.sum(), Min: l.Min, Max: r.Max}, nil
}

// Commitment is what an MLNode's participant puts on chain for one PoC stage: the
// root of the tree of its valid nonces and how many there are.
type Commitment struct {
	Root  [32]byte
	Count uint64
}

// rootOf is SHA-256("tessera/poc/root/v1" ‖ count (8 bytes LE) ‖ top.Hash), where top
// is the tree's top node (32 zero bytes for an empty tree).
func rootOf(count uint64, top [32]byte) [32]byte {
	return newHasher(domainRoot).u64(count).bytes(top[:]).sum()
}

// Tree is the commitment tree of an MLNode's valid nonces, held by the participant,
// which serves proofs from it. Level 0 is the leaves in nonce order; level j+1 pairs
// level j's nodes (0,1), (2,3), …, and an unpaired last node is carried up unchanged
// (never duplicated, never hashed alone). This is exactly RFC 6962's tree shape: a
// range of n > 1 leaves splits into the largest power of two below n on the left and
// the rest on the right.
type Tree struct {
	levels [][]Node
}

// NewTree builds the tree of nonces, which must be strictly increasing (sort and
// de-duplicate first): the order is what lets a sampled proof show that the leaves
// are distinct.
func NewTree(nonces []uint64) (*Tree, error) {
	for i := 1; i < len(nonces); i++ {
		if nonces[i] <= nonces[i-1] {
			return nil, fmt.Errorf("%w: nonce %d (index %d) is not above nonce %d before it; sort and de-duplicate the nonces", ErrProof, nonces[i], i, nonces[i-1])
		}
	}
	level := make([]Node, len(nonces))
	for i, n := range nonces {
		level[i] = Leaf(n)
	}
	t := &Tree{levels: [][]Node{level}}
	for len(level) > 1 {
		next := make([]Node, (len(level)+1)/2)
		for i := range next {
			if 2*i+1 == len(level) {
				next[i] = level[2*i]
				continue
			}
			var err error
			if next[i], err = Join(level[2*i], level[2*i+1]); err != nil {
				panic(err) // the leaves are strictly increasing, so every join holds
			}
		}
		t.levels = append(t.levels, next)
		level = next
	}
	return t, nil
}

// Count is the number of leaves.
func (t *Tree) Count() uint64 { return uint64(len(t.levels[0])) }

// Nonce is leaf i's nonce.
func (t *Tree) Nonce(i uint64) uint64 { return t.levels[0][i].Min }

// Commitment is the tree's root and count.
func (t *Tree) Commitment() Commitment {
	n := t.Count()
	if n == 0 {
		return Commitment{Root: rootOf(0, [32]byte{})}
	}
	return Commitment{Root: rootOf(n, t.levels[len(t.levels)-1][0].Hash), Count: n}
}

// Proof is what a participant serves for a sampled leaf: the leaf's nonce and the
// sibling nodes on the way from the leaf to the top, lowest first (levels where the
// path's node is carried up have no sibling and no entry).
type Proof struct {
	Nonce uint64
	Path  []Node
}

// Proof is leaf i's proof.
func (t *Tree) Proof(i uint64) (Proof, error) {
	if i >= t.Count() {
		return Proof{}, fmt.Errorf("%w: leaf %d of a tree of %d", ErrProof, i, t.Count())
	}
	p := Proof{Nonce: t.Nonce(i)}
	for _, level := range t.levels[:len(t.levels)-1] {
		if s := i ^ 1; s < uint64(len(level)) {
			p.Path = append(p.Path, level[s])
		}
		i >>= 1
	}
	return p, nil
}

// Verify checks that p proves leaf index of c: folding p.Nonce's Leaf with the path
// from index up (a sibling joins on the left when the path's position at that level
// is odd, on the right when even; a level of size s at an even last position s−1 has
// no sibling), every Join holds (each sibling's nonces lie on the correct side), the
// path has exactly the expected length, and rootOf(Count, top) equals c.Root.
//
// What a passing proof shows: the leaf's nonce is in the committed tree at index, and
// no node on its path joins overlapping ranges. If the proofs of a fraction g of the
// leaves would pass, those leaves' nonces are strictly increasing in index, so at
// least g·Count of the committed nonces are distinct; a sample of indices therefore
// tests distinctness and validity together.
func (c Commitment) Verify(index uint64, p Proof) error {
	if index >= c.Count {
		return fmt.Errorf("%w: index %d is outside the commitment's %d leaves", ErrProof, index, c.Count)
	}
	cur := Leaf(p.Nonce)
	used := 0
	var err error
	for i, size := index, c.Count; size > 1; i, size = i>>1, (size+1)/2 {
		if i^1 >= size {
			continue // the last node of an odd level: carried up
		}
		if used == len(p.Path) {
			return fmt.Errorf("%w: the path has %d nodes, fewer than leaf %d of %d needs", ErrProof, len(p.Path), index, c.Count)
		}
		sib := p.Path[used]
		used++
		if i&1 == 0 {
			cur, err = Join(cur, sib)
		} else {
			cur, err = Join(sib, cur)
		}
		if err != nil {
			return err
		}
	}
	if used != len(p.Path) {
		return fmt.Errorf("%w: the path has %d nodes, leaf %d of %d needs %d", ErrProof, len(p.Path), index, c.Count, used)
	}
	if rootOf(c.Count, cur.Hash) != c.Root {
		return fmt.Errorf("%w: the path does not lead to the commitment's root", ErrProof)
	}
	return nil
}

// MaxPath is the longest path a proof can have (a tree of 2^64 leaves).
const MaxPath = 64

// MarshalBinary encodes a proof: the nonce (8 bytes LE), the path's length (1 byte),
// then each node as Hash (32 bytes), Min and Max (8 bytes LE each).
func (p Proof) MarshalBinary() ([]byte, error) {
	if len(p.Path) > MaxPath {
		return nil, fmt.Errorf("%w: a path of %d nodes, more than %d", ErrProof, len(p.Path), MaxPath)
	}
	b := make([]byte, 0, 9+48*len(p.Path))
	b = binary.LittleEndian.AppendUint64(b, p.Nonce)
	b = append(b, byte(len(p.Path)))
	for _, n := range p.Path {
		b = append(b, n.Hash[:]...)
		b = binary.LittleEndian.AppendUint64(b, n.Min)
		b = binary.LittleEndian.AppendUint64(b, n.Max)
	}
	return b, nil
}

// UnmarshalBinary decodes MarshalBinary's encoding; anything but exactly that many
// bytes is refused.
func (p *Proof) UnmarshalBinary(b []byte) error {
	if len(b) < 9 {
		return fmt.Errorf("%w: %d bytes, fewer than the 9 of an empty path", ErrProof, len(b))
	}
	n := int(b[8])
	if n > MaxPath {
		return fmt.Errorf("%w: a path of %d nodes, more than %d", ErrProof, n, MaxPath)
	}
	if len(b) != 9+48*n {
		return fmt.Errorf("%w: %d bytes for a path of %d nodes, want %d", ErrProof, len(b), n, 9+48*n)
	}
	q := Proof{Nonce: binary.LittleEndian.Uint64(b), Path: make([]Node, n)}
	for i := range q.Path {
		o := 9 + 48*i
		copy(q.Path[i].Hash[:], b[o:o+32])
		q.Path[i].Min = binary.LittleEndian.Uint64(b[o+32:])
		q.Path[i].Max = binary.LittleEndian.Uint64(b[o+40:])
	}
	*p = q
	return nil
}
