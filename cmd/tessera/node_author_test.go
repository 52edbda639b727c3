package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// `node bind-author` needs a node home with a validator key: without one it is a usage
// error (exit 2) naming the missing configuration, before any node is contacted. The
// binding itself is tested through a devnet (e2e/authors_test.go).
func TestNodeBindAuthorNeedsAHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), "nohome")
	code, _, errs := runYuma(t, "", "--home", home, "node", "bind-author", "--from-uri", "//Alice", "--yes")
	if code != 2 || !strings.Contains(errs, "has no node configuration") || !strings.Contains(errs, "tessera node init --home "+home) {
		t.Fatalf("exit %d, %q", code, errs)
	}
}
