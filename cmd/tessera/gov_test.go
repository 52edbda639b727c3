package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/modules/models"
)

// The example files of docs/governance.md parse into the actions they describe.
func TestGovExampleFiles(t *testing.T) {
	specs, err := readModels("--add-model", "../../docs/examples/model-llama.json")
	if err != nil || len(specs) != 1 || specs[0].ID != "llama-3.1-8b" {
		t.Fatalf("model file: %v %+v", err, specs)
	}
	acts, err := readActions("../../docs/examples/coverage-bonus.json")
	if err != nil || len(acts) != 1 || acts[0].Type != models.ActionParams {
		t.Fatalf("action file: %v %+v", err, acts)
	}
}

// Mistakes in the files are usage errors (exit 2) that say what is wrong, before any
// node is contacted.
func TestGovProposeFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--action-file", write("unknown.json", `{"type":"bank/mint","value":{}}`)}, `unknown action type "bank/mint"`},
		{[]string{"--action-file", write("typo.json", `[{"type":"models/params","value":{"params":{"coverage_bonuz":1}}}]`)}, "unknown field"},
		{[]string{"--add-model", write("bad.json", `{"id":"a/b"}`)}, "model 1: invalid_message: id"},
		{[]string{"--add-model", write("heads.json", strings.Replace(readFile(t, "../../docs/examples/model-llama.json"), `"heads": 4`, `"heads": 3`, 1))}, "not a multiple of the head count 3"},
		{nil, "no action"},
	} {
		args := append([]string{"gov", "propose", "--from-uri", "//Alice", "--title", "t", "--node", "127.0.0.1:1"}, c.args...)
		code, _, errs := runYuma(t, "", args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 and %q", c.args, code, errs, c.want)
		}
	}
	code, _, errs := runYuma(t, "", "gov", "vote", "--from-uri", "//Bob", "--proposal", "1", "--option", "maybe")
	if code != 2 || !strings.Contains(errs, "yes, no or abstain") {
		t.Errorf("vote --option maybe: exit %d, %q", code, errs)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
