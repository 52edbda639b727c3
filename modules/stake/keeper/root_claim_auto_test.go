package keeper

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

func setClaimType(sk *Keeper, kv store.KV, cold keys.PublicKey, t uint8, netuids ...uint16) error {
	m, err := stake.NewSetRootClaimType(t, netuids)
	if err != nil {
		return err
	}
	return sk.setRootClaimType(&module.Context{KV: kv, Height: 10}, cold, m)
}

// claimedOn maps each root_claimed event's netuid to whether it kept the alpha.
func claimedOn(ctx *module.Context) map[string]string {
	out := map[string]string{}
	for _, e := range ctx.Events() {
		if e.Type == "root_claimed" {
			out[attr(e, "coldkey")+"/"+attr(e, "netuid")] = attr(e, "kept")
		}
	}
	return out
}

func code(err error) tx.Code {
	var te *tx.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return tx.CodeOK
}

// A coldkey's claim type decides, per subnet, whether a claim without keep sells the alpha
// (Swap, the default), stakes it on the subnet (Keep), or keeps it only on the listed
// subnets (KeepSubnets); keep in the message keeps everywhere. The message's fields are
// checked.
func TestRootClaimTypes(t *testing.T) {
	sk, kv := rootChain(t, 3, map[byte]uint64{3: 1_000_000_000_000})
	hot, c3 := pk(9), pk(3)
	if err := stakeRoot(sk, kv, hot, c3, 300_000_000_000); err != nil {
		t.Fatal(err)
	}
	accrue := func() {
		for n := uint16(1); n <= 3; n++ {
			rootDividend(t, sk, kv, n, hot, 1_000_000_000)
		}
	}
	for _, c := range []struct {
		name    string
		set     func() error
		keep    bool
		want    map[string]string // coldkey/netuid → kept
		wantErr string
	}{
		{name: "default swap", want: map[string]string{"1": "false", "2": "false", "3": "false"}},
		{name: "keep-subnets 3,1", set: func() error { return setClaimType(sk, kv, c3, stake.ClaimKeepSubnets, 3, 1) },
			want: map[string]string{"1": "true", "2": "false", "3": "true"}},
		{name: "keep", set: func() error { return setClaimType(sk, kv, c3, stake.ClaimKeep) },
			want: map[string]string{"1": "true", "2": "true", "3": "true"}},
		{name: "back to swap, keep in the message", set: func() error { return setClaimType(sk, kv, c3, stake.ClaimSwap) }, keep: true,
			want: map[string]string{"1": "true", "2": "true", "3": "true"}},
		{name: "swap again", want: map[string]string{"1": "false", "2": "false", "3": "false"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.set != nil {
				if err := c.set(); err != nil {
					t.Fatal(err)
				}
			}
			accrue()
			ctx, err := claim(sk, kv, c3, nil, c.keep)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for k, v := range claimedOn(ctx) {
				got[strings.TrimPrefix(k, c3.String()+"/")] = v
			}
			if len(got) != len(c.want) {
				t.Fatalf("claimed %v, want %v", got, c.want)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Fatalf("claimed %v, want %v", got, c.want)
				}
			}
			if err := sk.CheckConservation(kv); err != nil {
				t.Fatal(err)
			}
		})
	}
	if err := setClaimType(sk, kv, c3, stake.ClaimKeepSubnets, 2); err != nil {
		t.Fatal(err)
	}
	var v stake.RootClaimTypeView
	raw, err := sk.queryRootClaimType(module.QueryRequest{State: kv, Args: []string{c3.Hex()}})
	if err != nil {
		t.Fatal(err)
	}
	v = raw.(stake.RootClaimTypeView)
	if v.Type != "keep-subnets" || !slices.Equal(v.Netuids, []uint16{2}) || !v.AutoClaim || v.Indexed != 2 || v.Index != 1 {
		t.Fatalf("query %+v, want keep-subnets [2], indexed at 1 of 2 (pk(1) came first)", v)
	}
	for _, bad := range []struct {
		typ     uint8
		netuids []uint16
		msg     string
	}{
		{stake.ClaimKeepSubnets, nil, "needs at least one netuid"},
		{stake.ClaimSwap, []uint16{1}, "only keep-subnets takes netuids"},
		{stake.ClaimKeep, []uint16{1}, "only keep-subnets takes netuids"},
		{stake.ClaimKeepSubnets, []uint16{0, 1}, "netuid 0 (root)"},
		{stake.ClaimKeepSubnets, []uint16{2, 1, 2}, "netuid 2 is listed twice"},
		{stake.ClaimKeepSubnets, make([]uint16, stake.MaxKeepSubnets+1), "more than the 128 allowed"},
		{7, nil, "root claim type 7 is unknown"},
	} {
		err := setClaimType(sk, kv, c3, bad.typ, bad.netuids...)
		if code(err) != tx.CodeInvalidMessage || !strings.Contains(err.Error(), bad.msg) {
			t.Fatalf("type %d netuids %v: %v, want invalid_message %q", bad.typ, bad.netuids, err, bad.msg)
		}
	}
	if ct, _ := sk.RootClaimTypeOf(kv, c3); ct.Type != stake.ClaimKeepSubnets || !slices.Equal(ct.Netuids, []uint16{2}) {
		t.Fatalf("a refused message changed the type to %+v", ct)
	}
}

