package main

import (
	"context"
	"strings"
	"testing"
)

func TestRunErrors(t *testing.T) {
	env := func(string) string { return "" }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: textgen miner|validator"},
		{[]string{"oracle"}, `unknown role "oracle"`},
		{[]string{"miner", "--backend", "gpu"}, `--backend "gpu": want builtin or http`},
		{[]string{"miner", "--backend", "http", "--backend.url", "localhost:8080"}, "is not an http(s) URL"},
		{[]string{"miner", "--builtin.wrong-rate", "1.5"}, "WrongRate 1.5 is not in [0,1]"},
		{[]string{"validator", "--kinds", "arithmetic,poetry"}, `--kinds: textgen: unknown task kind "poetry"`},
	} {
		err := run(context.Background(), tc.args, env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestParseKinds(t *testing.T) {
	ks, err := parseKinds(" sort, capital ")
	if err != nil || len(ks) != 2 || ks[0] != "sort" || ks[1] != "capital" {
		t.Fatalf("%v %v", ks, err)
	}
	if ks, err := parseKinds(""); err != nil || ks != nil {
		t.Fatalf("empty: %v %v", ks, err)
	}
}
