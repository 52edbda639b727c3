package weights

import (
	"math/rand/v2"
	"testing"
)

func benchScores(n int) []float64 {
	rng := rand.New(rand.NewPCG(3, 4))
	s := make([]float64, n)
	for i := range s {
		if rng.IntN(8) != 0 {
			s[i] = rng.Float64()
		}
	}
	return s
}

// BenchmarkCompute4096 is a full subnet of 4096 uids with no max weight limit.
func BenchmarkCompute4096(b *testing.B) {
	s := benchScores(4096)
	lim := Limits{N: 4096, MinAllowedWeights: 1024, MaxWeightLimit: 65535}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compute(s, lim); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompute4096Clipped is the same with a limit that clips the top scores.
func BenchmarkCompute4096Clipped(b *testing.B) {
	s := benchScores(4096)
	s[7] = 1e6
	lim := Limits{N: 4096, MinAllowedWeights: 1024, MaxWeightLimit: 100}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compute(s, lim); err != nil {
			b.Fatal(err)
		}
	}
}
