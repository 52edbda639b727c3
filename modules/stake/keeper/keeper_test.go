package keeper

import (
	"testing"

	"github.com/tessera-net/tessera/module"
	accountskeeper "github.com/tessera-net/tessera/modules/accounts/keeper"
	"github.com/tessera-net/tessera/modules/stake"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

func pk(b byte) keys.PublicKey { return keys.PublicKey{b} }

// A validator's emission: the owner's take first, the rest pro rata to nominators
// (the owner included), rounding dust to the owner; nothing is created or lost.
func TestPayValidatorSplitsAfterTake(t *testing.T) {
	cases := []struct {
		name    string
		take    uint16
		stakes  map[byte]uint64 // coldkey → stake; coldkey 1 owns the hotkey
		amount  uint64
		wantAdd map[byte]uint64
	}{
		{"owner alone", stake.DefaultTake, map[byte]uint64{1: 100}, 1000, map[byte]uint64{1: 1000}},
		{"no take, equal nominators", 0, map[byte]uint64{1: 100, 2: 100}, 1000, map[byte]uint64{1: 500, 2: 500}},
		// take 18%: 1000*11796/65535 = 179; rest 821 → 2:3 of 821 = 492 (floor 492.6), 1: 328 (floor 328.4) + 179 + dust 1
		{"default take", stake.DefaultTake, map[byte]uint64{1: 200, 2: 300}, 1000, map[byte]uint64{1: 508, 2: 492}},
		// take 32767/65535 of 10 = 4 (rounded down); the only nominator gets the other 6
		{"nominator only", 65535 / 2, map[byte]uint64{2: 50}, 10, map[byte]uint64{1: 4, 2: 6}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kv := store.NewCache(store.OpenMemory().Working())
			sk := New(accountskeeper.New())
			hot := pk(9)
			if err := sk.ClaimHotkey(kv, hot, pk(1)); err != nil {
				t.Fatal(err)
			}
			if c.take != stake.DefaultTake {
				b, _ := tx.Marshal(c.take)
				_ = kv.Set(module.Key(prefixTake, hot[:]), b)
			}
			for cold, s := range c.stakes {
				if err := sk.AddStake(kv, hot, pk(cold), s); err != nil {
					t.Fatal(err)
				}
			}
			totalBefore, _ := sk.TotalStaked(kv)
			if err := sk.PayValidator(kv, hot, c.amount); err != nil {
				t.Fatal(err)
			}
			for cold, add := range c.wantAdd {
				got, _ := sk.StakeOf(kv, hot, pk(cold))
				if got != c.stakes[cold]+add {
					t.Errorf("coldkey %d: stake %d, want %d", cold, got, c.stakes[cold]+add)
				}
			}
			totalAfter, _ := sk.TotalStaked(kv)
			if totalAfter-totalBefore != c.amount {
				t.Fatalf("total stake grew by %d, want %d", totalAfter-totalBefore, c.amount)
			}
			if tot, _ := sk.TotalStake(kv, hot); tot != totalAfter {
				t.Fatalf("hotkey total %d != chain total %d", tot, totalAfter)
			}
		})
	}
}

func TestClaimAndUnstake(t *testing.T) {
	kv := store.NewCache(store.OpenMemory().Working())
	sk := New(accountskeeper.New())
	if err := sk.ClaimHotkey(kv, pk(9), pk(1)); err != nil {
		t.Fatal(err)
	}
	if err := sk.ClaimHotkey(kv, pk(9), pk(2)); err == nil {
		t.Fatal("a second coldkey claimed the hotkey")
	}
	_ = sk.AddStake(kv, pk(9), pk(2), 10)
	if err := sk.subStake(kv, pk(9), pk(2), 11); err == nil {
		t.Fatal("unstaked more than staked")
	}
	if err := sk.subStake(kv, pk(9), pk(2), 10); err != nil {
		t.Fatal(err)
	}
	if s, _ := sk.StakeOf(kv, pk(9), pk(2)); s != 0 {
		t.Fatalf("stake %d", s)
	}
	if n, _ := sk.Nominators(kv, pk(9)); len(n) != 0 {
		t.Fatalf("an emptied position is still listed: %v", n)
	}
}
