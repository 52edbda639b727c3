package subnets

import (
	"encoding/binary"
	"errors"

	"github.com/fxamacker/cbor/v2"
)

// A neuron's stored record (its identity: the epoch's terms, weights and bonds are stored
// apart) is one CBOR byte string rather than a CBOR map: an epoch reads every record of
// the subnet, 4096 of them on a full one, and this decodes without reflection. Layout:
// version 1; hotkey and coldkey, each a length byte and the bytes; block at registration
// and last update (u64 big-endian); 0 or 1 and then the axon — IP (length byte, text),
// port u16, protocol u8, version u32, block u64.

const neuronCodecVersion = 1

var errNeuronRecord = errors.New("malformed neuron record")

// MarshalCBOR implements cbor.Marshaler.
func (n Neuron) MarshalCBOR() ([]byte, error) {
	if len(n.Hotkey) > 255 || len(n.Coldkey) > 255 || (n.Axon != nil && len(n.Axon.IP) > 255) {
		return nil, errNeuronRecord
	}
	b := make([]byte, 0, 1+2+len(n.Hotkey)+len(n.Coldkey)+17+48)
	b = append(b, neuronCodecVersion, byte(len(n.Hotkey)))
	b = append(b, n.Hotkey...)
	b = append(b, byte(len(n.Coldkey)))
	b = append(b, n.Coldkey...)
	b = binary.BigEndian.AppendUint64(b, n.BlockAtRegistration)
	b = binary.BigEndian.AppendUint64(b, n.LastUpdate)
	if n.Axon == nil {
		b = append(b, 0)
	} else {
		a := n.Axon
		b = append(b, 1, byte(len(a.IP)))
		b = append(b, a.IP...)
		b = binary.BigEndian.AppendUint16(b, a.Port)
		b = append(b, a.Protocol)
		b = binary.BigEndian.AppendUint32(b, a.Version)
		b = binary.BigEndian.AppendUint64(b, a.Block)
	}
	return cbor.Marshal(b)
}

// UnmarshalCBOR implements cbor.Unmarshaler.
func (n *Neuron) UnmarshalCBOR(data []byte) error {
	b, ok := definiteBytes(data)
	if !ok {
		if err := cbor.Unmarshal(data, &b); err != nil {
			return err
		}
	}
	take := func(k int) ([]byte, bool) {
		if len(b) < k {
			return nil, false
		}
		v := b[:k]
		b = b[k:]
		return v, true
	}
	bytesField := func() ([]byte, bool) {
		l, ok := take(1)
		if !ok {
			return nil, false
		}
		v, ok := take(int(l[0]))
		return append([]byte(nil), v...), ok
	}
	v, ok := take(1)
	if !ok || v[0] != neuronCodecVersion {
		return errNeuronRecord
	}
	var out Neuron
	if out.Hotkey, ok = bytesField(); !ok {
		return errNeuronRecord
	}
	if out.Coldkey, ok = bytesField(); !ok {
		return errNeuronRecord
	}
	u, ok := take(17)
	if !ok {
		return errNeuronRecord
	}
	out.BlockAtRegistration, out.LastUpdate = binary.BigEndian.Uint64(u), binary.BigEndian.Uint64(u[8:])
	if u[16] == 1 {
		ip, ok := bytesField()
		if !ok {
			return errNeuronRecord
		}
		r, ok := take(15)
		if !ok {
			return errNeuronRecord
		}
		out.Axon = &Axon{IP: string(ip), Port: binary.BigEndian.Uint16(r), Protocol: r[2], Version: binary.BigEndian.Uint32(r[3:]), Block: binary.BigEndian.Uint64(r[7:])}
	} else if u[16] != 0 {
		return errNeuronRecord
	}
	if len(b) != 0 {
		return errNeuronRecord
	}
	*n = out
	return nil
}
