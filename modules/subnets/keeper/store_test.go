package keeper

import (
	"slices"
	"testing"

	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/subnets"

	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/yuma"
)

// A neuron's weights live under their own key: putNeuron stores and clears them with the
// neuron, putNeuronTerms (the epoch's write) leaves them as they are.
func TestNeuronWeightsStoredApart(t *testing.T) {
	kv := store.NewCache(store.OpenMemory().Working())
	row := subnets.Row{{UID: 1, Value: 7}, {UID: 3, Value: 65535}}
	n := &subnets.Neuron{Hotkey: []byte{1}, Coldkey: []byte{2}, Weights: row, Bonds: subnets.Row{{UID: 3, Value: 9}}}
	if err := putNeuron(kv, 1, 4, n); err != nil {
		t.Fatal(err)
	}
	got, err := GetNeuron(kv, 1, 4)
	if err != nil || !slices.Equal(got.Weights, row) || !slices.Equal(got.Bonds, n.Bonds) {
		t.Fatalf("stored neuron read back as %+v, %v", got, err)
	}
	// The epoch's write: new terms and bonds, weights untouched even if not loaded.
	got.Incentive, got.Bonds, got.Weights = 123, subnets.Row{}, nil
	if err := putNeuronTerms(kv, 1, 4, got); err != nil {
		t.Fatal(err)
	}
	if got, _ = GetNeuron(kv, 1, 4); got.Incentive != 123 || len(got.Bonds) != 0 || !slices.Equal(got.Weights, row) {
		t.Fatalf("after the epoch's write: %+v", got)
	}
	// A fresh neuron at the uid (a replacement) starts without weights.
	if err := putNeuron(kv, 1, 4, &subnets.Neuron{Hotkey: []byte{5}, Coldkey: []byte{6}}); err != nil {
		t.Fatal(err)
	}
	if got, _ = GetNeuron(kv, 1, 4); len(got.Weights) != 0 || got.Incentive != 0 {
		t.Fatalf("the replacement inherited %+v", got)
	}
	var stale []yuma.Entry
	if ok, _ := module.Get(kv, module.Key(prefixWRow, u16(1), u16(4)), (*subnets.Row)(&stale)); ok {
		t.Fatalf("the replaced neuron's weights row is still stored: %v", stale)
	}
}
