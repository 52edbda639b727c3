// Package genesis builds the application part of a genesis file (app_state): which
// accounts start funded, and each module's initial parameters. It also names Substrate's
// standard development accounts (//Alice, //Bob, …), which every local network funds.
package genesis

import (
	"encoding/json"
	"fmt"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
)

// DevAccountNames are the standard development accounts, derived from keys.DevPhrase
// with a hard junction of the name ("//Alice").
var DevAccountNames = []string{"Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"}

// DevBalance is what each development account starts with: one million tokens.
const DevBalance uint64 = 1_000_000 * accounts.UnitsPerToken

// DevAccount is a development account with its key.
type DevAccount struct {
	Name string
	URI  string
	Pair *keys.Pair
}

// DevAccounts derives the development accounts.
func DevAccounts() ([]DevAccount, error) {
	out := make([]DevAccount, 0, len(DevAccountNames))
	for _, n := range DevAccountNames {
		uri := "//" + n
		p, err := keys.FromURI(uri)
		if err != nil {
			return nil, fmt.Errorf("derive %s: %w", uri, err)
		}
		out = append(out, DevAccount{Name: n, URI: uri, Pair: p})
	}
	return out, nil
}

// AppState is the app_state of a genesis file; each field is one module's section.
// Later modules add their sections through Extra.
type AppState struct {
	Accounts accounts.Genesis `json:"accounts"`
	// Extra holds further module sections by module name.
	Extra map[string]json.RawMessage `json:"-"`
}

// Fund adds a funded account.
func (s *AppState) Fund(pub keys.PublicKey, balance uint64) {
	s.Accounts.Balances = append(s.Accounts.Balances, accounts.GenesisBalance{Address: pub.String(), Balance: balance})
}

// FundDevAccounts funds every development account with DevBalance.
func (s *AppState) FundDevAccounts() error {
	devs, err := DevAccounts()
	if err != nil {
		return err
	}
	for _, d := range devs {
		s.Fund(d.Pair.Public(), DevBalance)
	}
	return nil
}

// MarshalJSON writes the sections as one JSON object.
func (s AppState) MarshalJSON() ([]byte, error) {
	out := map[string]any{"accounts": s.Accounts}
	for k, v := range s.Extra {
		if k == "accounts" {
			return nil, fmt.Errorf("app_state section %q is set twice", k)
		}
		out[k] = v
	}
	return json.Marshal(out) // encoding/json sorts map keys, so the output is stable
}

// EnableDTAO turns dynamic TAO on (the subnets parameter dtao, docs/dtao.md; the default
// of a genesis that does not say), keeping any other subnets parameters the genesis sets.
func (s *AppState) EnableDTAO() error { return s.SetDTAO(true) }

// SetDTAO sets the subnets parameter dtao: on, dynamic TAO; off, the chain before it
// (root weights split the emission, stake is one TAO balance per hotkey).
func (s *AppState) SetDTAO(on bool) error { return s.SetSubnetsParam("dtao", on) }

// SetSubnetsParam sets one subnets parameter by its JSON name (modules/subnets Params),
// keeping the others the genesis sets; the parameters it leaves out keep their defaults.
func (s *AppState) SetSubnetsParam(name string, v any) error {
	section := map[string]map[string]any{}
	if raw, ok := s.Extra["subnets"]; ok {
		if err := json.Unmarshal(raw, &section); err != nil {
			return fmt.Errorf("subnets genesis: %w", err)
		}
	}
	if section["params"] == nil {
		section["params"] = map[string]any{}
	}
	section["params"][name] = v
	raw, err := json.Marshal(section)
	if err != nil {
		return err
	}
	if s.Extra == nil {
		s.Extra = map[string]json.RawMessage{}
	}
	s.Extra["subnets"] = raw
	return nil
}
