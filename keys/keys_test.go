package keys

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/internal/scale"

	"golang.org/x/crypto/blake2b"
)

func TestParseURI(t *testing.T) {
	long := "PathNameLongerThan32BytesWhichShouldBeHashed"
	longCode := blake2b.Sum256(append(scale.AppendCompact(nil, uint64(len(long))), long...))
	var aliceCode [32]byte
	aliceCode[0] = 5 << 2
	copy(aliceCode[1:], "Alice")
	var numCode [32]byte
	binary.LittleEndian.PutUint64(numCode[:], 42)

	tests := []struct {
		name      string
		uri       string
		phrase    string
		password  string
		junctions []Junction
		wantErr   string
	}{
		{name: "phrase only", uri: vectorMnemonic, phrase: vectorMnemonic},
		{name: "dev hard", uri: "//Alice", phrase: DevPhrase, junctions: []Junction{{Hard: true, Name: "Alice", ChainCode: aliceCode}}},
		{name: "soft", uri: "/Alice", phrase: DevPhrase, junctions: []Junction{{Hard: false, Name: "Alice", ChainCode: aliceCode}}},
		{name: "mixed", uri: vectorMnemonic + "//Alice/42", phrase: vectorMnemonic, junctions: []Junction{
			{Hard: true, Name: "Alice", ChainCode: aliceCode}, {Hard: false, Name: "42", ChainCode: numCode}}},
		{name: "long name hashed", uri: "//" + long, phrase: DevPhrase, junctions: []Junction{{Hard: true, Name: long, ChainCode: longCode}}},
		{name: "password", uri: vectorMnemonic + "//Alice///pa/ss word", phrase: vectorMnemonic, password: "pa/ss word",
			junctions: []Junction{{Hard: true, Name: "Alice", ChainCode: aliceCode}}},
		{name: "password no path", uri: vectorMnemonic + "///pw", phrase: vectorMnemonic, password: "pw"},
		{name: "hex seed", uri: "0x" + strings.Repeat("ab", 32) + "//1", phrase: "0x" + strings.Repeat("ab", 32),
			junctions: []Junction{NewJunction("1", true)}},
		{name: "spaces collapsed", uri: "  old  leopard\ttransfer ", phrase: "old leopard transfer"},
		{name: "empty", uri: "", wantErr: "empty secret URI"},
		{name: "blank", uri: "  \t", wantErr: "empty secret URI"},
		{name: "empty junction", uri: vectorMnemonic + "//Alice//", wantErr: "empty junction"},
		{name: "empty soft junction", uri: "/a//b/", wantErr: "empty junction"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := ParseURI(tc.uri)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want error %q, got %v", tc.wantErr, err)
				}
				if strings.Contains(err.Error(), "leopard") {
					t.Fatalf("error reveals the phrase: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURI: %v", err)
			}
			if u.Phrase != tc.phrase || u.Password != tc.password {
				t.Fatalf("phrase %q password %q, want %q %q", u.Phrase, u.Password, tc.phrase, tc.password)
			}
			if len(u.Junctions) != len(tc.junctions) {
				t.Fatalf("junctions %+v, want %+v", u.Junctions, tc.junctions)
			}
			for i := range u.Junctions {
				if u.Junctions[i] != tc.junctions[i] {
					t.Fatalf("junction %d = %+v, want %+v", i, u.Junctions[i], tc.junctions[i])
				}
			}
		})
	}
}

func TestFromURIErrors(t *testing.T) {
	tests := []struct {
		uri, want string
	}{
		{"0xzz", "not valid hex"},
		{"0x" + strings.Repeat("ab", 31), "32 bytes (mini-secret) or 64 bytes"},
		{"not a mnemonic//Alice", "invalid mnemonic"},
		{"//", "empty junction"},
		// A 64-byte secret whose scalar is not canonical (all 0xff) is refused.
		{"0x" + strings.Repeat("ff", 64), "secret key"},
	}
	for _, tc := range tests {
		if _, err := FromURI(tc.uri); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FromURI(%.20q): want error %q, got %v", tc.uri, tc.want, err)
		}
	}
}

