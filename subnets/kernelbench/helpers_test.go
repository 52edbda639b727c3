package kernelbench_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/subnets/kernelbench"
	"github.com/tessera-net/tessera/subnets/kernelbench/sandbox"
)

func TestMain(m *testing.M) {
	sandbox.Main()
	code := m.Run()
	if sharedWorld != nil {
		os.RemoveAll(sharedWorld.root)
	}
	os.Exit(code)
}

// world is a target repository, its definition (file:// allowed below root, small
// lengths) and a runner.
type world struct {
	root, target, commit string
	def                  *kernelbench.Definition
	runner               *kernelbench.Runner
}

// sharedWorld is built once: the first build fills the Go build cache.
var sharedWorld *world

func newWorld(t testing.TB) *world {
	t.Helper()
	if sharedWorld != nil {
		return sharedWorld
	}
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("TESSERA_REQUIRE_GIT") != "" {
			t.Fatal("git is required (TESSERA_REQUIRE_GIT) but not on PATH")
		}
		t.Skip("the kernel league needs git")
	}
	if err := sandbox.Available(); err != nil {
		t.Skipf("no sandbox here: %v", err)
	}
	root, err := os.MkdirTemp("", "kernelbench-test-*")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(root, 0o755)
	w := &world{root: root, target: filepath.Join(root, "target")}
	ctx := context.Background()
	if w.commit, err = kernelbench.WriteTarget(ctx, w.target); err != nil {
		t.Fatal(err)
	}
	d := kernelbench.NewDefinition("file://"+w.target, w.commit)
	d.Fetch.AllowFile, d.Fetch.FileRoots = true, []string{root}
	d.Leagues = []kernelbench.League{{Length: 2048, Multiplier: 1}, {Length: 4096, Multiplier: 1.5}}
	d.Benchmark.Heads, d.Benchmark.Dim = 2, 8
	d.Limits.RunWallSeconds = 10
	d.Limits.AddressSpaceMB, d.Limits.MemoryMB = 2048, 512
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	w.def = d
	w.runner = &kernelbench.Runner{Def: d, Work: filepath.Join(root, "work")}
	if err := w.runner.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	sharedWorld = w
	return w
}

// miner clones the target, applies files (path → content; "" removes the file) and
// commits; it returns the clone's URL and the commit.
func (w *world) miner(t testing.TB, name string, files map[string]string) (string, string) {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(w.root, "miners", name)
	os.RemoveAll(dir)
	os.MkdirAll(filepath.Dir(dir), 0o755)
	if err := kernelbench.CloneWork(ctx, "file://"+w.target, dir); err != nil {
		t.Fatal(err)
	}
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if content == "" {
			os.Remove(full)
			continue
		}
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := kernelbench.CommitAll(ctx, dir, name)
	if err != nil {
		t.Fatal(err)
	}
	return "file://" + dir, c
}

// knobs returns knobs.go with the knobs set.
func knobs(chunk, workers string) string {
	raw, _ := os.ReadFile("target/kernel/knobs.go")
	s := strings.Replace(string(raw), "ChunkSize = 64", "ChunkSize = "+chunk, 1)
	return strings.Replace(s, "Workers = 1 ", "Workers = "+workers+" ", 1)
}

// kernelWith is the shipped kernel.go with a statement added at the top of Forward and
// extra imports.
func kernelWith(imports, stmt string) string {
	raw, _ := os.ReadFile("target/kernel/kernel.go")
	s := strings.Replace(string(raw), "import (\n", "import (\n"+imports+"\n", 1)
	return strings.Replace(s, "func Forward(q, k, v, o []float32, H, L, D int, gamma float32) {\n",
		"func Forward(q, k, v, o []float32, H, L, D int, gamma float32) {\n"+stmt+"\n", 1)
}

func evaluate(t testing.TB, w *world, url, commit string, length int) *kernelbench.Evaluation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ev := w.runner.Evaluate(ctx, url, commit, length)
	t.Logf("%s: ok=%v reason=%s %s tps=%.0f score=%.0f relerr=%.2g stages=%+v", filepath.Base(url), ev.OK, ev.Reason, ev.Message,
		ev.TokensPerSec, ev.Score, ev.RelErr, ev.Stages)
	return ev
}
