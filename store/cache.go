package store

import (
	"bytes"
	"sort"
)

// Cache buffers writes over a parent. Reads see the buffered writes first. Write flushes
// them to a KV in ascending key order; dropping the Cache discards them. Caches nest: a
// Cache is itself a KV and can be the parent of another.
type Cache struct {
	parent Reader
	writes map[string][]byte // a nil value marks a deletion
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

// Set buffers a write.
func (c *Cache) Set(key, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	c.writes[string(key)] = value
	return nil
}

// Delete buffers a deletion.
func (c *Cache) Delete(key []byte) error {
	c.writes[string(key)] = nil
	return nil
}

// Clone returns an independent copy of the buffer over the same parent.
func (c *Cache) Clone() *Cache {
	n := &Cache{parent: c.parent, writes: make(map[string][]byte, len(c.writes))}
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
}

func (c *Cache) sortedKeys(prefix []byte) []string {
	keys := make([]string, 0, len(c.writes))
	for k := range c.writes {
		if bytes.HasPrefix([]byte(k), prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Write flushes the buffered writes into dst in ascending key order and empties the
// buffer.
func (c *Cache) Write(dst KV) error {
	for _, k := range c.sortedKeys(nil) {
		v := c.writes[k]
		var err error
		if v == nil {
			err = dst.Delete([]byte(k))
		} else {
			err = dst.Set([]byte(k), v)
		}
		if err != nil {
			return err
		}
	}
	clear(c.writes)
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
