package module

import (
	"fmt"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// The typed state helpers every keeper uses: values are stored in the transactions'
// canonical CBOR and read back with tx.UnmarshalState (the chain's own state needs no
// re-encoding check).

// Key builds a store key from a module's prefix and the parts that follow it.
func Key(prefix []byte, parts ...[]byte) []byte {
	n := len(prefix)
	for _, p := range parts {
		n += len(p)
	}
	k := append(make([]byte, 0, n), prefix...)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

// Get decodes the value stored at key into v; it reports false, leaving v as it is,
// when the key is absent.
func Get(r store.Reader, key []byte, v any) (bool, error) {
	b, err := r.Get(key)
	if err != nil || b == nil {
		return false, err
	}
	if err := tx.UnmarshalState(b, v); err != nil {
		return false, fmt.Errorf("decode state at %q: %w", key, err)
	}
	return true, nil
}

// Put stores v at key.
func Put(kv store.KV, key []byte, v any) error {
	b, err := tx.Marshal(v)
	if err != nil {
		return err
	}
	return kv.Set(key, b)
}

// GetUint64 reads a counter; an absent key reads as zero.
func GetUint64(r store.Reader, key []byte) (uint64, error) {
	var v uint64
	_, err := Get(r, key, &v)
	return v, err
}

// PutUint64 stores a counter, zero included.
func PutUint64(kv store.KV, key []byte, v uint64) error { return Put(kv, key, v) }

// PutUint64OrDelete stores a counter and deletes the key at zero, for counters that
// exist only while positive (a stake position): an absent key already reads as zero.
func PutUint64OrDelete(kv store.KV, key []byte, v uint64) error {
	if v == 0 {
		return kv.Delete(key)
	}
	return Put(kv, key, v)
}

// PublicKey checks that a message field holds a public key and returns it; field names
// the field in the error.
func PublicKey(field string, b []byte) (keys.PublicKey, error) {
	if len(b) != keys.PublicKeySize {
		return keys.PublicKey{}, tx.Errorf(tx.CodeInvalidMessage, "%s is %d bytes, want a %d-byte public key", field, len(b), keys.PublicKeySize)
	}
	return keys.PublicKey(b), nil
}

// AddressArg parses a query's address argument (SS58 or 0x-hex) into a public key.
func AddressArg(s string) (keys.PublicKey, error) {
	pub, err := keys.ParsePublicKey(s)
	if err != nil {
		return keys.PublicKey{}, tx.Errorf(tx.CodeInvalidMessage, "%v", err)
	}
	return pub, nil
}

// DeletePrefix deletes every key under prefix. The keys are collected first: the store
// is not changed while it is iterated.
func DeletePrefix(kv store.KV, prefix []byte) error {
	var keys [][]byte
	if err := kv.Iterate(prefix, func(k, _ []byte) (bool, error) {
		keys = append(keys, append([]byte(nil), k...))
		return true, nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := kv.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
