package store

// Reader reads keys. A missing key reads as a nil value and no error; an error means the
// storage itself failed.
//
// Contract: a value read (Get's, or the one Iterate hands fn) is the store's own bytes,
// not a copy — a stored value is never written in place, so it stays valid for as long
// as it is held, but the reader must not write into it either: decode it, or copy it to
// change it. A key Iterate hands fn is the caller's to keep or change.
type Reader interface {
	Get(key []byte) ([]byte, error)
	// Iterate calls fn for every key with the prefix, in ascending key order, until fn
	// returns false or an error.
	Iterate(prefix []byte, fn func(key, value []byte) (bool, error)) error
}

// KV reads and writes keys.
type KV interface {
	Reader
	Set(key, value []byte) error
	Delete(key []byte) error
}

// PrefixEnd returns the smallest key greater than every key with the prefix, or nil when
// no such key exists (the prefix is all 0xff).
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
