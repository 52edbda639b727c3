package mlnode

import (
	"context"
	"io"
	"testing"
)

// BenchmarkForward is a signed completion through the inference listener (signature
// check, state, the engine's server) of one token on the tiny random model: the
// MLNode's overhead per request, with the HTTP round trip on loopback.
func BenchmarkForward(b *testing.B) {
	n := newNode(b, Config{}, tinyModel)
	ctx := context.Background()
	if err := n.c.InferenceUp(ctx, "tiny", nil); err != nil {
		b.Fatal(err)
	}
	body := chatBody(1, 1)
	for b.Loop() {
		resp, err := n.c.Forward(ctx, PathChat, body)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
}

// BenchmarkCheck is the exact check of a 64-token chat completion (top-5) on the tiny
// random model, in process: parse, prepare, replay, compare.
func BenchmarkCheck(b *testing.B) {
	n := newNode(b, Config{}, tinyModel)
	ctx := context.Background()
	if err := n.c.InferenceUp(ctx, "tiny", nil); err != nil {
		b.Fatal(err)
	}
	body := chatBody(3, 64)
	_, resp := forward(b, n.c, PathChat, body)
	ic := InferenceCheck{Model: "tiny", Path: PathChat, Request: body, Response: resp}
	for b.Loop() {
		res, err := n.s.Check(ctx, ic)
		if err != nil || !res.Valid {
			b.Fatalf("%+v %v", res, err)
		}
	}
}
