package lm

import (
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/internal/testutil"
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
	if testutil.IsChild() {
		t.Skip("already the child")
	}
	mustHavePassed(t, testutil.RunChild(t, "^TestGolden(Fixture|Random)$", "TESSERA_LM_NOASM=1", "GOMAXPROCS=1"))
}

// TestArm64Golden cross-compiles this package's tests for arm64 and runs the golden
// tests under qemu-aarch64-static: another instruction set, no assembly kernels, the same
// golden files bit for bit.
func TestArm64Golden(t *testing.T) {
	if testutil.IsChild() {
		t.Skip("already the child")
	}
	out := testutil.RunArm64(t, "^TestGolden(Fixture|Random)$")
	mustHavePassed(t, out)
	t.Logf("arm64 under qemu:\n%s", out)
}

// mustHavePassed checks that a child's verbose output shows the golden tests passing
// (the random model's always runs; the fixture's when the fixture is there).
func mustHavePassed(t *testing.T, out []byte) {
	t.Helper()
	if !strings.Contains(string(out), "--- PASS: TestGoldenRandom") {
		t.Fatalf("the child did not run TestGoldenRandom:\n%s", out)
	}
}
