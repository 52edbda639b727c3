package signed

import (
	"net/http"
	"testing"
	"time"

	"github.com/tessera-net/tessera/keys"
)

func TestVerify(t *testing.T) {
	alice, _ := keys.FromURI("//Alice")
	bob, _ := keys.FromURI("//Bob")
	t0 := time.Unix(1_800_000_000, 0)
	now := t0
	v := NewVerifier(func() time.Time { return now })
	body := []byte(`{"model":"m"}`)
	headers := func(r Request) http.Header { h := http.Header{}; r.Headers(h); return h }
	good := Sign(alice, "POST", "/v1/chat/completions", body, t0)

	if _, e := v.Verify("POST", "/v1/chat/completions", headers(good), body, nil); e != nil {
		t.Fatalf("good request refused: %v", e)
	}
	onlyBob := func(p keys.PublicKey) bool { return p == bob.Public() }
	cases := []struct {
		name  string
		h     http.Header
		path  string
		body  []byte
		allow func(keys.PublicKey) bool
		at    time.Time
		want  Code
	}{
		{"unsigned", http.Header{}, "/v1/chat/completions", body, nil, t0, CodeMissing},
		{"replayed", headers(good), "/v1/chat/completions", body, nil, t0, CodeReplayed},
		{"other body", headers(Sign(alice, "POST", "/v1/chat/completions", body, t0.Add(time.Second))), "/v1/chat/completions", []byte("{}"), nil, t0, CodeBadSignature},
		{"other path", headers(Sign(alice, "POST", "/v1/completions", body, t0.Add(2*time.Second))), "/v1/chat/completions", body, nil, t0, CodeBadSignature},
		{"forbidden", headers(Sign(alice, "POST", "/x", body, t0)), "/x", body, onlyBob, t0, CodeForbidden},
		{"stale", headers(Sign(alice, "POST", "/x", body, t0.Add(-61*time.Second))), "/x", body, nil, t0, CodeStale},
		{"future", headers(Sign(alice, "POST", "/x", body, t0.Add(31*time.Second))), "/x", body, nil, t0, CodeFuture},
		{"malformed account", http.Header{HeaderAccount: {"nope"}, HeaderTimestamp: {"1"}, HeaderSignature: {"00"}}, "/x", body, nil, t0, CodeMalformed},
		{"malformed timestamp", http.Header{HeaderAccount: {alice.Public().String()}, HeaderTimestamp: {"soon"}, HeaderSignature: {"00"}}, "/x", body, nil, t0, CodeMalformed},
		{"short signature", http.Header{HeaderAccount: {alice.Public().String()}, HeaderTimestamp: {"1"}, HeaderSignature: {"00"}}, "/x", body, nil, t0, CodeMalformed},
	}
	for _, c := range cases {
		now = c.at
		_, e := v.Verify("POST", c.path, c.h, c.body, c.allow)
		if e == nil || e.Code != c.want {
			t.Errorf("%s: got %v, want %s", c.name, e, c.want)
		}
	}
	// A refused request is not remembered: the same one, allowed, passes once.
	now = t0
	fb := Sign(alice, "POST", "/y", body, t0)
	if _, e := v.Verify("POST", "/y", headers(fb), body, onlyBob); e == nil || e.Code != CodeForbidden {
		t.Fatalf("want forbidden, got %v", e)
	}
	if _, e := v.Verify("POST", "/y", headers(fb), body, nil); e != nil {
		t.Fatalf("refused request was remembered: %v", e)
	}
	// After the window the cache forgets, and the timestamp is stale anyway.
	now = t0.Add(2 * time.Minute)
	if _, e := v.Verify("POST", "/y", headers(fb), body, nil); e == nil || e.Code != CodeStale {
		t.Fatalf("want stale, got %v", e)
	}
	if _, e := v.Verify("POST", "/y", headers(Sign(alice, "POST", "/y", body, now)), body, nil); e != nil {
		t.Fatal(e)
	}
	if n := len(v.seen); n != 1 {
		t.Fatalf("cache holds %d ids, want the one fresh id", n)
	}
}

func BenchmarkVerify(b *testing.B) {
	alice, _ := keys.FromURI("//Alice")
	v := NewVerifier(nil)
	body := make([]byte, 2048)
	hs := make([]http.Header, b.N)
	for i := range hs {
		hs[i] = http.Header{}
		Sign(alice, "POST", "/v1/chat/completions", body, time.Now()).Headers(hs[i])
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, e := v.Verify("POST", "/v1/chat/completions", hs[i], body, nil); e != nil {
			b.Fatal(e)
		}
	}
}
