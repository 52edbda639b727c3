package subnets

import "errors"

// U16s is a list of uids or weights in a message (set_weights, reveal_weights): thousands
// of entries in a validator's transaction, which every node decodes at CheckTx and again
// in the block. It encodes exactly as cbor.Marshal encodes a []uint16 in the chain's
// canonical mode — a CBOR array of unsigned integers in their shortest form, or null for
// nil — and decodes without the decoder's reflection, an entry at a time.
//
// The decoding accepts only what that encoding writes. It need not judge canonicity
// alone: tx.Unmarshal re-encodes what was decoded and refuses any input that does not
// come back byte for byte.
type U16s []uint16

var errU16s = errors.New("want an array of unsigned integers below 65536 in their shortest form, or null")

// MarshalCBOR implements cbor.Marshaler.
func (u U16s) MarshalCBOR() ([]byte, error) {
	if u == nil {
		return []byte{0xf6}, nil
	}
	b := appendHead(make([]byte, 0, 9+3*len(u)), 4, uint64(len(u)))
	for _, v := range u {
		b = appendHead(b, 0, uint64(v))
	}
	return b, nil
}

// UnmarshalCBOR implements cbor.Unmarshaler.
func (u *U16s) UnmarshalCBOR(data []byte) error {
	if len(data) == 1 && data[0] == 0xf6 {
		*u = nil
		return nil
	}
	n, rest, ok := readHead(data, 4)
	if !ok || n > uint64(len(rest)) { // each entry takes at least a byte
		return errU16s
	}
	out := make(U16s, n)
	for i := range out {
		var v uint64
		if v, rest, ok = readHead(rest, 0); !ok || v > 0xffff {
			return errU16s
		}
		out[i] = uint16(v)
	}
	if len(rest) != 0 {
		return errU16s
	}
	*u = out
	return nil
}
