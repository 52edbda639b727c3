package subnets

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// A page of records of every size class (short, and an axon IP long enough to push a
// record past 255 bytes) with empty slots between them.
func testPage(t testing.TB) NeuronPage {
	var p NeuronPage
	for i, n := range []Neuron{
		{Hotkey: make([]byte, 32), Coldkey: make([]byte, 32), BlockAtRegistration: 7, LastUpdate: 9},
		{Hotkey: []byte{1}, Coldkey: []byte{2}},
		{Hotkey: make([]byte, 32), Coldkey: make([]byte, 32), Axon: &Axon{IP: strings.Repeat("a", 250), Port: 1, Block: 3}},
	} {
		b, err := n.MarshalCBOR()
		if err != nil {
			t.Fatal(err)
		}
		p[i*20] = b
	}
	return p
}

// A page encodes as cbor.Marshal writes its records' contents as a [][]byte, and decodes
// back to the same records, empty slots empty.
func TestNeuronPageEncodesAsCBOR(t *testing.T) {
	p := testPage(t)
	b, err := p.MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	contents := make([][]byte, NeuronsPerPage)
	for i, rec := range p {
		contents[i] = []byte{}
		if rec != nil {
			contents[i], _ = definiteBytes(rec)
		}
	}
	want, err := cbor.Marshal(contents)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("page encoding\n %x\nwant\n %x", b, want)
	}
	var back NeuronPage
	if err := back.UnmarshalCBOR(b); err != nil || !reflect.DeepEqual(back, p) {
		t.Fatalf("round trip: %v", err)
	}
	var n Neuron
	if err := n.UnmarshalCBOR(back[40]); err != nil || len(n.Axon.IP) != 250 {
		t.Fatalf("the long record: %+v %v", n, err)
	}
}

// A slot that is not one byte string is refused on encoding; a page that is not 64 of
// them, with lengths in the shortest form, on decoding.
func TestNeuronPageRefusesMalformed(t *testing.T) {
	p := testPage(t)
	p[3] = []byte{0x41} // a byte string head without its byte
	if _, err := p.MarshalCBOR(); err == nil {
		t.Fatal("a truncated record was encoded")
	}
	gp := testPage(t)
	good, _ := gp.MarshalCBOR()
	for name, b := range map[string][]byte{
		"empty":      {},
		"63 items":   append([]byte{0x98, 63}, good[2:]...),
		"truncated":  good[:len(good)-1],
		"trailing":   append(append([]byte{}, good...), 0x40),
		"long head":  append([]byte{0x98, 64, 0x58, 0x01, 0x00}, good[3:]...),
		"not a byte": append([]byte{0x98, 64, 0x60}, good[3:]...),
	} {
		var q NeuronPage
		if err := q.UnmarshalCBOR(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// FuzzNeuronPage: any bytes either decode to a page that encodes back to the same bytes,
// or are refused; nothing panics.
func FuzzNeuronPage(f *testing.F) {
	gp := testPage(f)
	good, _ := gp.MarshalCBOR()
	f.Add(good)
	var empty NeuronPage
	e, _ := empty.MarshalCBOR()
	f.Add(e)
	f.Add([]byte{0x98, 64})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p NeuronPage
		if err := p.UnmarshalCBOR(b); err != nil {
			return
		}
		again, err := p.MarshalCBOR()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("round trip of %x: %x %v", b, again, err)
		}
	})
}
