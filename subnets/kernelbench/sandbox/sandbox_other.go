//go:build !linux

package sandbox

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrUnsupported is returned on systems other than Linux: the sandbox needs Linux
// namespaces.
var ErrUnsupported = errors.New("sandbox: needs Linux (user, mount, network and PID namespaces)")

// Mount: see the Linux documentation.
type Mount struct {
	Source, Target   string
	Writable, Device bool
}

// Limits: see the Linux documentation.
type Limits struct {
	CPUSeconds, AddressSpace, Processes, FileSize, OpenFiles, Memory, TmpSize uint64
	Wall                                                                      time.Duration
}

// Spec: see the Linux documentation.
type Spec struct {
	Path           string
	Args, Env      []string
	Dir            string
	Mounts         []Mount
	Limits         Limits
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Result: see the Linux documentation.
type Result struct {
	ExitCode   int
	WallKilled bool
	Elapsed    time.Duration
	Notes      []string
	InitError  string
}

// Err: see the Linux documentation.
func (r *Result) Err() error { return ErrUnsupported }

// Proc: see the Linux documentation.
type Proc struct {
	Stdin  io.WriteCloser
	Stdout io.ReadCloser
}

// Main does nothing here.
func Main() {}

// Start fails here.
func Start(Spec) (*Proc, error) { return nil, ErrUnsupported }

// Kill does nothing here.
func (*Proc) Kill() {}

// Wait does nothing here.
func (*Proc) Wait() *Result { return &Result{ExitCode: -1} }

// Run fails here.
func Run(context.Context, Spec) (*Result, error) { return nil, ErrUnsupported }

// Available fails here.
func Available() error { return ErrUnsupported }

// Reachable fails here.
func Reachable(string) (string, error) { return "", ErrUnsupported }

// PayloadOwner is the caller's ids here.
func PayloadOwner() (uid, gid int) { return -1, -1 }
