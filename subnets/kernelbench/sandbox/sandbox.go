//go:build linux

// Package sandbox runs an untrusted program the way the kernel league's judge and
// miners run a submission: in new user, mount, network, PID, IPC and UTS namespaces
// (Linux, with the syscall package; no bubblewrap needed), on a root file system that
// holds only what the caller mounts (read-only unless it says otherwise), a private
// size-limited /tmp, as a non-root uid, with CPU-time, address-space, process-count,
// file-size and open-file limits, a memory limit in a cgroup (v2 where the unified
// hierarchy is writable, v1 otherwise; skipped, with the reason in Result.Notes, when
// neither is writable), and a wall-clock limit that kills the whole PID namespace.
//
// The sandbox's first process is this very binary, started again: every program that
// uses the package must call Main first thing in main (and a test binary in TestMain),
// which turns the process into the sandbox's init when it was started as one. The init
// sets up the mounts, pivots into the new root, sets the limits and runs the payload
// as uid 1000; when the init ends, the kernel kills everything left in its PID
// namespace.
package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

// Mount makes Source (a host path, a directory or a file) visible at Target (an
// absolute path inside the sandbox), read-only unless Writable.
type Mount struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	Writable bool   `json:"writable,omitempty"`
	// Device binds a device node (a GPU's /dev/nvidia0) usable: without nodev.
	Device bool `json:"device,omitempty"`
}

// Limits bound a run. A zero field is no limit of that kind (Wall excepted: it is
// required).
type Limits struct {
	CPUSeconds   uint64        // RLIMIT_CPU: the process is killed past it
	AddressSpace uint64        // RLIMIT_AS, bytes, per process
	Processes    uint64        // RLIMIT_NPROC: processes and threads of the sandbox's uid
	FileSize     uint64        // RLIMIT_FSIZE, bytes
	OpenFiles    uint64        // RLIMIT_NOFILE
	Memory       uint64        // cgroup memory limit, bytes, for the whole sandbox
	TmpSize      uint64        // size of the private /tmp, bytes (default 64 MiB)
	Wall         time.Duration // wall-clock limit of the whole run
}

