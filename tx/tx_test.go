package tx

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/tessera-net/tessera/keys"
)

type transferBody struct {
	To     []byte `cbor:"1,keyasint"`
	Amount uint64 `cbor:"2,keyasint"`
}

func alice(t testing.TB) *keys.Pair {
	p, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSignDecodeVerify(t *testing.T) {
	a := alice(t)
	msg, err := NewMsg("accounts/transfer", transferBody{To: make([]byte, 32), Amount: 5})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := Sign(a, Envelope{ChainID: "c", Nonce: 3, Fee: 1000, Msg: msg})
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.VerifySignature(); err != nil {
		t.Fatal(err)
	}
	if d.SignerKey != a.Public() || d.Nonce != 3 || d.Fee != 1000 || d.ChainID != "c" || d.Msg.Type != "accounts/transfer" {
		t.Fatalf("decoded %+v", d.Envelope)
	}
	var body transferBody
	if err := d.Msg.DecodeBody(&body); err != nil || body.Amount != 5 {
		t.Fatalf("body %+v %v", body, err)
	}
}

// The envelope encoding is fixed byte for byte: a client in another language must
// produce exactly these bytes (docs/transactions.md walks through them).
func TestEnvelopeGolden(t *testing.T) {
	a := alice(t)
	bob, _ := keys.FromURI("//Bob")
	pub := a.Public()
	bp := bob.Public()
	msg, err := NewMsg("accounts/transfer", transferBody{To: bp[:], Amount: 1_500_000_000})
	if err != nil {
		t.Fatal(err)
	}
	env := Envelope{ChainID: "tessera-devnet", Signer: pub[:], Nonce: 0, Fee: 1000, Msg: msg}
	got, err := Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "envelope_transfer.hex")
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(golden, []byte(hex.EncodeToString(got)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != string(bytes.TrimSpace(want)) {
		t.Fatalf("envelope encoding changed:\n got %x\nwant %s", got, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	a := alice(t)
	msg, _ := NewMsg("m", transferBody{To: make([]byte, 32), Amount: 1})
	good, _ := Sign(a, Envelope{ChainID: "c", Nonce: 0, Fee: 1, Msg: msg})
	pub := a.Public()
	envBytes, _ := Marshal(Envelope{ChainID: "c", Signer: pub[:], Msg: msg})
	nonCanonical := func() []byte {
		// The same wire tx with the signature length encoded in a longer form than needed.
		w := wireTx{Envelope: envBytes, Signature: a.Sign(envBytes)}
		b, _ := Marshal(w)
		i := bytes.Index(b, append([]byte{0x02, 0x58, 0x40}, w.Signature[:4]...))
		if i < 0 {
			t.Fatal("signature field not found")
		}
		out := append([]byte{}, b[:i+1]...)
		out = append(out, 0x59, 0x00, 0x40)
		return append(out, b[i+3:]...)
	}()
	mk := func(w any) []byte { b, _ := Marshal(w); return b }
	cases := []struct {
		name string
		in   []byte
		code Code
	}{
		{"empty", nil, CodeMalformed},
		{"garbage", []byte("hello"), CodeMalformed},
		{"trailing bytes", append(append([]byte{}, good...), 0), CodeMalformed},
		{"non-canonical length", nonCanonical, CodeMalformed},
		{"short signature", mk(wireTx{Envelope: envBytes, Signature: []byte{1, 2}}), CodeMalformed},
		{"unknown field", mk(map[int]any{1: envBytes, 2: make([]byte, 64), 3: 1}), CodeMalformed},
		{"short signer", mk(wireTx{Envelope: mk(Envelope{ChainID: "c", Signer: []byte{1}, Msg: msg}), Signature: make([]byte, 64)}), CodeMalformed},
		{"no chain id", mk(wireTx{Envelope: mk(Envelope{Signer: pub[:], Msg: msg}), Signature: make([]byte, 64)}), CodeMalformed},
		{"no message type", mk(wireTx{Envelope: mk(Envelope{ChainID: "c", Signer: pub[:]}), Signature: make([]byte, 64)}), CodeMalformed},
		{"too large", make([]byte, MaxTxBytes+1), CodeTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.in)
			if CodeOf(err) != c.code {
				t.Fatalf("code %s (%v), want %s", CodeOf(err), err, c.code)
			}
		})
	}
	// A valid structure with a wrong signature decodes but fails verification.
	d, err := Decode(mk(wireTx{Envelope: envBytes, Signature: make([]byte, 64)}))
	if err != nil {
		t.Fatal(err)
	}
	if CodeOf(d.VerifySignature()) != CodeBadSignature {
		t.Fatal("zero signature verified")
	}
}

// FuzzDecode: the decoder never panics, and whatever it accepts re-encodes to the same
// bytes (one value, one encoding).
func FuzzDecode(f *testing.F) {
	a := alice(f)
	msg, _ := NewMsg("accounts/transfer", transferBody{To: make([]byte, 32), Amount: 7})
	good, _ := Sign(a, Envelope{ChainID: "tessera-devnet", Nonce: 1, Fee: 1000, Msg: msg})
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{0xa2, 0x01, 0x40, 0x02, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Decode(b)
		if err != nil {
			if CodeOf(err) == CodeOK || CodeOf(err) == CodeInternal {
				t.Fatalf("decode error without a rejection code: %v", err)
			}
			return
		}
		again, err := Marshal(wireTx{Envelope: d.SignBytes, Signature: d.Signature})
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted bytes do not re-encode identically")
		}
		_ = d.VerifySignature()
	})
}

func BenchmarkDecodeVerify(b *testing.B) {
	a := alice(b)
	msg, _ := NewMsg("accounts/transfer", transferBody{To: make([]byte, 32), Amount: 7})
	raw, _ := Sign(a, Envelope{ChainID: "tessera-devnet", Nonce: 1, Fee: 1000, Msg: msg})
	b.ReportAllocs()
	for b.Loop() {
		d, err := Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := d.VerifySignature(); err != nil {
			b.Fatal(err)
		}
	}
}

// UnmarshalState reads what Marshal wrote; unlike Unmarshal it skips the canonical
// check, so it is only for bytes the chain itself stored.
func TestUnmarshalState(t *testing.T) {
	type rec struct {
		A uint64 `cbor:"1,keyasint"`
		B []byte `cbor:"2,keyasint"`
	}
	in := rec{A: 300, B: []byte("x")}
	b, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out rec
	if err := UnmarshalState(b, &out); err != nil || out.A != 300 || string(out.B) != "x" {
		t.Fatalf("round trip: %+v, %v", out, err)
	}
	// 1 as a two-byte integer: valid CBOR, not canonical.
	var v uint64
	if err := Unmarshal([]byte{0x19, 0x00, 0x01}, &v); err == nil {
		t.Fatal("Unmarshal accepted a non-canonical integer")
	}
	if err := UnmarshalState([]byte{0x19, 0x00, 0x01}, &v); err != nil || v != 1 {
		t.Fatalf("UnmarshalState: %d, %v", v, err)
	}
	if err := UnmarshalState([]byte{0xff}, &v); err == nil {
		t.Fatal("UnmarshalState accepted bytes that are not CBOR")
	}
}
