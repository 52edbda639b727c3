package lm

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/tessera-net/tessera/lm/kernel"
)

// TestSameBitsEverywhere runs the golden prompts in every configuration that must not
// change a bit: assembly on and off, one to three threads, GOMAXPROCS 1 and 2, alone
// and batched through an Engine.
func TestSameBitsEverywhere(t *testing.T) {
	for _, mk := range []struct {
		name string
		make func(testing.TB, Options) *Model
	}{{"random", randomModel}, {"fixture", loadFixture}} {
		t.Run(mk.name, func(t *testing.T) {
			want := runGolden(t, mk.make(t, Options{Threads: 1}), nil)
			for _, asm := range []bool{false, true} {
				for _, procs := range []int{1, 2} {
					for _, threads := range []int{1, 2, 3} {
						prev := kernel.SetAssembly(asm)
						old := runtime.GOMAXPROCS(procs)
						m := mk.make(t, Options{Threads: threads})
						alone := runGolden(t, m, nil)
						e := NewEngine(m, 8)
						batched := runGolden(t, m, e)
						e.Close()
						runtime.GOMAXPROCS(old)
						kernel.SetAssembly(prev)
						if !reflect.DeepEqual(alone, want) || !reflect.DeepEqual(batched, want) {
							t.Fatalf("asm=%v GOMAXPROCS=%d threads=%d: outputs differ from the reference run", asm, procs, threads)
						}
					}
				}
			}
		})
	}
}

// TestSecondProcess runs the golden tests in a new process with the assembly kernels
// switched off by the environment and one CPU.
func TestSecondProcess(t *testing.T) {
	if os.Getenv("TESSERA_LM_CHILD") != "" {
		t.Skip("already the child")
	}
	fixturePath(t)
	cmd := exec.Command(os.Args[0], "-test.run", "^TestGolden(Fixture|Random)$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TESSERA_LM_CHILD=1", "TESSERA_LM_NOASM=1", "GOMAXPROCS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the golden tests failed in a second process: %v\n%s", err, out)
	}
}

// TestArm64Golden cross-compiles this package's tests for arm64 and runs the golden
// tests under qemu-aarch64-static (Debian's qemu-user-static, which .ci/run installs):
// another instruction set, no assembly kernels, the same golden files bit for bit.
func TestArm64Golden(t *testing.T) {
	if os.Getenv("TESSERA_LM_CHILD") != "" {
		t.Skip("already the child")
	}
	if runtime.GOARCH == "arm64" {
		t.Skip("already on arm64")
	}
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		t.Skip("qemu-aarch64-static is not installed (apt-get install qemu-user-static; .ci/run does)")
	}
	if testing.Short() {
		t.Skip("cross-compiling takes a while; not in -short")
	}
	fixturePath(t)
	bin := filepath.Join(t.TempDir(), "lm.test.arm64")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the arm64 test binary: %v\n%s", err, out)
	}
	run := exec.Command(qemu, bin, "-test.run", "^TestGolden(Fixture|Random)$", "-test.v", "-test.count=1")
	run.Env = append(os.Environ(), "TESSERA_LM_CHILD=1")
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("the golden tests failed on arm64 under qemu: %v\n%s", err, out)
	}
	t.Logf("arm64 under qemu:\n%s", out)
}
