package scenario

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/keys"
)

// Names maps the account names of a scenario to their keys, and the keys back to the names
// in what the chain prints. Keys are derived on first use and kept.
type Names struct {
	pairs map[string]*keys.Pair
}

// NewNames returns an empty name table.
func NewNames() *Names { return &Names{pairs: map[string]*keys.Pair{}} }

// IsName reports whether word is an account name: a lowercase letter followed by
// lowercase letters, digits and underscores. Anything else is read as an address.
func IsName(word string) bool {
	if word == "" || word[0] < 'a' || word[0] > 'z' {
		return false
	}
	for _, c := range word {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// URI is the secret URI of a name: "//Alice" for alice and the other development
// accounts, "//" + name for any other.
func URI(name string) string {
	for _, dev := range genesis.DevAccountNames {
		if strings.EqualFold(dev, name) {
			return "//" + dev
		}
	}
	return "//" + name
}

// Pair returns the key pair of a name, deriving it on first use.
func (n *Names) Pair(name string) (*keys.Pair, error) {
	if p, ok := n.pairs[name]; ok {
		return p, nil
	}
	if !IsName(name) {
		return nil, fmt.Errorf("%w: %q is not an account name", ErrBadArg, name)
	}
	p, err := keys.FromURI(URI(name))
	if err != nil {
		return nil, fmt.Errorf("%w: derive %s: %v", ErrBadArg, name, err)
	}
	n.pairs[name] = p
	return p, nil
}

// Resolve reads an account word: a name, an SS58 address or a 0x-hex public key.
func (n *Names) Resolve(word string) (keys.PublicKey, error) {
	if IsName(word) {
		p, err := n.Pair(word)
		if err != nil {
			return keys.PublicKey{}, err
		}
		return p.Public(), nil
	}
	pub, err := keys.ParsePublicKey(word)
	if err != nil {
		return pub, fmt.Errorf("%w: %v", ErrBadArg, err)
	}
	return pub, nil
}

// Render replaces the SS58 address and the 0x-hex key of every name used so far by the
// name, so that output reads "alice" rather than "5Grw…".
func (n *Names) Render(s string) string {
	names := make([]string, 0, len(n.pairs))
	for name := range n.pairs {
		names = append(names, name)
	}
	sort.Strings(names)
	pairs := make([]string, 0, 4*len(names))
	for _, name := range names {
		pub := n.pairs[name].Public()
		pairs = append(pairs, pub.String(), name, pub.Hex(), name)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}
