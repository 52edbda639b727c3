package subnet

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/wallet"
)

// Duration is a time.Duration that a JSON config file writes as "10s" (or a number of
// seconds, as Bittensor's configs do).
type Duration time.Duration

// String writes the duration as time.Duration does ("1m30s").
func (d *Duration) String() string { return time.Duration(*d).String() }

// Set reads a flag value: "10s", "500ms", or a bare number of seconds ("10", "0.5") as
// Bittensor's template takes --neuron.timeout.
func (d *Duration) Set(s string) error {
	if v, err := time.ParseDuration(s); err == nil {
		*d = Duration(v)
		return nil
	}
	secs, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) {
		return fmt.Errorf("duration %q: write it as 10s, 500ms, 1m30s or a number of seconds", s)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// MarshalJSON writes the duration as a string such as "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "10s", "1m30s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: write it as 10s, 500ms or 1m30s", s)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration %s is neither a string such as \"10s\" nor a number of seconds", b)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// Config is the configuration of a miner or validator. Flag names are those of
// Bittensor's subnet template where it has one (--neuron.sample_size, --axon.port,
// --wallet.name, …); the JSON file uses the same names as keys. Flags override the
// file, which overrides the defaults.
type Config struct {
	// Node is the chain node's RPC address.
	Node string `json:"node"`
	// Netuid is the subnet.
	Netuid uint16 `json:"netuid"`

	// FromURI is a secret URI for the hotkey (//Bob on a devnet); it wins over the
	// wallet. Also TESSERA_FROM_URI.
	FromURI string `json:"from_uri"`
	// WalletName, WalletHotkey and WalletPath select the hotkey file (also
	// BT_WALLET_NAME, BT_WALLET_HOTKEY, BT_WALLET_PATH). An encrypted hotkey is opened
	// with the password in BT_PW_<path> or TESSERA_PASSWORD.
	WalletName   string `json:"wallet.name"`
	WalletHotkey string `json:"wallet.hotkey"` // see WalletName
	WalletPath   string `json:"wallet.path"`   // see WalletName

	// AxonIP and AxonPort are where a miner listens; AxonExternalIP and
	// AxonExternalPort what it announces on chain (default: the listen address, or
	// 127.0.0.1 when listening on every interface).
	AxonIP           string `json:"axon.ip"`
	AxonPort         int    `json:"axon.port"`          // see AxonIP
	AxonExternalIP   string `json:"axon.external_ip"`   // see AxonIP
	AxonExternalPort int    `json:"axon.external_port"` // see AxonIP
	// AxonConcurrency is how many requests a miner handles at once; AxonMaxQueue how
	// many wait, highest stake first.
	AxonConcurrency int `json:"axon.concurrency"`
	AxonMaxQueue    int `json:"axon.max_queue"` // see AxonConcurrency

	// ForceValidatorPermit makes a miner refuse callers without a validator permit.
	ForceValidatorPermit bool `json:"blacklist.force_validator_permit"`
	// AllowNonRegistered lets a miner answer callers not registered on the subnet.
	AllowNonRegistered bool `json:"blacklist.allow_non_registered"`
	// MinStake is the stake (smallest units) a caller needs (0: none).
	MinStake uint64 `json:"blacklist.min_stake"`

	// SampleSize is how many miners a validator queries per round.
	SampleSize int `json:"neuron.sample_size"`
	// Timeout is a round's query timeout.
	Timeout Duration `json:"neuron.timeout"`
	// Alpha is the moving-average factor: score ← α·reward + (1−α)·score.
	Alpha float64 `json:"neuron.moving_average_alpha"`
	// EpochLength is the number of blocks between metagraph syncs and weight settings.
	EpochLength int64 `json:"neuron.epoch_length"`
	// StepInterval is the pause between a validator's rounds.
	StepInterval Duration `json:"neuron.step_interval"`
	// DisableSetWeights keeps a validator from setting weights (it still scores).
	DisableSetWeights bool `json:"neuron.disable_set_weights"`
	// VpermitLimit: miners holding a validator permit and more stake than this (in
	// smallest units) are validators and are not queried.
	VpermitLimit uint64 `json:"neuron.vpermit_tao_limit"`

	// StateDir is where a validator keeps its state (default
	// ~/.tessera/neurons/netuid<N>/<hotkey>).
	StateDir string `json:"state_dir"`
	// MetricsAddr serves Prometheus metrics on /metrics ("" for none).
	MetricsAddr string `json:"metrics.addr"`
	// LogLevel (debug, info, warn, error) and LogFormat (text, json).
	LogLevel  string `json:"log.level"`
	LogFormat string `json:"log.format"` // see LogLevel
}

// DefaultConfig is the template's defaults: 50 miners a round, a 10 s timeout, α 0.1,
// weights every 100 blocks, subnet 1 on a local node.
func DefaultConfig() Config {
	return Config{
		Node: "tcp://127.0.0.1:26657", Netuid: 1,
		WalletName: wallet.DefaultName, WalletHotkey: wallet.DefaultHotkey,
		AxonPort: 8091, AxonConcurrency: 64, AxonMaxQueue: 1024,
		SampleSize: 50, Timeout: Duration(10 * time.Second), Alpha: 0.1, EpochLength: 100,
		StepInterval: Duration(5 * time.Second), VpermitLimit: 4096 * 1_000_000_000,
		LogLevel: "info", LogFormat: "text",
	}
}

// RegisterFlags binds the configuration's flags to c on fs, with c's values as
// defaults, plus --config (the JSON file; read by Parse).
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.String("config", "", "JSON config file (keys are the flag names); flags override it")
	fs.StringVar(&c.Node, "node", c.Node, "chain node RPC address")
	fs.Func("netuid", fmt.Sprintf("subnet id (default %d)", c.Netuid), func(s string) error {
		var v uint16
		if _, err := fmt.Sscan(s, &v); err != nil {
			return fmt.Errorf("netuid %q is not a number from 0 to 65535", s)
		}
		c.Netuid = v
		return nil
	})
	fs.StringVar(&c.FromURI, "from-uri", c.FromURI, "secret URI of the hotkey (for example //Bob on a devnet) instead of a wallet; also TESSERA_FROM_URI")
	fs.StringVar(&c.WalletName, "wallet.name", c.WalletName, "wallet name (also "+wallet.EnvName+")")
	fs.StringVar(&c.WalletHotkey, "wallet.hotkey", c.WalletHotkey, "hotkey name (also "+wallet.EnvHotkey+")")
	fs.StringVar(&c.WalletPath, "wallet.path", c.WalletPath, "directory of wallets (also "+wallet.EnvPath+"; default ~/.tessera/wallets)")
	fs.StringVar(&c.AxonIP, "axon.ip", c.AxonIP, "address the miner's axon listens on (default every interface)")
	fs.IntVar(&c.AxonPort, "axon.port", c.AxonPort, "port the miner's axon listens on")
	fs.StringVar(&c.AxonExternalIP, "axon.external_ip", c.AxonExternalIP, "IP announced on chain (default the listen address, or 127.0.0.1)")
	fs.IntVar(&c.AxonExternalPort, "axon.external_port", c.AxonExternalPort, "port announced on chain (default --axon.port)")
	fs.IntVar(&c.AxonConcurrency, "axon.concurrency", c.AxonConcurrency, "requests a miner handles at once")
	fs.IntVar(&c.AxonMaxQueue, "axon.max_queue", c.AxonMaxQueue, "requests that may wait for a slot, highest stake first")
	fs.BoolVar(&c.ForceValidatorPermit, "blacklist.force_validator_permit", c.ForceValidatorPermit, "refuse callers without a validator permit")
	fs.BoolVar(&c.AllowNonRegistered, "blacklist.allow_non_registered", c.AllowNonRegistered, "answer callers not registered on the subnet")
	fs.Uint64Var(&c.MinStake, "blacklist.min_stake", c.MinStake, "stake a caller needs, smallest units")
	fs.IntVar(&c.SampleSize, "neuron.sample_size", c.SampleSize, "miners a validator queries per round")
	fs.Var(&c.Timeout, "neuron.timeout", "query timeout (10s, 500ms, or seconds)")
	fs.Float64Var(&c.Alpha, "neuron.moving_average_alpha", c.Alpha, "moving-average factor of the scores, in (0, 1]")
	fs.Int64Var(&c.EpochLength, "neuron.epoch_length", c.EpochLength, "blocks between metagraph syncs and weight settings")
	fs.Var(&c.StepInterval, "neuron.step_interval", "pause between a validator's rounds (5s, 500ms, or seconds)")
	fs.BoolVar(&c.DisableSetWeights, "neuron.disable_set_weights", c.DisableSetWeights, "score but never set weights")
	fs.Uint64Var(&c.VpermitLimit, "neuron.vpermit_tao_limit", c.VpermitLimit, "permit holders with more stake than this (smallest units) are not queried")
	fs.StringVar(&c.StateDir, "state-dir", c.StateDir, "validator state directory (default ~/.tessera/neurons/netuid<N>/<hotkey>)")
	fs.StringVar(&c.MetricsAddr, "metrics.addr", c.MetricsAddr, "serve Prometheus metrics on this address (for example :9100)")
	fs.StringVar(&c.LogLevel, "log.level", c.LogLevel, "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log.format", c.LogFormat, "log format: text or json")
}

