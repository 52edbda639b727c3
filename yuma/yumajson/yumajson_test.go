package yumajson_test

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/yuma"
	"github.com/tessera-net/tessera/yuma/yumajson"
)

const minimal = `{"n": 2, "current_block": 10, "tempo": 5, "last_update": [9, 9],
 "block_at_registration": [1, 1], "stake": [10, 0], "validator_permit": [true, false],
 "weights": [[[1, 65535]], []], "rao_emission": 1000}`

func TestDecodeDefaults(t *testing.T) {
	st, err := yumajson.Decode([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	s := st.EpochState
	if !st.Sparse || !s.Yuma3 || s.LiquidAlpha || s.CommitRevealEnabled {
		t.Errorf("flags: sparse=%v yuma3=%v liquid=%v cr=%v", st.Sparse, s.Yuma3, s.LiquidAlpha, s.CommitRevealEnabled)
	}
	if s.Kappa != 32767 || s.BondsPenalty != 65535 || s.BondsMovingAverage != 900_000 ||
		s.AlphaLow != 45875 || s.AlphaHigh != 58982 || s.AlphaSigmoidSteepness != 1000 || s.MaxAllowedValidators != 64 {
		t.Errorf("hyperparameter defaults: %+v", s)
	}
	if s.ActivityCutoff != 69 { // max(1, 13889*5/1000)
		t.Errorf("activity_cutoff = %d, want 69", s.ActivityCutoff)
	}
	if len(s.Bonds) != 2 || len(s.Bonds[0]) != 0 || s.HasOwner {
		t.Errorf("bonds %v, owner %v", s.Bonds, s.HasOwner)
	}
}

// TestDecodeErrors checks that malformed or inconsistent states name the offending field.
func TestDecodeErrors(t *testing.T) {
	base := minimal
	cases := []struct {
		name, from, to, field string
	}{
		{"not an object", base, `[1, 2]`, ""},
		{"trailing data", base, base + ` {}`, ""},
		{"unknown field", `"tempo": 5`, `"tempo": 5, "tempoo": 1`, "tempoo"},
		{"missing n", `"n": 2, `, ``, "n"},
		{"missing weights", `"weights": [[[1, 65535]], []], `, ``, "weights"},
		{"n too large", `"n": 2`, `"n": 40000`, "n"},
		{"negative block", `"current_block": 10`, `"current_block": -1`, "current_block"},
		{"fractional block", `"current_block": 10`, `"current_block": 10.5`, "current_block"},
		{"tempo not u16", `"tempo": 5`, `"tempo": 65536`, "tempo"},
		{"string number", `"tempo": 5`, `"tempo": "5"`, "tempo"},
		{"short last_update", `"last_update": [9, 9]`, `"last_update": [9]`, "last_update"},
		{"stake element", `"stake": [10, 0]`, `"stake": [10, 18446744073709551616]`, "stake[1]"},
		{"permit type", `"validator_permit": [true, false]`, `"validator_permit": [true, 1]`, "validator_permit[1]"},
		{"weights row count", `"weights": [[[1, 65535]], []]`, `"weights": [[[1, 65535]]]`, "weights"},
		{"weight uid out of range", `[[[1, 65535]], []]`, `[[[2, 65535]], []]`, "weights[0][0]"},
		{"weight value not u16", `[[[1, 65535]], []]`, `[[[1, 65536]], []]`, "weights[0][0][1]"},
		{"weight not a pair", `[[[1, 65535]], []]`, `[[[1, 2, 3]], []]`, "weights[0][0]"},
		{"duplicate weight uid", `[[[1, 65535]], []]`, `[[[1, 65535], [1, 3]], []]`, "weights[0][1]"},
		{"bond uid out of range", `"rao_emission": 1000`, `"rao_emission": 1000, "bonds": [[], [[5, 1]]]`, "bonds[1][0]"},
		{"owner out of range", `"rao_emission": 1000`, `"rao_emission": 1000, "owner_uid": 2`, "owner_uid"},
		{"kappa not u16", `"rao_emission": 1000`, `"rao_emission": 1000, "kappa": 70000`, "kappa"},
		{"steepness not i16", `"rao_emission": 1000`, `"rao_emission": 1000, "alpha_sigmoid_steepness": -40000`, "alpha_sigmoid_steepness"},
		{"commit blocks length", `"rao_emission": 1000`, `"rao_emission": 1000, "commit_blocks": [null]`, "commit_blocks"},
		{"tao stake length", `"rao_emission": 1000`, `"rao_emission": 1000, "tao_stake": [1, 2, 3]`, "tao_stake"},
		{"sparse type", `"rao_emission": 1000`, `"rao_emission": 1000, "sparse": "yes"`, "sparse"},
		{"stake overflow", `"stake": [10, 0]`, `"stake": [9223372036854775807, 9223372036854775807]`, "stake"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := strings.Replace(base, c.from, c.to, 1)
			if c.from == base {
				in = c.to
			}
			if in == base {
				t.Fatalf("replacement %q did not apply", c.from)
			}
			_, err := yumajson.Decode([]byte(in))
			if err == nil {
				t.Fatal("decoded without error")
			}
			if c.field == "" {
				return
			}
			var fe *yuma.FieldError
			if !errors.As(err, &fe) || fe.Field != c.field {
				t.Errorf("error %q, want one naming field %q", err, c.field)
			}
		})
	}
}

func TestMarshalStateRoundTrip(t *testing.T) {
	for _, name := range []string{"owner_threshold_commit_reveal", "yuma3_liquid_alpha", "example"} {
		data, err := os.ReadFile("../testdata/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		st, err := yumajson.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := yumajson.MarshalState(st)
		if err != nil {
			t.Fatal(err)
		}
		back, err := yumajson.Decode(enc)
		if err != nil {
			t.Fatalf("%s: decoding the encoded state: %v", name, err)
		}
		if !reflect.DeepEqual(norm(st), norm(back)) {
			t.Errorf("%s: round trip differs:\n%+v\n%+v", name, st, back)
		}
	}
}

// norm makes nil and empty rows compare equal.
func norm(st *yumajson.State) *yumajson.State {
	c := *st
	for _, m := range []*[][]yuma.Entry{&c.Weights, &c.Bonds} {
		rows := make([][]yuma.Entry, len(*m))
		for i, r := range *m {
			rows[i] = append([]yuma.Entry{}, r...)
		}
		*m = rows
	}
	return &c
}

// FuzzDecode: the decoder and validator never panic, and a state they accept runs through
// both epochs without panicking.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(minimal))
	for _, name := range []string{"example", "owner_threshold_commit_reveal", "yuma3_liquid_alpha", "no_usable_weights"} {
		if data, err := os.ReadFile("../testdata/" + name + ".json"); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"n": 1e400}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := yumajson.Decode(data)
		if err != nil {
			return
		}
		if st.N > 64 {
			return // keep each fuzz iteration cheap
		}
		if _, err := yuma.Epoch(&st.EpochState); err != nil {
			t.Fatalf("accepted state fails the sparse epoch: %v", err)
		}
		if _, err := yuma.EpochDense(&st.EpochState); err != nil {
			t.Fatalf("accepted state fails the dense epoch: %v", err)
		}
	})
}
