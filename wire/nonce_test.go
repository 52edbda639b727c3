package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/tessera-net/tessera/keys"
)

// TestAxonSessionFloodFromOneHotkey is the attack on the session table: a hotkey the
// miner admits (registered, so its blacklist lets it through) opens a fresh session
// with every request, as fast as one connection carries them. Its excess must be
// refused by its own rate limit (429), it must never fill the table for others, and a
// validator's new session afterwards must be served.
func TestAxonSessionFloodFromOneHotkey(t *testing.T) {
	const rate, burst, flood = 20, 20, 600
	attacker, err := keys.FromURI("//Attacker")
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]bool{attacker.Public().String(): true}
	a, info := testAxon(t, alice(t), AxonConfig{NonceSessions: 160, RateLimit: rate, RateBurst: burst}, func(a *Axon) {
		a.Attach("Synapse", Handle(func(ctx context.Context, c *Call, s *Base) error { return nil }), AttachOptions{
			Blacklist: func(ctx context.Context, c *Call) (bool, string) { return !registered[c.Hotkey], "not registered" },
		})
	})
	// The validator's sessions share a shard of the table with the attacker's: the
	// shard the attacker fills (10 sessions here) is the one it must get a place in.
	validator := keyInShardOf(t, a.nonces, attacker.Public().String())
	registered[validator.Public().String()] = true

	reqs := make([]string, flood)
	for i := range reqs {
		reqs[i] = reqSpec{signer: attacker, signedFor: a.Hotkey(), nonce: time.Now().UnixNano(), body: "{}", omit: []string{"Connection"}}.raw()
	}
	start := time.Now()
	statuses := pipeline(t, info.Addr(), reqs)
	elapsed := time.Since(start)

	counts := map[int]int{}
	for _, st := range statuses {
		counts[st]++
	}
	if len(counts) != 2 || counts[http.StatusOK] == 0 || counts[http.StatusTooManyRequests] == 0 {
		t.Fatalf("the flood was answered %v; want only 200 and 429", counts)
	}
	if most := burst + int(rate*elapsed.Seconds()) + 1; counts[http.StatusOK] > most {
		t.Fatalf("%d of the flood served in %v; the rate allows %d", counts[http.StatusOK], elapsed, most)
	}
	if n := a.nonces.sessionsOf(attacker.Public().String()); n > counts[http.StatusOK] {
		t.Fatalf("the attacker holds %d sessions with %d requests served", n, counts[http.StatusOK])
	}
	st, _, body := rawExchange(t, info.Addr(), reqSpec{signer: validator, signedFor: a.Hotkey(), nonce: time.Now().UnixNano(), body: "{}"}.raw())
	if st != http.StatusOK {
		t.Fatalf("the validator's new session after the flood: %d %s", st, body)
	}
}

// pipeline sends the raw requests one after another on one keep-alive connection,
// without waiting for answers, and returns the status of each answer in order.
func pipeline(t *testing.T, addr string, reqs []string) []int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	go func() {
		for _, r := range reqs {
			if _, err := io.WriteString(c, r); err != nil {
				return
			}
		}
	}()
	br := bufio.NewReader(c)
	statuses := make([]int, len(reqs))
	for i := range reqs {
		statuses[i], _, _ = readRawResponse(t, br)
	}
	return statuses
}

// keyInShardOf returns a key whose hotkey's sessions tr keeps in the same shard as
// hotkey's.
func keyInShardOf(t *testing.T, tr *nonceTracker, hotkey string) *keys.Pair {
	t.Helper()
	for i := range 1000 {
		k, err := keys.FromURI(fmt.Sprintf("//Validator%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if tr.shardOf(k.Public().String()) == tr.shardOf(hotkey) {
			return k
		}
	}
	t.Fatal("no key in the shard")
	return nil
}

// hotkeysInShardOf returns n hotkey names (not keys: the table only compares them)
// that tr keeps in the same shard as hotkey.
func hotkeysInShardOf(tr *nonceTracker, hotkey string, n int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		if h := fmt.Sprintf("honest%d", i); tr.shardOf(h) == tr.shardOf(hotkey) {
			out = append(out, h)
		}
	}
	return out
}

