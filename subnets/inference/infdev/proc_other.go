//go:build !linux

package infdev

import "syscall"

// procAttr puts a child in its own process group (outside Linux a SIGKILLed devnet can
// leave its children behind).
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
