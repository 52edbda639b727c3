package wire_test

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/wire"
)

// Upper is a synapse: the request field is hashed (and so signed), the reply is filled
// in by the miner.
type Upper struct {
	wire.Base
	Text  string `json:"text" wire:"required"`
	Reply string `json:"reply"`
}

// RequiredHashFields makes the body hash, and so the signature, cover text.
func (Upper) RequiredHashFields() []string { return []string{"text"} }

// A miner serves a synapse on an axon; a validator queries it with a dendrite.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	minerKey, _ := keys.FromURI("//Alice")
	axon, err := wire.NewAxon(minerKey, wire.AxonConfig{})
	if err != nil {
		panic(err)
	}
	err = axon.Attach("", wire.Handle(func(ctx context.Context, c *wire.Call, s *Upper) error {
		s.Reply = strings.ToUpper(s.Text)
		return nil
	}), wire.AttachOptions{
		// Only answer validators we know (the hotkey here is verified).
		Blacklist: func(ctx context.Context, c *wire.Call) (bool, string) {
			return !strings.HasPrefix(c.Hotkey, "5"), "unknown hotkey"
		},
	})
	if err != nil {
		panic(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go axon.Serve(ctx, l)

	validatorKey, _ := keys.FromURI("//Bob")
	d, _ := wire.NewDendrite(validatorKey, wire.DendriteConfig{})
	defer d.Close()
	target := wire.AxonInfo{IP: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Hotkey: axon.Hotkey()}

	res := d.Call(ctx, target, &Upper{Text: "hello"})
	fmt.Println(res.StatusCode, res.Synapse.(*Upper).Reply)

	// The same query to several axons at once; one result per axon, in order.
	for _, r := range d.Fanout(ctx, []wire.AxonInfo{target, target}, &Upper{Text: "fan"}) {
		fmt.Println(r.StatusCode, r.Synapse.(*Upper).Reply)
	}
	// Output:
	// 200 HELLO
	// 200 FAN
	// 200 FAN
}

// The body hash Bittensor computes: SHA3-256 over the SHA3-256 of Python's str() of each
// required hash field.
func ExampleBodyHash() {
	h, _ := wire.BodyHash(&Upper{Text: "hello"})
	fmt.Println(h == wire.BodyHashOfStrings("hello"))
	s, _ := wire.PyStr([]byte(`{"k": [1, 2.0, "b'c", null, true]}`), nil)
	fmt.Println(s)
	// Output:
	// true
	// {'k': [1, 2.0, "b'c", None, True]}
}
