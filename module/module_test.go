package module

import "testing"

func TestSeedSeparatesItsInputs(t *testing.T) {
	base := Context{ChainID: "c", Height: 7, BlockHash: []byte{1, 2, 3}}
	seed := base.Seed("ab")
	if again := base.Seed("ab"); again != seed {
		t.Fatal("the same block and domain gave two seeds")
	}
	variants := map[string]func() [32]byte{
		"domain":     func() [32]byte { return base.Seed("ax") },
		"boundary":   func() [32]byte { c := base; c.ChainID = "bc"; return c.Seed("a") },
		"chain id":   func() [32]byte { c := base; c.ChainID = "d"; return c.Seed("ab") },
		"height":     func() [32]byte { c := base; c.Height = 8; return c.Seed("ab") },
		"block hash": func() [32]byte { c := base; c.BlockHash = []byte{1, 2, 4}; return c.Seed("ab") },
	}
	for name, f := range variants {
		if f() == seed {
			t.Errorf("another %s gave the same seed", name)
		}
	}
}
