package dtao

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
)

// Child keys (dtao.md §1 ChildKeys/ParentKeys/ChildkeyTake, §3 inherited stake and the
// parent/child dividend split; subtensor staking/set_children.rs and
// coinbase/run_coinbase.rs get_parent_child_dividends_distribution). A parent hotkey
// lends proportions of its stake on one subnet to at most MaxChildren child hotkeys; the
// child's uid validates with the lent stake, and the child's dividends are shared back
// with its parents by what each contributed, less the child's take.

// MaxChildren is the most children a hotkey may have on one subnet.
const MaxChildren = 5

// Childkey take bounds, in 65535ths: subtensor's runtime InitialMinChildKeyTake 0 and
// InitialMaxChildKeyTake 11_796 (≈ 18 %).
const (
	MinChildkeyTake uint16 = 0
	MaxChildkeyTake uint16 = 11_796
)

// Rate limits and the cooldown, in blocks, as subtensor's: set_children once per 150
// blocks per (hotkey, subnet) (rate_limiting.rs, TransactionType::SetChildren); an
// increase of a childkey take once per TxChildkeyTakeRateLimit (runtime
// INITIAL_CHILDKEY_TAKE_RATELIMIT, 216_000); new children wait PendingChildKeyCooldown
// (DefaultPendingCooldown, 7_200; a chain parameter).
const (
	SetChildrenRateLimit           uint64 = 150
	ChildkeyTakeRateLimit          uint64 = 216_000
	DefaultPendingChildKeyCooldown uint64 = 7_200
)

// DefaultCKBurn is subtensor's CKBurn default: no part of a parent's dividend from a child
// of another coldkey is burned.
const DefaultCKBurn uint64 = 0

// ValidChildkeyTake reports whether take is within [MinChildkeyTake, MaxChildkeyTake].
func ValidChildkeyTake(take uint16) bool { return take >= MinChildkeyTake && take <= MaxChildkeyTake }

// RateLimitPasses is check_passes_rate_limit: the first action (last = 0) or one at least
// limit blocks after the last passes.
func RateLimitPasses(last, now, limit uint64) bool { return last == 0 || satSub(now, last) >= limit }

// ChildReady is do_set_pending_children's test: children scheduled to cool down at
// cooldownBlock are applied at a subnet's epoch in a block after it.
func ChildReady(cooldownBlock, block uint64) bool { return cooldownBlock < block }

// Child is one child of a hotkey: the proportion of the parent's stake it gets
// (value/u64::MAX) and its hotkey.
type Child[K comparable] struct {
	Proportion Proportion
	Hotkey     K
}

// The rules a set of children breaks (CheckChildren wraps them, naming the values).
var (
	ErrChildrenOnRoot     = errors.New("child keys are not allowed on the root subnet")
	ErrTooManyChildren    = errors.New("too many children")
	ErrSelfChild          = errors.New("a hotkey cannot be its own child")
	ErrDuplicateChild     = errors.New("duplicate child")
	ErrProportionOverflow = errors.New("the proportions sum to more than 1")
	ErrChildIsParent      = errors.New("the child is a parent of the hotkey")
)

// CheckChildren checks a new set of children of parent on netuid (subtensor's
// do_schedule_children and ensure_pending_consistency, in their order): not on the root
// subnet (netuid 0), no child twice, not the parent itself, at most MaxChildren, proportions summing to
// at most u64::MAX, and no child that is already a parent of parent on the subnet
// (parents: the hotkeys whose child parent is there), which would make a cycle. The empty
// set (a revocation) passes every rule but the first.
func CheckChildren[K comparable](parent K, netuid uint16, children []Child[K], parents []K) error {
	if netuid == 0 {
		return ErrChildrenOnRoot
	}
	seen := make(map[K]bool, len(children))
	for i, c := range children {
		if seen[c.Hotkey] {
			return fmt.Errorf("%w: child %d, %v, is listed twice", ErrDuplicateChild, i+1, c.Hotkey)
		}
		seen[c.Hotkey] = true
	}
	for i, c := range children {
		if c.Hotkey == parent {
			return fmt.Errorf("%w: child %d is the hotkey %v", ErrSelfChild, i+1, parent)
		}
	}
	if len(children) > MaxChildren {
		return fmt.Errorf("%w: %d children, at most %d", ErrTooManyChildren, len(children), MaxChildren)
	}
	var hi, lo uint64
	for _, c := range children {
		var carry uint64
		lo, carry = bits.Add64(lo, uint64(c.Proportion), 0)
		hi += carry
	}
	if hi != 0 {
		sum := new(big.Int).Lsh(new(big.Int).SetUint64(hi), 64)
		return fmt.Errorf("%w: %s/%d of the parent's stake", ErrProportionOverflow, sum.Add(sum, new(big.Int).SetUint64(lo)), uint64(math.MaxUint64))
	}
	for _, p := range parents {
		if seen[p] {
			return fmt.Errorf("%w: %v is a parent of %v on subnet %d, so it cannot be its child", ErrChildIsParent, p, parent, netuid)
		}
	}
	return nil
}

