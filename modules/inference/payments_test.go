package inference

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/poc"
	"github.com/tessera-net/tessera/tx"
)

func acct(b byte) Account { return Account{b} }

// testGroup: model m-a served by 1 (two nodes, one POC_SLOT), 2 (rejected), 3 (one
// node of weight 0) and 4 (m-b only); m-b by 4.
func testGroup() *Group {
	node := func(id, model string, w uint64, slot poc.Slot) GroupNode {
		return GroupNode{RosterNode: RosterNode{MLNode: MLNode{ID: id}, Slot: slot}, PoCModel: model, Weight: w}
	}
	return &Group{
		Models: []Subgroup{{Model: models.Spec{ID: "m-a"}, Members: []Account{acct(1), acct(2), acct(3), acct(5)}},
			{Model: models.Spec{ID: "m-b"}, Members: []Account{acct(4)}}},
		Members: []Member{
			{Hotkey: acct(1), Accepted: true, Nodes: []GroupNode{node("a", "m-a", 30, poc.PrePoCSlot), node("b", "m-a", 10, poc.PoCSlot), node("c", "m-b", 99, poc.PoCSlot)}},
			{Hotkey: acct(2), Accepted: false, Nodes: []GroupNode{node("a", "m-a", 50, poc.PoCSlot)}},
			{Hotkey: acct(3), Accepted: true, Nodes: []GroupNode{node("a", "m-a", 0, poc.PoCSlot)}},
			{Hotkey: acct(4), Accepted: true, Nodes: []GroupNode{node("a", "m-b", 7, poc.PrePoCSlot)}},
			{Hotkey: acct(5), Accepted: true, Nodes: []GroupNode{node("a", "m-a", 5, poc.PrePoCSlot)}},
		},
	}
}

func TestEligible(t *testing.T) {
	g := testGroup()
	for _, c := range []struct {
		name  string
		g     *Group
		model string
		poc   bool
		want  []Candidate
	}{
		{"inference", g, "m-a", false, []Candidate{{acct(1), 40}, {acct(5), 5}}},
		{"during poc", g, "m-a", true, []Candidate{{acct(1), 10}}},
		{"other model", g, "m-b", false, []Candidate{{acct(4), 7}}},
		{"other model during poc", g, "m-b", true, nil},
		{"unserved", g, "m-z", false, nil},
		{"no group", nil, "m-a", false, nil},
	} {
		got := Eligible(c.g, c.model, c.poc)
		if len(got) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
	}
}

func TestWithSlots(t *testing.T) {
	g := testGroup()
	rd := &Round{Roster: []RosterMember{{Hotkey: acct(1), Nodes: []RosterNode{{MLNode: MLNode{ID: "a"}, Slot: poc.PoCSlot}, {MLNode: MLNode{ID: "b"}, Slot: poc.PrePoCSlot}}},
		{Hotkey: acct(5), Nodes: []RosterNode{{MLNode: MLNode{ID: "a"}, Slot: poc.PoCSlot}}}}}
	got := Eligible(WithSlots(g, rd), "m-a", true)
	want := []Candidate{{acct(1), 30}, {acct(5), 5}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("%v, want %v", got, want)
	}
	if g.Members[0].Nodes[1].Slot != poc.PoCSlot {
		t.Fatal("WithSlots changed the group it copied")
	}
	if len(Eligible(WithSlots(g, nil), "m-a", true)) != 0 || WithSlots(nil, rd) != nil {
		t.Fatal("no round: nobody serves during PoC")
	}
	if !DuringPoC(&Round{}) || DuringPoC(&Round{Switched: true}) || DuringPoC(&Round{Abandoned: true}) || DuringPoC(nil) {
		t.Fatal("DuringPoC")
	}
}

func seedOf(v uint64) Hash {
	var h Hash
	binary.BigEndian.PutUint64(h[:8], v)
	return h
}

