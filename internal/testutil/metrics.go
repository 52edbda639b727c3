package testutil

import (
	"maps"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// CheckMetrics reads reg as Gather does and reports with t.Errorf, in name order,
// every metric of want whose value is not the wanted one (a metric reg lacks reads
// 0). Metrics that want does not name are not checked.
func CheckMetrics(t testing.TB, reg prometheus.Gatherer, want map[string]float64) {
	t.Helper()
	got := Gather(t, reg)
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if got[name] != want[name] {
			t.Errorf("%s = %v, want %v", name, got[name], want[name])
		}
	}
}
