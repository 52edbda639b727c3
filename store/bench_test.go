package store

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
)

// BenchmarkCommit measures one block that writes n fresh keys (32-byte keys, 64-byte
// values, as account records are) through a write buffer into the IAVL tree on goleveldb:
// the sorted flush, the working hash the block returns, and SaveVersion at commit.
func BenchmarkCommit(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("writes=%d", n), func(b *testing.B) {
			value := make([]byte, 64)
			round := 0
			for b.Loop() {
				b.StopTimer()
				s, err := Open(b.TempDir(), Options{})
				if err != nil {
					b.Fatal(err)
				}
				c := NewCache(s.Working())
				for i := 0; i < n; i++ {
					k := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(round*n+i)))
					_ = c.Set(k[:], value)
				}
				round++
				b.StartTimer()
				if err := c.Write(s.Working()); err != nil {
					b.Fatal(err)
				}
				_ = s.WorkingHash()
				if _, _, err := s.Commit(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/commit")
		})
	}
}

// BenchmarkCacheIteratePrefix iterates a prefix of 256 keys in a write buffer that holds
// 20,000 writes, as an epoch does per validator (its nominators) after thousands of stake
// and neuron writes: the cost follows the keys under the prefix, not the whole buffer.
func BenchmarkCacheIteratePrefix(b *testing.B) {
	c := NewCache(OpenMemory().Working())
	value := make([]byte, 8)
	for i := range 20_000 {
		_ = c.Set(binary.BigEndian.AppendUint32([]byte("s/"), uint32(i)), value)
	}
	prefix := binary.BigEndian.AppendUint32([]byte("s/"), 1234)[:5] // keys 1024..1279
	n := 0
	for b.Loop() {
		n = 0
		_ = c.Iterate(prefix, func(_, _ []byte) (bool, error) {
			n++
			return true, nil
		})
	}
	if n != 256 {
		b.Fatalf("the prefix matched %d keys, want 256", n)
	}
}
