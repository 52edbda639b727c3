package weights_test

import (
	"fmt"

	"github.com/tessera-net/tessera/sdk/weights"
)

// A validator's scores by uid become the vector it sends with set_weights: zeros left
// out, padded to min_allowed_weights, the top share held to max_weight_limit.
func ExampleCompute() {
	scores := []float64{0, 0, 0.9, 0.1, 0.6, 0}
	v, err := weights.Compute(scores, weights.Limits{N: 6, MinAllowedWeights: 4, MaxWeightLimit: 32768})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v.UIDs, v.Values)
	fmt.Println(weights.Check(v, weights.Limits{N: 6, MinAllowedWeights: 4, MaxWeightLimit: 32768}))
	// Output:
	// [0 2 3 4] [0 65534 9362 56171]
	// <nil>
}
