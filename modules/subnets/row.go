package subnets

import (
	"encoding/binary"
	"fmt"
	"unsafe"

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
	b := appendHead(make([]byte, 0, 9+4*len(r)), 2, uint64(4*len(r)))
	for _, e := range r {
		b = binary.BigEndian.AppendUint32(b, uint32(e.UID)<<16|uint32(e.Value))
	}
	return b, nil
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
	decodeEntries(out, b)
	*r = out
	return nil
}

// decodeEntries decodes the 4-byte big-endian pairs of b into out (len(b) = 4·len(out)).
//
// It is an epoch's hot path (a 4096-uid subnet's epoch decodes 2M entries) and writes
// out's memory as bytes, eight at a time: an Entry is two uint16s with no padding, so on
// a big-endian host the stored bytes are its memory already, and on a little-endian one
// each 16-bit half of an 8-byte word has its two bytes swapped (three operations for two
// entries, where per-field stores cost four). TestDecodeEntries and FuzzRow hold it to
// the per-entry decoding.
func decodeEntries(out []yuma.Entry, b []byte) {
	dst := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(out))), 4*len(out))
	b = b[:len(dst)]
	if !littleEndian {
		copy(dst, b)
		return
	}
	const lo = 0x00ff00ff00ff00ff
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		binary.LittleEndian.PutUint64(dst[i:], (w>>8)&lo|(w&lo)<<8)
	}
	for ; i < len(b); i += 2 {
		dst[i], dst[i+1] = b[i+1], b[i]
	}
}

// littleEndian reports whether the host stores a uint16's low byte first.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

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
// for anything else — another type, a length not in the shortest form, bytes missing or
// left over — which the caller hands to the CBOR decoder.
func definiteBytes(data []byte) (b []byte, ok bool) {
	n, rest, ok := readHead(data, 2)
	if !ok || n != uint64(len(rest)) {
		return nil, false
	}
	return rest, true
}
