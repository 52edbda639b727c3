package workerpool

import (
	"context"
	"testing"
)

func BenchmarkSubmit(b *testing.B) {
	p, _ := New(Config{Workers: 4, QueueSize: 1024})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Submit(ctx, func(context.Context) {})
	}
	_ = p.Close(ctx)
}

func BenchmarkDo(b *testing.B) {
	p, _ := New(Config{Workers: 4, QueueSize: 1024})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = Do(ctx, p, func(context.Context) (int, error) { return 1, nil })
		}
	})
	_ = p.Close(ctx)
}
