package keys

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tessera-net/tessera/internal/scale"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"
	"github.com/gtank/merlin"
	"golang.org/x/crypto/blake2b"
)

// Junction is one step of a derivation path: hard ("//name") or soft ("/name").
type Junction struct {
	// Hard is true for a hard junction, which cannot be derived from the public key.
	Hard bool
	// ChainCode is the 32-byte chain code: a number as u64 little-endian, otherwise the
	// SCALE encoding of the text (compact length ‖ bytes), blake2b-256 hashed when longer
	// than 32 bytes — as Substrate's DeriveJunction does.
	ChainCode [32]byte
	// Name is the text of the junction as written.
	Name string
}

// URI is a parsed Substrate secret URI.
type URI struct {
	Phrase    string // a mnemonic or a 0x-hex seed
	Junctions []Junction
	Password  string // the BIP39 passphrase after "///"
}

// ParseURI splits a secret URI into its phrase, junctions and password. A URI with no
// phrase uses DevPhrase.
func ParseURI(uri string) (URI, error) {
	var u URI
	if strings.TrimSpace(uri) == "" {
		return u, errors.New("empty secret URI")
	}
	rest := uri
	if i := strings.Index(rest, "///"); i >= 0 {
		u.Password = rest[i+3:]
		rest = rest[:i]
	}
	phrase := rest
	path := ""
	if i := strings.Index(rest, "/"); i >= 0 {
		phrase, path = rest[:i], rest[i:]
	}
	u.Phrase = strings.Join(strings.Fields(phrase), " ")
	if u.Phrase == "" {
		u.Phrase = DevPhrase
	}
	for path != "" {
		hard := strings.HasPrefix(path, "//")
		if hard {
			path = path[2:]
		} else {
			path = path[1:]
		}
		name := path
		if i := strings.Index(path, "/"); i >= 0 {
			name, path = path[:i], path[i:]
		} else {
			path = ""
		}
		if name == "" {
			return u, fmt.Errorf("secret URI %q has an empty junction", redactURI(uri))
		}
		u.Junctions = append(u.Junctions, NewJunction(name, hard))
	}
	return u, nil
}

// redactURI keeps the path of a URI but hides its phrase and password, for errors.
func redactURI(uri string) string {
	if i := strings.Index(uri, "/"); i > 0 {
		return "<phrase>" + uri[i:]
	}
	return uri
}

// NewJunction builds the junction for one path element.
func NewJunction(name string, hard bool) Junction {
	j := Junction{Hard: hard, Name: name}
	var code []byte
	if n, err := strconv.ParseUint(name, 10, 64); err == nil {
		code = binary.LittleEndian.AppendUint64(nil, n)
	} else {
		code = append(scale.AppendCompact(nil, uint64(len(name))), name...)
	}
	if len(code) > 32 {
		h := blake2b.Sum256(code)
		code = h[:]
	}
	copy(j.ChainCode[:], code)
	return j
}

// Derive walks the junctions from this pair and returns the derived pair. A hard
// junction yields a new mini-secret; a soft one derives the secret key directly, after
// which the pair has no seed.
func (k *Pair) Derive(js ...Junction) (*Pair, error) {
	cur := k
	for _, j := range js {
		t := merlin.NewTranscript("SchnorrRistrettoHDKD")
		t.AppendMessage([]byte("sign-bytes"), nil)
		if j.Hard {
			t.AppendMessage([]byte("chain-code"), j.ChainCode[:])
			sk := cur.secret.Encode()
			t.AppendMessage([]byte("secret-key"), sk[:])
			var raw [32]byte
			copy(raw[:], t.ExtractBytes([]byte("HDKD-hard"), 32))
			ms, err := schnorrkel.NewMiniSecretKeyFromRaw(raw)
			if err != nil {
				return nil, fmt.Errorf("hard junction %q: %w", j.Name, err)
			}
			cur = pairFromMini(ms)
			continue
		}
		ek, err := cur.secret.DeriveKey(t, j.ChainCode)
		if err != nil {
			return nil, fmt.Errorf("soft junction %q: %w", j.Name, err)
		}
		dsk, err := ek.Secret()
		if err != nil {
			return nil, fmt.Errorf("soft junction %q: %w", j.Name, err)
		}
		// A soft-derived key gets a fresh random signing nonce, as in schnorrkel itself;
		// the public key does not depend on it.
		var nonce [32]byte
		if _, err := rand.Read(nonce[:]); err != nil {
			return nil, fmt.Errorf("soft junction %q: nonce: %w", j.Name, err)
		}
		sk := schnorrkel.NewSecretKey(dsk.Encode(), nonce)
		pub, err := sk.Public()
		if err != nil {
			return nil, fmt.Errorf("soft junction %q: %w", j.Name, err)
		}
		cur = &Pair{secret: sk, nonce: nonce, pub: pub.Encode()}
	}
	return cur, nil
}
