package kernelbench_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/subnets/kernelbench"
)

const commit40 = "0123456789abcdef0123456789abcdef01234567"

func defJSON(t testing.TB, edit func(m map[string]any)) []byte {
	raw, _ := json.Marshal(kernelbench.NewDefinition("https://github.com/tessera/target", commit40))
	var m map[string]any
	json.Unmarshal(raw, &m)
	if edit != nil {
		edit(m)
	}
	out, _ := json.Marshal(m)
	return out
}

func sub(m map[string]any, k string) map[string]any { return m[k].(map[string]any) }

func TestDefinitionDefaults(t *testing.T) {
	d, err := kernelbench.DecodeDefinition(defJSON(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Leagues) != 10 || d.Leagues[0] != (kernelbench.League{Length: 100_000, Multiplier: 0.5}) || d.Leagues[9] != (kernelbench.League{Length: 1_000_000, Multiplier: 3}) {
		t.Errorf("league table: %+v", d.Leagues)
	}
	if len(d.Payout) != 4 || d.Payout[0] != 0.5 || d.Payout[3] != 0.05 {
		t.Errorf("payout: %v", d.Payout)
	}
	for _, c := range []struct {
		target, want int
		ok           bool
	}{{99_999, 0, false}, {100_000, 100_000, true}, {150_000, 100_000, true}, {1_000_000, 1_000_000, true}, {10_000_000, 1_000_000, true}} {
		l, ok := d.LeagueFor(c.target)
		if ok != c.ok || l.Length != c.want {
			t.Errorf("LeagueFor(%d) = %v %v", c.target, l, ok)
		}
	}
}

// A malformed definition is refused with the field named.
func TestDefinitionFieldErrors(t *testing.T) {
	for _, c := range []struct {
		field string
		edit  func(m map[string]any)
	}{
		{"version", func(m map[string]any) { m["version"] = 2 }},
		{"name", func(m map[string]any) { m["name"] = "" }},
		{"target.commit", func(m map[string]any) { sub(m, "target")["commit"] = "HEAD" }},
		{"target.allowed_dir", func(m map[string]any) { sub(m, "target")["allowed_dir"] = "../kernel" }},
		{"target.allowed_dir", func(m map[string]any) { sub(m, "target")["allowed_dir"] = "/kernel" }},
		{"target.harness", func(m map[string]any) { sub(m, "target")["harness"] = "./kernel/h" }},
		{"fetch.allowed_hosts[0]", func(m map[string]any) { sub(m, "fetch")["allowed_hosts"] = []string{"github.com:443"} }},
		{"fetch.file_roots", func(m map[string]any) { sub(m, "fetch")["allow_file"] = true }},
		{"fetch.max_repo_bytes", func(m map[string]any) { sub(m, "fetch")["max_repo_bytes"] = 0 }},
		{"rules.extensions[0]", func(m map[string]any) { sub(m, "rules")["extensions"] = []string{"go"} }},
		{"benchmark.tolerance", func(m map[string]any) { sub(m, "benchmark")["tolerance"] = 0 }},
		{"benchmark.gamma", func(m map[string]any) { sub(m, "benchmark")["gamma"] = 1.5 }},
		{"benchmark.repetitions", func(m map[string]any) { sub(m, "benchmark")["repetitions"] = 0 }},
		{"leagues", func(m map[string]any) { m["leagues"] = []any{} }},
		{"leagues[1].length", func(m map[string]any) {
			m["leagues"] = []any{map[string]any{"length": 200, "multiplier": 1}, map[string]any{"length": 100, "multiplier": 2}}
		}},
		{"leagues[0].multiplier", func(m map[string]any) { m["leagues"] = []any{map[string]any{"length": 200, "multiplier": -1}} }},
		{"payout", func(m map[string]any) { m["payout"] = []float64{0.6, 0.3, 0.2} }},
		{"payout[1]", func(m map[string]any) { m["payout"] = []float64{0.3, 0.5} }},
		{"margin", func(m map[string]any) { m["margin"] = -0.1 }},
		{"round_blocks", func(m map[string]any) { m["round_blocks"] = 0 }},
		{"limits.address_space_mb", func(m map[string]any) { sub(m, "limits")["address_space_mb"] = 100 }},
		{"limits.processes", func(m map[string]any) { sub(m, "limits")["processes"] = 2 }},
	} {
		_, err := kernelbench.DecodeDefinition(defJSON(t, c.edit))
		var fe *kernelbench.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("want an error naming %s, got %v", c.field, err)
		}
	}
	// Unknown fields and trailing data are refused too.
	for _, raw := range []string{`{"version":1,"nme":"x"}`, string(defJSON(t, nil)) + "{}", `[]`, ``} {
		if _, err := kernelbench.DecodeDefinition([]byte(raw)); err == nil {
			t.Errorf("%.40q accepted", raw)
		}
	}
}

func FuzzDecodeDefinition(f *testing.F) {
	f.Add(defJSON(f, nil))
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(strings.Replace(string(defJSON(f, nil)), `"kernel"`, `"../x"`, 1)))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := kernelbench.DecodeDefinition(raw)
		if err != nil {
			return
		}
		// A definition that decodes is valid, and stays valid through its encoding.
		again, _ := json.Marshal(d)
		if _, err := kernelbench.DecodeDefinition(again); err != nil {
			t.Fatalf("a decoded definition does not decode again: %v\n%s", err, again)
		}
		if _, ok := d.LeagueFor(d.Leagues[len(d.Leagues)-1].Length); !ok {
			t.Fatal("the longest league has no league")
		}
	})
}
