package testutil

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// lowestPort is the bottom of the range FreePorts draws from: below it lie the
// well-known and registered ports that services on a developer's machine use.
const lowestPort = 10000

// taken holds the bases this process has handed out, so that two tests of one
// package that run at once never get overlapping ranges.
var taken struct {
	sync.Mutex
	ranges [][2]int
}

// FreePorts returns the first of span consecutive ports on 127.0.0.1 that are free
// now, for a test that starts a process binding them itself (a devnet's
// --base-port).
//
// The ports are drawn below the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range, 32768 when it cannot be read). A port in
// that range can be taken between the check and the bind by any outgoing
// connection on the machine, which go test's parallel packages make by the
// thousand; below it only a listener can take one. Within one process the ranges
// handed out never overlap.
func FreePorts(t testing.TB, span int) int {
	t.Helper()
	top := ephemeralLow() - span
	if top <= lowestPort {
		t.Fatalf("no room for %d ports between %d and the ephemeral range", span, lowestPort)
	}
	taken.Lock()
	defer taken.Unlock()
	for try := 0; try < 200; try++ {
		base := lowestPort + rand.IntN(top-lowestPort)
		if overlaps(base, span) || !allFree(base, span) {
			continue
		}
		taken.ranges = append(taken.ranges, [2]int{base, base + span})
		return base
	}
	t.Fatalf("no %d free consecutive ports on 127.0.0.1 below %d", span, top+span)
	return 0
}

func overlaps(base, span int) bool {
	for _, r := range taken.ranges {
		if base < r[1] && r[0] < base+span {
			return true
		}
	}
	return false
}

func allFree(base, span int) bool {
	for p := base; p < base+span; p++ {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// ephemeralLow is the first port of the kernel's ephemeral range.
func ephemeralLow() int {
	const fallback = 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return fallback
	}
	var lo, hi int
	if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &lo, &hi); err != nil || lo <= lowestPort {
		return fallback
	}
	return lo
}
