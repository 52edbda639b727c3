package mlnode

import (
	"slices"
	"testing"
)

func TestMergeArgs(t *testing.T) {
	cases := []struct {
		name         string
		epoch, local []string
		want         []string
	}{
		{"both empty", nil, nil, []string{}},
		{"local only", nil, []string{"--max-batch", "4"}, []string{"--max-batch", "4"}},
		{"epoch only", []string{"--quantization", "fp8"}, nil, []string{"--quantization", "fp8"}},
		{"epoch wins", []string{"--max-batch", "8"}, []string{"--max-batch", "4"}, []string{"--max-batch", "8"}},
		{"local-only appended", []string{"--quantization", "fp8", "--kv-cache-dtype", "fp8"}, []string{"--tensor-parallel-size", "2", "--quantization", "int8"},
			[]string{"--quantization", "fp8", "--kv-cache-dtype", "fp8", "--tensor-parallel-size", "2"}},
		{"flags without values", []string{"--enforce-eager"}, []string{"--trust-remote-code", "--enforce-eager"}, []string{"--enforce-eager", "--trust-remote-code"}},
		{"key=value forms", []string{"--max-batch=8"}, []string{"--max-batch", "2", "--threads=3"}, []string{"--max-batch=8", "--threads=3"}},
		{"leading items from epoch", []string{"serve", "--a", "1"}, []string{"run", "--b"}, []string{"serve", "--a", "1", "--b"}},
		{"leading items from local", []string{"--a", "1"}, []string{"run", "--b"}, []string{"run", "--a", "1", "--b"}},
		{"two values", []string{"--a", "1", "2"}, []string{"--a", "3"}, []string{"--a", "1", "2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, l := slices.Clone(c.epoch), slices.Clone(c.local)
			got := MergeArgs(c.epoch, c.local)
			if !slices.Equal(got, c.want) {
				t.Fatalf("MergeArgs(%q, %q) = %q, want %q", c.epoch, c.local, got, c.want)
			}
			if !slices.Equal(e, c.epoch) || !slices.Equal(l, c.local) {
				t.Fatal("an input was modified")
			}
		})
	}
}

func TestArgValue(t *testing.T) {
	cases := []struct {
		args []string
		key  string
		v    string
		ok   bool
	}{
		{[]string{"--max-batch", "8"}, "--max-batch", "8", true},
		{[]string{"--max-batch=3", "--x"}, "--max-batch", "3", true},
		{[]string{"--max-batch"}, "--max-batch", "", true},
		{[]string{"--max-batches", "2"}, "--max-batch", "", false},
		{[]string{"--max-batch", "1", "--max-batch", "2"}, "--max-batch", "2", true},
	}
	for _, c := range cases {
		if v, ok := argValue(c.args, c.key); v != c.v || ok != c.ok {
			t.Errorf("argValue(%q, %s) = %q, %v; want %q, %v", c.args, c.key, v, ok, c.v, c.ok)
		}
	}
}
