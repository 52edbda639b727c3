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
