package subnets

import (
	"bytes"
	"slices"
	"testing"

	"github.com/tessera-net/tessera/tx"
)

// setWeightsGeneric is SetWeights with plain []uint16 fields: what the reflection
// decoder does with them is the reference U16s is held to.
type setWeightsGeneric struct {
	Netuid     uint16   `cbor:"1,keyasint"`
	UIDs       []uint16 `cbor:"2,keyasint"`
	Values     []uint16 `cbor:"3,keyasint"`
	VersionKey uint64   `cbor:"4,keyasint"`
}

// U16s encodes exactly as the canonical encoder encodes a []uint16, for every form of
// the heads (lengths and values around 24, 256 and 65536) and for nil and empty lists.
func TestU16sEncodesAsCanonicalCBOR(t *testing.T) {
	lists := []U16s{nil, {}, {0}, {23, 24, 255, 256, 65535}}
	for _, n := range []int{23, 24, 255, 256, 65536} {
		l := make(U16s, n)
		for i := range l {
			l[i] = uint16(i * 7919)
		}
		lists = append(lists, l)
	}
	for _, l := range lists {
		got, err := tx.Marshal(SetWeights{Netuid: 1, UIDs: l, Values: l, VersionKey: 1 << 40})
		if err != nil {
			t.Fatal(err)
		}
		want, err := tx.Marshal(setWeightsGeneric{Netuid: 1, UIDs: l, Values: l, VersionKey: 1 << 40})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%d entries: %x, want %x", len(l), got[:min(len(got), 32)], want[:min(len(want), 32)])
		}
		var back SetWeights
		if err := tx.Unmarshal(got, &back); err != nil || !slices.Equal(back.UIDs, l) || (l == nil) != (back.UIDs == nil) {
			t.Fatalf("%d entries: decoded %d, %v", len(l), len(back.UIDs), err)
		}
	}
}

// What the reflection decoder refuses in a set_weights body, the message refuses too.
func TestU16sRefusesWhatTheDecoderRefuses(t *testing.T) {
	for name, b := range map[string][]byte{
		"value past u16":   {0xa4, 0x01, 0x01, 0x02, 0x81, 0x1a, 0x00, 0x01, 0x00, 0x00, 0x03, 0x80, 0x04, 0x00},
		"long int":         {0xa4, 0x01, 0x01, 0x02, 0x81, 0x18, 0x05, 0x03, 0x80, 0x04, 0x00},
		"negative":         {0xa4, 0x01, 0x01, 0x02, 0x81, 0x20, 0x03, 0x80, 0x04, 0x00},
		"a string":         {0xa4, 0x01, 0x01, 0x02, 0x41, 0x00, 0x03, 0x80, 0x04, 0x00},
		"indefinite array": {0xa4, 0x01, 0x01, 0x02, 0x9f, 0x01, 0xff, 0x03, 0x80, 0x04, 0x00},
		"short array":      {0xa4, 0x01, 0x01, 0x02, 0x82, 0x01, 0x03, 0x80, 0x04, 0x00},
	} {
		var g setWeightsGeneric
		var m SetWeights
		if tx.Unmarshal(b, &g) == nil || tx.Unmarshal(b, &m) == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// FuzzSetWeightsBody: a set_weights body decodes through U16s exactly when it decodes
// through the reflection decoder, to the same lists.
func FuzzSetWeightsBody(f *testing.F) {
	good, _ := tx.Marshal(SetWeights{Netuid: 3, UIDs: U16s{1, 30, 300}, Values: U16s{65535, 0, 24}, VersionKey: 7})
	f.Add(good)
	f.Add([]byte{0xa4, 0x01, 0x01, 0x02, 0xf6, 0x03, 0x80, 0x04, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		var g setWeightsGeneric
		var m SetWeights
		errG, errM := tx.Unmarshal(b, &g), tx.Unmarshal(b, &m)
		if (errG == nil) != (errM == nil) {
			t.Fatalf("%x: reflection %v, U16s %v", b, errG, errM)
		}
		if errG == nil && (m.Netuid != g.Netuid || m.VersionKey != g.VersionKey || !slices.Equal(m.UIDs, g.UIDs) ||
			!slices.Equal(m.Values, g.Values) || (m.UIDs == nil) != (g.UIDs == nil) || (m.Values == nil) != (g.Values == nil)) {
			t.Fatalf("%x: %+v, want %+v", b, m, g)
		}
	})
}
