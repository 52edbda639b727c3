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
	if out, errs, code := gatewayCLI(t, home, "gateway", "keys", "revoke", "1"); code != 0 || !strings.Contains(out, `"alice" (id 1) revoked`) {
		t.Fatalf("revoke: %d %s %s", code, out, errs)
	}
	if _, errs, code := gatewayCLI(t, home, "gateway", "keys", "revoke", "alice"); code != 1 || !strings.Contains(errs, "already revoked") {
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