// Spec is one sandboxed run.
type Spec struct {
	// Path is the program inside the sandbox (an absolute path under a Mount), Args
	// its arguments (Args[0] included), Env its whole environment, Dir its working
	// directory (default /).
	Path string
	Args []string
	Env  []string
	Dir  string
	// Mounts are the file system the program sees, besides /tmp and /dev/null.
	Mounts []Mount
	Limits Limits
	// Stdin, Stdout and Stderr are the program's standard files (nil: /dev/null and
	// discarded output). Start offers pipes instead.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Result is how a run ended.
type Result struct {
	// ExitCode is the program's exit status (128+signal when a signal ended it, -1
	// when it never ran).
	ExitCode int
	// WallKilled is true when the wall-clock limit ended the run.
	WallKilled bool
	// Elapsed is the run's wall-clock time.
	Elapsed time.Duration
	// Notes say which limits could not be applied on this machine, and why.
	Notes []string
	// InitError is the init's own failure (the sandbox could not be set up).
	InitError string
}

// Err summarises a run that did not exit 0 as an error (nil when it did).
func (r *Result) Err() error {
	switch {
	case r.InitError != "":
		return fmt.Errorf("the sandbox could not be set up: %s", r.InitError)
	case r.WallKilled:
		return fmt.Errorf("killed at the wall-clock limit after %v", r.Elapsed.Round(time.Millisecond))
	case r.ExitCode != 0:
		return fmt.Errorf("exited with status %d", r.ExitCode)
	}
	return nil
}

// SandboxUID and SandboxGID are the ids the payload runs as, inside the sandbox.
const (
	SandboxUID = 1000
	SandboxGID = 1000
)

// hostIDBase is where the host uids and gids the sandbox's ids map to start when the
// caller is root. Each process takes a pair of its own from there (hostIDs): 0 inside
// is its first, 1000 inside its second. Neither is root on the host, so RLIMIT_NPROC
// holds for them; and since the limit counts every process of a host uid, two judges
// (or a judge and a test) running side by side must not share one, or one payload's
// processes would count against the other's limit.
const hostIDBase = 1_600_000_000

// hostIDs is this process's pair: hostIDBase + 2·(pid mod 2^20).
var hostIDs = uint32(hostIDBase + 2*(os.Getpid()%(1<<20)))

const (
	envInit   = "TESSERA_SANDBOX_INIT"
	initExit  = 125 // the init failed before the payload ran
	initerrFD = 4
	// firstFileFD is the init's executable; the mount sources follow.
	firstFileFD = 5
)

// config is what the init reads from fd 3.
type config struct {
	Root   string   `json:"root"`
	Path   string   `json:"path"`
	Args   []string `json:"args"`
	Env    []string `json:"env"`
	Dir    string   `json:"dir"`
	Mounts []Mount  `json:"mounts"`
	// Rlimits by resource number.
	Rlimits map[int]uint64 `json:"rlimits"`
	TmpSize uint64         `json:"tmp_size"`
	// AsUser runs the payload as SandboxUID (mapped only when the caller is root).
	AsUser bool `json:"as_user"`
}

// Proc is a started run.
type Proc struct {
	// Stdin and Stdout are pipes to the program when Spec.Stdin / Spec.Stdout were nil
	// (nil otherwise).
	Stdin  io.WriteCloser
	Stdout io.ReadCloser

	cmd     *exec.Cmd
	root    string
	cg      *cgroup
	start   time.Time
	notes   []string
	timer   *time.Timer
	killed  atomic.Bool
	initErr *bytes.Buffer
	done    chan struct{}
	res     *Result
}

var idCounter atomic.Uint64

// Start starts a sandboxed run. The caller must Wait for it.
func Start(s Spec) (*Proc, error) {
	if s.Limits.Wall <= 0 {
		return nil, errors.New("sandbox: a wall-clock limit is required")
	}
	if !filepath.IsAbs(s.Path) {
		return nil, fmt.Errorf("sandbox: path %q is not absolute", s.Path)
	}
	for _, m := range s.Mounts {
		if !filepath.IsAbs(m.Target) || filepath.Clean(m.Target) != m.Target || m.Target == "/" {
			return nil, fmt.Errorf("sandbox: mount target %q is not a clean absolute path below /", m.Target)
		}
		if _, err := os.Stat(m.Source); err != nil {
			return nil, fmt.Errorf("sandbox: mount source: %w", err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	// The init is handed over as an open file and started through /proc/self/fd: the
	// sandbox's ids (not root on the host) may not be able to traverse the directories
	// it is in. Mount sources must be reachable (checked here).
	var files []*os.File
	closeFiles := func() {
		for _, f := range files {
			f.Close()
		}
	}
	openPath := func(p string) error {
		fd, err := syscall.Open(p, oPath|syscall.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("sandbox: %s: %w", p, err)
		}
		files = append(files, os.NewFile(uintptr(fd), p))
		return nil
	}
	if err := openPath(self); err != nil {
		return nil, err
	}
	asRoot := os.Geteuid() == 0
	if asRoot {
		for _, m := range s.Mounts {
			if err := reachable(m.Source); err != nil {
				closeFiles()
				return nil, err
			}
		}
	}
	root, err := os.MkdirTemp("", "tessera-sandbox-root-*")
	if err == nil {
		err = os.Chmod(root, 0o755) // the init mounts its root here
	}
	if err != nil {
		closeFiles()
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	defer closeFiles()
	cfg := config{Root: root, Path: s.Path, Args: s.Args, Env: s.Env, Dir: s.Dir, Mounts: s.Mounts,
		TmpSize: s.Limits.TmpSize, AsUser: asRoot, Rlimits: map[int]uint64{}}
	if cfg.Dir == "" {
		cfg.Dir = "/"
	}
	if cfg.TmpSize == 0 {
		cfg.TmpSize = 64 << 20
	}
	const rlimitNPROC = 6 // RLIMIT_NPROC on Linux (not in package syscall)
	for res, v := range map[int]uint64{syscall.RLIMIT_CPU: s.Limits.CPUSeconds, syscall.RLIMIT_AS: s.Limits.AddressSpace,
		rlimitNPROC: s.Limits.Processes, syscall.RLIMIT_FSIZE: s.Limits.FileSize, syscall.RLIMIT_NOFILE: s.Limits.OpenFiles} {
		if v > 0 {
			cfg.Rlimits[res] = v
		}
	}
	cfg.Rlimits[syscall.RLIMIT_CORE] = 0
	raw, err := json.Marshal(cfg)
	if err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		cfgR.Close()
		cfgW.Close()
		os.RemoveAll(root)
		return nil, err
	}
	p := &Proc{root: root, initErr: new(bytes.Buffer), done: make(chan struct{})}
	cmd := &exec.Cmd{Path: fmt.Sprintf("/proc/self/fd/%d", firstFileFD), Args: []string{"sandbox-init"}}
	cmd.Env = []string{envInit + "=1"}
	cmd.Dir = "/"
	cmd.ExtraFiles = append([]*os.File{cfgR, errW}, files...) // fds 3, 4, then the init
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s.Stdin, s.Stdout, s.Stderr
	if s.Stdin == nil {
		if p.Stdin, err = cmd.StdinPipe(); err != nil {
			return nil, err
		}
	}
	if s.Stdout == nil {
		if p.Stdout, err = cmd.StdoutPipe(); err != nil {
			return nil, err
		}
	}
	uid, gid := os.Getuid(), os.Getgid()
	attr := &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWNET | syscall.CLONE_NEWPID |
			syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS,
		Setpgid:   true,
		Pdeathsig: syscall.SIGKILL,
	}
	if asRoot {
		base := int(hostIDs)
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: base, Size: 1}, {ContainerID: SandboxUID, HostID: base + 1, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: base, Size: 1}, {ContainerID: SandboxGID, HostID: base + 1, Size: 1}}
		// Become the namespace's root (host uid hostIDs), not host root seen from
		// inside as the overflow uid.
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
	} else {
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
		p.notes = append(p.notes, fmt.Sprintf("not started as root: the payload runs as the namespace's uid 0 (host uid %d) with every capability dropped, not as uid %d", uid, SandboxUID))
	}
	cmd.SysProcAttr = attr
	p.cmd = cmd
	if err := cmd.Start(); err != nil {
		cfgR.Close()
		cfgW.Close()
		errR.Close()
		errW.Close()
		os.RemoveAll(root)
		return nil, fmt.Errorf("sandbox: starting the init (user namespaces allowed?): %w", err)
	}
	p.start = time.Now()
	cfgR.Close()
	errW.Close()
	go io.Copy(p.initErr, io.LimitReader(errR, 4096))
	// The cgroup before the init goes on: it waits for its configuration.
	p.cg, p.notes = joinCgroup(cmd.Process.Pid, s.Limits, idCounter.Add(1), p.notes)
	p.timer = time.AfterFunc(s.Limits.Wall, func() {
		p.killed.Store(true)
		p.kill()
	})
	_, werr := cfgW.Write(raw)
	cfgW.Close()
	if werr != nil {
		p.kill()
	}
	go func() {
		err := cmd.Wait()
		errR.Close()
		p.timer.Stop()
		p.finish(err)
		close(p.done)
	}()
	return p, nil
}

// kill ends the whole run: the init is the PID namespace's first process, so the
// kernel kills every process in it when the init dies; the process group is killed
// too, for good measure.
func (p *Proc) kill() {
	if p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.cmd.Process.Kill()
	}
}

