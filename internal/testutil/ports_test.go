package testutil

import (
	"net"
	"strconv"
	"testing"
)

// TestFreePorts draws ranges while one of them is held: each lies below the
// ephemeral range, is free when handed out, and overlaps no other this process drew.
func TestFreePorts(t *testing.T) {
	low := ephemeralLow()
	held := FreePorts(t, 5)
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(held+2))
	if err != nil {
		t.Fatalf("port %d was handed out as free: %v", held+2, err)
	}
	defer l.Close()
	seen := [][2]int{{held, held + 5}}
	for range 50 {
		base := FreePorts(t, 40)
		if base < lowestPort || base+40 > low {
			t.Fatalf("range %d..%d is outside %d..%d", base, base+40, lowestPort, low)
		}
		for _, r := range seen {
			if base < r[1] && r[0] < base+40 {
				t.Fatalf("range %d..%d overlaps %d..%d", base, base+40, r[0], r[1])
			}
		}
		seen = append(seen, [2]int{base, base + 40})
	}
}