// As subtensor's claim_root, a claim skips what is owed below dtao.RootClaimMinimum on a
// subnet (it stays owed and grows); with nothing else to pay it is refused, saying so.
func TestRootClaimMinimum(t *testing.T) {
	sk, kv := rootChain(t, 1, map[byte]uint64{3: 1_000_000_000_000})
	hot, c3 := pk(9), pk(3)
	if err := stakeRoot(sk, kv, hot, c3, 300_000_000_000); err != nil {
		t.Fatal(err)
	}
	rootDividend(t, sk, kv, 1, hot, 450_000) // pk(3) holds 3/4 of the root stake: ~277k after the take
	owed := owedOf(t, sk, kv, c3)[hot][1]
	if owed == 0 || owed >= dtao.RootClaimMinimum {
		t.Fatalf("owed %d: the test wants 0 < owed < %d", owed, dtao.RootClaimMinimum)
	}
	_, err := claim(sk, kv, c3, nil, false)
	if code(err) != tx.CodeNotFound || !strings.Contains(err.Error(), "below the minimum 0.0005") {
		t.Fatalf("a claim of %d: %v, want not_found below the minimum", owed, err)
	}
	if o := owedOf(t, sk, kv, c3)[hot][1]; o != owed {
		t.Fatalf("owed %d after the refused claim, want %d", o, owed)
	}
	rootDividend(t, sk, kv, 1, hot, 450_000)
	owed2 := owedOf(t, sk, kv, c3)[hot][1]
	if owed2 < dtao.RootClaimMinimum {
		t.Fatalf("owed %d after a second dividend", owed2)
	}
	ctx, err := claim(sk, kv, c3, nil, true)
	if err != nil || len(claimedOn(ctx)) != 1 {
		t.Fatalf("claim of %d: %v %v", owed2, err, ctx.Events())
	}
	if a, _ := sk.AlphaOf(kv, 1, hot, c3); a != owed2 {
		t.Fatalf("kept %d alpha, want %d", a, owed2)
	}
	if err := sk.CheckConservation(kv); err != nil {
		t.Fatal(err)
	}
}

// indexed lists the auto-claim's index in position order.
func indexed(t *testing.T, sk *Keeper, r store.Reader) []keys.PublicKey {
	t.Helper()
	n, _ := module.GetUint64(r, keyClaimCount)
	out := make([]keys.PublicKey, n)
	for i := range out {
		c, ok, err := sk.indexedColdkey(r, uint64(i))
		if err != nil || !ok {
			t.Fatalf("position %d of %d: %v", i, n, err)
		}
		out[i] = c
	}
	return out
}