// Kill ends the run now.
func (p *Proc) Kill() { p.kill() }

func (p *Proc) finish(err error) {
	r := &Result{ExitCode: -1, Elapsed: time.Since(p.start), WallKilled: p.killed.Load()}
	if p.cmd.ProcessState != nil {
		ws, _ := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
		switch {
		case ws.Exited():
			r.ExitCode = ws.ExitStatus()
		case ws.Signaled():
			r.ExitCode = 128 + int(ws.Signal())
		}
	} else if err != nil {
		r.InitError = err.Error()
	}
	if r.ExitCode == initExit && p.initErr.Len() > 0 {
		r.InitError = p.initErr.String()
	}
	p.notes = append(p.notes, p.cg.close()...)
	r.Notes = p.notes
	os.RemoveAll(p.root)
	p.res = r
}

// Wait waits for the run to end.
func (p *Proc) Wait() *Result {
	<-p.done
	return p.res
}

// Run runs s to its end; ctx's end kills it.
func Run(ctx context.Context, s Spec) (*Result, error) {
	p, err := Start(s)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, p.kill)
	defer stop()
	return p.Wait(), nil
}

// Available reports whether sandboxes can start here (user namespaces allowed), and
// why not.
func Available() error {
	r, err := Run(context.Background(), Spec{Path: "/nonexistent", Limits: Limits{Wall: 10 * time.Second}})
	if err != nil {
		return err
	}
	if r.InitError != "" && !bytes.Contains([]byte(r.InitError), []byte("payload")) {
		return errors.New(r.InitError)
	}
	return nil
}

// reachable checks that a non-root user can reach path: every directory above it is
// searchable by others (the sandbox's init runs as an unprivileged host uid).
func reachable(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		st, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("sandbox: mount source %s: %w", path, err)
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("sandbox: mount source %s: directory %s (mode %o) is not searchable by other users, so the sandbox's uid cannot reach it", path, dir, st.Mode().Perm())
		}
		if dir == "/" {
			return nil
		}
	}
}

// Reachable returns a copy of the file at path in a new directory every user may
// search (mode 0755), for a file to mount in a sandbox whose directory is private
// (such as a test binary); the caller removes it when done.
func Reachable(path string) (string, error) {
	src, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer src.Close()
	dir, err := os.MkdirTemp("", "tessera-sandbox-file-*")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, filepath.Base(path))
	dst, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return out, err
}

// PayloadOwner is the host uid and gid the payload runs as: what a directory mounted
// writable must belong to.
func PayloadOwner() (uid, gid int) {
	if os.Geteuid() == 0 {
		return int(hostIDs) + 1, int(hostIDs) + 1
	}
	return os.Getuid(), os.Getgid()
}
