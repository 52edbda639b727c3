//go:build linux

package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// cgroupRoot is where the cgroup file systems are mounted.
var cgroupRoot = "/sys/fs/cgroup"

// cgroup is the groups a run was put in (none when no limit could be set).
type cgroup struct{ dirs []string }

// joinCgroup puts pid in a new cgroup with the memory (and process-count) limits: in
// the unified hierarchy (v2) when it has the memory controller and is writable, else
// in v1's memory (and pids) hierarchies; it notes each limit it could not set and why.
func joinCgroup(pid int, l Limits, id uint64, notes []string) (*cgroup, []string) {
	cg := &cgroup{}
	if l.Memory == 0 && l.Processes == 0 {
		return cg, notes
	}
	name := fmt.Sprintf("tessera-sandbox-%d-%d-%d", os.Getpid(), pid, id)
	write := func(dir, file string, v uint64) error {
		return os.WriteFile(filepath.Join(dir, file), []byte(strconv.FormatUint(v, 10)), 0o644)
	}
	join := func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644)
	}
	if ctl, err := os.ReadFile(filepath.Join(cgroupRoot, "cgroup.controllers")); err == nil {
		dir := filepath.Join(cgroupRoot, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return cg, append(notes, fmt.Sprintf("no cgroup limits: cgroup v2 at %s is not writable: %v", cgroupRoot, err))
		}
		cg.dirs = append(cg.dirs, dir)
		if l.Memory > 0 {
			if err := write(dir, "memory.max", l.Memory); err != nil {
				notes = append(notes, fmt.Sprintf("no memory limit: cgroup v2 memory controller (have %q): %v", ctl, err))
			} else {
				write(dir, "memory.swap.max", 0)
			}
		}
		if l.Processes > 0 {
			if err := write(dir, "pids.max", l.Processes); err != nil {
				notes = append(notes, "no cgroup process limit (RLIMIT_NPROC still holds): "+err.Error())
			}
		}
		if err := join(dir); err != nil {
			notes = append(notes, "no cgroup limits: joining the cgroup: "+err.Error())
		}
		return cg, notes
	}
	for _, c := range []struct {
		ctl, file string
		v         uint64
	}{{"memory", "memory.limit_in_bytes", l.Memory}, {"pids", "pids.max", l.Processes}} {
		if c.v == 0 {
			continue
		}
		base := filepath.Join(cgroupRoot, c.ctl)
		dir := filepath.Join(base, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			notes = append(notes, fmt.Sprintf("no cgroup %s limit: neither cgroup v2 nor a writable v1 %s hierarchy at %s: %v", c.ctl, c.ctl, base, err))
			continue
		}
		cg.dirs = append(cg.dirs, dir)
		if err := write(dir, c.file, c.v); err != nil {
			notes = append(notes, fmt.Sprintf("no cgroup %s limit: %v", c.ctl, err))
			continue
		}
		if c.ctl == "memory" {
			write(dir, "memory.memsw.limit_in_bytes", c.v) // absent without swap accounting
		}
		if err := join(dir); err != nil {
			notes = append(notes, fmt.Sprintf("no cgroup %s limit: joining: %v", c.ctl, err))
		}
	}
	return cg, notes
}

// close removes the groups once their processes are gone (the PID namespace's
// processes die with its init, a moment after it).
func (cg *cgroup) close() []string {
	var notes []string
	for _, dir := range cg.dirs {
		var err error
		for i := 0; i < 100; i++ {
			if err = os.Remove(dir); err == nil || os.IsNotExist(err) {
				err = nil
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil {
			notes = append(notes, "cgroup left behind: "+err.Error())
		}
	}
	return notes
}
