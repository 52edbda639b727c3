package keeper

import (
	"slices"
	"strings"
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

// Neurons (one scan of the records, one of the weights rows, one of the bonds) reads what
// GetNeuron reads uid by uid, and ignores rows of uids past N.
func TestNeuronsScanMatchesPointReads(t *testing.T) {
	kv := store.NewCache(store.OpenMemory().Working())
	rows := []struct{ w, b subnets.Row }{
		{nil, nil},
		{subnets.Row{{UID: 0, Value: 5}, {UID: 2, Value: 9}}, nil},
		{nil, subnets.Row{{UID: 1, Value: 3}}},
		{subnets.Row{{UID: 4, Value: 65535}}, subnets.Row{{UID: 4, Value: 1}, {UID: 0, Value: 2}}},
		{nil, nil},
		{subnets.Row{{UID: 1, Value: 1}}, subnets.Row{{UID: 1, Value: 1}}}, // uid 5: past N below
	}
	for uid, r := range rows {
		n := &subnets.Neuron{Hotkey: []byte{byte(uid + 1)}, Coldkey: []byte{9}, LastUpdate: uint64(uid), Weights: r.w, Bonds: r.b}
		if err := putNeuron(kv, 1, uint16(uid), n); err != nil {
			t.Fatal(err)
		}
	}
	s := &subnets.Subnet{Netuid: 1, N: 5}
	got, err := Neurons(kv, s)
	if err != nil || len(got) != 5 {
		t.Fatalf("Neurons: %d, %v", len(got), err)
	}
	for uid := range got {
		want, err := GetNeuron(kv, 1, uint16(uid))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got[uid].Weights, want.Weights) || !slices.Equal(got[uid].Bonds, want.Bonds) || got[uid].LastUpdate != want.LastUpdate ||
			!slices.Equal(got[uid].Weights, rows[uid].w) || !slices.Equal(got[uid].Bonds, rows[uid].b) {
			t.Fatalf("uid %d: scanned %+v, read %+v", uid, got[uid], want)
		}
	}
}

// State from before the records were paged (a record stored under uid 0's key, the same
// key as page 0's) is refused with an error that says so and what mends it; a page that
// is neither is refused as malformed. Nothing is written.
func TestOldPerUIDRecordRefusedClearly(t *testing.T) {
	kv := store.NewCache(store.OpenMemory().Working())
	rec, err := (&subnets.Neuron{Hotkey: make([]byte, 32), Coldkey: make([]byte, 32)}).MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		value []byte
		want  string
	}{
		{rec, "older tessera"},
		{[]byte{0x80}, "malformed neuron page"},
	} {
		if err := kv.Set(pageKey(1, 0), c.value); err != nil {
			t.Fatal(err)
		}
		if _, err := GetNeuron(kv, 1, 0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("GetNeuron: %v, want an error saying %q", err, c.want)
		}
		if _, err := Neurons(kv, &subnets.Subnet{Netuid: 1, N: 1}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("Neurons: %v, want an error saying %q", err, c.want)
		}
		if err := putNeuron(kv, 1, 0, &subnets.Neuron{Hotkey: []byte{1}}); err == nil {
			t.Fatal("a record was written into an unreadable page")
		}
	}
}
