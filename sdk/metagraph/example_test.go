package metagraph_test

import (
	"fmt"

	"github.com/tessera-net/tessera/sdk/metagraph"
)

// Scores follow the hotkeys across a resync: uid 1 changed hands and restarts from
// zero, uid 3 is new, and the subnet grew by one.
func ExampleResize() {
	old := []string{"5Alice", "5Bob", "5Dave"}
	scores := []float64{0.2, 0.9, 0.5}
	now := []string{"5Alice", "5Mallory", "5Dave", "5Eve"}
	out, reset := metagraph.Resize(old, scores, now)
	fmt.Println(out, reset)
	// Output: [0.2 0 0.5 0] [1]
}
