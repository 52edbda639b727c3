package metagraph

import (
	"strconv"
	"testing"

	"github.com/tessera-net/tessera/internal/testutil/fixture"
)

// BenchmarkResize4096 carries 4096 scores over a resync in which one hotkey changed.
func BenchmarkResize4096(b *testing.B) {
	old := make([]string, 4096)
	scores := make([]float64, 4096)
	for i := range old {
		old[i] = "5Hotkey" + strconv.Itoa(i)
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
	hot := make([]string, 4096)
	for i := range hot {
		hot[i] = "5Hotkey" + strconv.Itoa(i)
	}
	mg := fixture.Metagraph(hot...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(mg); err != nil {
			b.Fatal(err)
		}
	}
}
