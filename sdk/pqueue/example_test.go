package pqueue_test

import (
	"context"
	"fmt"

	"github.com/tessera-net/tessera/sdk/pqueue"
)

func Example() {
	q, err := pqueue.New(pqueue.Config[string]{MaxSize: 3, Policy: pqueue.EvictLowest,
		OnEvict: func(item string, prio int) { fmt.Println("evicted", item) }})
	if err != nil {
		panic(err)
	}
	_ = q.Push("background scan", 1)
	_ = q.Push("validator query", 5)
	_ = q.Push("user request", 5)
	_ = q.Push("paid request", 9) // full: evicts the priority-1 item
	q.Close()
	for {
		item, prio, err := q.Pop(context.Background())
		if err != nil {
			break
		}
		fmt.Println(prio, item)
	}
	// Output:
	// evicted background scan
	// 9 paid request
	// 5 validator query
	// 5 user request
}
