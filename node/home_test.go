package node

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cmttypes "github.com/cometbft/cometbft/types"
)

func initTestHome(t *testing.T) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	gv, _, err := InitHome(InitOptions{Home: home, Ports: Ports{P2P: "127.0.0.1:1", RPC: "127.0.0.1:2", API: "127.0.0.1:3"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteGenesis("home-test", nil, json.RawMessage(`{}`), home); err == nil {
		t.Fatal("a genesis without validators was accepted")
	}
	_ = gv
	return home
}

func TestInitRefusesToOverwrite(t *testing.T) {
	home := initTestHome(t)
	if _, _, err := InitHome(InitOptions{Home: home}); err == nil || !strings.Contains(err.Error(), "already has a node configuration") {
		t.Fatalf("second init: %v", err)
	}
}

// Every broken home is reported with the file and the problem, never a crash.
func TestBrokenHomesGetClearErrors(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(home string)
		want   string
	}{
		{"no home", func(home string) { os.RemoveAll(home) }, "run `tessera node init"},
		{"no genesis", func(home string) {}, "genesis.json"},
		{"corrupt validator key", func(home string) {
			writeGenesis(t, home)
			os.WriteFile(filepath.Join(home, "config", "priv_validator_key.json"), []byte(`{"address": "AB`), 0o600)
		}, "not valid JSON"},
		{"bad settings", func(home string) {
			writeGenesis(t, home)
			os.WriteFile(filepath.Join(home, "config", "tessera.json"), []byte(`{"api_adress": "x"}`), 0o600)
		}, "unknown field"},
		{"bad config.toml", func(home string) {
			writeGenesis(t, home)
			os.WriteFile(filepath.Join(home, "config", "config.toml"), []byte("[rpc\nladdr = 5"), 0o600)
		}, "config.toml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home := initTestHome(t)
			c.break_(home)
			_, err := New(Options{Home: home})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, c.want)
			}
		})
	}
}

func writeGenesis(t *testing.T, home string) {
	t.Helper()
	c, err := LoadConfig(home)
	if err == nil {
		t.Fatal("a home without genesis loaded")
	}
	_ = c
	gv, _, err := InitHome(InitOptions{Home: home, Overwrite: true, Ports: Ports{P2P: "127.0.0.1:1", RPC: "127.0.0.1:2", API: "127.0.0.1:3"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteGenesis("home-test", []cmttypes.GenesisValidator{gv}, json.RawMessage(`{}`), home); err != nil {
		t.Fatal(err)
	}
}

func TestTestnetLayout(t *testing.T) {
	dir := t.TempDir()
	nodes, err := WriteTestnet(TestnetOptions{Dir: dir, Validators: 3, ChainID: "tn", BasePort: 40000})
	if err != nil {
		t.Fatal(err)
	}
	g0, _ := os.ReadFile(filepath.Join(nodes[0].Home, "config", "genesis.json"))
	for k, n := range nodes {
		if n.RPC != PortsFor("127.0.0.1", 40000, k).RPC {
			t.Fatalf("node%d rpc %s", k, n.RPC)
		}
		g, _ := os.ReadFile(filepath.Join(n.Home, "config", "genesis.json"))
		if string(g) != string(g0) {
			t.Fatalf("node%d has a different genesis", k)
		}
		c, err := LoadConfig(n.Home)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(c.P2P.PersistentPeers, "@") != 2 {
			t.Fatalf("node%d peers: %q", k, c.P2P.PersistentPeers)
		}
	}
	if _, err := WriteTestnet(TestnetOptions{Dir: t.TempDir(), Validators: 0}); err == nil {
		t.Fatal("0 validators accepted")
	}
}

// A new home writes the explorer and CORS settings; a home written before they existed
// serves the explorer and admits no other origin; the settings read back as written.
func TestExplorerSettings(t *testing.T) {
	home := initTestHome(t)
	b, err := os.ReadFile(settingsPath(home))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"api_cors_origins": []`, `"explorer": true`, `"explorer_gateway_url": ""`} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("a new home's settings lack %s:\n%s", want, b)
		}
	}
	for _, tc := range []struct {
		file     string
		explorer bool
		origins  []string
		gateway  string
	}{
		{`{"api_address": "127.0.0.1:1317", "state_backend": "goleveldb", "log_level": "info"}`, true, []string{}, ""},
		{`{"explorer": false, "api_cors_origins": ["https://a.example", "*"], "explorer_gateway_url": "http://gw:8080"}`, false, []string{"https://a.example", "*"}, "http://gw:8080"},
	} {
		if err := os.WriteFile(settingsPath(home), []byte(tc.file), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := LoadSettings(home)
		if err != nil {
			t.Fatal(err)
		}
		if s.Explorer != tc.explorer || strings.Join(s.APICORSOrigins, ",") != strings.Join(tc.origins, ",") || s.ExplorerGatewayURL != tc.gateway {
			t.Fatalf("%s: %+v", tc.file, s)
		}
	}
}
