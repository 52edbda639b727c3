package subnet

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/wallet"
	"github.com/tessera-net/tessera/wire"
)

func parse(t *testing.T, args ...string) (Config, error) {
	t.Helper()
	c := DefaultConfig()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	err := c.Parse(fs, args)
	return c, err
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParse(t *testing.T) {
	file := writeFile(t, `{"netuid": 7, "neuron.sample_size": 20, "neuron.timeout": "3s", "neuron.step_interval": 1.5, "axon.port": 9000}`)
	tests := []struct {
		name    string
		args    []string
		check   func(c Config) bool
		wantErr string
	}{
		{"defaults are the template's", nil, func(c Config) bool {
			return c.SampleSize == 50 && time.Duration(c.Timeout) == 10*time.Second && c.Alpha == 0.1 && c.EpochLength == 100 && c.AxonPort == 8091 && c.Netuid == 1
		}, ""},
		{"flags", []string{"--netuid", "3", "--neuron.sample_size", "8", "--neuron.moving_average_alpha", "0.5", "--neuron.timeout", "2s", "--from-uri", "//Bob"}, func(c Config) bool {
			return c.Netuid == 3 && c.SampleSize == 8 && c.Alpha == 0.5 && time.Duration(c.Timeout) == 2*time.Second && c.FromURI == "//Bob"
		}, ""},
		{"file", []string{"--config", file}, func(c Config) bool {
			return c.Netuid == 7 && c.SampleSize == 20 && time.Duration(c.Timeout) == 3*time.Second && time.Duration(c.StepInterval) == 1500*time.Millisecond && c.AxonPort == 9000 && c.EpochLength == 100
		}, ""},
		{"flags win over the file, wherever they are", []string{"--neuron.sample_size", "5", "--config", file, "--axon.port", "9100"}, func(c Config) bool {
			return c.SampleSize == 5 && c.AxonPort == 9100 && c.Netuid == 7
		}, ""},
		{"bare seconds as the template writes them", []string{"--neuron.timeout", "12", "--neuron.step_interval", "0.25"}, func(c Config) bool {
			return time.Duration(c.Timeout) == 12*time.Second && time.Duration(c.StepInterval) == 250*time.Millisecond
		}, ""},
		{"bad duration flag", []string{"--neuron.timeout", "soon"}, nil, `duration "soon": write it as 10s, 500ms, 1m30s or a number of seconds`},
		{"unknown key in the file", []string{"--config", writeFile(t, `{"neuron.sampel_size": 3}`)}, nil, `unknown field "neuron.sampel_size"`},
		{"bad duration in the file", []string{"--config", writeFile(t, `{"neuron.timeout": "ten"}`)}, nil, `duration "ten": write it as 10s, 500ms or 1m30s`},
		{"missing file", []string{"--config", "/nonexistent/c.json"}, nil, "config file: open /nonexistent/c.json"},
		{"bad netuid", []string{"--netuid", "70000"}, nil, `netuid "70000" is not a number from 0 to 65535`},
		{"every bad value reported", []string{"--neuron.sample_size", "0", "--neuron.moving_average_alpha", "1.5", "--neuron.epoch_length", "0", "--log.format", "xml"}, nil,
			"neuron.sample_size must be at least 1, got 0\nneuron.moving_average_alpha must be in (0, 1], got 1.5\nneuron.epoch_length must be at least 1 block, got 0\nlog.format must be text or json, got \"xml\""},
		{"bad port and level", []string{"--axon.port", "70000", "--log.level", "loud"}, nil, "axon.port 70000 is not a port (0-65535)\nlog.level must be debug, info, warn or error, got \"loud\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parse(t, tc.args...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
}

func TestDurationJSON(t *testing.T) {
	var d Duration
	for in, want := range map[string]time.Duration{`"250ms"`: 250 * time.Millisecond, `2`: 2 * time.Second, `0.5`: 500 * time.Millisecond} {
		if err := d.UnmarshalJSON([]byte(in)); err != nil || time.Duration(d) != want {
			t.Errorf("%s → %v %v, want %v", in, time.Duration(d), err, want)
		}
	}
	if err := d.UnmarshalJSON([]byte(`true`)); err == nil {
		t.Error("true accepted as a duration")
	}
	if b, _ := Duration(90 * time.Second).MarshalJSON(); string(b) != `"1m30s"` {
		t.Errorf("marshal = %s", b)
	}
}

func TestHotkey(t *testing.T) {
	bob, _ := keys.FromURI("//Bob")
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c := DefaultConfig()
	c.FromURI = "//Bob"
	if p, err := c.Hotkey(env(nil)); err != nil || p.Public() != bob.Public() {
		t.Fatalf("from-uri: %v", err)
	}
	c.FromURI = ""
	if p, err := c.Hotkey(env(map[string]string{"TESSERA_FROM_URI": "//Bob"})); err != nil || p.Public() != bob.Public() {
		t.Fatalf("TESSERA_FROM_URI: %v", err)
	}
	// A wallet's hotkey file.
	dir := t.TempDir()
	w, err := wallet.New(dir, "w", "h")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SaveHotkey(wallet.NewKeypair(bob, ""), wallet.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	c.WalletPath, c.WalletName, c.WalletHotkey = dir, "w", "h"
	if p, err := c.Hotkey(env(nil)); err != nil || p.Public() != bob.Public() {
		t.Fatalf("wallet: %v", err)
	}
	c.WalletHotkey = "missing"
	if _, err := c.Hotkey(env(nil)); err == nil || !strings.Contains(err.Error(), "wallet w hotkey missing") {
		t.Fatalf("missing hotkey: %v", err)
	}
	c.FromURI = "not a uri"
	if _, err := c.Hotkey(env(nil)); err == nil || !strings.HasPrefix(err.Error(), "from-uri:") {
		t.Fatalf("bad uri: %v", err)
	}
}

func TestResolveStateDir(t *testing.T) {
	c := DefaultConfig()
	c.StateDir = "/x"
	if d, _ := c.ResolveStateDir("h"); d != "/x" {
		t.Fatal(d)
	}
	c.StateDir, c.Netuid = "", 3
	if d, err := c.ResolveStateDir("5Abc"); err != nil || !strings.HasSuffix(d, filepath.Join(".tessera", "neurons", "netuid3", "5Abc")) {
		t.Fatalf("%s %v", d, err)
	}
}

type ping struct {
	wire.Base
}

func TestDefinitionCheck(t *testing.T) {
	d := &Definition[*ping]{}
	err := d.Check()
	if err == nil || err.Error() != "subnet definition has no Name\nsubnet definition has no Query function\nsubnet definition has no Score function" {
		t.Fatalf("err = %v", err)
	}
	d = &Definition[*ping]{Name: "p",
		Query: func(context.Context, Round) (*ping, error) { return &ping{}, nil },
		Score: func(context.Context, *ping, []Response[*ping]) ([]float64, error) { return nil, nil }}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
}