// Parse parses args into c: the flags, then the --config file if one is named, then
// the flags again so that they win over the file.
func (c *Config) Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if path := fs.Lookup("config").Value.String(); path != "" {
		if err := c.LoadFile(path); err != nil {
			return err
		}
		if err := fs.Parse(args); err != nil {
			return err
		}
	}
	return c.Validate()
}

// LoadFile reads a JSON config file over c. Unknown keys are an error.
func (c *Config) LoadFile(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// Validate reports every value out of range.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Node == "" {
		bad("node: no chain node address given")
	}
	if c.AxonPort < 0 || c.AxonPort > 65535 {
		bad("axon.port %d is not a port (0-65535)", c.AxonPort)
	}
	if c.AxonExternalPort < 0 || c.AxonExternalPort > 65535 {
		bad("axon.external_port %d is not a port (0-65535)", c.AxonExternalPort)
	}
	if c.AxonConcurrency < 1 {
		bad("axon.concurrency must be at least 1, got %d", c.AxonConcurrency)
	}
	if c.AxonMaxQueue < 0 {
		bad("axon.max_queue must not be negative, got %d", c.AxonMaxQueue)
	}
	if c.SampleSize < 1 {
		bad("neuron.sample_size must be at least 1, got %d", c.SampleSize)
	}
	if c.Timeout <= 0 {
		bad("neuron.timeout must be positive, got %v", time.Duration(c.Timeout))
	}
	if !(c.Alpha > 0 && c.Alpha <= 1) {
		bad("neuron.moving_average_alpha must be in (0, 1], got %v", c.Alpha)
	}
	if c.EpochLength < 1 {
		bad("neuron.epoch_length must be at least 1 block, got %d", c.EpochLength)
	}
	if c.StepInterval < 0 {
		bad("neuron.step_interval must not be negative, got %v", time.Duration(c.StepInterval))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log.format must be text or json, got %q", c.LogFormat)
	}
	return errors.Join(errs...)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log.level must be debug, info, warn or error, got %q", s)
	}
	return l, nil
}

