package metagraph

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/internal/testutil/fixture"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/wire"
)

func TestResize(t *testing.T) {
	tests := []struct {
		name      string
		old       []string
		scores    []float64
		now       []string
		want      []float64
		wantReset []uint16
	}{
		{"same", []string{"a", "b"}, []float64{0.5, 0.25}, []string{"a", "b"}, []float64{0.5, 0.25}, nil},
		{"grows", []string{"a"}, []float64{0.5}, []string{"a", "b", "c"}, []float64{0.5, 0, 0}, nil},
		{"shrinks", []string{"a", "b", "c"}, []float64{0.5, 0.25, 1}, []string{"a"}, []float64{0.5}, nil},
		{"hotkey replaced", []string{"a", "b", "c"}, []float64{0.5, 0.25, 1}, []string{"a", "x", "c"}, []float64{0.5, 0, 1}, []uint16{1}},
		{"replaced and grown", []string{"a", "b"}, []float64{0.5, 0.25}, []string{"y", "b", "z"}, []float64{0, 0.25, 0}, []uint16{0}},
		{"empty subnet", []string{"a"}, []float64{1}, nil, []float64{}, nil},
		{"first sync", nil, nil, []string{"a", "b"}, []float64{0, 0}, nil},
		{"fewer scores than hotkeys", []string{"a", "b"}, []float64{0.5}, []string{"a", "b"}, []float64{0.5, 0}, nil},
		{"unknown old hotkey is not a reset", []string{"a", ""}, []float64{0.5, 0.7}, []string{"a", "b"}, []float64{0.5, 0}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, reset := Resize(tc.old, tc.scores, tc.now)
			if !slices.Equal(got, tc.want) || !slices.Equal(reset, tc.wantReset) {
				t.Fatalf("Resize = %v %v, want %v %v", got, reset, tc.want, tc.wantReset)
			}
		})
	}
}

func TestNew(t *testing.T) {
	g, err := New(fixture.Metagraph("a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	if uid, ok := g.UID("b"); !ok || uid != 1 {
		t.Fatalf("UID(b) = %d %v", uid, ok)
	}
	if _, ok := g.UID("z"); ok {
		t.Fatal("unknown hotkey found")
	}
	g.Axons[1] = subnets.AxonView{IP: "127.0.0.1", Port: 8091}
	if a, ok := g.Axon(1); !ok || a != (wire.AxonInfo{IP: "127.0.0.1", Port: 8091, Hotkey: "b"}) {
		t.Fatalf("Axon(1) = %+v %v", a, ok)
	}
	if _, ok := g.Axon(0); ok {
		t.Fatal("uid 0 serves no axon")
	}
	if _, ok := g.Axon(7); ok {
		t.Fatal("uid 7 does not exist")
	}

	bad := fixture.Metagraph("a", "b")
	bad.Stake = bad.Stake[:1]
	if _, err := New(bad); err == nil || err.Error() != "metagraph of subnet 1 is inconsistent: n = 2 but 1 stake" {
		t.Fatalf("err = %v", err)
	}
	dup := fixture.Metagraph("a", "a")
	if _, err := New(dup); err == nil || err.Error() != "metagraph of subnet 1 is inconsistent: hotkey a holds uids 0 and 1" {
		t.Fatalf("err = %v", err)
	}
}

type fakeChain struct {
	mg  *subnets.Metagraph
	err error
}

func (f *fakeChain) Query(_ context.Context, path string, _ int64, out any) (int64, error) {
	if f.err != nil {
		return 0, f.err
	}
	if path != "/subnets/metagraph_lite/1" {
		return 0, errors.New("unexpected path " + path)
	}
	*out.(*subnets.Metagraph) = *f.mg
	return 42, nil
}

func (f *fakeChain) Status(context.Context) (*client.Status, error) {
	return &client.Status{Height: 7}, nil
}

func TestFetch(t *testing.T) {
	g, err := Fetch(context.Background(), &fakeChain{mg: fixture.Metagraph("a")}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if g.Block != 42 || g.Size() != 1 {
		t.Fatalf("block %d size %d", g.Block, g.Size())
	}
	_, err = Fetch(context.Background(), &fakeChain{err: errors.New("subnet 1 does not exist")}, 1)
	if err == nil || err.Error() != "metagraph of subnet 1: subnet 1 does not exist" {
		t.Fatalf("err = %v", err)
	}
}
