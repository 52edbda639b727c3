package wire

import (
	"container/list"
	"slices"
	"sync"
	"time"
)

// This file is one shard of the nonce table: the sessions of the hotkeys that hash to
// it, counted per hotkey, and the rules for making room.

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
	seen    []int64 // sorted, all > floor; never empty once the entry is in its shard
	expires int64   // unix ns after which every nonce of this entry is stale anyway

	key   nonceKey
	owner *hotkeySessions
	elem  *list.Element // in owner.sessions
}

// check refuses a nonce the session has seen or that is at or below its floor.
func (e *nonceEntry) check(nonce int64) error {
	if nonce <= e.floor {
		return errNonceBelow
	}
	if _, found := slices.BinarySearch(e.seen, nonce); found {
		return errNonceReplayed
	}
	return nil
}

// remember adds a nonce that check accepted, keeping the history bounded.
func (e *nonceEntry) remember(nonce int64, t *nonceTracker) {
	i, _ := slices.BinarySearch(e.seen, nonce)
	e.seen = slices.Insert(e.seen, i, nonce)
	if len(e.seen) > t.history {
		e.floor = e.seen[0]
		e.seen = e.seen[1:]
	}
	if exp := e.seen[len(e.seen)-1] + t.delta + t.maxTimeout; exp > e.expires {
		e.expires = exp
	}
}

// hotkeySessions is what a shard knows of one hotkey.
type hotkeySessions struct {
	hotkey   string
	sessions list.List     // *nonceEntry, in the order they were opened
	inCount  *list.Element // in the shard's byCount[listed]; nil when listed is 0
	listed   int
	// floor is the highest nonce of a session of this hotkey that was forgotten while
	// live: a new session's nonces must be above it, so that none of the forgotten
	// session's requests can be replayed. floorExpires is when that nonce leaves the
	// window; until then the hotkey's last session is not swept, so the floor stays.
	floor, floorExpires int64
}

// nonceShard holds the sessions of the hotkeys that hash to it.
type nonceShard struct {
	mu        sync.Mutex
	m         map[nonceKey]*nonceEntry
	hotkeys   map[string]*hotkeySessions // each with at least one session
	byCount   []list.List                // byCount[c]: the hotkeys with c sessions, c ≥ 1
	heaviest  int                        // the highest c with a hotkey in byCount[c]; 0 when empty
	lastSweep int64
}

func (s *nonceShard) init(perHotkey int) {
	s.m = make(map[nonceKey]*nonceEntry)
	s.hotkeys = make(map[string]*hotkeySessions)
	s.byCount = make([]list.List, perHotkey+1)
}

// open starts the session key with nonce, if there is room and gate admits it.
func (s *nonceShard) open(now int64, key nonceKey, nonce int64, t *nonceTracker, gate admitter) error {
	if len(s.m) >= t.perShard {
		s.sweep(now)
	}
	hk := s.hotkeys[key.hotkey]
	floor := t.window(now, time.Duration(t.maxTimeout))
	if hk != nil {
		floor = max(floor, hk.floor)
	}
	if nonce <= floor {
		return errNonceBelow
	}
	victim, ok := s.victim(hk, t)
	if !ok {
		return errNonceTableFull
	}
	if gate != nil && !gate.allow(key.hotkey, now) {
		return errRateLimited
	}
	if victim != nil {
		s.forget(victim)
	}
	if hk == nil {
		hk = &hotkeySessions{hotkey: key.hotkey}
		s.hotkeys[key.hotkey] = hk
	}
	e := &nonceEntry{floor: floor, key: key, owner: hk}
	e.elem = hk.sessions.PushBack(e)
	s.m[key] = e
	s.recount(hk)
	e.remember(nonce, t)
	return nil
}

// victim returns the session to forget so that hk (nil for a hotkey with no session
// here) can open one more: nil when there is room. A hotkey at its bound, or among the
// heaviest of a full shard, gives up its own oldest session; otherwise the heaviest
// hotkey gives up its oldest, if it has more than one. ok is false when the shard is
// full and every hotkey in it holds a single session.
func (s *nonceShard) victim(hk *hotkeySessions, t *nonceTracker) (victim *nonceEntry, ok bool) {
	n := 0
	if hk != nil {
		n = hk.sessions.Len()
	}
	switch {
	case n >= t.perHotkey:
		return oldestSession(hk), true
	case len(s.m) < t.perShard:
		return nil, true
	case n > 0 && n == s.heaviest:
		return oldestSession(hk), true
	case s.heaviest > 1:
		return oldestSession(s.byCount[s.heaviest].Front().Value.(*hotkeySessions)), true
	}
	return nil, false
}

func oldestSession(hk *hotkeySessions) *nonceEntry {
	return hk.sessions.Front().Value.(*nonceEntry)
}

// forget drops a live session to make room, raising its hotkey's floor to the
// session's highest nonce. The hotkey's record stays, even with no session left, for
// the session open is about to add.
func (s *nonceShard) forget(e *nonceEntry) {
	hk := e.owner
	hk.floor = max(hk.floor, e.seen[len(e.seen)-1])
	hk.floorExpires = max(hk.floorExpires, e.expires)
	s.drop(e)
}

// drop removes e from the shard and its hotkey's sessions.
func (s *nonceShard) drop(e *nonceEntry) {
	delete(s.m, e.key)
	e.owner.sessions.Remove(e.elem)
	s.recount(e.owner)
}

// recount moves hk to the byCount list of its number of sessions, and keeps heaviest.
func (s *nonceShard) recount(hk *hotkeySessions) {
	if hk.listed > 0 {
		s.byCount[hk.listed].Remove(hk.inCount)
		hk.inCount, hk.listed = nil, 0
	}
	n := hk.sessions.Len()
	if n > 0 {
		hk.inCount, hk.listed = s.byCount[n].PushBack(hk), n
	}
	s.heaviest = max(s.heaviest, n)
	for s.heaviest > 0 && s.byCount[s.heaviest].Len() == 0 {
		s.heaviest--
	}
}

// sweep drops the sessions that can no longer refuse anything the window would
// accept, except a hotkey's last session while its floor is live, and the hotkeys left
// with none. It runs at most every 100 ms per shard, so a full shard of live sessions
// does not make every new session pay for a scan.
func (s *nonceShard) sweep(now int64) {
	if now-s.lastSweep < int64(100*time.Millisecond) {
		return
	}
	s.lastSweep = now
	for _, e := range s.m {
		hk := e.owner
		if e.expires >= now || (hk.sessions.Len() == 1 && hk.floorExpires >= now) {
			continue
		}
		s.drop(e)
		if hk.sessions.Len() == 0 {
			delete(s.hotkeys, hk.hotkey)
		}
	}
}
