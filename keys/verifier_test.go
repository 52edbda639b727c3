package keys

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// Vectors from research/bittensor-wire-vectors.json (wire.signing.examples): signatures
// made by go-schnorrkel and polkadot-js over the dendrite message of a plain Synapse.
const (
	verifierMsg  = "1718000000000000000.5HDvhV6WDCjCKyrXqGQSDYqQAzkzabNhctmiDYEqgBC66BsX.5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY.5ecbd69c-1cec-11ee-b0dc-e29ce36fec1a.a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"
	verifierSS58 = "5HDvhV6WDCjCKyrXqGQSDYqQAzkzabNhctmiDYEqgBC66BsX"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Signatures of verifierMsg by verifierSS58 from the same vectors: one by go-schnorrkel
// over the message, one over the <Bytes>-wrapped message.
const (
	verifierSig        = "0xc460d4f9fb883d79680bcb6d6358ca1678daa141cf2732f017aac71e077aea67c9b32c8f93d1d4a4da2a27c4bc4f052d332bb229f273d4edc988161ae31f9f89"
	verifierWrappedSig = "0x763dbd43da41d61c190667abab5179274d6537300a737491436c7c51f3032d180f6b1a38a27c8aad2d0efad5ab76217e79b92e472b56008d50443445ddd5698d"
)

// vectorKey returns the vectors' signing key in both forms.
func vectorKey(t testing.TB) (PublicKey, *Verifier) {
	t.Helper()
	pub, _, err := SS58Decode(verifierSS58)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pub, v
}

// TestVerifierVectors checks Verify and VerifyAllowWrapped, of a PublicKey and of a
// Verifier, on the vectors: the two forms must agree.
func TestVerifierVectors(t *testing.T) {
	pub, v := vectorKey(t)
	good, wrapped := mustHex(t, verifierSig), mustHex(t, verifierWrappedSig)
	flipped := append([]byte(nil), good...)
	flipped[5] ^= 1
	unmarked := append([]byte(nil), good...)
	unmarked[63] &= 0x7f
	tests := []struct {
		name        string
		msg         string
		sig         []byte
		want        bool // Verify
		wantWrapped bool // VerifyAllowWrapped
	}{
		{"go-schnorrkel signature", verifierMsg, good, true, true},
		{"polkadot-js signature", verifierMsg, mustHex(t, "0x3ecd0a4168c3329f99f9236ea60020abf9ac55319363ad0a52b3226e83105e0b1443f5e01bdaa92b4c8185297ca5af88553ef40a19bd94dd9e5814855dc59388"), true, true},
		{"<Bytes> wrapped message", "<Bytes>" + verifierMsg + "</Bytes>", wrapped, true, true},
		{"<Bytes> signature of the bare message", verifierMsg, wrapped, false, true},
		{"<Bytes> signature of another message", verifierMsg + "x", wrapped, false, false},
		{"plain signature of the wrapped message", "<Bytes>" + verifierMsg + "</Bytes>", good, false, false},
		{"other message", verifierMsg + "x", good, false, false},
		{"flipped bit in R", verifierMsg, flipped, false, false},
		{"missing schnorrkel marker", verifierMsg, unmarked, false, false},
		{"short signature", verifierMsg, good[:63], false, false},
		{"empty signature", verifierMsg, nil, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := []byte(tc.msg)
			if got := v.Verify(msg, tc.sig); got != tc.want {
				t.Errorf("Verifier.Verify = %v, want %v", got, tc.want)
			}
			if got := pub.Verify(msg, tc.sig); got != tc.want {
				t.Errorf("PublicKey.Verify = %v, want %v (the two must agree)", got, tc.want)
			}
			if got := v.VerifyAllowWrapped(msg, tc.sig); got != tc.wantWrapped {
				t.Errorf("Verifier.VerifyAllowWrapped = %v, want %v", got, tc.wantWrapped)
			}
			if got := pub.VerifyAllowWrapped(msg, tc.sig); got != tc.wantWrapped {
				t.Errorf("PublicKey.VerifyAllowWrapped = %v, want %v (the two must agree)", got, tc.wantWrapped)
			}
		})
	}
}

func TestSignerInterop(t *testing.T) {
	p, err := FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.PublicKey() != p.Public() {
		t.Fatal("signer public key differs from the pair's")
	}
	v, err := NewVerifier(p.Public())
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range []string{"", "a", verifierMsg, strings.Repeat("x", 1000)} {
		sig := s.Sign([]byte(msg))
		if !p.Public().Verify([]byte(msg), sig) {
			t.Fatalf("go-schnorrkel rejects a Signer signature of %q", msg)
		}
		if !v.Verify([]byte(msg), sig) {
			t.Fatalf("Verifier rejects a Signer signature of %q", msg)
		}
		if !v.Verify([]byte(msg), p.Sign([]byte(msg))) {
			t.Fatalf("Verifier rejects a Pair signature of %q", msg)
		}
		if v.Verify([]byte(msg+"!"), sig) {
			t.Fatalf("Verifier accepts a signature of %q for another message", msg)
		}
	}
}

func TestNewVerifierRejectsBadKeys(t *testing.T) {
	var zero PublicKey
	if _, err := NewVerifier(zero); err == nil {
		t.Fatal("identity point accepted")
	}
	var bad PublicKey
	for i := range bad {
		bad[i] = 0xff
	}
	if _, err := NewVerifier(bad); err == nil {
		t.Fatal("non-canonical encoding accepted")
	}
	if _, err := NewSigner(nil); err == nil {
		t.Fatal("nil pair accepted")
	}
}

func BenchmarkSign(b *testing.B) {
	p, _ := FromURI("//Alice")
	s, _ := NewSigner(p)
	msg := []byte(verifierMsg)
	b.Run("Pair", func(b *testing.B) {
		for b.Loop() {
			p.Sign(msg)
		}
	})
	b.Run("Signer", func(b *testing.B) {
		for b.Loop() {
			s.Sign(msg)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	p, _ := FromURI("//Alice")
	msg := []byte(verifierMsg)
	sig := p.Sign(msg)
	pub := p.Public()
	v, _ := NewVerifier(pub)
	b.Run("PublicKey", func(b *testing.B) {
		for b.Loop() {
			pub.Verify(msg, sig)
		}
	})
	b.Run("Verifier", func(b *testing.B) {
		for b.Loop() {
			v.Verify(msg, sig)
		}
	})
}

// TestSignerVerifierConcurrent signs and verifies from many goroutines at once (run
// with -race): the shared key material and transcript labels must not be written.
func TestSignerVerifierConcurrent(t *testing.T) {
	p, err := FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := NewSigner(p)
	v, _ := NewVerifier(p.Public())
	done := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 50 {
				msg := []byte(strings.Repeat("m", g*7+i))
				if !v.Verify(msg, s.Sign(msg)) {
					done <- fmt.Errorf("goroutine %d message %d: signature rejected", g, i)
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
