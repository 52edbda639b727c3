package scale

import (
	"bytes"
	"testing"
)

// The vectors of the SCALE specification (parity-scale-codec's compact tests).
func TestAppendCompact(t *testing.T) {
	for _, c := range []struct {
		n    uint64
		want []byte
	}{
		{0, []byte{0x00}},
		{1, []byte{0x04}},
		{42, []byte{0xa8}},
		{63, []byte{0xfc}},
		{64, []byte{0x01, 0x01}},
		{69, []byte{0x15, 0x01}},
		{16383, []byte{0xfd, 0xff}},
		{16384, []byte{0x02, 0x00, 0x01, 0x00}},
		{1<<30 - 1, []byte{0xfe, 0xff, 0xff, 0xff}},
		{1 << 30, []byte{0x03, 0x00, 0x00, 0x00, 0x40}},
		{1<<32 - 1, []byte{0x03, 0xff, 0xff, 0xff, 0xff}},
		{1 << 32, []byte{0x07, 0x00, 0x00, 0x00, 0x00, 0x01}},
		{1<<64 - 1, []byte{0x13, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	} {
		if got := AppendCompact([]byte{0xee}, c.n); !bytes.Equal(got, append([]byte{0xee}, c.want...)) {
			t.Errorf("AppendCompact(%d) = %x, want %x", c.n, got[1:], c.want)
		}
	}
}
