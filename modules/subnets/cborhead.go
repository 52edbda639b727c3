package subnets

import "encoding/binary"

// The CBOR heads the hand-written codecs of this package (Row, Neuron, NeuronPage, U16s)
// write and read: always the shortest form, as the chain's canonical encoder writes them.

// appendHead appends a CBOR head of major type major and argument n in the shortest form.
func appendHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n < 1<<8:
		return append(b, m|24, byte(n))
	case n < 1<<16:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n < 1<<32:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), n)
}

// readHead reads a CBOR head of major type major in the shortest form from data: its
// argument and the bytes after it.
func readHead(data []byte, major byte) (n uint64, rest []byte, ok bool) {
	if len(data) == 0 || data[0]>>5 != major {
		return 0, nil, false
	}
	switch info := data[0] & 0x1f; {
	case info < 24:
		return uint64(info), data[1:], true
	case info == 24 && len(data) >= 2:
		n, rest = uint64(data[1]), data[2:]
		return n, rest, n >= 24
	case info == 25 && len(data) >= 3:
		n, rest = uint64(binary.BigEndian.Uint16(data[1:])), data[3:]
		return n, rest, n >= 1<<8
	case info == 26 && len(data) >= 5:
		n, rest = uint64(binary.BigEndian.Uint32(data[1:])), data[5:]
		return n, rest, n >= 1<<16
	case info == 27 && len(data) >= 9:
		n, rest = binary.BigEndian.Uint64(data[1:]), data[9:]
		return n, rest, n >= 1<<32
	}
	return 0, nil, false
}
