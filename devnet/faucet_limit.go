// This file is the faucet's rate limits: one grant per address per interval, and a
// budget of grants shared by every address.

package devnet

import (
	"time"
)

// Limit codes, as the faucet's refusals carry them.
const (
	// CodeAddressLimited: this address was funded less than an interval ago.
	CodeAddressLimited = "address_rate_limited"
	// CodeGlobalLimited: the faucet has given its grants for the moment.
	CodeGlobalLimited = "global_rate_limited"
)

// limiter grants at most one request per address per perAddress, and at most burst
// requests at once across addresses, refilled at one per refill. It is not safe for
// concurrent use; the faucet holds a lock around it.
type limiter struct {
	perAddress time.Duration
	burst      float64
	refill     time.Duration

	tokens float64
	last   time.Time            // when tokens was computed
	seen   map[string]time.Time // address → its last grant, within perAddress
}

func newLimiter(perAddress time.Duration, burst int, refill time.Duration) *limiter {
	return &limiter{perAddress: perAddress, burst: float64(burst), refill: refill, tokens: float64(burst), seen: map[string]time.Time{}}
}

// refusal is a request the limiter turned down: which limit, and when to come back.
type refusal struct {
	code  string
	retry time.Duration
}

// take grants a request for addr at now, or says which limit refuses it. A granted
// request is recorded against both limits; give it back with release if it fails.
func (l *limiter) take(addr string, now time.Time) *refusal {
	l.forget(now)
	if at, ok := l.seen[addr]; ok {
		return &refusal{CodeAddressLimited, at.Add(l.perAddress).Sub(now)}
	}
	l.fill(now)
	if l.tokens < 1 {
		return &refusal{CodeGlobalLimited, time.Duration((1 - l.tokens) * float64(l.refill)).Round(time.Millisecond)}
	}
	l.tokens--
	l.seen[addr] = now
	return nil
}

// release forgets addr's grant at now so that it may ask again at once; the global
// budget stays spent, so failing requests cannot be repeated without bound.
func (l *limiter) release(addr string) { delete(l.seen, addr) }

// fill adds the tokens earned since the last call, up to the burst.
func (l *limiter) fill(now time.Time) {
	if !l.last.IsZero() && now.After(l.last) {
		l.tokens = min(l.burst, l.tokens+float64(now.Sub(l.last))/float64(l.refill))
	}
	l.last = now
}

// forget drops the addresses whose interval has passed, so the table holds at most
// the grants of one interval.
func (l *limiter) forget(now time.Time) {
	for a, at := range l.seen {
		if now.Sub(at) >= l.perAddress {
			delete(l.seen, a)
		}
	}
}
