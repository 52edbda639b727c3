package keeper

import (
	"math"
	"testing"

	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/keys"
	accountskeeper "github.com/tessera-net/tessera/modules/accounts/keeper"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/store"
)

// poolChain is a stake keeper over an in-memory store with n pools of 1000 TAO / 1000
// alpha each, a validator hotkey (owner pk(1)) with 100 TAO of root stake, and the
// issuance fixed.
func poolChain(t testing.TB, n int) (*Keeper, *store.Cache) {
	t.Helper()
	kv := store.NewCache(store.OpenMemory().Working())
	sk := New(accountskeeper.New())
	if err := sk.ClaimHotkey(kv, pk(9), pk(1)); err != nil {
		t.Fatal(err)
	}
	if err := sk.AddStake(kv, pk(9), pk(1), 100_000_000_000); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := sk.CreatePool(kv, uint16(i), 1_000_000_000_000, 1); err != nil {
			t.Fatal(err)
		}
	}
	// The pools' TAO came from nowhere here: the issuance is what they hold.
	back, err := sk.Backing(kv)
	if err != nil || putIssuance(kv, back) != nil {
		t.Fatal(err)
	}
	return sk, kv
}

// A root dividend accrues for the validator's root stakers to claim (its take staked to
// the owner as alpha) and the root stake does not change; the alpha dividend and the
// incentive stay alpha; the owner cut is staked to the owner; and nothing is created or
// lost.
func TestPayEpochRootDividend(t *testing.T) {
	sk, kv := poolChain(t, 1)
	p, _, _ := sk.Pool(kv, 1)
	p.PendingServer, p.PendingValidator, p.PendingRoot, p.PendingOwnerCut = 1_000_000_000, 800_000_000, 200_000_000, 400_000_000
	p.AlphaOut += 2_400_000_000
	if err := sk.putPool(kv, &p); err != nil {
		t.Fatal(err)
	}
	if err := sk.CheckConservation(kv); err != nil {
		t.Fatal(err)
	}
	miner := pk(7)
	if err := sk.ClaimHotkey(kv, miner, pk(2)); err != nil {
		t.Fatal(err)
	}
	if err := sk.creditAlpha(kv, 1, pk(9), pk(1), 50_000_000_000); err != nil {
		t.Fatal(err)
	}
	p, _, _ = sk.Pool(kv, 1)
	p.AlphaOut += 50_000_000_000 // the alpha above was bought
	_ = sk.putPool(kv, &p)
	rootBefore, _ := sk.TotalStake(kv, pk(9))
	pay := stake.EpochPayout{Netuid: 1, Hotkeys: []keys.PublicKey{pk(9), miner}, Incentive: []uint64{0, 1_000_000_000},
		Dividends: []uint64{1_000_000_000, 0}, OwnerAssociated: []bool{false, false},
		AlphaStake: []uint64{50_000_000_000, 0}, RootStake: []uint64{rootBefore, 0}, TaoWeight: math.MaxUint64,
		Owner: pk(1), OwnerHotkey: pk(9)}
	paid, err := sk.PayEpoch(kv, pay)
	if err != nil {
		t.Fatal(err)
	}
	if paid.Miner[1] != 1_000_000_000 || paid.Validator[0] != 800_000_000 || paid.Root[0] != 200_000_000 || paid.OwnerCut != 400_000_000 || paid.Recycled != 0 {
		t.Fatalf("paid %+v", paid)
	}
	rootAfter, _ := sk.TotalStake(kv, pk(9))
	_, rest := dtao.Take(200_000_000, stake.DefaultTake)
	if p, _, _ := sk.Pool(kv, 1); rootAfter != rootBefore || paid.RootTAO != 0 || paid.RootAccrued != rest || p.RootHeld != rest {
		t.Fatalf("root stake grew %d, root TAO %d, accrued %d, held %d: want %d accrued and held", rootAfter-rootBefore, paid.RootTAO, paid.RootAccrued, p.RootHeld, rest)
	}
	if miner, _ := sk.AlphaOf(kv, 1, miner, pk(2)); miner != 1_000_000_000 {
		t.Fatalf("miner has %d alpha", miner)
	}
	if err := sk.CheckConservation(kv); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkCoinbase128 times one block's coinbase over 128 subnets through the keeper:
// read the pools, dtao.RunCoinbase and the moving prices, write the pools and the issuance.
func BenchmarkCoinbase128(b *testing.B) {
	sk, kv := poolChain(b, 128)
	cp := stake.CoinbaseParams{BlockEmission: 1_000_000_000, TaoWeight: math.MaxUint64, OwnerCut: 11_796}
	block := uint64(2)
	for b.Loop() {
		if _, err := sk.Coinbase(kv, block, cp); err != nil {
			b.Fatal(err)
		}
		block++
	}
}
