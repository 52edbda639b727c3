package devnet

import (
	"testing"
	"time"
)

// The limits, step by step on a fake clock: one grant per address per interval, a
// shared budget refilled over time, and a released grant asked again at once.
func TestFaucetLimiter(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	l := newLimiter(time.Minute, 2, 10*time.Second)
	steps := []struct {
		addr  string
		at    time.Duration
		code  string // "" granted
		retry time.Duration
	}{
		{"a", 0, "", 0},
		{"a", time.Second, CodeAddressLimited, 59 * time.Second},
		{"b", time.Second, "", 0},
		{"c", 2 * time.Second, CodeGlobalLimited, 8 * time.Second}, // 0.2 token earned since t0
		{"c", 10 * time.Second, "", 0},
		{"d", 10 * time.Second, CodeGlobalLimited, 10 * time.Second},
		{"a", 60 * time.Second, "", 0}, // a's interval is over; budget refilled
		{"b", 61 * time.Second, "", 0},
	}
	for i, s := range steps {
		r := l.take(s.addr, t0.Add(s.at))
		switch {
		case s.code == "" && r != nil:
			t.Fatalf("step %d: %s refused: %s", i, s.addr, r.code)
		case s.code != "" && (r == nil || r.code != s.code || r.retry != s.retry):
			t.Fatalf("step %d: %s: got %+v, want %s after %s", i, s.addr, r, s.code, s.retry)
		}
	}
	if l.take("e", t0.Add(71*time.Second)); len(l.seen) != 3 {
		t.Fatalf("the table keeps %v, want the grants of the last minute: a, b, e", l.seen)
	}
	l = newLimiter(time.Minute, 5, time.Second)
	if l.take("x", t0) != nil {
		t.Fatal("first grant refused")
	}
	l.release("x")
	if r := l.take("x", t0); r != nil {
		t.Fatalf("a released grant is refused: %+v", r)
	}
}
