package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"
	cmttime "github.com/cometbft/cometbft/types/time"
	"github.com/spf13/viper"
)

// Settings are Tessera's own node settings, kept in config/tessera.json beside
// CometBFT's config.toml.
type Settings struct {
	// APIAddress is where the JSON HTTP API listens ("" disables it).
	APIAddress string `json:"api_address"`
	// StateBackend is the cosmos-db backend of the application state.
	StateBackend string `json:"state_backend"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"log_level"`
	// APICORSOrigins are the origins a browser page elsewhere may call the JSON API from
	// ("*": any); none by default (the explorer the API serves is its own origin).
	APICORSOrigins []string `json:"api_cors_origins"`
	// Explorer serves the explorer's web page on the API's address, at / and /explorer/
	// (default true).
	Explorer bool `json:"explorer"`
	// ExplorerGatewayURL is the gateway whose traffic the explorer shows ("": none).
	ExplorerGatewayURL string `json:"explorer_gateway_url"`
}

// DefaultSettings are the settings of a new home.
func DefaultSettings() Settings {
	return Settings{APIAddress: "127.0.0.1:1317", StateBackend: "goleveldb", LogLevel: "info", APICORSOrigins: []string{}, Explorer: true}
}

// Ports are the loopback/listen addresses of one node.
type Ports struct {
	P2P string // host:port
	RPC string // host:port
	API string // host:port, "" for none
	// Metrics is where CometBFT's Prometheus listener binds when instrumentation is
	// turned on in config.toml; "" keeps the 127.0.0.1:26660 default.
	Metrics string
}

// DefaultPorts are CometBFT's usual ports on 127.0.0.1 and the API on 1317.
func DefaultPorts() Ports {
	return Ports{P2P: "127.0.0.1:26656", RPC: "127.0.0.1:26657", API: "127.0.0.1:1317"}
}

// InitOptions describe a home directory to create.
type InitOptions struct {
	Home      string
	Moniker   string
	Ports     Ports
	BlockTime time.Duration // consensus timeout_commit; default 1s
	// Overwrite allows writing into a home that already has a config.
	Overwrite bool
}

func settingsPath(home string) string { return filepath.Join(home, "config", "tessera.json") }

// LoadSettings reads config/tessera.json (defaults when it is absent).
func LoadSettings(home string) (Settings, error) {
	s := DefaultSettings()
	b, err := os.ReadFile(settingsPath(home))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("%s: %w", settingsPath(home), err)
	}
	return s, nil
}

// writeFileAtomic writes a file through a temporary file and a rename, so a crash never
// leaves it half-written.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// baseConfig is the CometBFT configuration every Tessera node starts from.
func baseConfig(home, moniker string, ports Ports, blockTime time.Duration) *cmtcfg.Config {
	c := cmtcfg.DefaultConfig()
	c.SetRoot(home)
	c.Moniker = moniker
	c.RPC.ListenAddress = "tcp://" + ports.RPC
	c.P2P.ListenAddress = "tcp://" + ports.P2P
	c.P2P.AddrBookStrict = false
	c.P2P.AllowDuplicateIP = true
	c.DBBackend = "goleveldb"
	c.TxIndex.Indexer = "kv"
	c.Consensus.TimeoutCommit = blockTime
	// A validator that is down delays each of its proposer turns by timeout_propose;
	// keep that short so a network with a dead validator still makes ~1 block a second.
	c.Consensus.TimeoutPropose = time.Second
	c.Consensus.CreateEmptyBlocks = true
	c.Mempool.Size = 20_000
	c.Mempool.CacheSize = 40_000
	c.RPC.MaxSubscriptionClients = 1000
	c.RPC.MaxSubscriptionsPerClient = 1000
	c.RPC.TimeoutBroadcastTxCommit = 30 * time.Second
	c.Instrumentation.Prometheus = false
	// CometBFT's default is :26660, every interface; metrics stay on loopback unless asked.
	c.Instrumentation.PrometheusListenAddr = "127.0.0.1:26660"
	if ports.Metrics != "" {
		c.Instrumentation.PrometheusListenAddr = ports.Metrics
	}
	return c
}

