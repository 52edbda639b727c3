package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// notRPC is an HTTP server that answers as a node's JSON API does to a JSON-RPC call: a
// JSON 404 that is not JSON-RPC. Its URL in the CLI's error tells which address was used.
func notRPC(t *testing.T) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"no such endpoint: POST /"}`))
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// The node's address comes from --node, else TESSERA_NODE, else node in <home>/cli.toml;
// an address that answers HTTP but not JSON-RPC is a usage error that says which port is
// the RPC's.
func TestNodeAddressPrecedence(t *testing.T) {
	flag, env, conf := notRPC(t), notRPC(t), notRPC(t)
	c := newWalletCLI(t)
	t.Setenv(envNode, "")
	if err := os.WriteFile(filepath.Join(c.home, cliConfigFile), []byte("node = \""+conf+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(want string, args ...string) {
		t.Helper()
		_, errs, code := c.run("", append([]string{"query", "status"}, args...)...)
		if code != 2 || !strings.Contains(errs, want) || !strings.Contains(errs, "26657") || strings.Contains(errs, "unmarshal") {
			t.Fatalf("exit %d, stderr %q: want exit 2 naming %s and the RPC port", code, errs, want)
		}
	}
	check(conf)
	t.Setenv(envNode, env)
	check(env)
	check(flag, "--node", flag)
}

func TestCLIConfigRefusesUnknownKeys(t *testing.T) {
	c := newWalletCLI(t)
	t.Setenv(envNode, "")
	if err := os.WriteFile(filepath.Join(c.home, cliConfigFile), []byte("nodes = \"tcp://127.0.0.1:1\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.fails(2, cliConfigFile, "", "query", "status")
}

// A mistyped subcommand is a usage error (exit 2), with a suggestion when one is close; a
// bare command group prints its help and succeeds.
func TestUnknownSubcommandFails(t *testing.T) {
	c := newWalletCLI(t)
	c.fails(2, `unknown command "nosuch" for "tessera wallet"`, "", "wallet", "nosuch")
	c.fails(2, `did you mean "wallet"`, "", "walet")
	c.fails(2, `unknown command "lst" for "tessera stake"; did you mean "list"`, "", "stake", "lst")
	if out := c.ok(nil, "", "subnet"); !strings.Contains(out, "register") {
		t.Fatalf("bare `subnet` printed %q, want its help", out)
	}
}
