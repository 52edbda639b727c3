package keeper

import (
	"testing"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/tx"
)

// peekNetuid reads exactly what the strict decoder reads, for every netuid width and each
// neuron call, and refuses any other shape.
func TestPeekNetuid(t *testing.T) {
	for _, netuid := range []uint16{0, 1, 23, 24, 255, 256, 4097, 65535} {
		msgs := []func() (tx.Msg, error){
			func() (tx.Msg, error) { return subnets.NewServeAxon(netuid, "127.0.0.1", 9, 0) },
			func() (tx.Msg, error) { return subnets.NewSetWeights(netuid, []uint16{1, 2}, []uint16{3, 4}, 7) },
			func() (tx.Msg, error) {
				return subnets.NewCommitWeights(keys.PublicKey{1}, netuid, []uint16{1}, []uint16{1}, []uint16{9}, 0)
			},
			func() (tx.Msg, error) {
				return subnets.NewRevealWeights(netuid, []uint16{1}, []uint16{1}, []uint16{9}, 0)
			},
		}
		for i, mk := range msgs {
			m, err := mk()
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := peekNetuid(m.Body); !ok || got != netuid {
				t.Errorf("message %d, netuid %d: peeked %d, %v", i, netuid, got, ok)
			}
		}
	}
	for _, body := range [][]byte{nil, {0xa4}, {0xa4, 0x02, 0x01}, {0x84, 0x01, 0x01}, {0xa4, 0x01, 0x1a, 0, 0, 0, 1}, {0xa4, 0x01, 0x19, 1}, {0xa4, 0x01, 0x38}} {
		if _, ok := peekNetuid(body); ok {
			t.Errorf("%x: peeked a netuid", body)
		}
	}
}