func TestChoose(t *testing.T) {
	c := []Candidate{{acct(1), 3}, {acct(2), 0}, {acct(3), 5}}
	for _, x := range []struct {
		seed uint64
		want Account
	}{{0, acct(1)}, {2, acct(1)}, {3, acct(3)}, {7, acct(3)}, {8, acct(1)}, {11, acct(3)}, {math.MaxUint64, acct(3)}} {
		got, ok := Choose(c, seedOf(x.seed))
		if !ok || got != x.want {
			t.Errorf("seed %d: %v %v, want %v", x.seed, got, ok, x.want)
		}
	}
	if _, ok := Choose(nil, Hash{}); ok {
		t.Error("no candidates")
	}
	if _, ok := Choose([]Candidate{{acct(1), 0}}, Hash{}); ok {
		t.Error("no weight")
	}
	// A total over 2^64: r (< 2^64) is taken as it is.
	big := []Candidate{{acct(1), math.MaxUint64}, {acct(2), math.MaxUint64}}
	if got, _ := Choose(big, seedOf(math.MaxUint64-1)); got != acct(1) {
		t.Errorf("128-bit total: %v", got)
	}
	if got, _ := Choose(big, seedOf(math.MaxUint64)); got != acct(2) {
		t.Errorf("128-bit total: %v", got)
	}
	// The draw follows the weights: 10000 seeds split about 3:5.
	n := [4]int{}
	for i := 0; i < 10000; i++ {
		s := sha256.Sum256(binary.BigEndian.AppendUint32(nil, uint32(i)))
		a, _ := Choose(c, s)
		n[a[0]]++
	}
	if n[2] != 0 || n[1] < 3400 || n[1] > 4100 {
		t.Errorf("split %v", n)
	}
}

func TestReputation(t *testing.T) {
	for _, c := range []struct{ epochs, want uint32 }{{0, 0}, {1, 3}, {15, 50}, {29, 96}, {30, 100}, {1000, 100}} {
		if got := Reputation(c.epochs); got != c.want {
			t.Errorf("Reputation(%d) = %d, want %d", c.epochs, got, c.want)
		}
	}
}

func TestValidationPPM(t *testing.T) {
	p := models.Params{}
	for _, c := range []struct {
		rep          uint32
		mine, others uint64
		p            models.Params
		want         uint64
	}{
		{0, 1, 1, p, 1_000_000},
		{100, 1, 1, p, 100_000},
		{50, 1, 1, p, 550_000},
		{200, 1, 1, p, 100_000},
		{100, 1, 4, p, 25_000},
		{100, 3, 0, p, 0},
		{0, 1, 2, models.Params{ValidationMinPPM: 10, ValidationMaxPPM: 20}, 10},
		{0, math.MaxUint64, 1, p, math.MaxUint64},
	} {
		if got := ValidationPPM(c.rep, c.mine, c.others, c.p); got != c.want {
			t.Errorf("%+v: %d, want %d", c, got, c.want)
		}
	}
}

func TestShouldValidate(t *testing.T) {
	p := models.Params{}
	seed := Hash{9}
	if !ShouldValidate(seed, Hash{1}, 0, 1, 1, p) {
		t.Error("reputation 0, alone: every record")
	}
	if ShouldValidate(seed, Hash{1}, 0, 1, 0, p) {
		t.Error("no other stake: none")
	}
	// The draw is the hash's: the share checked is close to the probability.
	hit := 0
	for i := 0; i < 20000; i++ {
		id := sha256.Sum256(binary.BigEndian.AppendUint32(nil, uint32(i)))
		if ShouldValidate(seed, id, 100, 1, 2, p) { // 100000 × 1/2 = 5 %
			hit++
		}
	}
	if hit < 800 || hit > 1200 {
		t.Errorf("%d of 20000 checked, want about 1000", hit)
	}
	// It is exactly the rule: first 8 bytes of sha256(seed‖id) < ppm·2^64/10^6.
	for i := 0; i < 200; i++ {
		id := sha256.Sum256([]byte{byte(i)})
		d := sha256.Sum256(append(seed[:], id[:]...))
		want := binary.BigEndian.Uint64(d[:8]) < uint64(50_000)*(math.MaxUint64/1_000_000)+uint64(50_000)*(math.MaxUint64%1_000_000+1)/1_000_000
		if got := ShouldValidate(seed, id, 100, 1, 2, p); got != want {
			t.Fatalf("id %d: %v, want %v", i, got, want)
		}
	}
}

