package respcache_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tessera-net/tessera/sdk/respcache"
)

type completion struct {
	Model  string
	Prompt string
}

func Example() {
	cache, err := respcache.New[completion, string](respcache.Config[completion]{
		MaxEntries: 10_000,
		TTL:        5 * time.Minute,
	})
	if err != nil {
		panic(err)
	}
	calls := 0
	infer := func(ctx context.Context, req completion) (string, error) {
		calls++ // stands in for an expensive model call
		return "answer to " + req.Prompt, nil
	}
	ctx := context.Background()
	req := completion{Model: "llama-3-8b", Prompt: "what is Yuma?"}
	a, _ := cache.Get(ctx, req, infer)
	b, _ := cache.Get(ctx, req, infer) // served from the cache
	fmt.Println(a)
	fmt.Println(a == b, "model calls:", calls)
	// Output:
	// answer to what is Yuma?
	// true model calls: 1
}
