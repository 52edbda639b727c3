package wire

import (
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
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

// nonceKey identifies a dendrite session as Bittensor does: hotkey and uuid.
type nonceKey struct{ hotkey, uuid string }

// nonceEntry remembers the recent nonces of one session. Bittensor keeps only the last
// nonce and demands that each request's be larger, which rejects requests that a busy
// dendrite sends concurrently and that arrive out of order. This keeps the last
// `history` nonces exactly (sorted) and a floor below which everything is refused: a
// replay is refused whether it is older than the floor or one of the remembered nonces,
// and honest reordering inside the history passes.
type nonceEntry struct {
	floor   int64   // nonces <= floor are refused
	seen    []int64 // sorted, all > floor
	expires int64   // unix ns after which every nonce of this entry is stale anyway
}

type nonceShard struct {
	mu        sync.Mutex
	m         map[nonceKey]*nonceEntry
	lastSweep int64
}

// nonceTracker is the per-hotkey-and-uuid nonce memory of an axon, bounded in both the
// number of sessions and the nonces per session. Forgetting is safe only for entries
// whose nonces are all outside the freshness window, which the window check refuses on
// its own; when the table is full of live sessions, new sessions are turned away (503)
// rather than old ones forgotten.
type nonceTracker struct {
	seed       maphash.Seed
	shards     [16]nonceShard
	perShard   int
	history    int
	delta      int64 // AllowedDelta in ns
	maxTimeout int64 // the largest timeout the window may stretch by, ns
}

func newNonceTracker(capacity, history int, delta, maxTimeout time.Duration) *nonceTracker {
	t := &nonceTracker{
		seed:       maphash.MakeSeed(),
		perShard:   max(1, capacity/16),
		history:    max(1, history),
		delta:      int64(delta),
		maxTimeout: int64(maxTimeout),
	}
	for i := range t.shards {
		t.shards[i].m = make(map[nonceKey]*nonceEntry)
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

// record accepts nonce for the session (hotkey, uuid) once: it is checked against the
// window and the session's memory and remembered, atomically.
func (t *nonceTracker) record(now int64, hotkey, uuid string, nonce int64, timeout time.Duration) error {
	if err := t.checkFresh(now, nonce, timeout); err != nil {
		return err
	}
	var h maphash.Hash
	h.SetSeed(t.seed)
	h.WriteString(hotkey)
	h.WriteString(uuid)
	s := &t.shards[h.Sum64()%uint64(len(t.shards))]
	key := nonceKey{hotkey, uuid}

	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[key]
	if e == nil {
		if len(s.m) >= t.perShard {
			s.sweep(now, t)
			if len(s.m) >= t.perShard {
				return errNonceTableFull
			}
		}
		e = &nonceEntry{floor: t.window(now, time.Duration(t.maxTimeout))}
		s.m[key] = e
	}
	if nonce <= e.floor {
		return errNonceBelow
	}
	i, found := slices.BinarySearch(e.seen, nonce)
	if found {
		return errNonceReplayed
	}
	e.seen = slices.Insert(e.seen, i, nonce)
	if len(e.seen) > t.history {
		e.floor = e.seen[0]
		e.seen = e.seen[1:]
	}
	if exp := e.seen[len(e.seen)-1] + t.delta + t.maxTimeout; exp > e.expires {
		e.expires = exp
	}
	return nil
}

// sweep drops entries that can no longer refuse anything the window would accept. It
// runs at most every 100 ms per shard, so a full table of live sessions does not make
// every new session pay for a scan.
func (s *nonceShard) sweep(now int64, t *nonceTracker) {
	if now-s.lastSweep < int64(100*time.Millisecond) {
		return
	}
	s.lastSweep = now
	for k, e := range s.m {
		if e.expires < now {
			delete(s.m, k)
		}
	}
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
