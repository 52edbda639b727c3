package workerpool_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/tessera-net/tessera/sdk/workerpool"
)

func Example() {
	ctx := context.Background()
	pool, err := workerpool.New(workerpool.Config{Workers: 2, QueueSize: 8})
	if err != nil {
		panic(err)
	}
	defer pool.Close(ctx)

	var futures []*workerpool.Future[string]
	for _, prompt := range []string{"hello", "tessera"} {
		f, err := workerpool.Go(ctx, pool, func(ctx context.Context) (string, error) {
			return strings.ToUpper(prompt), nil // stands in for a model call
		})
		if err != nil {
			panic(err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		out, err := f.Wait(ctx)
		fmt.Println(out, err)
	}
	// Output:
	// HELLO <nil>
	// TESSERA <nil>
}
