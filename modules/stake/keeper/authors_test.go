package keeper

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	accountskeeper "github.com/tessera-net/tessera/modules/accounts/keeper"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/tx"
)

const authorChain = "tessera-test"

// consensusKey is a deterministic ed25519 consensus key for tests.
func consensusKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func setAuthorMsg(t testing.TB, priv ed25519.PrivateKey, chainID string, account keys.PublicKey) tx.Msg {
	t.Helper()
	pub := priv.Public().(ed25519.PublicKey)
	m, err := stake.NewSetAuthor(pub, ed25519.Sign(priv, stake.AuthorSignBytes(chainID, account)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A consensus key binds itself to the signing account with its signature over the domain,
// the chain id and the account; a signature for another chain or account, or malformed
// fields, are refused; the same key binding again replaces the account.
func TestSetAuthor(t *testing.T) {
	sk, kv := rootChain(t, 1, nil)
	priv := consensusKey(7)
	pub := priv.Public().(ed25519.PublicKey)
	addr := stake.ConsensusAddress(pub)
	ctx := func() *module.Context { return &module.Context{KV: kv, ChainID: authorChain, Height: 5} }
	for _, c := range []struct {
		name string
		msg  tx.Msg
		code tx.Code
		want string
	}{
		{"another chain", setAuthorMsg(t, priv, "other-chain", pk(3)), tx.CodeUnauthorized, "does not verify for account"},
		{"another account", setAuthorMsg(t, priv, authorChain, pk(4)), tx.CodeUnauthorized, "does not verify for account"},
		{"short key", func() tx.Msg { m, _ := stake.NewSetAuthor(pub[:31], make([]byte, 64)); return m }(), tx.CodeInvalidMessage, "pub_key is 31 bytes"},
		{"short signature", func() tx.Msg { m, _ := stake.NewSetAuthor(pub, make([]byte, 63)); return m }(), tx.CodeInvalidMessage, "signature is 63 bytes"},
	} {
		err := sk.setAuthor(ctx(), pk(3), c.msg)
		if code(err) != c.code || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: %v, want %s %q", c.name, err, c.code, c.want)
		}
	}
	if _, ok, _ := sk.AuthorOf(kv, addr); ok {
		t.Fatal("a refused binding was stored")
	}
	c := ctx()
	if err := sk.setAuthor(c, pk(3), setAuthorMsg(t, priv, authorChain, pk(3))); err != nil {
		t.Fatal(err)
	}
	if a, ok, _ := sk.AuthorOf(kv, addr); !ok || a != pk(3) {
		t.Fatalf("bound to %s %v, want pk(3)", a, ok)
	}
	if ev := c.Events(); len(ev) != 1 || ev[0].Type != "author_bound" || attr(ev[0], "account") != pk(3).String() || attr(ev[0], "replaces") != "" {
		t.Fatalf("events %v", ev)
	}
	c = ctx()
	if err := sk.setAuthor(c, pk(4), setAuthorMsg(t, priv, authorChain, pk(4))); err != nil {
		t.Fatal(err)
	}
	if a, _, _ := sk.AuthorOf(kv, addr); a != pk(4) {
		t.Fatalf("re-bound to %s, want pk(4)", a)
	}
	if ev := c.Events(); attr(ev[0], "replaces") != pk(3).String() {
		t.Fatalf("events %v", ev)
	}
	// The address is CometBFT's: SHA-256 of the key, first 20 bytes (checked against
	// cometbft's crypto/ed25519 in modules/stake); the query answers it in upper-case hex.
	v, err := sk.queryAuthor(module.QueryRequest{State: kv, Args: []string{strings.ToLower(attr(c.Events()[0], "consensus_address"))}})
	if err != nil || v.(stake.AuthorView).Account != pk(4).String() {
		t.Fatalf("query %v %v", v, err)
	}
	if _, err := sk.queryAuthor(module.QueryRequest{State: kv, Args: []string{"00112233445566778899aabbccddeeff00112233"}}); code(err) != tx.CodeNotFound {
		t.Fatalf("an unbound address: %v", err)
	}
}

// The TAO fee of a stake operation in a block goes to the free balance of the account
// bound to the block's proposer; with no proposer (CheckTx) or no binding it is recycled.
// Nothing is created or lost either way.
func TestFeesToBlockAuthor(t *testing.T) {
	sk, kv := rootChain(t, 1, map[byte]uint64{3: 1_000_000_000_000})
	priv := consensusKey(7)
	proposer := stake.ConsensusAddress(priv.Public().(ed25519.PublicKey))
	if err := sk.setAuthor(&module.Context{KV: kv, ChainID: authorChain}, pk(5), setAuthorMsg(t, priv, authorChain, pk(5))); err != nil {
		t.Fatal(err)
	}
	balance := func(who keys.PublicKey) uint64 {
		a, err := sk.accounts.(*accountskeeper.Keeper).Account(kv, who)
		if err != nil {
			t.Fatal(err)
		}
		return a.Balance
	}
	op := func(name string, proposerAddr []byte, m tx.Msg, handler func(*module.Context, keys.PublicKey, tx.Msg) error) (fee, toAuthor, recycled uint64) {
		t.Helper()
		iss, _ := sk.Issuance(kv)
		before := balance(pk(5))
		ctx := &module.Context{KV: kv, ChainID: authorChain, Height: 7, Proposer: proposerAddr}
		if err := handler(ctx, pk(3), m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, e := range ctx.Events() {
			if e.Type == "stake_added" || e.Type == "stake_removed" {
				fee = parseU64(t, attr(e, "fee"))
			}
		}
		after, _ := sk.Issuance(kv)
		if err := sk.CheckConservation(kv); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return fee, balance(pk(5)) - before, iss - after
	}
	add := func(amount uint64) tx.Msg {
		m, _ := stake.NewAddOn(1, pk(9), amount, 0, false)
		return m
	}
	for _, c := range []struct {
		name     string
		proposer []byte
		toAuthor bool
	}{
		{"a block by the bound validator", proposer, true},
		{"CheckTx (no proposer)", nil, false},
		{"a block by an unbound validator", bytes.Repeat([]byte{1}, 20), false},
	} {
		fee, got, recycled := op(c.name+": add", c.proposer, add(10_000_000_000), sk.add)
		if fee == 0 || (c.toAuthor && (got != fee || recycled != 0)) || (!c.toAuthor && (got != 0 || recycled != fee)) {
			t.Fatalf("%s: fee %d, author got %d, recycled %d", c.name, fee, got, recycled)
		}
		a, _ := sk.AlphaOf(kv, 1, pk(9), pk(3))
		m, _ := stake.NewRemoveOn(1, pk(9), a/2, 0, false)
		fee, got, recycled = op(c.name+": remove", c.proposer, m, sk.remove)
		if fee == 0 || (c.toAuthor && (got != fee || recycled != 0)) || (!c.toAuthor && (got != 0 || recycled != fee)) {
			t.Fatalf("%s (remove, the alpha fee sold): fee %d, author got %d, recycled %d", c.name, fee, got, recycled)
		}
	}
}

func parseU64(t testing.TB, s string) uint64 {
	t.Helper()
	var v uint64
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

// The stake genesis may bind consensus keys to accounts ("authors"); anything else in it
// is refused, as are malformed entries.
func TestAuthorsGenesis(t *testing.T) {
	pub := consensusKey(7).Public().(ed25519.PublicKey)
	entry := func(p []byte, acct string) string {
		b, _ := json.Marshal(stake.GenesisAuthor{PubKey: p, Account: acct})
		return string(b)
	}
	for _, c := range []struct {
		name, raw, err string
	}{
		{"empty", `{}`, ""},
		{"null", `null`, ""},
		{"one author", `{"authors":[` + entry(pub, pk(3).Hex()) + `]}`, ""},
		{"twice", `{"authors":[` + entry(pub, pk(3).Hex()) + `,` + entry(pub, pk(4).Hex()) + `]}`, "listed twice"},
		{"short key", `{"authors":[` + entry(pub[:20], pk(3).Hex()) + `]}`, "pub_key is 20 bytes"},
		{"bad account", `{"authors":[` + entry(pub, "nobody") + `]}`, "account"},
		{"unknown entry field", `{"authors":[{"pub_key":"AA==","acount":"x"}]}`, "unknown field"},
		{"other fields", `{"authors":[],"stakes":[]}`, `unknown field "stakes"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			sk, kv := rootChain(t, 0, nil)
			err := sk.InitGenesis(&module.Context{KV: kv, ChainID: authorChain}, json.RawMessage(c.raw))
			if (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
				t.Fatalf("%v, want %q", err, c.err)
			}
			if c.name == "one author" {
				if a, ok, _ := sk.AuthorOf(kv, stake.ConsensusAddress(pub)); !ok || a != pk(3) {
					t.Fatalf("bound to %s %v", a, ok)
				}
			}
		})
	}
}