// ParentShare is one parent of a hotkey on a subnet as the dividend split sees it.
type ParentShare struct {
	Alpha, Root uint64     // the parent's own alpha stake on the subnet and its root stake
	Proportion  Proportion // what it lends this child, value/u64::MAX
	// SameOwner is true when one coldkey owns the parent and the child: then no take
	// and no burn apply.
	SameOwner bool
}

// ChildSplit is a child's dividend shared with its parents.
type ChildSplit struct {
	Self    uint64   // the child's part: what its parents did not get, plus the takes
	Parents []uint64 // each parent's part, in the order given
	Burned  uint64   // the CKBurn parts (the caller recycles them); 0 at DefaultCKBurn
}

// SplitParentChild is get_parent_child_dividends_distribution (dtao.md §3, Dividends
// (1)), in U96F32 as subtensor: the child's self contribution is
// ⌊(α + root·tw)·(1 − Σ childProps)⌋ (α, root: its own stakes; childProps: the
// proportions it lends its own children), each parent's contribution is
// (α_p + root_p·tw)·prop_p, and parent p gets d·contrib_p/total (total: self plus every
// contribution; 0 when total is 0) less, when its coldkey differs from the child's,
// ckBurn/u64::MAX of it (burned) and childTake/65535 of it (to the child). Each parent's
// part is floored; the child keeps ⌊d − Σ parents' gross parts + Σ takes⌋. So
// Self + Σ Parents + Burned ≤ d, short by the floors only. taoWeight is value/u64::MAX.
func SplitParentChild(d, alpha, root uint64, childProps []Proportion, parents []ParentShare, taoWeight uint64, childTake uint16, ckBurn uint64) ChildSplit {
	out := ChildSplit{Parents: make([]uint64, len(parents))}
	tw := TaoWeightFraction(taoWeight)
	rem := U96F32FromInt(1)
	for _, p := range childProps {
		rem = rem.Sub(propFix96(p))
	}
	self := U96F32FromInt(alpha).Mul(rem).Add(U96F32FromInt(root).Mul(rem).Mul(tw)).Floor()
	total := U96F32FromInt(self)
	contrib := make([]U96F32, len(parents))
	for i, p := range parents {
		pp := propFix96(p.Proportion)
		contrib[i] = U96F32FromInt(p.Alpha).Mul(pp).Add(U96F32FromInt(p.Root).Mul(pp).Mul(tw))
		total = total.Add(contrib[i])
	}
	div := U96F32FromInt(d)
	left := div
	takeP := Ratio96(uint64(childTake), math.MaxUint16)
	burnP := propFix96(Proportion(ckBurn))
	var takes U96F32
	for i, p := range parents {
		pe := div.Mul(contrib[i].Div(total)) // Div is 0 when total is 0
		left = left.Sub(pe)
		if !p.SameOwner {
			burn, take := burnP.Mul(pe), takeP.Mul(pe)
			pe = pe.Sub(burn).Sub(take)
			takes = takes.Add(take)
			out.Burned = satAdd(out.Burned, burn.Floor())
		}
		out.Parents[i] = pe.Floor()
	}
	out.Self = left.Add(takes).Floor()
	return out
}

// propFix96 is a proportion as subtensor normalizes it: value/u64::MAX in U96F32.
func propFix96(p Proportion) U96F32 { return Ratio96(uint64(p), math.MaxUint64) }