// The index holds exactly the coldkeys with root stake, numbered densely: a coldkey enters
// at the end with its first root position, stays while it has any, and leaves with its
// last, the last entry moving into its slot. Setting a claim type or a refused claim adds
// nothing (GHSA-2026-012).
func TestAutoClaimIndex(t *testing.T) {
	fund := map[byte]uint64{}
	for c := byte(2); c <= 6; c++ {
		fund[c] = 1_000_000_000_000
	}
	sk, kv := rootChain(t, 1, fund, 10)
	step := func(name string, err error, want ...byte) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var w []keys.PublicKey
		for _, b := range want {
			w = append(w, pk(b))
		}
		if got := indexed(t, sk, kv); !slices.Equal(got, w) {
			t.Fatalf("%s: index %v, want %v", name, got, w)
		}
		if err := sk.CheckConservation(kv); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	step("genesis", nil, 1)
	step("2 stakes", stakeRoot(sk, kv, pk(9), pk(2), 1_000), 1, 2)
	step("3 stakes", stakeRoot(sk, kv, pk(9), pk(3), 1_000), 1, 2, 3)
	step("4 stakes", stakeRoot(sk, kv, pk(10), pk(4), 1_000), 1, 2, 3, 4)
	step("2 stakes on a second hotkey", stakeRoot(sk, kv, pk(10), pk(2), 1_000), 1, 2, 3, 4)
	step("2 leaves one of two", unstakeRoot(sk, kv, pk(9), pk(2), 1_000), 1, 2, 3, 4)
	step("2 leaves partly", unstakeRoot(sk, kv, pk(10), pk(2), 400), 1, 2, 3, 4)
	step("2 leaves its last: 4 takes its slot", unstakeRoot(sk, kv, pk(10), pk(2), 600), 1, 4, 3)
	step("the last one leaves", unstakeRoot(sk, kv, pk(9), pk(3), 1_000), 1, 4)
	step("5 sets a claim type", setClaimType(sk, kv, pk(5), stake.ClaimKeep), 1, 4)
	_, err := claim(sk, kv, pk(6), nil, false)
	if code(err) != tx.CodeNotFound {
		t.Fatalf("claim of a coldkey with nothing: %v", err)
	}
	step("6's claim is refused", nil, 1, 4)
	step("the first leaves: 4 moves to 0", unstakeRoot(sk, kv, pk(9), pk(1), 100_000_000_000), 4)
	step("4 leaves: empty", unstakeRoot(sk, kv, pk(10), pk(4), 1_000))
	step("3 returns", stakeRoot(sk, kv, pk(10), pk(3), 5), 3)
}

// hashOf is a block hash for tests: SHA-256 of the height.
func hashOf(height uint64) []byte {
	h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, height))
	return h[:]
}

