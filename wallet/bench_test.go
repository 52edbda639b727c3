package wallet

import (
	"testing"

	"github.com/tessera-net/tessera/internal/testutil/vectorfile"
)

// BenchmarkDeriveNaClKey is the cost of opening or writing one $NACL key file (Argon2i,
// 8 passes over 512 MiB). Run it with a small count:
// go test -run '^$' -bench DeriveNaClKey -benchtime 2x ./wallet/
func BenchmarkDeriveNaClKey(b *testing.B) {
	for b.Loop() {
		DeriveNaClKey([]byte("thisisafakepassword"))
	}
}

// BenchmarkOpenNaCl is the secretbox layer alone, for a key file's size.
func BenchmarkOpenNaCl(b *testing.B) {
	v := vectors(b)
	key := [32]byte{}
	copy(key[:], vectorfile.Hex(b, v.Wallet.NaCl.DerivedKey))
	file := vectorfile.Hex(b, v.Wallet.NaCl.File)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := OpenNaCl(file, &key); err != nil {
			b.Fatal(err)
		}
	}
}
