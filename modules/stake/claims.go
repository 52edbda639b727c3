package stake

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tessera-net/tessera/tx"
)

// MsgSetRootClaimType sets how the signer's root dividends are claimed (docs/dtao.md §9,
// Root claims): the coldkey's RootClaimType, used by the auto-claim and by a claim_root
// without keep.
const MsgSetRootClaimType = "stake/set_root_claim_type"

// Root claim types (subtensor's RootClaimTypeEnum): what a claim does with the alpha a
// root staker is owed on a subnet.
const (
	// ClaimSwap (the default) sells the alpha on the subnet's pool, fee-free, and stakes
	// the TAO on root under the same hotkey.
	ClaimSwap uint8 = 0
	// ClaimKeep stakes the alpha on the subnet under the hotkey.
	ClaimKeep uint8 = 1
	// ClaimKeepSubnets keeps the alpha on the listed subnets and swaps it on the others.
	ClaimKeepSubnets uint8 = 2
)

// MaxKeepSubnets bounds the netuids of a KeepSubnets claim type (subtensor's subnet limit).
const MaxKeepSubnets = 128

var claimTypeNames = []string{"swap", "keep", "keep-subnets"}

// ClaimTypeName is a claim type's name as the CLI and the queries write it: "swap",
// "keep" or "keep-subnets".
func ClaimTypeName(t uint8) string {
	if int(t) < len(claimTypeNames) {
		return claimTypeNames[t]
	}
	return fmt.Sprintf("type(%d)", t)
}

// ParseClaimType reads a claim type's name ("keep_subnets" is accepted for "keep-subnets").
func ParseClaimType(s string) (uint8, error) {
	s = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-")
	if i := slices.Index(claimTypeNames, s); i >= 0 {
		return uint8(i), nil
	}
	return 0, fmt.Errorf("unknown root claim type %q (want swap, keep or keep-subnets)", s)
}

// RootClaimType is a coldkey's root claim type, as set by stake/set_root_claim_type and
// stored (absent = Swap). Netuids are the subnets KeepSubnets keeps, ascending.
type RootClaimType struct {
	Type    uint8    `cbor:"1,keyasint,omitempty"`
	Netuids []uint16 `cbor:"2,keyasint,omitempty"`
}

// Keeps reports whether a claim of this type on netuid keeps the alpha (rather than
// selling it for root stake).
func (c RootClaimType) Keeps(netuid uint16) bool {
	switch c.Type {
	case ClaimKeep:
		return true
	case ClaimKeepSubnets:
		_, found := slices.BinarySearch(c.Netuids, netuid)
		return found
	}
	return false
}

// Validate checks a claim type as a message carries it: a known type; netuids (non-root,
// at most MaxKeepSubnets, no repeats) with KeepSubnets and only with it. It returns the
// type with its netuids sorted.
func (c RootClaimType) Validate() (RootClaimType, error) {
	switch c.Type {
	case ClaimSwap, ClaimKeep:
		if len(c.Netuids) > 0 {
			return c, tx.Errorf(tx.CodeInvalidMessage, "netuids %v are given with root claim type %s; only keep-subnets takes netuids", c.Netuids, ClaimTypeName(c.Type))
		}
		return RootClaimType{Type: c.Type}, nil
	case ClaimKeepSubnets:
	default:
		return c, tx.Errorf(tx.CodeInvalidMessage, "root claim type %d is unknown (0 swap, 1 keep, 2 keep-subnets)", c.Type)
	}
	if len(c.Netuids) == 0 {
		return c, tx.Errorf(tx.CodeInvalidMessage, "root claim type keep-subnets needs at least one netuid")
	}
	if len(c.Netuids) > MaxKeepSubnets {
		return c, tx.Errorf(tx.CodeInvalidMessage, "root claim type keep-subnets lists %d netuids, more than the %d allowed", len(c.Netuids), MaxKeepSubnets)
	}
	ns := slices.Clone(c.Netuids)
	slices.Sort(ns)
	for i, n := range ns {
		if n == 0 {
			return c, tx.Errorf(tx.CodeInvalidMessage, "netuid 0 (root) in keep-subnets: root dividends are paid on subnets, not on root")
		}
		if i > 0 && ns[i-1] == n {
			return c, tx.Errorf(tx.CodeInvalidMessage, "netuid %d is listed twice in keep-subnets", n)
		}
	}
	return RootClaimType{Type: ClaimKeepSubnets, Netuids: ns}, nil
}

// SetRootClaimType is stake/set_root_claim_type: the signer's claim type from now on.
// Type is ClaimSwap, ClaimKeep or ClaimKeepSubnets; Netuids (KeepSubnets only, 1 to
// MaxKeepSubnets non-root subnets) are the subnets whose alpha is kept.
type SetRootClaimType struct {
	Type    uint8    `cbor:"1,keyasint,omitempty"`
	Netuids []uint16 `cbor:"2,keyasint,omitempty"`
}

// NewSetRootClaimType builds a stake/set_root_claim_type message.
func NewSetRootClaimType(claimType uint8, netuids []uint16) (tx.Msg, error) {
	return tx.NewMsg(MsgSetRootClaimType, SetRootClaimType{Type: claimType, Netuids: netuids})
}

// RootClaimTypeView answers "root_claim_type/<coldkey>": the coldkey's claim type
// ("swap", "keep" or "keep-subnets"), the subnets it keeps, and whether the coldkey is in
// the auto-claim's index (it has root stake) and at which position.
type RootClaimTypeView struct {
	Coldkey   string   `json:"coldkey"`
	Type      string   `json:"type"`
	Netuids   []uint16 `json:"netuids"`
	AutoClaim bool     `json:"auto_claim"`
	Index     uint64   `json:"index,string"`
	// Indexed is how many coldkeys the auto-claim chooses from (those with root stake).
	Indexed uint64 `json:"indexed,string"`
}
