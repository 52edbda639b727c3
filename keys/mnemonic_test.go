package keys

import (
	"errors"
	"strings"
	"testing"
)

const vectorMnemonic = "old leopard transfer rib spatial phone calm indicate online fire caution review"

func TestMnemonicErrors(t *testing.T) {
	words := strings.Fields(vectorMnemonic)
	swapped := append([]string(nil), words...)
	swapped[0], swapped[1] = swapped[1], swapped[0]
	lastChanged := append([]string(nil), words...)
	lastChanged[11] = "abandon"
	tests := []struct {
		name    string
		phrase  string
		wantErr string // "" means valid
	}{
		{"vector", vectorMnemonic, ""},
		{"extra whitespace", "  " + strings.Join(words, "   \t") + "\n", ""},
		{"dev phrase", DevPhrase, ""},
		{"24 words", "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art", ""},
		{"empty", "", "it has 0 word(s)"},
		{"11 words", strings.Join(words[:11], " "), "it has 11 word(s); a mnemonic has 12, 15, 18, 21 or 24 words"},
		{"13 words", vectorMnemonic + " fire", "it has 13 word(s)"},
		{"unknown word", strings.Replace(vectorMnemonic, "leopard", "leopardx", 1), `word 2 ("leopardx") is not in the BIP39 English word list`},
		{"capitalised word", strings.Replace(vectorMnemonic, "old", "Old", 1), `word 1 ("Old") is not in the BIP39 English word list`},
		{"non-English word", strings.Replace(vectorMnemonic, "review", "ábaco", 1), `word 12 ("ábaco")`},
		{"swapped words", strings.Join(swapped, " "), "checksum does not match"},
		{"last word changed", strings.Join(lastChanged, " "), "checksum does not match"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateMnemonic(tc.phrase)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want error %q, got nil", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q does not say %q", err, tc.wantErr)
			}
			if !errors.Is(err, ErrInvalidMnemonic) {
				t.Fatalf("error %q does not wrap ErrInvalidMnemonic", err)
			}
			if _, err := FromMnemonic(tc.phrase, ""); !errors.Is(err, ErrInvalidMnemonic) {
				t.Fatalf("FromMnemonic accepted or misreported it: %v", err)
			}
		})
	}
}

func TestNewMnemonic(t *testing.T) {
	for _, words := range ValidMnemonicWords {
		m, err := NewMnemonic(words)
		if err != nil {
			t.Fatalf("NewMnemonic(%d): %v", words, err)
		}
		if n := len(strings.Fields(m)); n != words {
			t.Fatalf("NewMnemonic(%d) has %d words", words, n)
		}
		ent, err := MnemonicEntropy(m)
		if err != nil {
			t.Fatalf("NewMnemonic(%d) is not valid: %v", words, err)
		}
		if len(ent) != words/3*4 {
			t.Fatalf("NewMnemonic(%d): %d bytes of entropy, want %d", words, len(ent), words/3*4)
		}
		other, _ := NewMnemonic(words)
		if other == m {
			t.Fatalf("two NewMnemonic(%d) calls returned the same phrase", words)
		}
	}
	for _, words := range []int{0, 3, 11, 13, 25, -12} {
		if _, err := NewMnemonic(words); err == nil || !strings.Contains(err.Error(), "12, 15, 18, 21 or 24") {
			t.Errorf("NewMnemonic(%d): want a word-count error, got %v", words, err)
		}
	}
}

func TestMnemonicPassphrase(t *testing.T) {
	// "///password" in a URI is the BIP39 passphrase: it changes the key.
	plain, err := FromURI(vectorMnemonic)
	if err != nil {
		t.Fatal(err)
	}
	withPw, err := FromURI(vectorMnemonic + "///secret")
	if err != nil {
		t.Fatal(err)
	}
	direct, err := FromMnemonic(vectorMnemonic, "secret")
	if err != nil {
		t.Fatal(err)
	}
	if withPw.Public() == plain.Public() {
		t.Fatal("the passphrase did not change the key")
	}
	if withPw.Public() != direct.Public() {
		t.Fatalf("URI password %s != FromMnemonic passphrase %s", withPw.Public(), direct.Public())
	}
}
