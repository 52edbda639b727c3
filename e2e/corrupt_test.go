package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A node whose data was damaged while it was stopped refuses to start: it exits non-zero
// with an error naming the damaged file, prints no Go panic, and writes nothing to the
// databases at fault.
func TestCorruptDataStopsTheNodeByName(t *testing.T) {
	ctx := binaryTest(t, 2*time.Minute)
	home, rpc := initNode(t, "corrupt-test")
	p := startNode(t, home)
	waitHeight(ctx, t, dial(t, rpc), 20)
	if err := p.signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	t.Run("flipped byte in the state database's journal", func(t *testing.T) {
		h := copyHome(t, home)
		journal := filepath.Join(h, "data", "app", "state.db", "000001.log")
		b := readFile(t, journal)
		b[len(b)/3] ^= 0xff
		writeFile(t, journal, b)
		refusesToStart(ctx, t, h, journal, filepath.Join(h, "data"))

		// The error's advice works: without data/app the node replays its blocks.
		if err := os.RemoveAll(filepath.Join(h, "data", "app")); err != nil {
			t.Fatal(err)
		}
		startNode(t, h)
		waitHeight(ctx, t, dial(t, rpc), 22)
	})
	t.Run("truncated block store journal", func(t *testing.T) {
		h := copyHome(t, home)
		journal := filepath.Join(h, "data", "blockstore.db", "000001.log")
		b := readFile(t, journal)
		writeFile(t, journal, b[:len(b)*2/3])
		refusesToStart(ctx, t, h, journal, filepath.Join(h, "data", "blockstore.db"), filepath.Join(h, "data", "state.db"))
	})
	t.Run("emptied block store journal", func(t *testing.T) {
		h := copyHome(t, home)
		blocks := filepath.Join(h, "data", "blockstore.db")
		writeFile(t, filepath.Join(blocks, "000001.log"), nil)
		refusesToStart(ctx, t, h, blocks, blocks, filepath.Join(h, "data", "state.db"))
	})
}

// refusesToStart runs `tessera node start` on home and checks that it exits non-zero
// naming file, with no panic, and leaves the directories untouched unchanged.
func refusesToStart(ctx context.Context, t *testing.T, home, file string, untouched ...string) {
	t.Helper()
	before := treeDigests(t, untouched...)
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, binary, "node", "start", "--home", home)
	cmd.Stderr = &stderr
	err := cmd.Run()
	out := stderr.String()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() <= 0 {
		t.Fatalf("start on damaged data: %v, want a non-zero exit\n%s", err, out)
	}
	if !strings.Contains(out, "error: "+file+":") {
		t.Errorf("the error does not name %s:\n%s", file, out)
	}
	if strings.Contains(out, "panic:") || strings.Contains(out, "goroutine ") {
		t.Errorf("a Go panic on stderr:\n%s", out)
	}
	if after := treeDigests(t, untouched...); !equalDigests(before, after) {
		t.Errorf("the failed start wrote to %v", untouched)
	}
}

// treeDigests maps every file under dirs, but goleveldb's LOCK and LOG, to its SHA-256.
func treeDigests(t *testing.T, dirs ...string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() == "LOCK" || d.Name() == "LOG" {
				return err
			}
			out[path] = sha256.Sum256(readFile(t, path))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func equalDigests(a, b map[string][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// copyHome copies a stopped node's home into a new temporary directory.
func copyHome(t *testing.T, home string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "node")
	if err := os.CopyFS(dst, os.DirFS(home)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
