package poc

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestSecondProcess runs TestGolden in a new process with the assembly kernels switched
// off by the environment and one CPU.
func TestSecondProcess(t *testing.T) {
	if os.Getenv("TESSERA_POC_CHILD") != "" {
		t.Skip("already the child")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestGolden$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "TESSERA_POC_CHILD=1", "TESSERA_LM_NOASM=1", "GOMAXPROCS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the golden test failed in a second process: %v\n%s", err, out)
	}
	mustHavePassed(t, out, "(kernels: go)")
}

// TestArm64Golden cross-compiles this package's tests for arm64 and runs TestGolden
// under qemu-aarch64-static (Debian's qemu-user-static, which .ci/run installs):
// another instruction set, no assembly kernels, the same golden file bit for bit.
func TestArm64Golden(t *testing.T) {
	if os.Getenv("TESSERA_POC_CHILD") != "" {
		t.Skip("already the child")
	}
	if runtime.GOARCH == "arm64" {
		t.Skip("already on arm64")
	}
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		if os.Getenv("TESSERA_REQUIRE_QEMU") != "" {
			t.Fatal("qemu-aarch64-static is not installed, and TESSERA_REQUIRE_QEMU is set (.ci/run sets it after installing qemu-user-static)")
		}
		t.Skip("qemu-aarch64-static is not installed (apt-get install qemu-user-static; .ci/run does)")
	}
	bin := filepath.Join(t.TempDir(), "poc.test.arm64")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the arm64 test binary: %v\n%s", err, out)
	}
	run := exec.Command(qemu, bin, "-test.run", "^TestGolden$", "-test.v", "-test.count=1")
	run.Env = append(os.Environ(), "TESSERA_POC_CHILD=1")
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("the golden test failed on arm64 under qemu: %v\n%s", err, out)
	}
	mustHavePassed(t, out, "linux/arm64")
	t.Logf("arm64 under qemu:\n%s", out)
}

func mustHavePassed(t *testing.T, out []byte, want string) {
	t.Helper()
	if !strings.Contains(string(out), "--- PASS: TestGolden") || !strings.Contains(string(out), want) {
		t.Fatalf("the child did not pass TestGolden with %q in its log:\n%s", want, out)
	}
}
