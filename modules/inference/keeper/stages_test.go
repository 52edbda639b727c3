package keeper

import (
	"testing"

	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/poc"
)

// The throughput check scales only preserved nodes, only of a model that served less
// than its preserved weights promise, by real / expected.
func TestCheckThroughput(t *testing.T) {
	byID := map[string]models.Spec{"a": {ThroughputPerNonce: 10}, "b": {ThroughputPerNonce: 1}}
	members := []poc.Member{
		{MLNodes: []poc.MLNode{{ID: "1", Model: "a", Preserved: true, PrevWeight: 30}, {ID: "2", Model: "a", Valid: 7, PrevWeight: 99}}},
		{MLNodes: []poc.MLNode{{ID: "1", Model: "a", Preserved: true, PrevWeight: 10}, {ID: "2", Model: "b", Preserved: true, PrevWeight: 5}}},
	}
	// a: expected (30 + 10) × 10 = 400, real 100 → a quarter; b: expected 5, real 9 → kept.
	checkThroughput(members, byID, map[string]uint64{"a": 100, "b": 9})
	got := []uint64{members[0].MLNodes[0].PrevWeight, members[0].MLNodes[1].PrevWeight, members[1].MLNodes[0].PrevWeight, members[1].MLNodes[1].PrevWeight}
	want := []uint64{7, 99, 2, 5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("weights %v, want %v", got, want)
		}
	}
	// Nothing recorded (the chain records no inference yet): preserved weights go to 0.
	checkThroughput(members, byID, map[string]uint64{})
	if members[1].MLNodes[1].PrevWeight != 0 || members[0].MLNodes[1].PrevWeight != 99 {
		t.Fatalf("%+v", members)
	}
}
