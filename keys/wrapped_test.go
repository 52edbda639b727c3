package keys

import (
	"strings"
	"testing"
)

// TestVerifyAllowWrapped checks the <Bytes> fallback of both key forms on the
// research vectors: a plain and a wrapped signature of the dendrite message verify for
// the bare message, and neither verifies for another message or wrapped twice.
func TestVerifyAllowWrapped(t *testing.T) {
	pub, _, err := SS58Decode(verifierSS58)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	plain := mustHex(t, "0xc460d4f9fb883d79680bcb6d6358ca1678daa141cf2732f017aac71e077aea67c9b32c8f93d1d4a4da2a27c4bc4f052d332bb229f273d4edc988161ae31f9f89")
	wrapped := mustHex(t, "0x763dbd43da41d61c190667abab5179274d6537300a737491436c7c51f3032d180f6b1a38a27c8aad2d0efad5ab76217e79b92e472b56008d50443445ddd5698d")
	tests := []struct {
		name string
		msg  string
		sig  []byte
		want bool
	}{
		{"plain signature", verifierMsg, plain, true},
		{"wrapped signature", verifierMsg, wrapped, true},
		{"wrapped signature, wrapped message", "<Bytes>" + verifierMsg + "</Bytes>", wrapped, true},
		{"wrapped signature, other message", verifierMsg + "x", wrapped, false},
		{"plain signature, other message", verifierMsg + "x", plain, false},
		{"plain signature, wrapped message", "<Bytes>" + verifierMsg + "</Bytes>", plain, false},
		{"short signature", verifierMsg, wrapped[:63], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := v.VerifyAllowWrapped([]byte(tc.msg), tc.sig); got != tc.want {
				t.Errorf("Verifier.VerifyAllowWrapped = %v, want %v", got, tc.want)
			}
			if got := pub.VerifyAllowWrapped([]byte(tc.msg), tc.sig); got != tc.want {
				t.Errorf("PublicKey.VerifyAllowWrapped = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestVerifyAllowWrappedLongMessage checks a message longer than the stack buffer: the
// wrapped form is built on the heap and still verifies.
func TestVerifyAllowWrappedLongMessage(t *testing.T) {
	p, err := FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(p.Public())
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte(strings.Repeat("m", 2*wrappedStackBytes))
	sig := p.Sign(appendWrapped(nil, msg))
	if !v.VerifyAllowWrapped(msg, sig) || !p.Public().VerifyAllowWrapped(msg, sig) {
		t.Fatal("a wrapped signature of a long message does not verify")
	}
	if v.VerifyAllowWrapped(msg[1:], sig) || p.Public().VerifyAllowWrapped(msg[1:], sig) {
		t.Fatal("a wrapped signature verifies for another message")
	}
}

// TestVerifierVerifyAllowWrappedAllocs checks that the form the axon uses on every
// request allocates nothing beyond its two verifications, for a wire-protocol-sized
// message: the wrapped message is built on the stack.
func TestVerifierVerifyAllowWrappedAllocs(t *testing.T) {
	pub, _, err := SS58Decode(verifierSS58)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte(verifierMsg)
	wrappedMsg := appendWrapped(nil, msg)
	sig := mustHex(t, "0x763dbd43da41d61c190667abab5179274d6537300a737491436c7c51f3032d180f6b1a38a27c8aad2d0efad5ab76217e79b92e472b56008d50443445ddd5698d")
	verifications := testing.AllocsPerRun(20, func() {
		v.Verify(msg, sig)
		v.Verify(wrappedMsg, sig)
	})
	if n := testing.AllocsPerRun(20, func() {
		if !v.VerifyAllowWrapped(msg, sig) {
			t.Fatal("wrapped signature does not verify")
		}
	}); n != verifications {
		t.Fatalf("Verifier.VerifyAllowWrapped allocates %v times per call, want %v (its two verifications)", n, verifications)
	}
}
