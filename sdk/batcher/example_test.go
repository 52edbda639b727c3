package batcher_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tessera-net/tessera/sdk/batcher"
)

func Example() {
	// embed stands in for a model that embeds many texts in one call.
	embed := func(ctx context.Context, texts []string) ([]int, error) {
		out := make([]int, len(texts))
		for i, t := range texts {
			out[i] = len(strings.Fields(t))
		}
		return out, nil
	}
	b, err := batcher.New(batcher.Config{
		MaxBatchSize:  32,
		MaxWait:       2 * time.Millisecond,
		LatencyTarget: 50 * time.Millisecond,
	}, embed)
	if err != nil {
		panic(err)
	}
	defer b.Close(context.Background())

	texts := []string{"one", "two words", "now three words"}
	results := make([]int, len(texts))
	var wg sync.WaitGroup
	for i, text := range texts {
		wg.Add(1)
		go func() { // concurrent callers share batches
			defer wg.Done()
			n, err := b.Submit(context.Background(), text)
			if err != nil {
				panic(err)
			}
			results[i] = n
		}()
	}
	wg.Wait()
	fmt.Println(results)
	// Output: [1 2 3]
}
