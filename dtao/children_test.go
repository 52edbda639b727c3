package dtao

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// Proportions that are exact in U96F32: value/u64::MAX is normalized in U96F32 (32
// fractional bits), so 2^63 is exactly one half and u64::MAX exactly one.
const (
	half    = Proportion(1 << 63)
	quarter = Proportion(1 << 62)
	all     = Proportion(math.MaxUint64)
)

func TestCheckChildren(t *testing.T) {
	type ch = Child[string]
	five := []ch{{1, "a"}, {1, "b"}, {1, "c"}, {1, "d"}, {1, "e"}}
	cases := []struct {
		name     string
		netuid   uint16
		children []ch
		parents  []string
		want     error
	}{
		{"one child", 1, []ch{{half, "c"}}, nil, nil},
		{"revoke (empty)", 1, nil, nil, nil},
		{"five children summing to exactly 1", 1, []ch{{all - 4, "a"}, {1, "b"}, {1, "c"}, {1, "d"}, {1, "e"}}, nil, nil},
		{"a child of my child's parent is fine", 1, []ch{{half, "c"}}, []string{"q"}, nil},
		{"root", 0, []ch{{half, "c"}}, nil, ErrChildrenOnRoot},
		{"root, even to revoke", 0, nil, nil, ErrChildrenOnRoot},
		{"six children", 1, append(slices.Clone(five), ch{1, "f"}), nil, ErrTooManyChildren},
		{"self", 1, []ch{{half, "p"}}, nil, ErrSelfChild},
		{"duplicate", 1, []ch{{quarter, "c"}, {quarter, "c"}}, nil, ErrDuplicateChild},
		{"sum above one", 1, []ch{{all, "a"}, {1, "b"}}, nil, ErrProportionOverflow},
		{"cycle: my parent as my child", 1, []ch{{half, "c"}, {quarter, "q"}}, []string{"q"}, ErrChildIsParent},
		// subtensor's order: the duplicate is found before the count, the self before both.
		{"duplicate before count", 1, append(slices.Clone(five), ch{1, "a"}), nil, ErrDuplicateChild},
		{"self before count", 1, append(slices.Clone(five), ch{1, "p"}), nil, ErrSelfChild},
	}
	for _, c := range cases {
		err := CheckChildren("p", c.netuid, c.children, c.parents)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

// Hand-computed splits (tw: 0 or 1, so every stake term is exact; the take 4369/65535 is
// 1/15 and the U96F32 truncations of 0.6 and of 1/15 show in the last unit).
func TestSplitParentChild(t *testing.T) {
	cases := []struct {
		name        string
		d, a, r     uint64
		childProps  []Proportion
		parents     []ParentShare
		tw          uint64
		take        uint16
		burn        uint64
		self        uint64
		parentParts []uint64
		burned      uint64
	}{
		// The worked example of docs/dtao.md: the child's own 1000 alpha against half of the
		// parent's 3000: total 2500, the parent's gross 1000·1500/2500 = 600 (599.99999986 in
		// U96F32: 0.6 truncates), its take 1/15 of it ≈ 40 to the child; parent 559, child
		// 400 + 40 = 440.
		{"other owner, take", 1000, 1000, 0, nil, []ParentShare{{Alpha: 3000, Proportion: half}}, 0, 4369, 0, 440, []uint64{559}, 0},
		// The same coldkey owns both: no take; the parent's 599.99… floors to 599, the child
		// keeps 1000 − 599.99… = 400.00… → 400.
		{"same owner, no take", 1000, 1000, 0, nil, []ParentShare{{Alpha: 3000, Proportion: half, SameOwner: true}}, 0, 4369, 0, 400, []uint64{599}, 0},
		// tw = 1; the child lends half of its own stake to its children: self =
		// (500 + 500)·½ = 500. Parent A: 2000 root × ½ × 1 = 1000, parent B (same owner):
		// 1000 alpha × 1 = 1000; total 2500. A: 400 − 26.67 take = 373.33 → 373; B: 400 →
		// 399 (truncation); the child 1000 − 800 + 26.67 → 226.
		{"two parents, tw 1, own children", 1000, 500, 500, []Proportion{half},
			[]ParentShare{{Root: 2000, Proportion: half}, {Alpha: 1000, Proportion: all, SameOwner: true}}, math.MaxUint64, 4369, 0, 226, []uint64{373, 399}, 0},
		// Nothing staked anywhere: total 0, the parents get nothing, the child everything.
		{"zero stakes", 1000, 0, 0, nil, []ParentShare{{Proportion: half}}, 0, 4369, 0, 1000, []uint64{0}, 0},
		// No parents: the child keeps its dividend (the case without child keys).
		{"no parents", 777, 5, 5, nil, nil, 0, 4369, 0, 777, []uint64{}, 0},
		// CKBurn ¼: of the parent's ≈600, ≈150 burned (149 floored) and ≈40 to the child;
		// the parent 409.99… → 409.
		{"ck burn", 1000, 1000, 0, nil, []ParentShare{{Alpha: 3000, Proportion: half}}, 0, 4369, uint64(quarter), 440, []uint64{409}, 149},
		// The maximum take (11_796/65535 ≈ 18 %) on 1 TAO of dividends.
		{"max take", 1e9, 1e9, 0, nil, []ParentShare{{Alpha: 3e9, Proportion: half}}, 0, MaxChildkeyTake, 0, 507_997_253, []uint64{492_002_746}, 0},
	}
	for _, c := range cases {
		got := SplitParentChild(c.d, c.a, c.r, c.childProps, c.parents, c.tw, c.take, c.burn)
		if got.Self != c.self || !slices.Equal(got.Parents, c.parentParts) || got.Burned != c.burned {
			t.Errorf("%s: got self %d parents %v burned %d, want %d %v %d", c.name, got.Self, got.Parents, got.Burned, c.self, c.parentParts, c.burned)
		}
		sum := got.Self + got.Burned
		for _, p := range got.Parents {
			sum += p
		}
		if sum > c.d {
			t.Errorf("%s: the parts sum to %d, more than the dividend %d", c.name, sum, c.d)
		}
	}
}

// InheritedStake is subtensor's U96F32 arithmetic: own − own·Σprop + Σ parent·prop.
func TestInheritedStakeExact(t *testing.T) {
	cases := []struct {
		own          uint64
		childProps   []Proportion
		parentStakes []uint64
		parentProps  []Proportion
		want         uint64
	}{
		{1000, []Proportion{half}, []uint64{1000}, []Proportion{half}, 1000},
		{3000, []Proportion{half}, nil, nil, 1500},
		{1000, nil, []uint64{3000}, []Proportion{half}, 2500},
		{1000, []Proportion{quarter, quarter}, []uint64{3000, 400}, []Proportion{half, all}, 2400},
		{1000, []Proportion{all}, nil, nil, 0},
		// u64::MAX/2 is a hair under ½ in U96F32 (0x7FFFFFFF/2^32), so the lent part and
		// the inherited part both truncate: 1000 − 499.99999977 + 499.99999977.
		{1000, []Proportion{math.MaxUint64 / 2}, []uint64{1000}, []Proportion{math.MaxUint64 / 2}, 1000},
	}
	for _, c := range cases {
		if got := InheritedStake(c.own, c.childProps, c.parentStakes, c.parentProps); got != c.want {
			t.Errorf("InheritedStake(%d, %v, %v, %v) = %d, want %d", c.own, c.childProps, c.parentStakes, c.parentProps, got, c.want)
		}
	}
}

func TestChildRulesSmall(t *testing.T) {
	if !ValidChildkeyTake(0) || !ValidChildkeyTake(MaxChildkeyTake) || ValidChildkeyTake(MaxChildkeyTake+1) {
		t.Error("take bounds")
	}
	if !RateLimitPasses(0, 5, 150) || RateLimitPasses(10, 159, 150) || !RateLimitPasses(10, 160, 150) {
		t.Error("rate limit")
	}
	if ChildReady(10, 10) || !ChildReady(10, 11) {
		t.Error("cooldown: applied in a block after the cooldown block")
	}
}
