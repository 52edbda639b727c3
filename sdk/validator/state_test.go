package validator

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/internal/testutil/fixture"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/sdk/metagraph"
)

func TestUpdateScores(t *testing.T) {
	tests := []struct {
		name    string
		scores  []float64
		uids    []uint16
		rewards []float64
		alpha   float64
		want    []float64
	}{
		{"moving average", []float64{0.5, 0.5}, []uint16{0, 1}, []float64{1, 0}, 0.1, []float64{0.55, 0.45}},
		{"only the queried uids move", []float64{0.5, 0.5, 0.5}, []uint16{1}, []float64{1}, 0.5, []float64{0.5, 0.75, 0.5}},
		{"rewards clamped, NaN is zero", []float64{0, 0, 0}, []uint16{0, 1, 2}, []float64{7, -1, math.NaN()}, 1, []float64{1, 0, 0}},
		{"uids past the scores ignored", []float64{0}, []uint16{0, 5}, []float64{1, 1}, 1, []float64{1}},
		{"fewer rewards than uids", []float64{0, 0}, []uint16{0, 1}, []float64{1}, 1, []float64{1, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			UpdateScores(tc.scores, tc.uids, tc.rewards, tc.alpha)
			for i := range tc.want {
				if math.Abs(tc.scores[i]-tc.want[i]) > 1e-12 {
					t.Fatalf("scores = %v, want %v", tc.scores, tc.want)
				}
			}
		})
	}
}

// graph builds a metagraph; axon[uid] says whether uid serves.
func graph(t testing.TB, hotkeys []string, axon []bool, permit []bool, stake []uint64) *metagraph.Graph {
	t.Helper()
	mg := fixture.Metagraph(hotkeys...)
	for i := range hotkeys {
		if axon != nil && axon[i] {
			mg.Axons[i] = subnets.AxonView{IP: "127.0.0.1", Port: uint16(9000 + i), Hotkey: hotkeys[i]}
		}
		if permit != nil {
			mg.ValidatorPermit[i] = permit[i]
		}
		if stake != nil {
			mg.Stake[i] = stake[i]
		}
	}
	g, err := metagraph.New(mg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestSelectMiners(t *testing.T) {
	hot := []string{"a", "b", "c", "d", "e"}
	g := graph(t, hot, []bool{true, true, false, true, true}, []bool{false, true, false, true, false}, []uint64{0, 5000, 0, 10, 0})
	tests := []struct {
		name  string
		self  int
		k     int
		limit uint64
		want  []uint16
	}{
		// uid 2 serves nothing; uid 1 is a validator (permit and stake over the limit).
		{"all eligible", -1, 10, 100, []uint16{0, 3, 4}},
		{"not self", 0, 10, 100, []uint16{3, 4}},
		{"a permit with little stake is still a miner", -1, 10, 10, []uint16{0, 3, 4}},
		{"a high limit queries validators too", -1, 10, 1 << 62, []uint16{0, 1, 3, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SelectMiners(g, tc.self, tc.k, tc.limit, rand.New(rand.NewPCG(1, 1)))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	// A sample: k distinct eligible uids, sorted, varying with the random source.
	seen := map[string]bool{}
	for seed := range uint64(20) {
		got := SelectMiners(g, -1, 2, 100, rand.New(rand.NewPCG(seed, 0)))
		if len(got) != 2 || !slices.IsSorted(got) || got[0] == got[1] || slices.Contains(got, 1) || slices.Contains(got, 2) {
			t.Fatalf("sample %v", got)
		}
		seen[string(rune(got[0]))+string(rune(got[1]))] = true
	}
	if len(seen) < 2 {
		t.Fatal("the sample never varies")
	}
}

func TestStateSaveLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "state")
	if _, ok, err := LoadState(dir); ok || err != nil {
		t.Fatalf("a missing state: ok %v err %v", ok, err)
	}
	st := &State{Netuid: 1, Hotkey: "h", Step: 7, Block: 99, Hotkeys: []string{"a", "b"}, Scores: []float64{0.25, 1}, LastWeightsBlock: 90, LastWeightsError: "why"}
	if err := st.Save(dir); err != nil {
		t.Fatal(err)
	}
	got, ok, err := LoadState(dir)
	if err != nil || !ok {
		t.Fatalf("ok %v err %v", ok, err)
	}
	if got.Step != 7 || got.Block != 99 || !slices.Equal(got.Scores, st.Scores) || !slices.Equal(got.Hotkeys, st.Hotkeys) || got.LastWeightsError != "why" || got.Version != StateVersion {
		t.Fatalf("loaded %+v", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}

	bad := []struct{ name, body, want string }{
		{"not JSON", "{", "is not valid JSON"},
		{"other version", `{"version": 9}`, "has version 9; this validator reads version 1"},
		{"inconsistent", `{"version": 1, "hotkeys": ["a"], "scores": []}`, "0 scores for 1 hotkeys"},
		{"score out of range", `{"version": 1, "hotkeys": ["a"], "scores": [2]}`, "score of uid 0 is 2, outside [0, 1]"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			if err := os.WriteFile(filepath.Join(d, StateFile), []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, _, err := LoadState(d); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestStateResync(t *testing.T) {
	st := &State{Hotkeys: []string{"a", "b", "c"}, Scores: []float64{0.1, 0.2, 0.3}}
	reset := st.Resync(graph(t, []string{"a", "x", "c", "d"}, nil, nil, nil))
	if !slices.Equal(reset, []uint16{1}) || !slices.Equal(st.Scores, []float64{0.1, 0, 0.3, 0}) || !slices.Equal(st.Hotkeys, []string{"a", "x", "c", "d"}) {
		t.Fatalf("grown: reset %v scores %v hotkeys %v", reset, st.Scores, st.Hotkeys)
	}
	reset = st.Resync(graph(t, []string{"a", "x"}, nil, nil, nil))
	if len(reset) != 0 || !slices.Equal(st.Scores, []float64{0.1, 0}) {
		t.Fatalf("shrunk: reset %v scores %v", reset, st.Scores)
	}
}