// Each block the auto-claim claims for the coldkeys at dtao.AutoClaimIndices of the
// previous block's hash, by their claim types, unforced; the others keep what they are
// owed; and it remembers this block's hash for the next.
func TestAutoClaimPicksFromParentHash(t *testing.T) {
	fund := map[byte]uint64{}
	for c := byte(20); c < 40; c++ {
		fund[c] = 1_000_000_000_000
	}
	sk, kv := rootChain(t, 2, fund)
	hot := pk(9)
	for c := byte(20); c < 40; c++ {
		if err := stakeRoot(sk, kv, hot, pk(c), 100_000_000_000); err != nil {
			t.Fatal(err)
		}
	}
	if err := setClaimType(sk, kv, pk(25), stake.ClaimKeepSubnets, 1); err != nil {
		t.Fatal(err)
	}
	rootDividend(t, sk, kv, 1, hot, 21_000_000_000) // about 0.8 alpha to each of the 21 root stakers
	rootDividend(t, sk, kv, 2, hot, 100_000)        // below the minimum for everyone
	n := uint64(len(indexed(t, sk, kv)))
	claimed := map[keys.PublicKey]bool{}
	for height := uint64(100); height < 110; height++ {
		before := map[keys.PublicKey]map[uint16]uint64{}
		for _, c := range indexed(t, sk, kv) {
			before[c] = owedOf(t, sk, kv, c)[hot]
		}
		parent, _ := kv.Get(keyClaimLastBlock)
		ctx := &module.Context{KV: kv, Height: int64(height), BlockHash: hashOf(height)}
		if err := sk.AutoClaimRoot(ctx); err != nil {
			t.Fatal(err)
		}
		picked := map[keys.PublicKey]bool{}
		for _, i := range dtao.AutoClaimIndices(parent, dtao.AutoClaimsPerBlock, n) {
			c, _, _ := sk.indexedColdkey(kv, i)
			picked[c] = true
		}
		got := claimedOn(ctx)
		for c, owed := range before {
			after := owedOf(t, sk, kv, c)[hot]
			if owed[2] == 0 || after[2] != owed[2] {
				t.Fatalf("block %d: %s's %d owed on subnet 2 (below the minimum) became %d", height, c, owed[2], after[2])
			}
			wasClaimed := owed[1] >= dtao.RootClaimMinimum && picked[c]
			if _, ev := got[c.String()+"/1"]; ev != wasClaimed || (after[1] == 0) != (wasClaimed || owed[1] == 0) {
				t.Fatalf("block %d: %s picked %v, owed %d → %d, event %v", height, c, picked[c], owed[1], after[1], ev)
			}
			if wasClaimed {
				claimed[c] = true
				if kept := got[c.String()+"/1"] == "true"; kept != (c == pk(25)) {
					t.Fatalf("block %d: %s kept %v on subnet 1 (only pk(25), keep-subnets [1], keeps)", height, c, kept)
				}
			}
		}
		if b, _ := kv.Get(keyClaimLastBlock); !slices.Equal(b, hashOf(height)) {
			t.Fatalf("block %d: stored hash %x", height, b)
		}
		if err := sk.CheckConservation(kv); err != nil {
			t.Fatalf("block %d: %v", height, err)
		}
	}
	if len(claimed) < 10 {
		t.Fatalf("only %d coldkeys auto-claimed in 10 blocks", len(claimed))
	}
}

// BenchmarkAutoClaim times one block's auto-claim among 10,000 root stakers on 4 hotkeys
// with dividends owed on 2 subnets: 5 coldkeys picked, each claimed (Swap) on both.
func BenchmarkAutoClaim(b *testing.B) {
	const colds = 10_000
	sk, kv := rootChain(b, 2, nil, 10, 11, 12)
	hots := []keys.PublicKey{pk(9), pk(10), pk(11), pk(12)}
	coldkey := func(i int) keys.PublicKey {
		var c keys.PublicKey
		binary.BigEndian.PutUint32(c[1:], uint32(i))
		c[0] = 0xc0
		return c
	}
	for i := 0; i < colds; i++ {
		if err := sk.accounts.Credit(kv, coldkey(i), 10_000_000_000); err != nil {
			b.Fatal(err)
		}
	}
	back, _ := sk.Backing(kv)
	if err := putIssuance(kv, back); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < colds; i++ {
		if err := stakeRoot(sk, kv, hots[i%4], coldkey(i), 10_000_000_000); err != nil {
			b.Fatal(err)
		}
	}
	accrue := func() {
		for _, h := range hots {
			for n := uint16(1); n <= 2; n++ {
				rootDividend(b, sk, kv, n, h, 2_000_000_000_000) // ~0.65 alpha per staker
			}
		}
	}
	accrue()
	height := uint64(1)
	b.ResetTimer()
	for b.Loop() {
		if height%400 == 0 { // keep most picks owed something
			b.StopTimer()
			accrue()
			b.StartTimer()
		}
		height++
		ctx := &module.Context{KV: kv, Height: int64(height), BlockHash: hashOf(height)}
		if err := sk.AutoClaimRoot(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