func TestStartCost(t *testing.T) {
	for _, c := range []struct {
		prompt, max uint32
		price, want uint64
		err         bool
	}{
		{10, 20, 3, 90, false},
		{0, 0, 5, 0, false},
		{10, 20, 0, 0, false},
		{math.MaxUint32, math.MaxUint32, 1 << 30, 0x1fffffffe << 30, false},
		{math.MaxUint32, math.MaxUint32, 1 << 32, 0, true},
		{1, 0, math.MaxUint64, math.MaxUint64, false},
		{1, 1, math.MaxUint64, 0, true},
	} {
		got, err := StartCost(c.prompt, c.max, c.price)
		if (err != nil) != c.err || got != c.want || err != nil && tx.CodeOf(err) != tx.CodeInvalidAmount {
			t.Errorf("%+v: %d %v", c, got, err)
		}
	}
	for _, c := range []struct {
		p, comp   uint32
		price, mx uint64
		want      uint64
	}{{5, 5, 2, 100, 20}, {5, 500, 2, 100, 100}, {math.MaxUint32, math.MaxUint32, math.MaxUint64, 7, 7}} {
		if got := FinishCost(c.p, c.comp, c.price, c.mx); got != c.want {
			t.Errorf("FinishCost%+v = %d", c, got)
		}
	}
}

func TestPaymentMessages(t *testing.T) {
	entry := StartEntry{Model: "m-a", Path: PathChat, Signature: make([]byte, 64)}
	for _, c := range []struct {
		name  string
		build func() (tx.Msg, error)
		want  string
	}{
		{"start", func() (tx.Msg, error) { return NewStart(Start{Netuid: 1, Entries: []StartEntry{entry}}) }, ""},
		{"start empty", func() (tx.Msg, error) { return NewStart(Start{Netuid: 1}) }, "0 entries"},
		{"start short sig", func() (tx.Msg, error) {
			e := entry
			e.Signature = e.Signature[:63]
			return NewStart(Start{Netuid: 1, Entries: []StartEntry{entry, e}})
		}, "entries[1]: the signature is 63 bytes"},
		{"start too many", func() (tx.Msg, error) {
			return NewStart(Start{Netuid: 1, Entries: make([]StartEntry, MaxEntries+1)})
		}, "1025 entries"},
		{"finish", func() (tx.Msg, error) { return NewFinish(Finish{Entries: []FinishEntry{{}}}) }, ""},
		{"finish empty", func() (tx.Msg, error) { return NewFinish(Finish{}) }, "0 entries"},
		{"validate", func() (tx.Msg, error) { return NewValidate(Validate{Entries: []Check{{}}}) }, ""},
		{"vote empty", func() (tx.Msg, error) { return NewVote(Vote{}) }, "0 entries"},
		{"vote", func() (tx.Msg, error) { return NewVote(Vote{Entries: []Check{{Valid: true}}}) }, ""},
	} {
		m, err := c.build()
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			} else if _, ok, err := MsgFields([32]byte{}, m); !ok || err != nil {
				t.Errorf("%s: fields %v %v", c.name, ok, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), c.want) || tx.CodeOf(err) != tx.CodeInvalidMessage {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if id := entry.ID(); id != RequestID(entry.Signature) {
		t.Error("the record id is RequestID of the signature")
	}
	if EscrowAccount != sha256.Sum256([]byte("tessera/inference/escrow")) {
		t.Error("escrow account")
	}
}

func BenchmarkChoose(b *testing.B) {
	c := make([]Candidate, 64)
	for i := range c {
		c[i] = Candidate{Hotkey: acct(byte(i)), Weight: uint64(1000 + i)}
	}
	for i := 0; i < b.N; i++ {
		Choose(c, seedOf(uint64(i)*0x9e3779b97f4a7c15))
	}
}

func BenchmarkShouldValidate(b *testing.B) {
	p := models.Params{}
	for i := 0; i < b.N; i++ {
		ShouldValidate(Hash{1}, seedOf(uint64(i)), 50, 1, 3, p)
	}
}
