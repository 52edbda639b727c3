package metagraph

import (
	"testing"

	"github.com/tessera-net/tessera/internal/testutil/fixture"
)

// BenchmarkResize4096 carries 4096 scores over a resync in which one hotkey changed.
func BenchmarkResize4096(b *testing.B) {
	old := fixture.Hotkeys(4096)
	scores := make([]float64, 4096)
	for i := range scores {
		scores[i] = float64(i) / 4096
	}
	now := append([]string(nil), old...)
	now[17] = "5Replaced"
	b.ReportAllocs()
	for b.Loop() {
		Resize(old, scores, now)
	}
}

// BenchmarkNew4096 checks and indexes a metagraph of 4096 uids.
func BenchmarkNew4096(b *testing.B) {
	mg := fixture.Metagraph(fixture.Hotkeys(4096)...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(mg); err != nil {
			b.Fatal(err)
		}
	}
}
