package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/subnets/kernelbench"
)

func TestPrintRound(t *testing.T) {
	st := kernelbench.Rank([]kernelbench.Entry{
		{Hotkey: "5FastFastFastFastFast", UID: 1, OK: true, Score: 200, TokensPerSec: 400, Length: 100000, ContentHash: "a", CommitBlock: 3},
		{Hotkey: "5SlowSlowSlowSlowSlow", UID: 2, OK: true, Score: 100, TokensPerSec: 200, Length: 100000, ContentHash: "b", CommitBlock: 4},
		{Hotkey: "5WrongWrongWrongWrong", UID: 3, OK: false, Reason: "wrong", Length: 100000, ContentHash: "c", CommitBlock: 5},
		{Hotkey: "5CopyCopyCopyCopyCopy", UID: 4, OK: true, Score: 210, Length: 100000, ContentHash: "a", CommitBlock: 9},
	}, kernelbench.DefaultPayout(), 0.02, "")
	var b bytes.Buffer
	rd := &kernelbench.Round{Round: 3, Block: 40, Leader: st[0].Hotkey, Standings: st, WeightsBlock: 41,
		Weights: kernelbench.Weights{UIDs: []uint16{0, 1, 2}, Values: []uint16{26214, 65535, 39321}}}
	if err := printRound(&b, rd); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"round 3 at block 40", "1     1    5FastF…Fast", "50%", "30%", "failed: wrong", "a copy of 5FastFastFastFastFast", "weights set at block 41: uids [0 1 2] values [26214 65535 39321]"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	b.Reset()
	printRound(&b, &kernelbench.Round{})
	if !strings.Contains(b.String(), "no round judged yet") {
		t.Errorf("empty: %s", b.String())
	}
}
