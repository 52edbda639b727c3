package retry

import (
	"context"
	"testing"
)

// BenchmarkDoSuccess is the common path: the first attempt succeeds.
func BenchmarkDoSuccess(b *testing.B) {
	r, _ := New(Config{})
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Do(ctx, r, fn)
	}
}

func BenchmarkBackoffJitter(b *testing.B) {
	r, _ := New(Config{Jitter: 0.5})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = r.Backoff(i%8 + 1)
	}
}
