package linattn_test

import (
	"testing"

	"github.com/tessera-net/tessera/subnets/kernelbench/linattn"
	"github.com/tessera-net/tessera/subnets/kernelbench/target/kernel"
)

// The shipped kernel agrees with the reference; a kernel that drops the inter-chunk
// state, or returns zeros, does not.
func TestShippedKernelMatchesReference(t *testing.T) {
	for _, s := range []linattn.Shape{{H: 1, L: 1, D: 4, Gamma: 0.9}, {H: 2, L: 300, D: 16, Gamma: 0.99}, {H: 3, L: 1000, D: 8, Gamma: 1}} {
		in := linattn.Generate([32]byte{byte(s.L)}, s)
		ref := linattn.Reference(in)
		o := make([]float32, s.N())
		kernel.Forward(in.Q, in.K, in.V, o, s.H, s.L, s.D, s.Gamma)
		if rel, err := linattn.Compare(o, ref, 1e-4); err != nil {
			t.Errorf("%+v: %v", s, err)
		} else {
			t.Logf("%+v: relative error %.2g", s, rel)
		}
		if _, err := linattn.Compare(make([]float32, s.N()), ref, 1e-3); err == nil {
			t.Errorf("%+v: zeros pass", s)
		}
	}
}

func TestFreshInputsDiffer(t *testing.T) {
	s := linattn.Shape{H: 1, L: 8, D: 4, Gamma: 0.9}
	a, b := linattn.Generate([32]byte{1}, s), linattn.Generate([32]byte{2}, s)
	if a.Q[0] == b.Q[0] && a.K[0] == b.K[0] {
		t.Fatal("different seeds gave the same inputs")
	}
}
