package batcher

import (
	"context"
	"sync"
	"testing"
	"time"
)

// gpuCost is the fixed cost of one backend call, whatever its batch size:
// the shape of a GPU forward pass, where launching the kernel and moving
// the weights dominates and a larger batch rides along almost free.
const gpuCost = 5 * time.Millisecond

func gpuBackend(_ context.Context, items []int) ([]int, error) {
	time.Sleep(gpuCost)
	out := make([]int, len(items))
	for i, v := range items {
		out[i] = v + 1
	}
	return out, nil
}

// runBatched pushes n items through a batcher with MaxBatchSize 32 from
// `submitters` concurrent callers and returns the elapsed time.
func runBatched(b *testing.B, n, submitters int) time.Duration {
	bt, err := New(Config{MaxBatchSize: 32, MaxWait: 2 * time.Millisecond}, gpuBackend)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	var wg sync.WaitGroup
	per := n / submitters
	for range submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if _, err := bt.Submit(ctx, i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	if err := bt.Close(ctx); err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkBatcherVsSerial measures the performance target: the
// throughput of a batcher (MaxBatchSize 32) against a backend with a 5ms
// fixed cost per call, versus calling that backend one item at a time.
// Each iteration pushes 20 items serially and 640 items through the
// batcher from 64 concurrent callers; it reports both rates and their ratio
// (the target is speedup ≥ 10).
func BenchmarkBatcherVsSerial(b *testing.B) {
	const serialItems, batchedItems, submitters = 20, 640, 64
	var serial, batched time.Duration
	ctx := context.Background()
	for b.Loop() {
		start := time.Now()
		for i := range serialItems {
			if _, err := gpuBackend(ctx, []int{i}); err != nil {
				b.Fatal(err)
			}
		}
		serial += time.Since(start)
		batched += runBatched(b, batchedItems, submitters)
	}
	iters := float64(b.N)
	serialRate := serialItems * iters / serial.Seconds()
	batchedRate := batchedItems * iters / batched.Seconds()
	b.ReportMetric(serialRate, "serial_items/s")
	b.ReportMetric(batchedRate, "batched_items/s")
	b.ReportMetric(batchedRate/serialRate, "speedup")
}

// BenchmarkSubmit measures the batcher's own overhead per item with a
// backend that costs nothing.
func BenchmarkSubmit(b *testing.B) {
	bt, err := New(Config{MaxBatchSize: 32, MaxWait: 100 * time.Microsecond},
		func(_ context.Context, items []int) ([]int, error) { return items, nil })
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := bt.Submit(ctx, 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	_ = bt.Close(ctx)
}
