package keys

import (
	"bytes"
	"strings"
	"testing"
)

// The benchmarks here use 128-byte messages, the size of a typical signed wire message
// or transaction body; verifier_test.go benchmarks the wire message itself. Each reports
// ops/s besides ns/op. Run: go test -run '^$' -bench . -benchmem -cpu 1 ./keys/

func reportOpsPerSec(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "ops/s")
	}
}

func BenchmarkSign128(b *testing.B) {
	p, err := FromURI("//Alice")
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewSigner(p)
	if err != nil {
		b.Fatal(err)
	}
	msg := bytes.Repeat([]byte{0x5a}, 128)
	b.Run("Pair", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Sign(msg)
		}
		reportOpsPerSec(b)
	})
	b.Run("Signer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.Sign(msg)
		}
		reportOpsPerSec(b)
	})
}

func BenchmarkVerify128(b *testing.B) {
	p, err := FromURI("//Alice")
	if err != nil {
		b.Fatal(err)
	}
	msg := bytes.Repeat([]byte{0x5a}, 128)
	sig := p.Sign(msg)
	pub := p.Public()
	v, err := NewVerifier(pub)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("PublicKey", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !pub.Verify(msg, sig) {
				b.Fatal("signature does not verify")
			}
		}
		reportOpsPerSec(b)
	})
	b.Run("Verifier", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !v.Verify(msg, sig) {
				b.Fatal("signature does not verify")
			}
		}
		reportOpsPerSec(b)
	})
}

// BenchmarkFromMnemonic is the cost of turning a 12-word mnemonic into a pair (PBKDF2
// with 2048 rounds dominates).
func BenchmarkFromMnemonic(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FromMnemonic(vectorMnemonic, ""); err != nil {
			b.Fatal(err)
		}
	}
	reportOpsPerSec(b)
}

// BenchmarkFromURIHard is a mnemonic plus one hard junction, as in a derived hotkey.
func BenchmarkFromURIHard(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FromURI(vectorMnemonic + "//hotkey"); err != nil {
			b.Fatal(err)
		}
	}
	reportOpsPerSec(b)
}

func BenchmarkSS58(b *testing.B) {
	p, err := FromURI("//Alice")
	if err != nil {
		b.Fatal(err)
	}
	addr := p.Public().String()
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			SS58Encode(p.Public(), DefaultSS58Prefix)
		}
		reportOpsPerSec(b)
	})
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := SS58Decode(addr); err != nil {
				b.Fatal(err)
			}
		}
		reportOpsPerSec(b)
	})
	// A hostile 400,000-character "address" (the size that stalled a node's queries for
	// seconds when it was decoded): refused by its length, in constant time.
	hostile := strings.Repeat("z", 400_000)
	b.Run("RefuseOversized", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := SS58Decode(hostile); err == nil {
				b.Fatal("an oversized address decoded")
			}
		}
		reportOpsPerSec(b)
	})
}
