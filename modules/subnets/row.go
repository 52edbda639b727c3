package subnets

import (
	"encoding/binary"
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/tessera-net/tessera/yuma"
)

// Row is a stored sparse row of weights or bonds. It is encoded as one CBOR byte string
// of 4-byte big-endian (uid, value) pairs rather than as a CBOR array of maps: a 256-entry
// row is 1 KiB instead of ~4 KiB and decodes in one copy, which matters because every
// set_weights rewrites its row and every epoch reads every row.
type Row []yuma.Entry

// MarshalCBOR implements cbor.Marshaler. It writes the byte string's head (its length in
// the shortest form, as cbor.Marshal writes it) and the entries into one allocation: an
// epoch rewrites every validator's bonds row, thousands of entries each.
func (r Row) MarshalCBOR() ([]byte, error) {
	b := appendBytesHead(make([]byte, 0, 9+4*len(r)), uint64(4*len(r)))
	for _, e := range r {
		b = binary.BigEndian.AppendUint32(b, uint32(e.UID)<<16|uint32(e.Value))
	}
	return b, nil
}

// appendBytesHead appends the head of a definite-length CBOR byte string of n bytes
// (major type 2), n in the shortest form: the inverse of definiteBytes' reading.
func appendBytesHead(b []byte, n uint64) []byte {
	const major = 2 << 5
	switch {
	case n < 24:
		return append(b, major|byte(n))
	case n < 1<<8:
		return append(b, major|24, byte(n))
	case n < 1<<16:
		return binary.BigEndian.AppendUint16(append(b, major|25), uint16(n))
	case n < 1<<32:
		return binary.BigEndian.AppendUint32(append(b, major|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, major|27), n)
}

// UnmarshalCBOR implements cbor.Unmarshaler.
func (r *Row) UnmarshalCBOR(data []byte) error {
	b, ok := definiteBytes(data)
	if !ok {
		if err := cbor.Unmarshal(data, &b); err != nil {
			return err
		}
	}
	if len(b)%4 != 0 {
		return fmt.Errorf("a stored row is a whole number of 4-byte entries, got %d bytes", len(b))
	}
	out := make(Row, len(b)/4)
	for i := range out {
		x := binary.BigEndian.Uint32(b[4*i:]) // one load and byte swap for both halves
		out[i] = yuma.Entry{UID: uint16(x >> 16), Value: uint16(x)}
	}
	*r = out
	return nil
}

// IsStoredForm reports whether data is a stored record in the form its encoder writes —
// one definite-length CBOR byte string, its length in the shortest form — which Row's and
// Neuron's UnmarshalCBOR read in place. A reader of many records (an epoch reads every
// neuron and row of the subnet) hands such data to UnmarshalCBOR directly, sparing the
// CBOR decoder's well-formedness walk and reflection; anything else goes to the decoder,
// which judges it as before.
func IsStoredForm(data []byte) bool {
	_, ok := definiteBytes(data)
	return ok
}

// definiteBytes is the content of a definite-length CBOR byte string that is all of data,
// read in place (an epoch decodes hundreds of rows of thousands of entries); ok is false
// for anything else, which the caller hands to the CBOR decoder.
func definiteBytes(data []byte) (b []byte, ok bool) {
	if len(data) == 0 || data[0]>>5 != 2 {
		return nil, false
	}
	info, rest := data[0]&0x1f, data[1:]
	var n uint64
	switch {
	case info < 24:
		n = uint64(info)
	case info == 24 && len(rest) >= 1:
		n, rest = uint64(rest[0]), rest[1:]
	case info == 25 && len(rest) >= 2:
		n, rest = uint64(binary.BigEndian.Uint16(rest)), rest[2:]
	case info == 26 && len(rest) >= 4:
		n, rest = uint64(binary.BigEndian.Uint32(rest)), rest[4:]
	case info == 27 && len(rest) >= 8:
		n, rest = binary.BigEndian.Uint64(rest), rest[8:]
	default:
		return nil, false
	}
	// Only the shortest form of the length, as the encoder writes it; anything else goes
	// to the decoder, which judges it as before.
	minimal := info < 24 || (info == 24 && n >= 24) || (info == 25 && n >= 1<<8) || (info == 26 && n >= 1<<16) || (info == 27 && n >= 1<<32)
	if !minimal || n != uint64(len(rest)) {
		return nil, false
	}
	return rest, true
}
