package devnet

import (
	"encoding/json"
	"fmt"

	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/stake"
)

// AuthorAccount is the account the devnet's validator is bound to as block author
// (docs/dtao.md §9, Fees): the staking fees of its blocks go to //Alice's balance.
const AuthorAccount = "//Alice"

// authorsGenesis binds the validator's consensus key (its ed25519 public key) to
// AuthorAccount in the stake genesis ("authors"), from the first block on. A running
// devnet may bind it elsewhere with `tessera node bind-author --home <devnet home>`.
func authorsGenesis(st *genesis.AppState, consensusPub []byte) error {
	acct, err := keys.FromURI(AuthorAccount)
	if err != nil {
		return err
	}
	section := map[string]json.RawMessage{}
	if raw, ok := st.Extra[stake.Name]; ok {
		if err := json.Unmarshal(raw, &section); err != nil {
			return fmt.Errorf("stake genesis: %w", err)
		}
	}
	var authors []stake.GenesisAuthor
	if raw, ok := section["authors"]; ok {
		if err := json.Unmarshal(raw, &authors); err != nil {
			return fmt.Errorf("stake genesis authors: %w", err)
		}
	}
	authors = append(authors, stake.GenesisAuthor{PubKey: consensusPub, Account: acct.Public().String()})
	list, err := json.Marshal(authors)
	if err != nil {
		return err
	}
	section["authors"] = list
	raw, err := json.Marshal(section)
	if err != nil {
		return err
	}
	if st.Extra == nil {
		st.Extra = map[string]json.RawMessage{}
	}
	st.Extra[stake.Name] = raw
	return nil
}
