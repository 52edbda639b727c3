package validator

import (
	"math/rand/v2"
	"testing"

	"github.com/tessera-net/tessera/internal/testutil/fixture"
)

// BenchmarkSelectMiners4096 samples 50 of 4096 serving uids.
func BenchmarkSelectMiners4096(b *testing.B) {
	axon := make([]bool, 4096)
	for i := range axon {
		axon[i] = true
	}
	g := graph(b, fixture.Hotkeys(4096), axon, nil, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		SelectMiners(g, 0, 50, 1<<40, rng)
	}
}

// BenchmarkUpdateScores4096 folds a round of 4096 rewards into the moving averages.
func BenchmarkUpdateScores4096(b *testing.B) {
	scores := make([]float64, 4096)
	uids := make([]uint16, 4096)
	rewards := make([]float64, 4096)
	for i := range uids {
		uids[i], rewards[i] = uint16(i), float64(i%7)/7
	}
	b.ReportAllocs()
	for b.Loop() {
		UpdateScores(scores, uids, rewards, 0.1)
	}
}
