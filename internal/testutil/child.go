package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// ChildEnv is set in the environment of the processes RunChild and RunArm64 start, so
// that the tests that start them skip themselves there.
const ChildEnv = "TESSERA_TEST_CHILD"

// IsChild reports whether this test process was started by RunChild or RunArm64.
func IsChild() bool { return os.Getenv(ChildEnv) != "" }

// RunChild runs the tests of this test binary that match pattern in a new process, with
// env added to its environment, and returns its verbose output; a failing child fails t.
func RunChild(t testing.TB, pattern string, env ...string) []byte {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", pattern, "-test.count=1", "-test.v")
	cmd.Env = append(append(os.Environ(), ChildEnv+"=1"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tests %s failed in a second process: %v\n%s", pattern, err, out)
	}
	return out
}

// RunArm64 cross-compiles the test package in the current directory for arm64 and runs
// the tests that match pattern under qemu-aarch64-static (Debian's qemu-user-static,
// which .ci/run installs), returning the verbose output; a failing run fails t. It skips
// on arm64, and without qemu — unless TESSERA_REQUIRE_QEMU is set, when that fails t.
func RunArm64(t testing.TB, pattern string) []byte {
	t.Helper()
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
	bin := filepath.Join(t.TempDir(), "test.arm64")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the arm64 test binary: %v\n%s", err, out)
	}
	run := exec.Command(qemu, bin, "-test.run", pattern, "-test.v", "-test.count=1")
	run.Env = append(os.Environ(), ChildEnv+"=1")
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("the tests %s failed on arm64 under qemu: %v\n%s", pattern, err, out)
	}
	return out
}
