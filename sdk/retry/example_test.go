package retry_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tessera-net/tessera/sdk/retry"
)

func Example() {
	r, err := retry.New(retry.Config{
		MaxAttempts:    4,
		InitialBackoff: time.Millisecond,
		Multiplier:     2,
		Jitter:         0.2,
		Rand:           rand.New(rand.NewPCG(7, 7)), // seeded: reproducible delays
		Retryable: func(err error) bool {
			return !errors.Is(err, errBadRequest) // a 400 will not get better
		},
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	calls := 0
	answer, err := retry.Do(ctx, r, func(ctx context.Context) (string, error) {
		calls++
		if calls < 3 {
			return "", errors.New("miner busy")
		}
		return "42", nil
	})
	fmt.Println(answer, err, calls)

	err = r.Do(ctx, func(ctx context.Context) error { return errBadRequest })
	fmt.Println(err)
	// Output:
	// 42 <nil> 3
	// retry: attempt 1 failed with a non-retryable error: bad request
}

var errBadRequest = errors.New("bad request")
