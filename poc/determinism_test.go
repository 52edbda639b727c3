package poc

import (
	"strings"
	"testing"

	"github.com/tessera-net/tessera/internal/testutil"
)

// TestSecondProcess runs TestGolden in a new process with the assembly kernels switched
// off by the environment and one CPU.
func TestSecondProcess(t *testing.T) {
	if testutil.IsChild() {
		t.Skip("already the child")
	}
	out := testutil.RunChild(t, "^TestGolden$", "TESSERA_LM_NOASM=1", "GOMAXPROCS=1")
	mustHavePassed(t, out, "(kernels: go)")
}

// TestArm64Golden runs TestGolden on arm64 under qemu: another instruction set, no
// assembly kernels, the same golden file bit for bit.
func TestArm64Golden(t *testing.T) {
	if testutil.IsChild() {
		t.Skip("already the child")
	}
	out := testutil.RunArm64(t, "^TestGolden$")
	mustHavePassed(t, out, "linux/arm64")
	t.Logf("arm64 under qemu:\n%s", out)
}

func mustHavePassed(t *testing.T, out []byte, want string) {
	t.Helper()
	if !strings.Contains(string(out), "--- PASS: TestGolden") || !strings.Contains(string(out), want) {
		t.Fatalf("the child did not pass TestGolden with %q in its log:\n%s", want, out)
	}
}
