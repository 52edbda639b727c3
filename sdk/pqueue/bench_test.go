package pqueue

import (
	"context"
	"testing"
)

func BenchmarkPushPop(b *testing.B) {
	q, _ := New(Config[int]{MaxSize: 1024})
	for i := range 512 {
		_ = q.Push(i, i%16)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_ = q.Push(i, i%16)
		_, _, _ = q.Pop(ctx)
	}
}

func BenchmarkPushEvict(b *testing.B) {
	q, _ := New(Config[int]{MaxSize: 1024, Policy: EvictLowest})
	for i := range 1024 {
		_ = q.Push(i, 0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_ = q.Push(i, i+1) // always higher than the lowest: evicts
	}
}

func BenchmarkParallelPushPop(b *testing.B) {
	q, _ := New(Config[int]{MaxSize: 1 << 20})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			_ = q.Push(i, i%16)
			_, _, _ = q.Pop(ctx)
		}
	})
}