// InitHome creates a node home: directories, CometBFT config, node key, validator key
// and Tessera settings. It does not write a genesis. It returns the validator's genesis
// entry and the node's p2p id.
func InitHome(o InitOptions) (cmttypes.GenesisValidator, p2p.ID, error) {
	var gv cmttypes.GenesisValidator
	if o.Home == "" {
		return gv, "", errors.New("no home directory given")
	}
	if o.BlockTime <= 0 {
		o.BlockTime = time.Second
	}
	if o.Moniker == "" {
		o.Moniker = "tessera"
	}
	if o.Ports == (Ports{}) {
		o.Ports = DefaultPorts()
	}
	cfgFile := filepath.Join(o.Home, "config", "config.toml")
	if _, err := os.Stat(cfgFile); err == nil && !o.Overwrite {
		return gv, "", fmt.Errorf("%s already has a node configuration; use another --home or remove it", o.Home)
	}
	for _, d := range []string{"config", "data"} {
		if err := os.MkdirAll(filepath.Join(o.Home, d), 0o700); err != nil {
			return gv, "", fmt.Errorf("create home: %w", err)
		}
	}
	c := baseConfig(o.Home, o.Moniker, o.Ports, o.BlockTime)
	cmtcfg.WriteConfigFile(cfgFile, c)
	pv := privval.GenFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
	pv.Save()
	nk, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile())
	if err != nil {
		return gv, "", fmt.Errorf("node key: %w", err)
	}
	s := DefaultSettings()
	s.APIAddress = o.Ports.API
	b, _ := json.MarshalIndent(s, "", "  ")
	if err := writeFileAtomic(settingsPath(o.Home), append(b, '\n'), 0o600); err != nil {
		return gv, "", fmt.Errorf("write settings: %w", err)
	}
	pub, err := pv.GetPubKey()
	if err != nil {
		return gv, "", err
	}
	gv = cmttypes.GenesisValidator{Address: pub.Address(), PubKey: pub, Power: 10, Name: o.Moniker}
	return gv, nk.ID(), nil
}

// WriteGenesis writes genesis.json into each home: the chain id, the validators, and the
// application state (a JSON object with one section per module).
func WriteGenesis(chainID string, validators []cmttypes.GenesisValidator, appState json.RawMessage, homes ...string) error {
	if len(validators) == 0 {
		return errors.New("genesis: a chain needs at least one validator")
	}
	g := &cmttypes.GenesisDoc{
		ChainID:         chainID,
		GenesisTime:     cmttime.Now(),
		InitialHeight:   1,
		ConsensusParams: cmttypes.DefaultConsensusParams(),
		Validators:      validators,
		AppState:        appState,
	}
	g.ConsensusParams.Block.MaxBytes = 8 << 20
	if err := g.ValidateAndComplete(); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	for _, h := range homes {
		if err := g.SaveAs(filepath.Join(h, "config", "genesis.json")); err != nil {
			return fmt.Errorf("write genesis in %s: %w", h, err)
		}
	}
	return nil
}

// LoadConfig reads a home's config.toml the way CometBFT's own CLI does, and checks it.
func LoadConfig(home string) (*cmtcfg.Config, error) {
	path := filepath.Join(home, "config", "config.toml")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s has no node configuration (%s): run `tessera node init --home %s` first", home, path, home)
	}
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	c := cmtcfg.DefaultConfig()
	if err := v.Unmarshal(c); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	c.SetRoot(home)
	if err := c.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("invalid %s: %w", path, err)
	}
	for _, f := range []string{c.GenesisFile(), c.PrivValidatorKeyFile(), c.NodeKeyFile()} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("node home %s is incomplete: %w", home, err)
		}
	}
	return c, nil
}
