package app

import "sync"

// sigCache remembers the hashes of transactions whose signatures this node has already
// verified in CheckTx, so that executing them in a block does not verify them again. A
// hash covers the whole transaction bytes, signature included, so the same hash means the
// same verification result. The cache is bounded: the oldest entries go first.
type sigCache struct {
	mu    sync.Mutex
	set   map[[32]byte]struct{}
	order [][32]byte // ring of insertion order
	next  int
}

func newSigCache(capacity int) *sigCache {
	return &sigCache{set: make(map[[32]byte]struct{}, capacity), order: make([][32]byte, capacity)}
}

func (c *sigCache) add(h [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.set[h]; ok {
		return
	}
	old := c.order[c.next]
	if _, ok := c.set[old]; ok && old != ([32]byte{}) {
		delete(c.set, old)
	}
	c.order[c.next] = h
	c.next = (c.next + 1) % len(c.order)
	c.set[h] = struct{}{}
}

// take reports whether h was verified, and forgets it (a transaction executes once).
func (c *sigCache) take(h [32]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.set[h]; !ok {
		return false
	}
	delete(c.set, h)
	return true
}
