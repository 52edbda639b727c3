package devnet

import (
	"crypto/ed25519"
	"testing"

	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	accountskeeper "github.com/tessera-net/tessera/modules/accounts/keeper"
	"github.com/tessera-net/tessera/modules/stake"
	stakekeeper "github.com/tessera-net/tessera/modules/stake/keeper"
	"github.com/tessera-net/tessera/store"
)

// The devnet's genesis binds its validator's consensus key to //Alice as block author.
func TestAuthorsGenesis(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	var st genesis.AppState
	if err := authorsGenesis(&st, pub); err != nil {
		t.Fatal(err)
	}
	kv := store.NewCache(store.OpenMemory().Working())
	sk := stakekeeper.New(accountskeeper.New())
	if err := sk.InitGenesis(&module.Context{KV: kv, ChainID: ChainID}, st.Extra[stake.Name]); err != nil {
		t.Fatal(err)
	}
	alice, _ := keys.FromURI(AuthorAccount)
	if a, ok, err := sk.AuthorOf(kv, stake.ConsensusAddress(pub)); err != nil || !ok || a != alice.Public() {
		t.Fatalf("the validator is bound to %s %v %v, want //Alice", a, ok, err)
	}
}