func TestNonceTrackerBounded(t *testing.T) {
	now := time.Now().UnixNano()
	tr := newNonceTracker(32, 256, 16, AllowedDelta, 60*time.Second) // 2 sessions per shard
	full := 0
	for i := 0; i < 10000; i++ {
		if err := tr.record(now, fmt.Sprint("hk", i), "u", now, time.Second, nil); err != nil {
			if !errors.Is(err, errNonceTableFull) {
				t.Fatal(err)
			}
			full++
		}
	}
	if full == 0 || tr.len() != 32 {
		t.Fatalf("%d sessions remembered and %d refused; want the bound of 32 reached", tr.len(), full)
	}
	// Every hotkey holds one live session: none is taken from its owner.
	if err := tr.record(now, "one-more", "u", now, time.Second, nil); !errors.Is(err, errNonceTableFull) {
		t.Fatalf("full table of single live sessions: err = %v", err)
	}
	// Once the sessions can no longer matter, they make room.
	later := now + int64(AllowedDelta) + int64(61*time.Second)
	if err := tr.record(later, "one-more", "u", later, time.Second, nil); err != nil {
		t.Fatalf("after expiry: %v", err)
	}

	// Per session: reordering within the history passes, replays and anything below
	// the floor do not, and memory stays at the history size.
	tr = newNonceTracker(100, 256, 16, AllowedDelta, 60*time.Second)
	for i := int64(0); i < 100; i++ {
		if err := tr.record(now, "hk", "u", now-1000+i*2, time.Second, nil); err != nil {
			t.Fatal(err)
		}
	}
	if e := tr.shardOf("hk").m[nonceKey{"hk", "u"}]; len(e.seen) > 16 {
		t.Fatalf("%d nonces remembered, history is 16", len(e.seen))
	}
	if err := tr.record(now, "hk", "u", now-1000+99*2-1, time.Second, nil); err != nil {
		t.Fatalf("reordered nonce inside the history refused: %v", err)
	}
	if err := tr.record(now, "hk", "u", now-1000+98*2, time.Second, nil); err == nil {
		t.Fatal("replay inside the history accepted")
	}
	if err := tr.record(now, "hk", "u", now-1000+2, time.Second, nil); err == nil {
		t.Fatal("nonce below the floor accepted")
	}
}

// TestNonceTrackerSessionsPerHotkey: a hotkey past its bound loses its own oldest
// sessions, and none of their requests can be replayed as a new session.
func TestNonceTrackerSessionsPerHotkey(t *testing.T) {
	now := time.Now().UnixNano()
	tr := newNonceTracker(16*64, 4, 16, AllowedDelta, 60*time.Second)
	for i := range 10 {
		if err := tr.record(now, "hk", fmt.Sprint("u", i), now-100+int64(i), time.Second, nil); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}
	if n := tr.sessionsOf("hk"); n != 4 {
		t.Fatalf("the hotkey holds %d sessions, bound is 4", n)
	}
	for i := range 10 {
		if _, kept := tr.shardOf("hk").m[nonceKey{"hk", fmt.Sprint("u", i)}]; kept != (i >= 6) {
			t.Fatalf("session u%d kept = %v; want the 4 newest kept", i, kept)
		}
	}
	for i := range 6 {
		if err := tr.record(now, "hk", fmt.Sprint("u", i), now-100+int64(i), time.Second, nil); !errors.Is(err, errNonceBelow) {
			t.Fatalf("replay of forgotten session u%d: err = %v", i, err)
		}
	}
	// A forgotten session that goes on with a fresh nonce opens again.
	if err := tr.record(now, "hk", "u0", now, time.Second, nil); err != nil {
		t.Fatalf("forgotten session with a fresh nonce: %v", err)
	}
}

