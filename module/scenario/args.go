package scenario

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cockroachdb/datadriven"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
)

// Args are the key=value arguments of a message line (or of a command), read through
// typed getters. Every getter marks its key used; Unused reports the keys nobody read, so
// a misspelt argument fails the scenario instead of being ignored.
type Args struct {
	vals  map[string]string
	used  map[string]bool
	names *Names
}

// parseLine splits a message line "<word> key=value ..." into its word and arguments.
func parseLine(line string, names *Names) (string, *Args, error) {
	word, cmdArgs, err := datadriven.ParseLine(line)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrBadArg, err)
	}
	a, err := newArgs(cmdArgs, names)
	return word, a, err
}

// newArgs collects datadriven arguments, each of which must be key=value, given once.
func newArgs(cmdArgs []datadriven.CmdArg, names *Names) (*Args, error) {
	a := &Args{vals: map[string]string{}, used: map[string]bool{}, names: names}
	for _, ca := range cmdArgs {
		if len(ca.Vals) != 1 {
			return nil, fmt.Errorf("%w: %s: want key=value", ErrBadArg, ca)
		}
		if _, dup := a.vals[ca.Key]; dup {
			return nil, fmt.Errorf("%w: %s given twice", ErrBadArg, ca.Key)
		}
		a.vals[ca.Key] = ca.Vals[0]
	}
	return a, nil
}

// Has reports whether key was given (and marks it used).
func (a *Args) Has(key string) bool {
	_, ok := a.vals[key]
	if ok {
		a.used[key] = true
	}
	return ok
}

// String returns the value of key as written.
func (a *Args) String(key string) (string, error) {
	v, ok := a.vals[key]
	if !ok {
		return "", fmt.Errorf("%w: %s", ErrMissingArg, key)
	}
	a.used[key] = true
	return v, nil
}

// Account reads key as an account: a name, an SS58 address or a 0x-hex public key.
func (a *Args) Account(key string) (keys.PublicKey, error) {
	v, err := a.String(key)
	if err != nil {
		return keys.PublicKey{}, err
	}
	pub, err := a.names.Resolve(v)
	if err != nil {
		return pub, fmt.Errorf("%s: %w", key, err)
	}
	return pub, nil
}

// Bytes reads key as raw key bytes: "0x" and hex digits of any length (to write a
// malformed key), or an account as Account reads it.
func (a *Args) Bytes(key string) ([]byte, error) {
	v, err := a.String(key)
	if err != nil {
		return nil, err
	}
	if h, ok := strings.CutPrefix(v, "0x"); ok && len(h) != 2*keys.PublicKeySize {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBadArg, key, err)
		}
		return b, nil
	}
	pub, err := a.Account(key)
	return pub[:], err
}

// Amount reads key as an amount in tokens ("1.5") and returns it in the smallest unit.
func (a *Args) Amount(key string) (uint64, error) {
	v, err := a.String(key)
	if err != nil {
		return 0, err
	}
	u, err := accounts.ParseAmount(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrBadArg, key, err)
	}
	return u, nil
}

// Uint reads key as an unsigned integer that fits in bitSize bits.
func (a *Args) Uint(key string, bitSize int) (uint64, error) {
	v, err := a.String(key)
	if err != nil {
		return 0, err
	}
	u, err := strconv.ParseUint(v, 10, bitSize)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrBadArg, key, err)
	}
	return u, nil
}

// Uint16s reads key as a comma-separated list of u16 ("1,2,3").
func (a *Args) Uint16s(key string) ([]uint16, error) {
	v, err := a.String(key)
	if err != nil {
		return nil, err
	}
	var out []uint16
	for _, f := range strings.Split(v, ",") {
		u, err := strconv.ParseUint(f, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBadArg, key, err)
		}
		out = append(out, uint16(u))
	}
	return out, nil
}

// Unused returns an ErrUnusedArg error naming the keys no getter read, or nil.
func (a *Args) Unused() error {
	var left []string
	for k := range a.vals {
		if !a.used[k] {
			left = append(left, k)
		}
	}
	if len(left) == 0 {
		return nil
	}
	sort.Strings(left)
	return fmt.Errorf("%w: %s", ErrUnusedArg, strings.Join(left, ", "))
}
