//go:build linux

package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
)

// Main turns the process into a sandbox's init when Start started it as one, and
// returns at once otherwise. Call it first thing in main (and in TestMain).
func Main() {
	if os.Getenv(envInit) != "1" {
		return
	}
	// Capabilities and securebits are per thread: everything, the payload's fork
	// included, happens on this one.
	runtime.LockOSThread()
	code, err := runInit()
	if err != nil {
		f := os.NewFile(initerrFD, "init-errors")
		fmt.Fprintf(f, "%v", err)
		os.Exit(initExit)
	}
	os.Exit(code)
}

// Mount flags not in package syscall's Linux set under these names.
const (
	msRelatime      = 1 << 21
	oPath           = 0x200000 // O_PATH
	prSetSecurebits = 28
	prCapbsetDrop   = 24
	prSetNoNewPrivs = 38
	// SECBIT_NOROOT | _LOCKED | NO_SETUID_FIXUP | _LOCKED | KEEP_CAPS_LOCKED
	securebits = 0x2f
)

func runInit() (int, error) {
	syscall.CloseOnExec(initerrFD)
	for fd := firstFileFD; fd < firstFileFD+1024; fd++ {
		syscall.CloseOnExec(fd) // the init's executable and the mount sources
	}
	// The configuration pipe is closed through its *os.File, never by number: a File
	// closes its descriptor when it is collected, so closing fd 3 behind its back let a
	// later collection close whatever file had been given 3 next (the /dev/null below,
	// "write …/dev/null: bad file descriptor" on a loaded machine).
	cfg := os.NewFile(3, "config")
	raw, err := io.ReadAll(cfg)
	cfg.Close()
	if err != nil {
		return 0, fmt.Errorf("reading the configuration: %w", err)
	}
	var c config
	if err := json.Unmarshal(raw, &c); err != nil {
		return 0, fmt.Errorf("decoding the configuration: %w", err)
	}
	if err := setupRoot(&c); err != nil {
		return 0, err
	}
	for res, v := range c.Rlimits {
		if err := syscall.Setrlimit(res, &syscall.Rlimit{Cur: v, Max: v}); err != nil {
			return 0, fmt.Errorf("setrlimit %d: %w", res, err)
		}
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetNoNewPrivs, 1, 0); e != 0 {
		return 0, fmt.Errorf("no_new_privs: %w", e)
	}
	if !c.AsUser {
		// The payload runs as the namespace's root: no capability survives its exec.
		if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetSecurebits, securebits, 0); e != 0 {
			return 0, fmt.Errorf("securebits: %w", e)
		}
		for capability := uintptr(0); capability < 64; capability++ {
			syscall.RawSyscall(syscall.SYS_PRCTL, prCapbsetDrop, capability, 0)
		}
	}
	cmd := &exec.Cmd{Path: c.Path, Args: c.Args, Env: c.Env, Dir: c.Dir, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if len(cmd.Args) == 0 {
		cmd.Args = []string{c.Path}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if c.AsUser {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: SandboxUID, Gid: SandboxGID, NoSetGroups: true}
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting the payload %s: %w", c.Path, err)
	}
	err = cmd.Wait()
	if cmd.ProcessState == nil {
		return 0, fmt.Errorf("waiting for the payload: %w", err)
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

// setupRoot builds the new root in c.Root, pivots into it and makes it read-only.
func setupRoot(c *config) error {
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making / private: %w", err)
	}
	root := c.Root
	if err := syscall.Mount("tmpfs", root, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size=8m,mode=0755"); err != nil {
		return fmt.Errorf("mounting the root: %w", err)
	}
	for _, m := range c.Mounts {
		if err := bind(root, m); err != nil {
			return err
		}
	}
	tmp := filepath.Join(root, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	if err := syscall.Mount("tmpfs", tmp, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=1777", c.TmpSize)); err != nil {
		return fmt.Errorf("mounting /tmp: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(root, "dev"), 0o755); err != nil {
		return err
	}
	null := filepath.Join(root, "dev", "null")
	if err := os.WriteFile(null, nil, 0o666); err != nil {
		return err
	}
	if err := syscall.Mount("/dev/null", null, "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("binding /dev/null: %w", err)
	}
	old := filepath.Join(root, ".old")
	if err := os.Mkdir(old, 0o700); err != nil {
		return err
	}
	if err := syscall.PivotRoot(root, old); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := syscall.Chdir("/"); err != nil {
		return err
	}
	if err := syscall.Unmount("/.old", syscall.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching the old root: %w", err)
	}
	if err := os.Remove("/.old"); err != nil {
		return err
	}
	if err := syscall.Mount("", "/", "", syscall.MS_REMOUNT|syscall.MS_RDONLY|syscall.MS_NOSUID|syscall.MS_NODEV, ""); err != nil {
		return fmt.Errorf("making the root read-only: %w", err)
	}
	if err := syscall.Sethostname([]byte("sandbox")); err != nil {
		return fmt.Errorf("sethostname: %w", err)
	}
	return nil
}

// bind mounts m below root, read-only unless m.Writable, keeping the flags of the
// source's mount that a user namespace may not drop.
func bind(root string, m Mount) error {
	st, err := os.Stat(m.Source)
	if err != nil {
		return fmt.Errorf("mount source: %w", err)
	}
	target := filepath.Join(root, m.Target)
	if st.IsDir() {
		err = os.MkdirAll(target, 0o755)
	} else if err = os.MkdirAll(filepath.Dir(target), 0o755); err == nil {
		err = os.WriteFile(target, nil, 0o644)
	}
	if err != nil {
		return err
	}
	if err := syscall.Mount(m.Source, target, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fmt.Errorf("binding %s at %s: %w", m.Source, m.Target, err)
	}
	var sfs syscall.Statfs_t
	if err := syscall.Statfs(m.Source, &sfs); err != nil {
		return err
	}
	flags := uintptr(syscall.MS_BIND | syscall.MS_REMOUNT | syscall.MS_NOSUID)
	if !m.Device {
		flags |= syscall.MS_NODEV
	}
	for st, ms := range map[int64]uintptr{1: syscall.MS_RDONLY, 4: syscall.MS_NODEV, 8: syscall.MS_NOEXEC, 1024: syscall.MS_NOATIME,
		2048: syscall.MS_NODIRATIME, 4096: msRelatime} {
		if sfs.Flags&st != 0 {
			flags |= ms
		}
	}
	if !m.Writable {
		flags |= syscall.MS_RDONLY
	}
	if err := syscall.Mount("", target, "", flags, ""); err != nil {
		return fmt.Errorf("remounting %s: %w", m.Target, err)
	}
	return nil
}
