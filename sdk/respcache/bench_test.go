package respcache

import (
	"context"
	"fmt"
	"testing"
	"time"
)

type benchReq struct {
	Model       string
	Prompt      string
	Temperature float64
}

// BenchmarkGetHit is the hot path: hashing the request (JSON + SHA-256) and
// a fresh hit.
func BenchmarkGetHit(b *testing.B) {
	c, _ := New[benchReq, string](Config[benchReq]{MaxEntries: 1024, TTL: time.Hour})
	ctx := context.Background()
	reqs := make([]benchReq, 256)
	fetch := func(_ context.Context, r benchReq) (string, error) { return r.Prompt, nil }
	for i := range reqs {
		reqs[i] = benchReq{"llama-3-8b", fmt.Sprintf("prompt number %d about subnets", i), 0.7}
		_, _ = c.Get(ctx, reqs[i], fetch)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, _ = c.Get(ctx, reqs[i%len(reqs)], fetch)
	}
}

// BenchmarkGetHitCustomKey is a hit with a key function that hashes the
// prompt bytes directly, avoiding JSON.
func BenchmarkGetHitCustomKey(b *testing.B) {
	c, _ := New[benchReq, string](Config[benchReq]{MaxEntries: 1024, TTL: time.Hour,
		Key: func(r benchReq) (Key, error) { return HashBytes([]byte(r.Model + "\x00" + r.Prompt)), nil }})
	ctx := context.Background()
	fetch := func(_ context.Context, r benchReq) (string, error) { return r.Prompt, nil }
	req := benchReq{"llama-3-8b", "what is a subnet", 0}
	_, _ = c.Get(ctx, req, fetch)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = c.Get(ctx, req, fetch)
	}
}

// BenchmarkGetMiss measures a miss with an instant fetch: key, flight,
// goroutine, store and LRU eviction.
func BenchmarkGetMiss(b *testing.B) {
	c, _ := New[int, int](Config[int]{MaxEntries: 1024, TTL: time.Hour,
		Key: func(i int) (Key, error) {
			var k Key
			k[0], k[1], k[2], k[3] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24)
			return k, nil
		}})
	ctx := context.Background()
	fetch := func(_ context.Context, i int) (int, error) { return i, nil }
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, _ = c.Get(ctx, i, fetch)
	}
}
