package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func gatewayCLI(t *testing.T, home string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"--home", home}, args...), strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestGatewayKeysCLI(t *testing.T) {
	home := t.TempDir()
	out, errs, code := gatewayCLI(t, home, "gateway", "keys", "create", "alice", "--rpm", "120", "-o", "json")
	if code != 0 {
		t.Fatalf("create: %d %s", code, errs)
	}
	var created struct {
		ID            int64   `json:"id"`
		Name          string  `json:"name"`
		Secret        string  `json:"secret"`
		RatePerMinute float64 `json:"rate_per_minute"`
		Burst         int     `json:"burst"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if created.ID != 1 || created.Name != "alice" || !strings.HasPrefix(created.Secret, "tsk-") || created.RatePerMinute != 120 || created.Burst != 20 {
		t.Fatalf("created %+v", created)
	}
	if _, errs, code := gatewayCLI(t, home, "gateway", "keys", "create", "alice"); code != 1 || !strings.Contains(errs, "already exists") {
		t.Fatalf("duplicate name: %d %s", code, errs)
	}
	if out, _, code := gatewayCLI(t, home, "gateway", "keys", "create", "bob", "--rpm", "0"); code != 0 || !strings.Contains(out, "unlimited") || !strings.Contains(out, "tsk-") {
		t.Fatalf("create bob: %d %s", code, out)
	}
	if out, errs, code := gatewayCLI(t, home, "gateway", "keys", "revoke", "--id", "1"); code != 0 || !strings.Contains(out, `"alice" (id 1) revoked`) {
		t.Fatalf("revoke: %d %s %s", code, out, errs)
	}
	if _, errs, code := gatewayCLI(t, home, "gateway", "keys", "revoke", "--name", "alice"); code != 1 || !strings.Contains(errs, "already revoked") {
		t.Fatalf("revoke twice: %d %s", code, errs)
	}
	out, _, code = gatewayCLI(t, home, "gateway", "keys", "list")
	if code != 0 || !strings.Contains(out, "alice") || !strings.Contains(out, "revoked") || !strings.Contains(out, "bob") {
		t.Fatalf("list: %d %s", code, out)
	}
	if strings.Contains(out, created.Secret) {
		t.Fatal("list shows a secret")
	}
	// The database is where --db says.
	db := filepath.Join(t.TempDir(), "k.db")
	if _, errs, code := gatewayCLI(t, home, "gateway", "--db", db, "keys", "list", "-o", "json"); code != 0 {
		t.Fatalf("list --db: %s", errs)
	}
}

// A key named "1" is revoked by --name 1, not taken for the key with id 1; revoke
// insists on exactly one of --id and --name.
func TestGatewayKeysRevokeByIDOrName(t *testing.T) {
	home := t.TempDir()
	for _, name := range []string{"alice", "1"} { // ids 1 and 2
		if _, errs, code := gatewayCLI(t, home, "gateway", "keys", "create", name); code != 0 {
			t.Fatalf("create %s: %s", name, errs)
		}
	}
	status := func() map[string]bool {
		out, errs, code := gatewayCLI(t, home, "gateway", "keys", "list", "-o", "json")
		if code != 0 {
			t.Fatalf("list: %s", errs)
		}
		var keys []struct {
			Name      string  `json:"name"`
			RevokedAt *string `json:"revoked_at"`
		}
		if err := json.Unmarshal([]byte(out), &keys); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		revoked := map[string]bool{}
		for _, k := range keys {
			revoked[k.Name] = k.RevokedAt != nil
		}
		return revoked
	}
	if out, errs, code := gatewayCLI(t, home, "gateway", "keys", "revoke", "--name", "1"); code != 0 || !strings.Contains(out, `"1" (id 2) revoked`) {
		t.Fatalf("revoke --name 1: %d %s %s", code, out, errs)
	}
	if got := status(); !got["1"] || got["alice"] {
		t.Fatalf("after revoke --name 1: revoked %v, want only the key named 1", got)
	}
	if out, errs, code := gatewayCLI(t, home, "gateway", "keys", "revoke", "--id", "1"); code != 0 || !strings.Contains(out, `"alice" (id 1) revoked`) {
		t.Fatalf("revoke --id 1: %d %s %s", code, out, errs)
	}
	for _, args := range [][]string{{}, {"--id", "1", "--name", "alice"}, {"alice"}} {
		_, errs, code := gatewayCLI(t, home, append([]string{"gateway", "keys", "revoke"}, args...)...)
		if code != 2 || !(strings.Contains(errs, "exactly one of --id or --name") || strings.Contains(errs, "with --id or --name")) {
			t.Errorf("revoke %v: exit %d (%s), want 2 and a clear error", args, code, errs)
		}
	}
	if _, errs, code := gatewayCLI(t, home, "gateway", "keys", "revoke", "--id", "9"); code != 1 || !strings.Contains(errs, "no key with id 9") {
		t.Fatalf("revoke --id 9: %d %s", code, errs)
	}
}

func TestGatewayServeUsageErrors(t *testing.T) {
	home := t.TempDir()
	for _, args := range [][]string{
		{"gateway", "serve", "--model", "nonetuid", "--from-uri", "//Alice"},
		{"gateway", "serve", "--model", "m=70000", "--from-uri", "//Alice"},
		{"gateway", "serve", "--from-uri", "not a uri"},
	} {
		if _, errs, code := gatewayCLI(t, home, args...); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", args, code, errs)
		}
	}
}
