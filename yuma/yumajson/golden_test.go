package yumajson_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/yuma/yumajson"
)

var update = flag.Bool("update", false, "rewrite the golden files in ../testdata")

// goldenCases are the data-driven cases: ../testdata/NAME.json is an epoch state and
// NAME.golden.json the JSON that `tessera yuma simulate` prints for it (epochs > 1 gives
// NAME.Nepochs.golden.json). The facts are numbers asserted by subtensor's own tests for the
// same states; they guard the golden files against being regenerated from a wrong epoch.
var goldenCases = []struct {
	name   string
	epochs int
	facts  func(t *testing.T, out []*yumajson.Output)
}{
	{"example", 1, nil},
	{"example", 3, nil},
	{"no_usable_weights", 1, func(t *testing.T, out []*yumajson.Output) {
		// Weights to a uid registered after they were set and self-weights are masked:
		// the validators share the emission by active stake, miners get nothing.
		o := out[0]
		wantU64s(t, "server_emission", o.ServerEmission, []uint64{0, 0, 0, 0})
		if o.ValidatorEmission[0]+o.ValidatorEmission[1] < 999_999_998 {
			t.Errorf("validator emission %v does not carry the epoch's emission", o.ValidatorEmission)
		}
	}},
	{"owner_threshold_commit_reveal", 1, nil},
	{"original_yuma_bonds", 1, func(t *testing.T, out []*yumajson.Output) {
		// test_bonds, the epoch at block 6 (the test's logged E and asserted bonds).
		o := out[0]
		wantU64s(t, "emission", o.Emission, []uint64{36443733, 81898628, 163565493, 218092144, 0, 0, 0, 500000000})
		wantBondsCol(t, o, 7, []uint16{10951, 24609, 49150, 65535})
	}},
	{"original_yuma_bonds_dense", 1, func(t *testing.T, out []*yumajson.Output) {
		o := out[0]
		wantU64s(t, "emission", o.Emission, []uint64{36443733, 81898628, 163565493, 218092144, 0, 0, 0, 500000000})
		wantBondsCol(t, o, 7, []uint16{10951, 24609, 49150, 65535})
	}},
	{"inactive_validator", 1, func(t *testing.T, out []*yumajson.Output) {
		// test_active_stake at block 5002.
		o := out[0]
		if o.Dividends[0] != 36044 || o.Dividends[1] != 29490 {
			t.Errorf("dividends = %v, want 36044, 29490", o.Dividends[:2])
		}
		if o.Emission[0] != 274_999_999 || o.Emission[1] != 224_999_999 {
			t.Errorf("emission = %v, want 274999999, 224999999", o.Emission[:2])
		}
	}},
	{"yuma3_liquid_alpha", 1, func(t *testing.T, out []*yumajson.Output) {
		// test_yuma_3_kappa_moves_first, third epoch: dividends within 1e-3.
		want := []float64{0.9382, 0.0618, 0, 0, 0}
		for i, w := range want {
			if got := float64(out[0].Dividends[i]) / 65535; math.Abs(got-w) > 1e-3 {
				t.Errorf("dividends[%d] = %.4f, want %.4f", i, got, w)
			}
		}
	}},
}

func wantU64s(t *testing.T, what string, got, want []uint64) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s = %v, want %v", what, got, want)
			return
		}
	}
}

func wantBondsCol(t *testing.T, o *yumajson.Output, col uint16, want []uint16) {
	t.Helper()
	for i, w := range want {
		var got uint16
		for _, p := range o.Bonds[i] {
			if p[0] == col {
				got = p[1]
			}
		}
		if got != w {
			t.Errorf("bonds[%d][%d] = %d, want %d", i, col, got, w)
		}
	}
}

func TestGolden(t *testing.T) {
	inputs, _ := filepath.Glob("../testdata/*.json")
	covered := map[string]bool{}
	for _, c := range goldenCases {
		covered[c.name] = true
	}
	for _, in := range inputs {
		base := strings.TrimSuffix(filepath.Base(in), ".json")
		if !strings.Contains(base, ".") && !covered[base] {
			t.Errorf("%s has no golden case", in)
		}
	}
	for _, c := range goldenCases {
		golden := "../testdata/" + c.name + ".golden.json"
		if c.epochs > 1 {
			golden = "../testdata/" + c.name + "." + itoa(c.epochs) + "epochs.golden.json"
		}
		t.Run(filepath.Base(golden), func(t *testing.T) {
			data, err := os.ReadFile("../testdata/" + c.name + ".json")
			if err != nil {
				t.Fatal(err)
			}
			st, err := yumajson.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			outs, err := yumajson.Simulate(st, c.epochs)
			if err != nil {
				t.Fatal(err)
			}
			if c.facts != nil {
				c.facts(t, outs)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetIndent("", "  ")
			var v any = outs
			if c.epochs == 1 {
				v = outs[0]
			}
			if err := enc.Encode(v); err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("output differs from %s:\n%s", golden, buf.String())
			}
		})
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