func TestFromSeedErrors(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 63, 65, 96} {
		if _, err := FromSeed(make([]byte, n)); err == nil || !strings.Contains(err.Error(), "got "+itoa(n)) {
			t.Errorf("FromSeed(%d bytes): want a length error, got %v", n, err)
		}
	}
	if _, err := FromEd25519Secret(make([]byte, 32)); err == nil {
		t.Error("FromEd25519Secret accepted 32 bytes")
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	alice, err := FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	soft, err := FromURI(vectorMnemonic + "/soft/1")
	if err != nil {
		t.Fatal(err)
	}
	softSecret := soft.SecretBytes()
	fromSecret, err := FromSeed(softSecret[:])
	if err != nil {
		t.Fatal(err)
	}
	generated, err := NewMnemonic(24)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := FromMnemonic(generated, "")
	if err != nil {
		t.Fatal(err)
	}
	pairs := map[string]*Pair{"//Alice": alice, "soft-derived": soft, "from 64-byte secret": fromSecret, "generated": gen}
	msgs := map[string][]byte{
		"empty":  {},
		"1 byte": {0},
		"128 B":  bytes.Repeat([]byte{0xa5}, 128),
		"64 KiB": bytes.Repeat([]byte("tessera"), 64<<10/7),
	}
	for pn, p := range pairs {
		for mn, msg := range msgs {
			t.Run(pn+"/"+mn, func(t *testing.T) {
				sig := p.Sign(msg)
				if len(sig) != SignatureSize {
					t.Fatalf("signature is %d bytes", len(sig))
				}
				if sig[63]&0x80 == 0 {
					t.Fatal("signature lacks the schnorrkel marker bit")
				}
				pub := p.Public()
				if !pub.Verify(msg, sig) {
					t.Fatal("own signature does not verify")
				}
				if again := p.Sign(msg); bytes.Equal(again, sig) || !pub.Verify(msg, again) {
					t.Fatal("signatures should be randomised and both valid")
				}
				tampered := append(append([]byte(nil), msg...), 1)
				if pub.Verify(tampered, sig) {
					t.Fatal("signature verifies for a longer message")
				}
				if len(msg) > 0 {
					flipped := append([]byte(nil), msg...)
					flipped[len(flipped)-1] ^= 0x80
					if pub.Verify(flipped, sig) {
						t.Fatal("signature verifies for a changed message")
					}
				}
				for i := 0; i < SignatureSize; i += 7 {
					bad := append([]byte(nil), sig...)
					bad[i] ^= 0x04
					if pub.Verify(msg, bad) {
						t.Fatalf("signature with byte %d changed verifies", i)
					}
				}
				if pub.Verify(msg, sig[:63]) || pub.Verify(msg, append(append([]byte(nil), sig...), 0)) {
					t.Fatal("signature of the wrong length verifies")
				}
				for on, o := range pairs {
					if o.Public() != pub && o.Public().Verify(msg, sig) {
						t.Fatalf("signature verifies under %s's key", on)
					}
				}
			})
		}
	}
	var zero PublicKey
	if zero.Verify([]byte("x"), alice.Sign([]byte("x"))) {
		t.Fatal("the zero key verified a signature")
	}
}

func TestSoftDerivationKeepsPublicDeterministic(t *testing.T) {
	a, err := FromURI("//Alice/soft")
	if err != nil {
		t.Fatal(err)
	}
	b, err := FromURI("//Alice/soft")
	if err != nil {
		t.Fatal(err)
	}
	if a.Public() != b.Public() {
		t.Fatalf("soft derivation gave %s then %s", a.Public(), b.Public())
	}
	if a.Seed() != nil {
		t.Fatal("a soft-derived pair has no mini-secret")
	}
	sa, sb := a.SecretBytes(), b.SecretBytes()
	if !bytes.Equal(sa[:32], sb[:32]) {
		t.Fatal("the secret scalar of a soft-derived key must be deterministic")
	}
}

