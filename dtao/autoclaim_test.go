package dtao

import (
	"bytes"
	"slices"
	"testing"
)

func TestAutoClaimIndices(t *testing.T) {
	seq := make([]byte, 32) // words 0x0001020304050607, 0x08090a0b0c0d0e0f, ...
	for i := range seq {
		seq[i] = byte(i)
	}
	w := []uint64{0x0001020304050607, 0x08090a0b0c0d0e0f, 0x1011121314151617, 0x18191a1b1c1d1e1f}
	// The rule by hand: last = w0; idx = (last + w[i%4]) % n for i = 0..k-1.
	byHand := func(n uint64) []uint64 {
		last, out := w[0], []uint64{}
		for i := 0; i < 5; i++ {
			last = (last + w[i%4]) % n
			out = append(out, last)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	for _, c := range []struct {
		name string
		hash []byte
		k, n uint64
		want []uint64
	}{
		{"no coldkeys", seq, 5, 0, nil},
		{"one coldkey", seq, 5, 1, []uint64{0}},
		{"a zero hash picks 0 only", make([]byte, 32), 5, 1000, []uint64{0}},
		{"no hash (tests, CheckTx) reads as zero", nil, 5, 1000, []uint64{0}},
		{"n = 1000", seq, 5, 1000, byHand(1000)},
		{"n = 7", seq, 5, 7, byHand(7)},
		{"n = 2^40+3", seq, 5, 1<<40 + 3, byHand(1<<40 + 3)},
		// w0 = 2^64−1: last + w0 saturates at 2^64−1, so every pick is (2^64−1) mod n
		// until last becomes small; 2^64−1 = 5·3·17·257·641·65537·6700417, so mod 10 it is 5.
		{"saturating add", bytes.Repeat([]byte{0xff}, 32), 5, 10, []uint64{5}},
		{"k = 0", seq, 0, 10, []uint64{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := AutoClaimIndices(c.hash, c.k, c.n)
			if !slices.Equal(got, c.want) || (c.want != nil && got == nil) {
				t.Fatalf("AutoClaimIndices = %v, want %v", got, c.want)
			}
			for _, i := range got {
				if i >= c.n {
					t.Fatalf("index %d out of [0, %d)", i, c.n)
				}
			}
		})
	}
}
