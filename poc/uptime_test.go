package poc

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

func un(model string, tp uint64) UptimeNode {
	return UptimeNode{ID: model, Model: model, Throughput: tp}
}

const P, Q = PrePoCSlot, PoCSlot

func TestSelectUptime(t *testing.T) {
	bh := h("pre-poc block")
	for _, c := range []struct {
		name    string
		members []UptimeMember
		models  []ModelThroughput
		max     uint32
		want    [][]Slot
	}{
		{"nothing", nil, []ModelThroughput{{"A", 100}}, 1, [][]Slot{}},
		{"nodes in the order added until half is covered", []UptimeMember{{10, []UptimeNode{un("A", 30), un("A", 30), un("A", 40)}}},
			[]ModelThroughput{{"A", 100}}, 1, [][]Slot{{Q, Q, P}}},
		{"exactly half is enough", []UptimeMember{{10, []UptimeNode{un("A", 50), un("A", 50)}}},
			[]ModelThroughput{{"A", 100}}, 1, [][]Slot{{Q, P}}},
		{"an odd total needs its upper half", []UptimeMember{{10, []UptimeNode{un("A", 50), un("A", 1), un("A", 50)}}},
			[]ModelThroughput{{"A", 101}}, 1, [][]Slot{{Q, Q, P}}},
		{"ineligible nodes are skipped", []UptimeMember{{10, []UptimeNode{
			un("B", 100),
			{Model: "A", Throughput: 100, PendingChange: true},
			{Model: "A", Throughput: 100, Preserved: 1},
			{Model: "A", Throughput: 0},
			un("A", 60), un("A", 60)}}},
			[]ModelThroughput{{"A", 100}}, 1, [][]Slot{{P, P, P, P, Q, P}}},
		{"a higher limit lets a preserved node be chosen again", []UptimeMember{{10, []UptimeNode{{Model: "A", Throughput: 100, Preserved: 1}, un("A", 60)}}},
			[]ModelThroughput{{"A", 100}}, 2, [][]Slot{{Q, P}}},
		{"limit 0: nobody keeps serving", []UptimeMember{{10, []UptimeNode{un("A", 100)}}},
			[]ModelThroughput{{"A", 100}}, 0, [][]Slot{{P}}},
		{"not enough eligible nodes: all of them", []UptimeMember{{1, []UptimeNode{un("A", 10)}}, {2, []UptimeNode{un("A", 10), {Model: "A", Throughput: 80, PendingChange: true}}}},
			[]ModelThroughput{{"A", 100}}, 1, [][]Slot{{Q}, {Q, P}}},
		{"no throughput to cover", []UptimeMember{{10, []UptimeNode{un("A", 10)}}},
			[]ModelThroughput{{"A", 0}}, 1, [][]Slot{{P}}},
		{"a member without weight is never drawn", []UptimeMember{{0, []UptimeNode{un("A", 100)}}, {5, []UptimeNode{un("B", 100)}}},
			[]ModelThroughput{{"A", 100}, {"B", 100}}, 1, [][]Slot{{P}, {Q}}},
		{"a model nobody serves", []UptimeMember{{5, []UptimeNode{un("A", 100)}}},
			[]ModelThroughput{{"C", 100}, {"A", 100}}, 1, [][]Slot{{Q}}},
	} {
		got, err := SelectUptime(bh, c.members, c.models, c.max)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestSelectUptimeRule replays the draws of one model by hand.
func TestSelectUptimeRule(t *testing.T) {
	bh := h("replay")
	members := []UptimeMember{
		{3, []UptimeNode{un("A", 10), un("A", 10)}},
		{0, []UptimeNode{un("A", 10)}},
		{5, []UptimeNode{un("A", 10), un("B", 10), un("A", 10)}},
		{2, []UptimeNode{un("A", 10)}},
	}
	got, err := SelectUptime(bh, members, []ModelThroughput{{"A", 100}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	key := append([]byte("tessera/poc/uptime/v1"), bh[:]...)
	key = append(binary.LittleEndian.AppendUint32(key, 1), 'A')
	s := rand.NewChaCha8(sha256.Sum256(key))
	want := [][]Slot{{P, P}, {P}, {P, P, P}, {P}}
	left := map[int][]int{0: {0, 1}, 2: {0, 2}, 3: {0}} // eligible nodes per member
	covered := 0
	for covered < 50 && len(left) > 0 {
		var W uint64
		for i := 0; i < 4; i++ {
			if len(left[i]) > 0 {
				W += members[i].Weight
			}
		}
		r := uniform(s, W)
		var run uint64
		for i := 0; i < 4; i++ {
			if len(left[i]) == 0 {
				continue
			}
			if run += members[i].Weight; run > r {
				want[i][left[i][0]] = Q
				left[i] = left[i][1:]
				if len(left[i]) == 0 {
					delete(left, i)
				}
				covered += 10
				break
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%v, the rule gives %v", got, want)
	}
}

// TestSelectUptimeIsWeighted: over 4,000 block hashes the first node chosen belongs to
// each member in proportion to its weight (1:3:6), within five standard deviations.
func TestSelectUptimeIsWeighted(t *testing.T) {
	members := []UptimeMember{{1, []UptimeNode{un("A", 100)}}, {3, []UptimeNode{un("A", 100)}}, {6, []UptimeNode{un("A", 100)}}}
	var first [3]int
	const n = 4000
	for k := 0; k < n; k++ {
		var bh [32]byte
		binary.LittleEndian.PutUint64(bh[:], uint64(k))
		got, err := SelectUptime(bh, members, []ModelThroughput{{"A", 200}}, 1) // one node covers half
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i][0] == Q {
				first[i]++
			}
		}
	}
	for i, w := range []float64{0.1, 0.3, 0.6} {
		mean := w * n
		sd := 5 * math.Sqrt(n*w*(1-w))
		if float64(first[i]) < mean-sd || float64(first[i]) > mean+sd {
			t.Errorf("member %d (share %.1f) chosen %d times of %d", i, w, first[i], n)
		}
	}
	t.Logf("chosen first: %v of %d (weights 1:3:6)", first, n)
}

// TestPoCSlotAttackBound: Gonka's #658 — a participant that passes PoC once and rides
// preserved slots. Here even a participant that holds almost all the weight, and so
// wins every draw, has each node preserved at most MaxPreservedEpochs epochs in a row:
// every node mines (proves its weight afresh) at least once in every
// MaxPreservedEpochs+1 epochs.
func TestPoCSlotAttackBound(t *testing.T) {
	for _, max := range []uint32{1, 2, 3} {
		members := []UptimeMember{
			{1 << 40, []UptimeNode{un("A", 100), un("A", 100), un("A", 100), un("A", 100)}},
			{1, []UptimeNode{un("A", 100), un("A", 100)}},
		}
		run := make([][]int, len(members)) // epochs in a row each node was preserved
		for i := range run {
			run[i] = make([]int, len(members[i].Nodes))
		}
		for epoch := 0; epoch < 30; epoch++ {
			var bh [32]byte
			binary.LittleEndian.PutUint64(bh[:], uint64(epoch))
			slots, err := SelectUptime(bh, members, []ModelThroughput{{"A", 600}}, max)
			if err != nil {
				t.Fatal(err)
			}
			for i := range members {
				for k := range members[i].Nodes {
					members[i].Nodes[k].Preserved = NextPreserved(members[i].Nodes[k].Preserved, slots[i][k])
					if slots[i][k] == Q {
						run[i][k]++
					} else {
						run[i][k] = 0
					}
					if run[i][k] > int(max) {
						t.Fatalf("max %d, epoch %d: member %d node %d preserved %d epochs in a row", max, epoch, i, k, run[i][k])
					}
				}
			}
		}
	}
}

func TestSelectUptimeIndependentModels(t *testing.T) {
	bh := h("models")
	members := []UptimeMember{{3, []UptimeNode{un("A", 10), un("B", 10), un("A", 10)}}, {4, []UptimeNode{un("B", 10), un("A", 10), un("B", 10)}}}
	ab, _ := SelectUptime(bh, members, []ModelThroughput{{"A", 30}, {"B", 30}}, 1)
	ba, _ := SelectUptime(bh, members, []ModelThroughput{{"B", 30}, {"A", 30}}, 1)
	if !reflect.DeepEqual(ab, ba) {
		t.Fatalf("the model order changed the choice: %v vs %v", ab, ba)
	}
	if other, _ := SelectUptime(h("other"), members, []ModelThroughput{{"A", 30}, {"B", 30}}, 1); reflect.DeepEqual(ab, other) {
		t.Logf("another block hash gave the same choice (possible, not likely)")
	}
	if _, err := SelectUptime(bh, []UptimeMember{{1 << 63, nil}, {1 << 63, nil}}, nil, 1); !errors.Is(err, ErrOverflow) {
		t.Fatalf("weights over 2^64: %v", err)
	}
	if PoCSlot.String() != "POC_SLOT" || PrePoCSlot.String() != "PRE_POC_SLOT" || Slot(7).String() != "Slot(7)" {
		t.Fatal("slot names")
	}
}
