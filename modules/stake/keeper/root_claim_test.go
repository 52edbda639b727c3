package keeper

import (
	"errors"

	abci "github.com/cometbft/cometbft/abci/types"
	"math"
	"math/rand"
	"testing"

	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// rootChain is poolChain with coldkeys funded (balances minted before the issuance is
// fixed) and hotkeys owned by pk(1).
func rootChain(t testing.TB, pools int, fund map[byte]uint64, hots ...byte) (*Keeper, *store.Cache) {
	t.Helper()
	sk, kv := poolChain(t, pools)
	for c, amt := range fund {
		if err := sk.accounts.Credit(kv, pk(c), amt); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range hots {
		if err := sk.ClaimHotkey(kv, pk(h), pk(1)); err != nil {
			t.Fatal(err)
		}
	}
	back, err := sk.Backing(kv)
	if err != nil || putIssuance(kv, back) != nil {
		t.Fatal(err)
	}
	return sk, kv
}

func stakeRoot(sk *Keeper, kv store.KV, hot, cold keys.PublicKey, amt uint64) error {
	if err := sk.accounts.Debit(kv, cold, amt); err != nil {
		return err
	}
	return sk.AddStake(kv, hot, cold, amt)
}

func unstakeRoot(sk *Keeper, kv store.KV, hot, cold keys.PublicKey, amt uint64) error {
	if err := sk.subStake(kv, hot, cold, amt); err != nil {
		return err
	}
	return sk.accounts.Credit(kv, cold, amt)
}

// rootDividend pays amount alpha on netuid to hot as a root dividend through PayEpoch:
// the pending root emission is minted into AlphaOut, and hot, with no alpha stake, gets
// the whole dividend as root dividend.
func rootDividend(t testing.TB, sk *Keeper, kv store.KV, netuid uint16, hot keys.PublicKey, amount uint64) stake.EpochPaid {
	t.Helper()
	p, _, _ := sk.Pool(kv, netuid)
	p.PendingRoot += amount
	p.AlphaOut += amount
	if err := sk.putPool(kv, &p); err != nil {
		t.Fatal(err)
	}
	root, _ := sk.TotalStake(kv, hot)
	paid, err := sk.PayEpoch(kv, stake.EpochPayout{Netuid: netuid, Hotkeys: []keys.PublicKey{hot}, Incentive: []uint64{0},
		Dividends: []uint64{1}, OwnerAssociated: []bool{false}, AlphaStake: []uint64{0}, RootStake: []uint64{root},
		TaoWeight: math.MaxUint64, Owner: pk(1), OwnerHotkey: pk(9)})
	if err != nil {
		t.Fatal(err)
	}
	return paid
}

func owedOf(t testing.TB, sk *Keeper, kv store.Reader, cold keys.PublicKey) map[keys.PublicKey]map[uint16]uint64 {
	t.Helper()
	cs, err := sk.RootClaimables(kv, cold)
	if err != nil {
		t.Fatal(err)
	}
	out := map[keys.PublicKey]map[uint16]uint64{}
	for _, c := range cs {
		h, err := keys.ParsePublicKey(c.Hotkey)
		if err != nil {
			t.Fatal(err)
		}
		if out[h] == nil {
			out[h] = map[uint16]uint64{}
		}
		out[h][c.Netuid] = c.Owed
	}
	return out
}

func claim(sk *Keeper, kv store.KV, cold keys.PublicKey, netuids []uint16, keep bool) (*module.Context, error) {
	ctx := &module.Context{KV: kv, Height: 10}
	m, err := stake.NewClaimRoot(netuids, keep, nil)
	if err != nil {
		return ctx, err
	}
	return ctx, sk.claimRoot(ctx, cold, m)
}

// A root dividend accrues to the hotkey's root stakers pro rata, after the take (staked to
// the owner as alpha); stake added or removed later does not change what is owed; a claim
// sells the alpha fee-free into root stake (Swap) or stakes it on the subnet (Keep); a
// second claim finds nothing; nothing is created or lost at any step.
func TestRootDividendsAccrueAndClaim(t *testing.T) {
	sk, kv := rootChain(t, 1, map[byte]uint64{3: 1_000_000_000_000})
	hot := pk(9) // pk(1) has 100 TAO on it
	check := func(step string) {
		t.Helper()
		if err := sk.CheckConservation(kv); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	if err := stakeRoot(sk, kv, hot, pk(3), 300_000_000_000); err != nil {
		t.Fatal(err)
	}
	check("staked")
	paid := rootDividend(t, sk, kv, 1, hot, 1_000_000_000)
	toOwner, rest := dtao.Take(1_000_000_000, stake.DefaultTake)
	p, _, _ := sk.Pool(kv, 1)
	if paid.Root[0] != 1_000_000_000 || paid.RootAccrued != rest || paid.RootTAO != 0 || p.RootHeld != rest || paid.Recycled != 0 {
		t.Fatalf("paid %+v, held %d: want the whole 1e9 as root dividend, %d accrued", paid, p.RootHeld, rest)
	}
	if a, _ := sk.AlphaOf(kv, 1, hot, pk(1)); a != toOwner {
		t.Fatalf("owner's take %d alpha, want %d", a, toOwner)
	}
	check("accrued")
	rate := dtao.Ratio96(rest, 400_000_000_000)
	want1, want3 := rate.Mul(dtao.U96F32FromInt(100_000_000_000)).Floor(), rate.Mul(dtao.U96F32FromInt(300_000_000_000)).Floor()
	owed1, owed3 := owedOf(t, sk, kv, pk(1))[hot][1], owedOf(t, sk, kv, pk(3))[hot][1]
	if owed1 != want1 || owed3 != want3 || owed1+owed3 > rest || rest-owed1-owed3 > 100 {
		t.Fatalf("owed %d and %d of %d accrued, want %d and %d (1:3, floors)", owed1, owed3, rest, want1, want3)
	}
	// Later stake earns only later dividends; stake that leaves keeps what it was owed.
	if err := stakeRoot(sk, kv, hot, pk(3), 400_000_000_000); err != nil {
		t.Fatal(err)
	}
	if err := unstakeRoot(sk, kv, hot, pk(1), 100_000_000_000); err != nil {
		t.Fatal(err)
	}
	check("stake moved")
	if o1, o3 := owedOf(t, sk, kv, pk(1))[hot][1], owedOf(t, sk, kv, pk(3))[hot][1]; o1 != owed1 || o3 != owed3 {
		t.Fatalf("after the stake changes owed %d and %d, want %d and %d unchanged", o1, o3, owed1, owed3)
	}
	rootDividend(t, sk, kv, 1, hot, 1_000_000_000) // pk(3) alone now has root stake
	check("second accrual")
	o1, o3 := owedOf(t, sk, kv, pk(1))[hot][1], owedOf(t, sk, kv, pk(3))[hot][1]
	// The rate rest/700e9 is floored to 2^-32: up to 700e9/2^32 ≈ 163 rao stay unclaimable.
	if o1 != owed1 || o3 < owed3+rest-164 || o3 > owed3+rest {
		t.Fatalf("after the second dividend owed %d and %d, want %d and %d + %d", o1, o3, owed1, owed3, rest)
	}
	// pk(1) claims (Swap): the alpha is sold fee-free, the TAO staked on root.
	ctx, err := claim(sk, kv, pk(1), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	check("claimed (swap)")
	ev := ctx.Events()
	if len(ev) != 1 || ev[0].Type != "root_claimed" {
		t.Fatalf("events %v", ev)
	}
	got, _ := sk.StakeOf(kv, hot, pk(1))
	if got == 0 || got >= owed1 || attr(ev[0], "tao") != u64s(got) || attr(ev[0], "alpha") != u64s(owed1) || attr(ev[0], "kept") != "false" {
		t.Fatalf("pk(1) has %d TAO on root after claiming %d alpha (price < 1); event %v", got, owed1, ev[0])
	}
	if o := owedOf(t, sk, kv, pk(1))[hot][1]; o != 0 {
		t.Fatalf("owed %d after the claim", o)
	}
	// pk(3) claims with Keep: the alpha is staked on the subnet under the hotkey.
	if _, err := claim(sk, kv, pk(3), []uint16{1}, true); err != nil {
		t.Fatal(err)
	}
	check("claimed (keep)")
	if a, _ := sk.AlphaOf(kv, 1, hot, pk(3)); a != o3 {
		t.Fatalf("pk(3) has %d alpha on subnet 1, want the %d it was owed", a, o3)
	}
	if p, _, _ := sk.Pool(kv, 1); p.RootHeld != 2*rest-owed1-o3 {
		t.Fatalf("held %d after the claims, want %d", p.RootHeld, 2*rest-owed1-o3)
	}
	// Nothing left: refused, naming the coldkey.
	_, err = claim(sk, kv, pk(3), nil, false)
	var te *tx.Error
	if !errors.As(err, &te) || te.Code != tx.CodeNotFound {
		t.Fatalf("a second claim: %v, want not_found", err)
	}
	if _, err := claim(sk, kv, pk(3), []uint16{2}, false); err == nil || err.Error() == "" {
		t.Fatal("a claim on a subnet with nothing accrued passed")
	}
}

func attr(e abci.Event, key string) string {
	for _, a := range e.Attributes {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

// A dividend above the hotkey's root stake (or with no root stake at all) is staked to the
// hotkey's owner instead, as subtensor does; nothing accrues.
func TestRootDividendAboveStakeGoesToOwner(t *testing.T) {
	sk, kv := rootChain(t, 1, map[byte]uint64{2: 1_000_000}, 8)
	if err := stakeRoot(sk, kv, pk(8), pk(2), 1_000); err != nil { // pk(8): 1000 rao of root stake
		t.Fatal(err)
	}
	paid := rootDividend(t, sk, kv, 1, pk(8), 5_000_000)
	if paid.RootAccrued != 0 || paid.Root[0] != 5_000_000 {
		t.Fatalf("paid %+v", paid)
	}
	if a, _ := sk.AlphaOf(kv, 1, pk(8), pk(1)); a != 5_000_000 {
		t.Fatalf("owner has %d alpha", a)
	}
	if err := sk.CheckConservation(kv); err != nil {
		t.Fatal(err)
	}
}

// The property: random root stakes, unstakes and moves between hotkeys, root dividends on
// two subnets, claims (Swap or Keep), claim types (Swap, Keep, KeepSubnets) and blocks'
// auto-claims never create or lose TAO or alpha, what the root stakers are owed never
// exceeds what the pools hold for them, and the auto-claim's index is exactly the root
// stakers (CheckConservation, with CheckRootClaims, after every operation).
func TestRootClaimsProperty(t *testing.T) {
	colds := []byte{1, 2, 3, 4}
	fund := map[byte]uint64{}
	for _, c := range colds {
		fund[c] = 10_000_000_000_000
	}
	hots := []keys.PublicKey{pk(9), pk(10), pk(11)}
	sk, kv := rootChain(t, 2, fund, 10, 11)
	rng := rand.New(rand.NewSource(16))
	var claims, accruals, types, autos int
	for step := 0; step < 600; step++ {
		c := pk(colds[rng.Intn(len(colds))])
		h := hots[rng.Intn(len(hots))]
		amt := uint64(rng.Int63n(500_000_000_000)) + 1
		var err error
		switch rng.Intn(8) {
		case 0:
			err = stakeRoot(sk, kv, h, c, amt)
		case 1:
			s, _ := sk.StakeOf(kv, h, c)
			err = unstakeRoot(sk, kv, h, c, min(s, amt))
		case 2:
			s, _ := sk.StakeOf(kv, h, c)
			if err = sk.subStake(kv, h, c, min(s, amt)); err == nil {
				err = sk.AddStake(kv, hots[rng.Intn(len(hots))], c, min(s, amt))
			}
		case 3, 4:
			paid := rootDividend(t, sk, kv, uint16(1+rng.Intn(2)), h, uint64(rng.Int63n(5_000_000_000)))
			if paid.RootAccrued > 0 {
				accruals++
			}
		case 5:
			var ns []uint16
			if rng.Intn(2) == 0 {
				ns = []uint16{uint16(1 + rng.Intn(2))}
			}
			_, err = claim(sk, kv, c, ns, rng.Intn(3) == 0)
			var te *tx.Error
			if errors.As(err, &te) && te.Code == tx.CodeNotFound {
				err = nil
			} else if err == nil {
				claims++
			}
		case 6: // a claim type: swap, keep, or keep one of the two subnets
			typ := uint8(rng.Intn(3))
			var ns []uint16
			if typ == stake.ClaimKeepSubnets {
				ns = []uint16{uint16(1 + rng.Intn(2))}
			}
			err = setClaimType(sk, kv, c, typ, ns...)
			types++
		case 7: // a block's auto-claim, from a random previous hash
			if err = kv.Set(keyClaimLastBlock, hashOf(rng.Uint64())); err == nil {
				ctx := &module.Context{KV: kv, Height: int64(step), BlockHash: hashOf(uint64(step))}
				err = sk.AutoClaimRoot(ctx)
				for _, e := range ctx.Events() {
					switch e.Type {
					case "root_claimed":
						autos++
					case "root_autoclaim_failed":
						t.Fatalf("step %d: %v", step, e)
					}
				}
			}
		}
		if err != nil {
			var te *tx.Error
			if !errors.As(err, &te) || te.Code != tx.CodeInsufficientFunds {
				t.Fatalf("step %d: %v", step, err)
			}
		}
		if err := sk.CheckConservation(kv); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
	if claims < 20 || accruals < 50 || types < 20 || autos < 20 {
		t.Fatalf("only %d claims, %d accruals, %d claim types and %d auto-claims: the property means little", claims, accruals, types, autos)
	}
	t.Logf("%d accruals, %d claims, %d claim types set, %d auto-claimed", accruals, claims, types, autos)
}

// BenchmarkClaimRoot times a claim (Swap) on one subnet: the owed amount, the fee-free
// sale on a pool off w = 0.5 (the fallback power), the root stake and its bookkeeping.
func BenchmarkClaimRoot(b *testing.B) {
	sk, kv := rootChain(b, 1, map[byte]uint64{3: 1_000_000_000_000})
	if err := stakeRoot(sk, kv, pk(9), pk(3), 300_000_000_000); err != nil {
		b.Fatal(err)
	}
	p, _, _ := sk.Pool(kv, 1)
	p.QuoteWeight = 499_999_997_008_973_068 // V4's weight after an injection: the fallback path
	if err := sk.putPool(kv, &p); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		rootDividend(b, sk, kv, 1, pk(9), 1_000_000_000)
		b.StartTimer()
		if _, err := claim(sk, kv, pk(3), nil, false); err != nil {
			b.Fatal(err)
		}
	}
}

// EpochStakes reads the same root stakes whether it scans every hotkey's total (fewer
// hotkeys with stake than uids asked for) or reads each uid's (more), and the count that
// chooses follows stakes that appear and vanish.
func TestEpochStakesScanOrPointReads(t *testing.T) {
	sk, kv := rootChain(t, 1, map[byte]uint64{3: 1_000_000_000_000}, 10, 11, 12)
	for i, h := range []byte{10, 11, 12} {
		if err := stakeRoot(sk, kv, pk(h), pk(3), uint64(i+1)*1_000_000_000); err != nil {
			t.Fatal(err)
		}
	}
	if err := unstakeRoot(sk, kv, pk(12), pk(3), 3_000_000_000); err != nil { // pk(12) has none again
		t.Fatal(err)
	}
	// Hotkeys with stake now: pk(9) (100 TAO of pk(1)), pk(10), pk(11).
	if n, _ := module.GetUint64(kv, keyRootHotkeys); n != 3 {
		t.Fatalf("counted %d hotkeys with stake, want 3", n)
	}
	want := map[byte]uint64{9: 100_000_000_000, 10: 1_000_000_000, 11: 2_000_000_000, 12: 0, 13: 0}
	for _, c := range []struct {
		name string
		hots []byte
	}{
		{"point reads (2 uids, 3 staked hotkeys)", []byte{11, 12}},
		{"scan (5 uids)", []byte{9, 10, 11, 12, 13}},
		{"scan (3 uids)", []byte{13, 10, 9}},
	} {
		t.Run(c.name, func(t *testing.T) {
			hs := make([]keys.PublicKey, len(c.hots))
			for i, h := range c.hots {
				hs[i] = pk(h)
			}
			_, root, err := sk.EpochStakes(kv, 1, hs)
			if err != nil {
				t.Fatal(err)
			}
			for i, h := range c.hots {
				if root[i] != want[h] {
					t.Fatalf("root stake of pk(%d) %d, want %d", h, root[i], want[h])
				}
			}
		})
	}
}
