package subnets

import "errors"

// NeuronsPerPage is how many consecutive uids' records one stored page holds.
const NeuronsPerPage = 64

// NeuronPage is the stored records of uids 64·p … 64·p+63 of a subnet, each slot a
// neuron's stored record (Neuron.MarshalCBOR) or empty where no neuron has that uid.
// Records are stored by the page rather than by the uid because an epoch reads every
// record of the subnet: 4096 records are 64 pages, and a range scan costs per key, not
// per byte. A write of one record rewrites its page (about 6 KiB).
//
// Its encoding is a CBOR array of exactly 64 byte strings, each a slot's record (an empty
// byte string for an empty slot), every length in the shortest form: what cbor.Marshal
// writes for the 64 records' contents as a [][]byte, and what UnmarshalCBOR reads without
// the decoder.
type NeuronPage [NeuronsPerPage][]byte

// pageHead is the head of a CBOR array of 64 items.
var pageHead = [2]byte{4<<5 | 24, NeuronsPerPage}

var errNeuronPage = errors.New("malformed neuron page: want a CBOR array of 64 byte strings, each length in its shortest form")

// MarshalCBOR implements cbor.Marshaler. Each slot must be empty or one CBOR byte string
// (a record as Neuron.MarshalCBOR writes it); its content is written as that string.
func (p *NeuronPage) MarshalCBOR() ([]byte, error) {
	size := len(pageHead)
	for _, s := range p {
		size += len(s) + 1
	}
	b := append(make([]byte, 0, size), pageHead[:]...)
	for _, s := range p {
		if len(s) == 0 {
			b = append(b, 2<<5) // the empty byte string
			continue
		}
		if _, ok := definiteBytes(s); !ok {
			return nil, errNeuronPage
		}
		b = append(b, s...)
	}
	return b, nil
}

// UnmarshalCBOR implements cbor.Unmarshaler. A slot is set to its record's bytes within
// data (a byte string, its head included), not a copy: decode it, never write into it
// (a stored value is the store's own, see store.Reader). An empty slot is nil.
func (p *NeuronPage) UnmarshalCBOR(data []byte) error {
	if len(data) < len(pageHead) || [2]byte(data[:2]) != pageHead {
		return errNeuronPage
	}
	rest := data[len(pageHead):]
	var out NeuronPage
	for i := range out {
		n, ok := nextBytes(rest)
		if !ok {
			return errNeuronPage
		}
		if s := rest[:n]; len(s) > 1 {
			out[i] = s
		}
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return errNeuronPage
	}
	*p = out
	return nil
}

// nextBytes is the length, head included, of the definite-length CBOR byte string that
// data starts with, its length in the shortest form; ok is false if data does not start
// with one that it holds whole.
func nextBytes(data []byte) (n int, ok bool) {
	l, rest, ok := readHead(data, 2)
	if !ok || l > uint64(len(rest)) {
		return 0, false
	}
	return len(data) - len(rest) + int(l), true
}
