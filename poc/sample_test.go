package poc

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

func TestSampleIndices(t *testing.T) {
	v, b, p := h("validator"), h("block"), h("participant")
	for _, c := range []struct {
		count uint64
		n     int
		want  int
	}{{0, 200, 0}, {5, 0, 0}, {5, -1, 0}, {1, 200, 1}, {200, 200, 200}, {150, 200, 150}, {201, 200, 200}, {1 << 40, 200, 200}, {1<<64 - 1, 3, 3}} {
		got := SampleIndices(v, b, p, c.count, c.n)
		if len(got) != c.want {
			t.Fatalf("count %d n %d: %d indices", c.count, c.n, len(got))
		}
		seen := map[uint64]bool{}
		for _, i := range got {
			if i >= c.count || seen[i] {
				t.Fatalf("count %d n %d: index %d out of range or repeated", c.count, c.n, i)
			}
			seen[i] = true
		}
		if uint64(c.n) >= c.count && !slices.IsSorted(got) {
			t.Fatalf("count %d n %d: not every index in order", c.count, c.n)
		}
		if !reflect.DeepEqual(got, SampleIndices(v, b, p, c.count, c.n)) {
			t.Fatal("not deterministic")
		}
	}
	// Every input changes the sample.
	ref := SampleIndices(v, b, p, 1000, 10)
	for _, other := range [][]uint64{
		SampleIndices(h("other"), b, p, 1000, 10),
		SampleIndices(v, h("other"), p, 1000, 10),
		SampleIndices(v, b, h("other"), 1000, 10),
		SampleIndices(v, b, p, 1001, 10),
	} {
		if reflect.DeepEqual(ref, other) {
			t.Fatal("a different input gave the same sample")
		}
	}
	// The rule by hand: ChaCha8 keyed by the stated hash, rejection, duplicates redrawn.
	key := append([]byte("tessera/poc/sample/v1"), v[:]...)
	key = append(append(key, b[:]...), p[:]...)
	key = binary.LittleEndian.AppendUint64(key, 1000)
	s := rand.NewChaCha8(sha256.Sum256(key))
	var want []uint64
	n1000 := uint64(1000)
	limit := -(-n1000 % n1000)
	for len(want) < 10 {
		u := s.Uint64()
		if u >= limit || slices.Contains(want, u%1000) {
			continue
		}
		want = append(want, u%1000)
	}
	if !reflect.DeepEqual(ref, want) {
		t.Fatalf("sample %v, the rule gives %v", ref, want)
	}
	// A small sample is uniform: over 500 validators drawing 200 of 1000, each index is
	// drawn about 100 times.
	counts := make([]int, 1000)
	for k := 0; k < 500; k++ {
		var vk [32]byte
		binary.LittleEndian.PutUint64(vk[:], uint64(k))
		for _, i := range SampleIndices(vk, b, p, 1000, 200) {
			counts[i]++
		}
	}
	for i, c := range counts {
		if c < 100-45 || c > 100+45 {
			t.Errorf("index %d drawn %d times by 500 validators, want 100 ± 45", i, c)
		}
	}
}

func TestLocateAndTotal(t *testing.T) {
	counts := []uint64{3, 0, 5, 1}
	if tot, err := Total(counts); err != nil || tot != 9 {
		t.Fatalf("Total = %d, %v", tot, err)
	}
	for _, c := range []struct {
		g          uint64
		node       int
		leaf       uint64
		shouldFail bool
	}{{0, 0, 0, false}, {2, 0, 2, false}, {3, 2, 0, false}, {7, 2, 4, false}, {8, 3, 0, false}, {9, 0, 0, true}} {
		node, leaf, err := Locate(counts, c.g)
		if (err != nil) != c.shouldFail || node != c.node || leaf != c.leaf {
			t.Errorf("Locate(%d) = %d, %d, %v", c.g, node, leaf, err)
		}
	}
	if _, err := Total([]uint64{1 << 63, 1 << 63}); err == nil {
		t.Error("Total did not overflow")
	}
}
