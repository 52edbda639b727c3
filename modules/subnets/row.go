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

// MarshalCBOR implements cbor.Marshaler.
func (r Row) MarshalCBOR() ([]byte, error) {
	b := make([]byte, 4*len(r))
	for i, e := range r {
		binary.BigEndian.PutUint16(b[4*i:], e.UID)
		binary.BigEndian.PutUint16(b[4*i+2:], e.Value)
	}
	return cbor.Marshal(b)
}

// UnmarshalCBOR implements cbor.Unmarshaler.
func (r *Row) UnmarshalCBOR(data []byte) error {
	var b []byte
	if err := cbor.Unmarshal(data, &b); err != nil {
		return err
	}
	if len(b)%4 != 0 {
		return fmt.Errorf("a stored row is a whole number of 4-byte entries, got %d bytes", len(b))
	}
	out := make(Row, len(b)/4)
	for i := range out {
		out[i] = yuma.Entry{UID: binary.BigEndian.Uint16(b[4*i:]), Value: binary.BigEndian.Uint16(b[4*i+2:])}
	}
	*r = out
	return nil
}