// TestNonceTrackerFullShardForgetsTheHeaviest: a shard full of one hotkey's sessions
// makes room for other hotkeys' new sessions from that hotkey's oldest, and the
// heavy hotkey's later sessions replace its own, never the others'.
func TestNonceTrackerFullShardForgetsTheHeaviest(t *testing.T) {
	now := time.Now().UnixNano()
	tr := newNonceTracker(16*8, 256, 16, AllowedDelta, 60*time.Second) // 8 per shard
	nonce := now - 1000
	open := func(hotkey, uuid string) error {
		nonce++
		return tr.record(now, hotkey, uuid, nonce, time.Second, nil)
	}
	for i := range 8 {
		if err := open("heavy", fmt.Sprint("h", i)); err != nil {
			t.Fatal(err)
		}
	}
	honest := hotkeysInShardOf(tr, "heavy", 3)
	entries := map[string]*nonceEntry{}
	for _, h := range honest {
		if err := open(h, "u"); err != nil {
			t.Fatalf("%s's new session in a shard full of one hotkey's: %v", h, err)
		}
		entries[h] = tr.shardOf(h).m[nonceKey{h, "u"}]
	}
	for i := 8; i < 40; i++ {
		if err := open("heavy", fmt.Sprint("h", i)); err != nil {
			t.Fatalf("heavy session %d: %v", i, err)
		}
	}
	if n := tr.sessionsOf("heavy"); n != 5 {
		t.Fatalf("the heavy hotkey holds %d sessions, want 8 - 3", n)
	}
	for _, h := range honest {
		if e := tr.shardOf(h).m[nonceKey{h, "u"}]; e == nil || e != entries[h] {
			t.Fatalf("%s's session was forgotten for the heavy hotkey's", h)
		}
	}
	// The forgotten sessions' requests cannot come back.
	if err := tr.record(now, "heavy", "h0", now-999, time.Second, nil); !errors.Is(err, errNonceBelow) {
		t.Fatalf("replay of a forgotten session: err = %v", err)
	}
}

// countingGate admits while admit is set, and counts the requests it was asked about.
type countingGate struct {
	admit bool
	asked int
}

func (g *countingGate) allow(string, int64) bool { g.asked++; return g.admit }

// TestNonceTrackerGate: the gate is asked only about requests the table would
// accept, and a request it refuses leaves nothing behind.
func TestNonceTrackerGate(t *testing.T) {
	now := time.Now().UnixNano()
	tr := newNonceTracker(16, 256, 16, AllowedDelta, 60*time.Second) // 1 per shard
	g := &countingGate{}
	if err := tr.record(now, "hk", "u", now, time.Second, g); !errors.Is(err, errRateLimited) {
		t.Fatalf("refused by the gate: err = %v", err)
	}
	if tr.len() != 0 || g.asked != 1 {
		t.Fatalf("%d sessions after a refused request; gate asked %d times", tr.len(), g.asked)
	}
	g.admit = true
	if err := tr.record(now, "hk", "u", now, time.Second, g); err != nil {
		t.Fatalf("the same request once admitted: %v", err)
	}
	if err := tr.record(now, "hk", "u", now, time.Second, g); !errors.Is(err, errNonceReplayed) {
		t.Fatalf("replay: err = %v", err)
	}
	// hk's shard holds one session: another hotkey there is turned away unasked.
	other := hotkeysInShardOf(tr, "hk", 1)[0]
	if err := tr.record(now, other, "u", now, time.Second, g); !errors.Is(err, errNonceTableFull) {
		t.Fatalf("full shard: err = %v", err)
	}
	if g.asked != 2 {
		t.Fatalf("gate asked %d times; want only for the two requests the table would accept", g.asked)
	}
}

// TestNonceTrackerFloorOutlivesSessions: a hotkey's floor from a forgotten session
// lasts as long as that session's nonces are inside the window, even when its other
// sessions expire sooner.
func TestNonceTrackerFloorOutlivesSessions(t *testing.T) {
	now := time.Now().UnixNano()
	tr := newNonceTracker(16*2, 2, 16, AllowedDelta, 60*time.Second) // 2 per shard, 2 per hotkey
	const timeout = 60 * time.Second
	s := int64(time.Second)
	for _, o := range []struct {
		uuid  string
		nonce int64
	}{{"u0", now + 3*s}, {"u1", now - 10*s}, {"u2", now - 9*s}} { // u2 forgets u0
		if err := tr.record(now, "hk", o.uuid, o.nonce, timeout, nil); err != nil {
			t.Fatalf("%s: %v", o.uuid, err)
		}
	}
	// u1 and u2 expire before u0 would have; a newcomer's sweep drops u1 only.
	later := now + 56*s
	if err := tr.record(later, hotkeysInShardOf(tr, "hk", 1)[0], "u", later, timeout, nil); err != nil {
		t.Fatalf("newcomer: %v", err)
	}
	if err := tr.record(later, "hk", "u0", now+3*s, timeout, nil); !errors.Is(err, errNonceBelow) {
		t.Fatalf("replay of the forgotten session inside its window: err = %v", err)
	}
}
