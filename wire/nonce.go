package wire

import (
	"errors"
	"fmt"
	"hash/maphash"
	"time"
)

// AllowedDelta is Bittensor's ALLOWED_DELTA: how old (beyond the request's timeout) the
// nonce of a first request from a dendrite session may be.
const AllowedDelta = 4 * time.Second

// nonceError is a refused nonce (401). Its text follows Bittensor's messages, which
// start with a capital letter.
type nonceError string

// Error returns the message.
func (e nonceError) Error() string { return string(e) }

// Nonce errors.
const (
	errNonceReplayed = nonceError("Nonce already used: the request is a replay")
	errNonceBelow    = nonceError("Nonce is too old, a newer one was last processed")
)

// errNonceTableFull answers 503: the axon cannot remember another session right now.
var errNonceTableFull = errors.New("nonce table is full of live sessions; try again shortly")

// errRateLimited answers 429: the admitter refused a request the nonce table would
// have accepted.
var errRateLimited = errors.New("rate limited")

// admitter decides whether hotkey may make one more request at now (unix ns), and
// counts it if so. The nonce table asks it only about a request it would accept, just
// before remembering the nonce; *rateLimiter is one.
type admitter interface {
	allow(hotkey string, now int64) bool
}

// nonceTracker is the per-hotkey-and-uuid nonce memory of an axon, bounded in the
// number of sessions, the sessions per hotkey and the nonces per session.
//
// Sessions are sharded by hotkey, so all of a hotkey's sessions are counted in one
// place. A hotkey holds at most perHotkey sessions: opening one more forgets its own
// oldest. A full shard forgets the oldest session of its heaviest hotkey (the one with
// the most sessions) for a newcomer with fewer; it turns a new session away (503) only
// when every hotkey in it holds a single session. Forgetting a session whose nonces
// are still inside the window raises its hotkey's floor to its highest nonce, so none
// of its requests can be replayed as a new session. Sessions whose nonces are all
// outside the window, which the window check refuses on its own, are swept.
type nonceTracker struct {
	seed       maphash.Seed
	shards     [16]nonceShard
	perShard   int
	perHotkey  int
	history    int
	delta      int64 // AllowedDelta in ns
	maxTimeout int64 // the largest timeout the window may stretch by, ns
}

// newNonceTracker makes a table of at most capacity sessions, at most perHotkey of
// them for one hotkey, each remembering its last history nonces exactly.
func newNonceTracker(capacity, perHotkey, history int, delta, maxTimeout time.Duration) *nonceTracker {
	t := &nonceTracker{
		seed:       maphash.MakeSeed(),
		perShard:   max(1, capacity/16),
		history:    max(1, history),
		delta:      int64(delta),
		maxTimeout: int64(maxTimeout),
	}
	t.perHotkey = min(max(1, perHotkey), t.perShard)
	for i := range t.shards {
		t.shards[i].init(t.perHotkey)
	}
	return t
}

// window returns the lowest acceptable nonce for a first request at now: Bittensor's
// rule nonce > now − ALLOWED_DELTA − timeout, with the timeout capped (it is not signed,
// so a replayer could otherwise stretch the window at will).
func (t *nonceTracker) window(now int64, timeout time.Duration) int64 {
	return now - t.delta - min(int64(timeout), t.maxTimeout)
}

// checkFresh applies the time window only, with no state: cheap enough to run before
// the signature check, so that stale floods cost no verification.
func (t *nonceTracker) checkFresh(now, nonce int64, timeout time.Duration) error {
	if lo := t.window(now, timeout); nonce <= lo {
		return nonceError(fmt.Sprintf("Nonce is too old: acceptable delta is %.2f seconds but request was %.2f seconds old",
			float64(now-lo)/1e9, float64(now-nonce)/1e9))
	}
	// Bittensor has no bound on future nonces; a nonce far in the future would block
	// every honest request of the session until the clock catches up.
	if nonce > now+t.delta {
		return nonceError(fmt.Sprintf("Nonce is %.2f seconds in the future: clocks differ by more than %.0f seconds",
			float64(nonce-now)/1e9, float64(t.delta)/1e9))
	}
	return nil
}

// record accepts nonce for the session (hotkey, uuid) once, in one step under the
// shard's lock: the window and the session's memory are checked (a replay, or a nonce
// below the floor, is refused without asking gate), a new session must find room, then
// gate is asked (nil admits everything), and only a request it admits is remembered,
// opening its session if it is new. A refused request changes nothing, so a replay
// spends no one's rate and a request over the rate takes no memory.
//
// Errors: a nonceError (401), errRateLimited (429), errNonceTableFull (503).
func (t *nonceTracker) record(now int64, hotkey, uuid string, nonce int64, timeout time.Duration, gate admitter) error {
	if err := t.checkFresh(now, nonce, timeout); err != nil {
		return err
	}
	s := t.shardOf(hotkey)
	key := nonceKey{hotkey, uuid}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[key]
	if e == nil {
		return s.open(now, key, nonce, t, gate)
	}
	if err := e.check(nonce); err != nil {
		return err
	}
	if gate != nil && !gate.allow(hotkey, now) {
		return errRateLimited
	}
	e.remember(nonce, t)
	return nil
}

// shardOf returns the shard that holds hotkey's sessions.
func (t *nonceTracker) shardOf(hotkey string) *nonceShard {
	return &t.shards[maphash.String(t.seed, hotkey)%uint64(len(t.shards))]
}

// len returns the number of sessions remembered.
func (t *nonceTracker) len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

// sessionsOf returns the number of sessions remembered for hotkey.
func (t *nonceTracker) sessionsOf(hotkey string) int {
	s := t.shardOf(hotkey)
	s.mu.Lock()
	defer s.mu.Unlock()
	if hk := s.hotkeys[hotkey]; hk != nil {
		return hk.sessions.Len()
	}
	return 0
}
