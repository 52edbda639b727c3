package keys

import (
	"strings"
	"testing"
)

// TestVerifyAllowWrappedLongMessage checks a message longer than the stack buffer: the
// wrapped form is built on the heap and still verifies. (TestVerifierVectors covers the
// fallback on the vectors.)
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
	_, v := vectorKey(t)
	msg := []byte(verifierMsg)
	wrappedMsg := appendWrapped(nil, msg)
	sig := mustHex(t, verifierWrappedSig)
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
