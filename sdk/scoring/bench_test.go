package scoring

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkScore1024 scores a round of 1024 miners, the size of a full
// Bittensor-style subnet.
func BenchmarkScore1024(b *testing.B) {
	s, _ := New(Config{Weights: Weights{Quality: 0.6, Latency: 0.2, Throughput: 0.1, Uptime: 0.1},
		LatencyTarget: 500 * time.Millisecond})
	obs := randomRound(rand.New(rand.NewPCG(1, 1)), 1024)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Score(obs); err != nil {
			b.Fatal(err)
		}
	}
}
