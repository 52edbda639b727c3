package infdev

import "syscall"

// procAttr puts a child in its own process group and has the kernel kill it when the
// devnet dies, so a SIGKILLed devnet leaves no MLNode or API node behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
