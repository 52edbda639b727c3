package store

import (
	"strings"

	"github.com/google/btree"
)

// Cache buffers writes over a parent. Reads see the buffered writes first. Write flushes
// them to a KV in ascending key order; dropping the Cache discards them. Caches nest: a
// Cache is itself a KV and can be the parent of another.
//
// The buffered keys are also kept in order (a B-tree), so that iterating a prefix costs
// the keys under it rather than a scan and sort of every buffered write: an epoch that
// writes thousands of keys and iterates a small prefix per validator depends on it.
type Cache struct {
	parent Reader
	writes map[string][]byte     // a nil value marks a deletion
	order  *btree.BTreeG[string] // the keys of writes; made at the first write
}

func newOrder() *btree.BTreeG[string] {
	return btree.NewG(32, func(a, b string) bool { return a < b })
}

// NewCache returns an empty write buffer over parent.
func NewCache(parent Reader) *Cache {
	return &Cache{parent: parent, writes: make(map[string][]byte)}
}

// Get returns the buffered value or the parent's.
func (c *Cache) Get(key []byte) ([]byte, error) {
	if v, ok := c.writes[string(key)]; ok {
		return v, nil
	}
	return c.parent.Get(key)
}

// put buffers value (nil: a deletion) under key.
func (c *Cache) put(key []byte, value []byte) {
	k := string(key)
	if _, ok := c.writes[k]; !ok {
		if c.order == nil {
			c.order = newOrder()
		}
		c.order.ReplaceOrInsert(k)
	}
	c.writes[k] = value
}

// Set buffers a write.
func (c *Cache) Set(key, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	c.put(key, value)
	return nil
}

// Delete buffers a deletion.
func (c *Cache) Delete(key []byte) error {
	c.put(key, nil)
	return nil
}

// Clone returns an independent copy of the buffer over the same parent.
func (c *Cache) Clone() *Cache {
	n := &Cache{parent: c.parent, writes: make(map[string][]byte, len(c.writes))}
	if c.order != nil {
		n.order = c.order.Clone()
	}
	for k, v := range c.writes {
		n.writes[k] = v
	}
	return n
}

// Len is the number of buffered writes and deletions.
func (c *Cache) Len() int { return len(c.writes) }

// Reset drops every buffered write and sets a new parent.
func (c *Cache) Reset(parent Reader) {
	c.parent = parent
	clear(c.writes)
	c.order = nil
}

// sortedKeys returns the buffered keys under prefix in ascending order (a copy, so the
// buffer may change while they are used).
func (c *Cache) sortedKeys(prefix []byte) []string {
	var keys []string
	if c.order == nil {
		return nil
	}
	p := string(prefix)
	c.order.AscendGreaterOrEqual(p, func(k string) bool {
		if !strings.HasPrefix(k, p) {
			return false
		}
		keys = append(keys, k)
		return true
	})
	return keys
}

// Write flushes the buffered writes into dst in ascending key order and empties the
// buffer.
func (c *Cache) Write(dst KV) error {
	if c.order == nil {
		return nil
	}
	var err error
	c.order.Ascend(func(k string) bool {
		if v := c.writes[k]; v == nil {
			err = dst.Delete([]byte(k))
		} else {
			err = dst.Set([]byte(k), v)
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	clear(c.writes)
	c.order = nil
	return nil
}

// Iterate merges the buffered writes with the parent's keys under prefix, in ascending
// order; buffered values win and buffered deletions hide the parent's keys.
func (c *Cache) Iterate(prefix []byte, fn func(key, value []byte) (bool, error)) error {
	mine := c.sortedKeys(prefix)
	i := 0
	stopped := false
	call := func(k, v []byte) (bool, error) {
		more, err := fn(k, v)
		if !more {
			stopped = true
		}
		return more, err
	}
	// emitMine sends the buffered keys that sort before limit (all of them for nil).
	emitMine := func(limit []byte) error {
		for i < len(mine) && (limit == nil || mine[i] < string(limit)) {
			k := mine[i]
			i++
			if v := c.writes[k]; v != nil {
				if _, err := call([]byte(k), v); err != nil || stopped {
					return err
				}
			}
		}
		return nil
	}
	err := c.parent.Iterate(prefix, func(k, v []byte) (bool, error) {
		if err := emitMine(k); err != nil || stopped {
			return false, err
		}
		if _, shadowed := c.writes[string(k)]; shadowed {
			if i < len(mine) && mine[i] == string(k) {
				if nv := c.writes[mine[i]]; nv != nil {
					i++
					return call(k, nv)
				}
				i++
			}
			return true, nil
		}
		return call(k, v)
	})
	if err != nil || stopped {
		return err
	}
	return emitMine(nil)
}