func TestSS58Prefixes(t *testing.T) {
	alice, _ := FromURI("//Alice")
	pub := alice.Public()
	for _, prefix := range []uint16{0, 1, 2, 42, 63, 64, 65, 255, 256, 1000, 16383} {
		addr := SS58Encode(pub, prefix)
		got, gotPrefix, err := SS58Decode(addr)
		if err != nil || got != pub || gotPrefix != prefix {
			t.Errorf("prefix %d: %s decodes to %s, %d, %v", prefix, addr, got, gotPrefix, err)
		}
		parsed, err := ParsePublicKey(addr)
		if err != nil || parsed != pub {
			t.Errorf("prefix %d: ParsePublicKey(%s) = %s, %v", prefix, addr, parsed, err)
		}
	}
	// Substrate keeps the low 14 bits of a larger prefix.
	if SS58Encode(pub, 16384+42) != SS58Encode(pub, 42) {
		t.Error("a prefix above 16383 is not masked to 14 bits")
	}
	for _, p := range []int{-1, 16384, 1 << 20} {
		if err := CheckSS58Prefix(p); err == nil {
			t.Errorf("CheckSS58Prefix(%d) accepted it", p)
		}
	}
	for _, p := range []int{0, 42, 16383} {
		if err := CheckSS58Prefix(p); err != nil {
			t.Errorf("CheckSS58Prefix(%d): %v", p, err)
		}
	}
}

func TestSS58DecodeErrors(t *testing.T) {
	alice, _ := FromURI("//Alice")
	good := alice.Public().String()
	tests := []struct {
		addr, want string
	}{
		{"", "empty SS58 address"},
		{"0OIl", "not valid base58"},
		{good[:len(good)-1], "SS58 address"},
		{good + "1", "holds"},
		{good[:20] + string(rune(good[20]^1)) + good[21:], "checksum"},
		{"3yQ", "holds"},
	}
	for _, tc := range tests {
		if _, _, err := SS58Decode(tc.addr); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SS58Decode(%q): want %q, got %v", tc.addr, tc.want, err)
		}
	}
}

// The longest SS58 address of a 32-byte key (the largest key under a two-byte prefix) is
// exactly MaxSS58Length, and decodes; one character more is refused by its length.
func TestSS58LengthBound(t *testing.T) {
	var pub PublicKey
	for i := range pub {
		pub[i] = 0xff
	}
	longest := ""
	for _, p := range []uint16{64, 4095, MaxSS58Prefix} {
		if a := SS58Encode(pub, p); len(a) > len(longest) {
			longest = a
		}
	}
	if len(longest) != MaxSS58Length {
		t.Fatalf("the longest address is %d characters, MaxSS58Length is %d", len(longest), MaxSS58Length)
	}
	if _, _, err := SS58Decode(longest); err != nil {
		t.Fatalf("the longest address: %v", err)
	}
	for _, n := range []int{MaxSS58Length + 1, 400_000} {
		hostile := strings.Repeat("z", n)
		_, _, err := SS58Decode(hostile)
		if !errors.Is(err, ErrSS58TooLong) {
			t.Fatalf("%d characters: %v, want ErrSS58TooLong", n, err)
		}
		if want := fmt.Sprintf("%d characters, at most %d", n, MaxSS58Length); !strings.Contains(err.Error(), want) {
			t.Fatalf("%d characters: %q does not say %q", n, err, want)
		}
		_, err = ParsePublicKey(hostile)
		if !errors.Is(err, ErrSS58TooLong) || len(err.Error()) > 200 {
			t.Fatalf("ParsePublicKey of %d characters: %.300v", n, err)
		}
	}
}