// Logger makes the logger the configuration asks for, writing to w.
func (c *Config) Logger(w *os.File) (*slog.Logger, error) {
	level, err := parseLevel(c.LogLevel)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// Hotkey loads the signing hotkey: --from-uri (or TESSERA_FROM_URI), else the wallet's
// hotkey file.
func (c *Config) Hotkey(getenv func(string) string) (*keys.Pair, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	uri := c.FromURI
	if uri == "" {
		uri = getenv("TESSERA_FROM_URI")
	}
	if uri != "" {
		p, err := keys.FromURI(uri)
		if err != nil {
			return nil, fmt.Errorf("from-uri: %w", err)
		}
		return p, nil
	}
	name, hot, path := c.WalletName, c.WalletHotkey, c.WalletPath
	if v := getenv(wallet.EnvName); v != "" && name == wallet.DefaultName {
		name = v
	}
	if v := getenv(wallet.EnvHotkey); v != "" && hot == wallet.DefaultHotkey {
		hot = v
	}
	if path == "" {
		path = getenv(wallet.EnvPath)
	}
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("no --wallet.path given and no home directory: %w", err)
		}
		path = filepath.Join(home, ".tessera", "wallets")
	}
	w, err := wallet.New(path, name, hot)
	if err != nil {
		return nil, err
	}
	kp, err := w.OpenHotkey(func(p string) ([]byte, error) {
		pw, ok, err := wallet.EnvPassword(p, getenv)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("hotkey %s is encrypted: give its password in %s or %s", p, wallet.PasswordEnvName(p), wallet.PlainPasswordEnv)
		}
		return pw, nil
	})
	if err != nil {
		return nil, fmt.Errorf("wallet %s hotkey %s: %w", name, hot, err)
	}
	if kp.Pair == nil {
		return nil, fmt.Errorf("wallet %s hotkey %s holds no secret key: it cannot sign", name, hot)
	}
	return kp.Pair, nil
}

// ResolveStateDir returns StateDir, or the default for the hotkey.
func (c *Config) ResolveStateDir(hotkey string) (string, error) {
	if c.StateDir != "" {
		return c.StateDir, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no --state-dir given and no home directory: %w", err)
	}
	return filepath.Join(home, ".tessera", "neurons", fmt.Sprintf("netuid%d", c.Netuid), strings.ReplaceAll(hotkey, "/", "_")), nil
}
