// Package vectorfile finds and reads the Bittensor interoperability vectors,
// shared/research/bittensor-wire-vectors.json, and the copies of its sections that
// packages keep in their testdata. It imports nothing of the project's, so the tests of
// any package (keys among them) can use it.
package vectorfile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Shared is the path of the vectors file relative to the directory that holds the
// repository (shared/ sits beside it, as it does in CI).
const Shared = "shared/research/bittensor-wire-vectors.json"

// FindShared returns the path of Shared in the working directory or the nearest of its
// parents that has it (tests run in their package's directory, so it is normally
// ../../shared/...), or "" when there is none.
func FindShared() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, Shared)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Read decodes the JSON file at path into v (a pointer to the sections the test needs),
// failing the test when the file cannot be read or parsed.
func Read(t testing.TB, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("parse vectors %s: %v", path, err)
	}
}

// MatchShared checks that a testdata copy has not drifted from Shared: load reads the
// sections a package keeps (what the copy holds), and the two readings must be equal. It
// skips the test when Shared is not found, and on a difference fails it naming what to
// recopy (sections, e.g. "the wallet section").
func MatchShared[V any](t *testing.T, copyPath, sections string, load func(t testing.TB, path string) V) {
	t.Helper()
	p := FindShared()
	if p == "" {
		t.Skipf("%s not found in any parent directory; the testdata copy is still tested", Shared)
	}
	if shared, local := load(t, p), load(t, copyPath); !reflect.DeepEqual(shared, local) {
		t.Fatalf("%s differs from %s: recopy %s", copyPath, p, sections)
	}
}
