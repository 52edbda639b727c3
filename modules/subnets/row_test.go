package subnets

import (
	"encoding/binary"
	"reflect"
	"slices"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/tessera-net/tessera/yuma"
)

// FuzzRow: any bytes either decode to a row that encodes back to the same bytes, or are
// refused; nothing panics.
func FuzzRow(f *testing.F) {
	good, _ := Row{{UID: 1, Value: 7}, {UID: 300, Value: 65535}}.MarshalCBOR()
	f.Add(good)
	f.Add([]byte{0x43, 1, 2, 3}) // a 3-byte string: not whole entries
	f.Add([]byte{0xa0})          // a map, not a byte string
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Row
		if err := r.UnmarshalCBOR(b); err != nil {
			return
		}
		again, err := r.MarshalCBOR()
		if err != nil {
			t.Fatal(err)
		}
		var back Row
		if err := back.UnmarshalCBOR(again); err != nil || !slices.Equal(back, r) {
			t.Fatalf("round trip of %x: %v %v", b, back, err)
		}
	})
}

func TestRowRefusesPartialEntries(t *testing.T) {
	b, _ := cbor.Marshal([]byte{0, 1, 0, 2, 9})
	var r Row
	if err := r.UnmarshalCBOR(b); err == nil {
		t.Fatal("a 5-byte row decoded")
	}
	want := Row{{UID: 1, Value: 2}}
	ok, _ := cbor.Marshal([]byte{0, 1, 0, 2})
	if err := r.UnmarshalCBOR(ok); err != nil || !slices.Equal(r, want) || r[0] != (yuma.Entry{UID: 1, Value: 2}) {
		t.Fatalf("%v %v", r, err)
	}
}

func TestNeuronRecordRoundTrip(t *testing.T) {
	for _, n := range []Neuron{
		{Hotkey: make([]byte, 32), Coldkey: []byte{1, 2, 3}, BlockAtRegistration: 7, LastUpdate: 1 << 40},
		{Hotkey: []byte{9}, Coldkey: make([]byte, 32), Axon: &Axon{IP: "2001:db8::1", Port: 8091, Protocol: 6, Version: 3, Block: 99}},
	} {
		b, err := cbor.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		var got Neuron
		if err := cbor.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, n) {
			t.Fatalf("round trip: %+v, want %+v", got, n)
		}
		for cut := 1; cut < len(b); cut++ {
			if err := cbor.Unmarshal(b[:cut], &got); err == nil {
				t.Fatalf("a record cut at %d of %d bytes decodes", cut, len(b))
			}
		}
	}
}

// TestRowEncodesAsTheCBORByteString: a row's encoding is what cbor.Marshal writes for its
// entries as one byte string, the length's head in each of its shortest forms.
func TestRowEncodesAsTheCBORByteString(t *testing.T) {
	for _, n := range []int{0, 1, 5, 6, 63, 64, 16383, 16384, 70000} {
		r := make(Row, n)
		raw := make([]byte, 0, 4*n)
		for i := range r {
			r[i] = yuma.Entry{UID: uint16(i), Value: uint16(i * 7919)}
			raw = append(raw, byte(i>>8), byte(i), byte(i*7919>>8), byte(i*7919))
		}
		got, err := r.MarshalCBOR()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := cbor.Marshal(raw)
		if !slices.Equal(got, want) {
			t.Fatalf("%d entries: head %x, want %x", n, got[:min(len(got), 9)], want[:min(len(want), 9)])
		}
		if !IsStoredForm(got) {
			t.Fatalf("%d entries: not in the stored form", n)
		}
	}
}

// BenchmarkRowDecode decodes a stored bonds row of 4096 entries (an epoch of a 4096-uid
// subnet decodes 512 such rows, weights and bonds).
func BenchmarkRowDecode(b *testing.B) {
	r := make(Row, 4096)
	for i := range r {
		r[i] = yuma.Entry{UID: uint16(i), Value: uint16(i * 40503)}
	}
	data, err := r.MarshalCBOR()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var out Row
		if err := out.UnmarshalCBOR(data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDecodeEntries: the word-at-a-time decoding equals reading each 4-byte big-endian
// pair, at every length (whole words and a tail entry).
func TestDecodeEntries(t *testing.T) {
	for n := range 19 {
		b := make([]byte, 4*n)
		for i := range b {
			b[i] = byte(i*37 + n)
		}
		got := make([]yuma.Entry, n)
		decodeEntries(got, b)
		for i := range n {
			want := yuma.Entry{UID: binary.BigEndian.Uint16(b[4*i:]), Value: binary.BigEndian.Uint16(b[4*i+2:])}
			if got[i] != want {
				t.Fatalf("%d entries: entry %d is %+v, want %+v", n, i, got[i], want)
			}
		}
	}
}
