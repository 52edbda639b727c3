package keys

import (
	"errors"
	"strings"
	"testing"
)

func FuzzSS58Decode(f *testing.F) {
	for _, s := range []string{
		"5HDvhV6WDCjCKyrXqGQSDYqQAzkzabNhctmiDYEqgBC66BsX",
		"16ADqpMa4yzfmWs3nuTSMhfZ2ckeGtvqhPWCNqECEGDcGgU2",
		"5F3sa2TJAWMqDhXG6jhV4N8ko9rLbc4B52kmxXJoN5D3ue8w",
		"InvalidAddress", "", "1", "z", "0x00",
		strings.Repeat("z", MaxSS58Length+1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		pub, prefix, err := SS58Decode(addr)
		if errors.Is(err, ErrSS58TooLong) != (len(addr) > MaxSS58Length) {
			t.Fatalf("%d characters: %v; the length bound is %d", len(addr), err, MaxSS58Length)
		}
		if err != nil {
			if IsValidSS58(addr) {
				t.Fatalf("IsValidSS58 disagrees with SS58Decode for %q", addr)
			}
			return
		}
		// A decoded address re-encodes to an address of the same key and prefix.
		again, againPrefix, err := SS58Decode(SS58Encode(pub, prefix))
		if err != nil || again != pub || againPrefix != prefix {
			t.Fatalf("%q: re-encoding gives %s/%d, %v; want %s/%d", addr, again, againPrefix, err, pub, prefix)
		}
	})
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"//Alice", "/Bob//test", vectorMnemonic + "//Alice///pw", "0x00//1/2", "///", "////", "/", "a/b//c///d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		u, err := ParseURI(uri)
		if err != nil {
			return
		}
		if u.Phrase == "" {
			t.Fatalf("%q: empty phrase accepted", uri)
		}
		for _, j := range u.Junctions {
			if j.Name == "" {
				t.Fatalf("%q: empty junction accepted", uri)
			}
			if strings.Contains(j.Name, "/") {
				t.Fatalf("%q: junction %q contains a slash", uri, j.Name)
			}
			if NewJunction(j.Name, j.Hard) != j {
				t.Fatalf("%q: junction %q is not what NewJunction builds", uri, j.Name)
			}
		}
	})
}
