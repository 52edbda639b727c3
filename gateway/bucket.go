package gateway

import (
	"math"
	"time"
)

// bucket is a token bucket: it holds up to burst tokens, refills at rate tokens a
// second, and each request takes one. It is not safe for concurrent use; the key
// holding it locks.
type bucket struct {
	rate   float64 // tokens a second; ≤ 0 means unlimited
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int, now time.Time) bucket {
	b := float64(max(burst, 1))
	return bucket{rate: rate, burst: b, tokens: b, last: now}
}

// take takes one token at now. If none is left it reports how long until one is.
func (b *bucket) take(now time.Time) (ok bool, wait time.Duration) {
	if b.rate <= 0 {
		return true, 0
	}
	b.refill(now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration(math.Ceil((1 - b.tokens) / b.rate * float64(time.Second)))
}

// refill adds the tokens earned since the last refill, up to the burst.
func (b *bucket) refill(now time.Time) {
	if now.After(b.last) {
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
}

// state reports, at now, the whole tokens left and how long until the bucket is full.
func (b *bucket) state(now time.Time) (remaining int, full time.Duration) {
	if b.rate <= 0 {
		return int(b.burst), 0
	}
	b.refill(now)
	return int(b.tokens), time.Duration(math.Ceil((b.burst - b.tokens) / b.rate * float64(time.Second)))
}
