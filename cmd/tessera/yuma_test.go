package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func runYuma(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestYumaSimulateFile(t *testing.T) {
	code, out, errs := runYuma(t, "", "yuma", "simulate", "../../yuma/testdata/example.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want, err := os.ReadFile("../../yuma/testdata/example.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("output differs from example.golden.json:\n%s", out)
	}
}

func TestYumaSimulateStdinEpochs(t *testing.T) {
	in, err := os.ReadFile("../../yuma/testdata/example.json")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runYuma(t, string(in), "yuma", "simulate", "--epochs", "3", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var outs []map[string]any
	if err := json.Unmarshal([]byte(out), &outs); err != nil {
		t.Fatalf("output is not a JSON array: %v", err)
	}
	if len(outs) != 3 {
		t.Fatalf("%d epochs printed, want 3", len(outs))
	}
	for i, o := range outs {
		if got, want := o["current_block"], float64(7200+360*i); got != want {
			t.Errorf("epoch %d: current_block = %v, want %v", i, got, want)
		}
		for _, f := range []string{"active", "stake_weight", "consensus", "incentive", "dividends", "validator_trust",
			"new_validator_permit", "server_emission", "validator_emission", "emission", "bonds"} {
			if _, ok := o[f]; !ok {
				t.Errorf("epoch %d: field %q missing", i, f)
			}
		}
	}
	want, _ := os.ReadFile("../../yuma/testdata/example.3epochs.golden.json")
	if out != string(want) {
		t.Errorf("output differs from example.3epochs.golden.json")
	}
}

func TestYumaSimulateText(t *testing.T) {
	code, out, errs := runYuma(t, "", "yuma", "simulate", "-o", "text", "../../yuma/testdata/example.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "incentive") || !strings.Contains(out, "293891497") {
		t.Errorf("text output:\n%s", out)
	}
}

func TestYumaSimulateErrors(t *testing.T) {
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		msg   string
	}{
		{"bad epochs", "", []string{"--epochs", "0"}, 2, "--epochs"},
		{"bad mode", "", []string{"--mode", "fast"}, 2, "--mode"},
		{"missing file", "", []string{"/nonexistent/state.json"}, 1, "no such file"},
		{"not json", "hello", nil, 1, "not a JSON object"},
		{"uid out of range", `{"n": 1, "current_block": 1, "tempo": 1, "last_update": [0], "block_at_registration": [0],
			"stake": [1], "validator_permit": [true], "weights": [[[3, 1]]], "rao_emission": 1}`, nil, 1, "weights[0][0]"},
		{"length mismatch", `{"n": 2, "current_block": 1, "tempo": 1, "last_update": [0], "block_at_registration": [0, 0],
			"stake": [1, 1], "validator_permit": [true, true], "weights": [[], []], "rao_emission": 1}`, nil, 1, "last_update"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runYuma(t, c.stdin, append([]string{"yuma", "simulate"}, c.args...)...)
			if code != c.code || !strings.Contains(errs, c.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, errs, c.code, c.msg)
			}
		})
	}
}
