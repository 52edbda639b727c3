package scoring_test

import (
	"fmt"
	"time"

	"github.com/tessera-net/tessera/sdk/scoring"
)

func Example() {
	// A text-generation subnet that cares mostly about answer quality.
	s, err := scoring.New(scoring.Config{
		Weights:       scoring.Weights{Quality: 0.6, Latency: 0.2, Throughput: 0.1, Uptime: 0.1},
		LatencyTarget: 500 * time.Millisecond,
	})
	if err != nil {
		panic(err)
	}
	results, err := s.Score([]scoring.Observation{
		{ID: "5Fast", Quality: 0.70, Latency: 300 * time.Millisecond, Throughput: 120, Uptime: 1.0},
		{ID: "5Smart", Quality: 0.95, Latency: 1 * time.Second, Throughput: 60, Uptime: 0.9},
		{ID: "5Gone", Uptime: 0.4, Failed: true},
	})
	if err != nil {
		panic(err)
	}
	for _, r := range scoring.Rank(results) {
		fmt.Printf("%-6s %.3f (quality %.2f latency %.2f throughput %.2f uptime %.2f)\n",
			r.ID, r.Score, r.Quality, r.Latency, r.Throughput, r.Uptime)
	}
	// Output:
	// 5Fast  0.820 (quality 0.70 latency 1.00 throughput 1.00 uptime 1.00)
	// 5Smart 0.810 (quality 0.95 latency 0.50 throughput 0.50 uptime 0.90)
	// 5Gone  0.040 (quality 0.00 latency 0.00 throughput 0.00 uptime 0.40)
}
