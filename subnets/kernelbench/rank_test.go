package kernelbench_test

import (
	"fmt"
	"testing"

	"github.com/tessera-net/tessera/sdk/weights"
	"github.com/tessera-net/tessera/subnets/kernelbench"
)

func e(hotkey string, uid uint16, block uint64, hash string, ok bool, score float64) kernelbench.Entry {
	return kernelbench.Entry{Hotkey: hotkey, UID: uid, CommitBlock: block, Seq: block, ContentHash: hash, OK: ok, Score: score}
}

func TestRank(t *testing.T) {
	pay := kernelbench.DefaultPayout()
	for _, c := range []struct {
		name    string
		entries []kernelbench.Entry
		leader  string
		margin  float64
		want    string // hotkey:rank:share, in order
	}{
		{"by score, top four paid", []kernelbench.Entry{e("a", 1, 5, "h1", true, 10), e("b", 2, 6, "h2", true, 30), e("c", 3, 7, "h3", true, 20),
			e("d", 4, 8, "h4", true, 5), e("e", 5, 9, "h5", true, 1)},
			"", 0, "b:1:0.5 c:2:0.3 a:3:0.15 d:4:0.05 e:5:0"},
		{"the wrong one gets nothing", []kernelbench.Entry{e("fast", 1, 5, "h1", true, 100), e("slow", 2, 5, "h2", true, 10), e("wrong", 3, 5, "h3", false, 0)},
			"", 0, "fast:1:0.5 slow:2:0.3 wrong:0:0"},
		{"a copy ranks behind its original and earns nothing", []kernelbench.Entry{e("copier", 2, 9, "same", true, 101), e("orig", 1, 4, "same", true, 100), e("other", 3, 5, "x", true, 50)},
			"", 0, "orig:1:0.5 other:2:0.3 copier:0:0"},
		{"ties go to who committed first", []kernelbench.Entry{e("late", 2, 9, "h2", true, 10), e("early", 1, 4, "h1", true, 10)},
			"", 0, "early:1:0.5 late:2:0.3"},
		{"a challenger within the margin does not dethrone", []kernelbench.Entry{e("leader", 1, 4, "h1", true, 100), e("challenger", 2, 9, "h2", true, 101.5)},
			"leader", 0.02, "leader:1:0.5 challenger:2:0.3"},
		{"a challenger past the margin does", []kernelbench.Entry{e("leader", 1, 4, "h1", true, 100), e("challenger", 2, 9, "h2", true, 103)},
			"leader", 0.02, "challenger:1:0.5 leader:2:0.3"},
		{"a leader that now fails loses its place", []kernelbench.Entry{e("leader", 1, 4, "h1", false, 0), e("challenger", 2, 9, "h2", true, 50)},
			"leader", 0.02, "challenger:1:0.5 leader:0:0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := kernelbench.Rank(c.entries, pay, c.margin, c.leader)
			got := ""
			for i, s := range st {
				if i > 0 {
					got += " "
				}
				got += fmt.Sprintf("%s:%d:%v", s.Hotkey, s.Rank, s.Share)
			}
			if got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// A challenger that still beats the leader when the two are measured side by side
// takes first place, and its standing says how; one measured alone says nothing.
func TestRankNotesASideBySideDethronement(t *testing.T) {
	ch := e("challenger", 2, 9, "h2", true, 200)
	ch.Beside = "leader"
	st := kernelbench.Rank([]kernelbench.Entry{e("leader", 1, 4, "h1", true, 100), ch}, kernelbench.DefaultPayout(), 0.5, "leader")
	if st[0].Hotkey != "challenger" || st[0].Note != "took first place from leader, measured side by side with it" {
		t.Fatalf("%+v", st)
	}
	st = kernelbench.Rank([]kernelbench.Entry{e("leader", 1, 4, "h1", true, 100), e("challenger", 2, 9, "h2", true, 200)}, kernelbench.DefaultPayout(), 0.5, "leader")
	if st[0].Hotkey != "challenger" || st[0].Note != "" {
		t.Fatalf("%+v", st)
	}
}

// The shares become weights on chain: 50/30/15/5 of the ranking, the rest burnt on
// the owner's uid, everything burnt when nobody qualifies.
func TestScoresAndWeights(t *testing.T) {
	pay := kernelbench.DefaultPayout()
	for _, c := range []struct {
		name    string
		entries []kernelbench.Entry
		want    []uint16 // u16 values by uid 0..5
	}{
		{"four places", []kernelbench.Entry{e("a", 1, 1, "1", true, 4), e("b", 2, 1, "2", true, 3), e("c", 3, 1, "3", true, 2), e("d", 4, 1, "4", true, 1)},
			[]uint16{0, 65535, 39321, 19660, 6554, 0}},
		{"two places, the rest burnt", []kernelbench.Entry{e("a", 1, 1, "1", true, 4), e("b", 2, 1, "2", true, 3)},
			[]uint16{26214, 65535, 39321, 0, 0, 0}},
		{"nobody qualifies: all to the owner", []kernelbench.Entry{e("a", 1, 1, "1", false, 0)},
			[]uint16{65535, 0, 0, 0, 0, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			scores, err := kernelbench.Scores(kernelbench.Rank(c.entries, pay, 0, ""), 6, 0)
			if err != nil {
				t.Fatal(err)
			}
			v, err := weights.Compute(scores, weights.Limits{N: 6, MinAllowedWeights: 1, MaxWeightLimit: 65535})
			if err != nil {
				t.Fatal(err)
			}
			got := make([]uint16, 6)
			for i, uid := range v.UIDs {
				got[uid] = v.Values[i]
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}
