// Package textgendev puts the text-generation subnet on a devnet: a devnet.Extension
// that, once the chain runs, starts textgen miners (built-in backends, each behaving as
// configured: right, slow, wrong or failing) and validators on the SDK's runtimes, and
// the OpenAI-compatible gateway in front of them, all in the devnet's process. Within a
// few epochs incentive follows the miners' quality and the gateway sends requests to
// the best of them.
package textgendev

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/devnet"
	"github.com/tessera-net/tessera/gateway"
	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/sdk/miner"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/sdk/validator"
	"github.com/tessera-net/tessera/subnets/textgen"
	"github.com/tessera-net/tessera/wire"
)

// MinerSpec is one miner: the development account whose hotkey it uses (registered on
// the subnet by the devnet's layout) and how its built-in backend behaves.
type MinerSpec struct {
	Account string                // a development account registered as a miner
	Backend textgen.BuiltinConfig // how its built-in backend behaves
}

// Options configure the extension. The zero value runs the default layout's miners
// (Dave right, Eve wrong half the time, Ferdie slow), its validators (Bob, Charlie)
// and a gateway on a free port signing as Alice, the subnet's owner.
type Options struct {
	// Netuid is the subnet (default 1; the devnet's layout must create it).
	Netuid uint16
	// Miners run miners (default: DefaultMiners()).
	Miners []MinerSpec
	// Validators run validators, by development account (default Bob, Charlie).
	Validators []string
	// GatewayAccount signs the gateway's queries (default Alice); it must be
	// registered on the subnet, since miners refuse unregistered callers.
	GatewayAccount string
	// GatewayAddr is where the gateway listens (default 127.0.0.1:0: a free port).
	GatewayAddr string
	// APIKeys makes the gateway require API keys, kept in a SQLite database (KeyDB, by
	// default gateway-keys.db in the devnet's home); Start creates one (APIKey) for the
	// devnet's user.
	APIKeys bool
	KeyDB   string // see APIKeys
	// EpochLength is the runtimes' metagraph resync period in blocks (default 5);
	// StepInterval the validators' pause between rounds (default 300 ms); Timeout the
	// validators' query timeout (default 3 s).
	EpochLength  int64
	StepInterval time.Duration // see EpochLength
	Timeout      time.Duration // see EpochLength
	// Logger receives the parts' logs (the devnet's logger when nil). The validators'
	// info lines (a "weights set" every few seconds each) come at debug level;
	// warnings and errors at theirs.
	Logger *slog.Logger
	// Upstreams, when set, is called as the gateway starts for further networks it
	// serves beside the subnet (the devnet's inference network, whose API nodes are
	// running by then).
	Upstreams func() ([]gateway.Upstream, error)
	// CORSOrigins are origins the gateway admits besides the devnet's own explorer (the
	// node's JSON API address, whose page reads the gateway's /v1/stats).
	CORSOrigins []string
	// Registerer receives the miners', validators' and their scorers' metrics
	// (tessera_miner_*, tessera_axon_*, tessera_textgen_miner_*, tessera_validator_*,
	// tessera_dendrite_*, tessera_sdk_scoring_*), each part's labelled with its
	// account (AccountLabel). Default: the devnet node's registry, which its API
	// serves at /metrics.
	Registerer prometheus.Registerer
}

// DefaultMiners is the default cast: one right and quick, one wrong half the time, one
// right but slow.
func DefaultMiners() []MinerSpec {
	return []MinerSpec{
		{Account: "Dave", Backend: textgen.BuiltinConfig{Seed: 1}},
		{Account: "Eve", Backend: textgen.BuiltinConfig{Seed: 2, WrongRate: 0.5}},
		{Account: "Ferdie", Backend: textgen.BuiltinConfig{Seed: 3, Latency: 400 * time.Millisecond, Jitter: 100 * time.Millisecond}},
	}
}

// Behaviours are the miner qualities a devnet cycles through: right and quick, slow,
// often wrong, and flapping (failing half of its requests).
var Behaviours = []struct {
	Name    string
	Backend textgen.BuiltinConfig
}{
	{"good", textgen.BuiltinConfig{}},
	{"slow", textgen.BuiltinConfig{Latency: 600 * time.Millisecond, Jitter: 200 * time.Millisecond}},
	{"wrong", textgen.BuiltinConfig{WrongRate: 0.6}},
	{"flapping", textgen.BuiltinConfig{FailRate: 0.5}},
}

// MinersFor gives each account a behaviour, cycling through Behaviours in order, each
// with its own seed.
func MinersFor(accounts []string) []MinerSpec {
	out := make([]MinerSpec, len(accounts))
	for i, a := range accounts {
		b := Behaviours[i%len(Behaviours)].Backend
		b.Seed = uint64(i + 1)
		out[i] = MinerSpec{Account: a, Backend: b}
	}
	return out
}

// Extension is the devnet extension. Make it with New.
type Extension struct {
	o      Options
	wg     sync.WaitGroup
	mu     sync.Mutex
	url    string
	apiKey string
	errs   []error
}

// New makes the extension.
func New(o Options) *Extension {
	if o.Netuid == 0 {
		o.Netuid = 1
	}
	if o.Miners == nil {
		o.Miners = DefaultMiners()
	}
	if o.Validators == nil {
		o.Validators = []string{"Bob", "Charlie"}
	}
	if o.GatewayAccount == "" {
		o.GatewayAccount = "Alice"
	}
	if o.GatewayAddr == "" {
		o.GatewayAddr = "127.0.0.1:0"
	}
	if o.EpochLength <= 0 {
		o.EpochLength = 5
	}
	if o.StepInterval <= 0 {
		o.StepInterval = 300 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	return &Extension{o: o}
}

// Name implements devnet.Extension.
func (e *Extension) Name() string { return "textgen" }

// Genesis implements devnet.Extension: nothing to add.
func (e *Extension) Genesis(*genesis.AppState) error { return nil }

// GatewayURL is the gateway's API root ("http://host:port/v1") once Start has returned.
func (e *Extension) GatewayURL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.url
}

// APIKey is the API key Start created for the devnet's user ("" without a KeyDB).
func (e *Extension) APIKey() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.apiKey
}

// Wait waits for every part to stop (after the Start context ends) and returns the
// errors they stopped with.
func (e *Extension) Wait() error {
	e.wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	return errors.Join(e.errs...)
}

func (e *Extension) pair(d *devnet.Devnet, name string) (*keys.Pair, error) {
	for _, a := range d.Accounts {
		if a.Name == name {
			return a.Pair, nil
		}
	}
	return nil, fmt.Errorf("textgen devnet: no development account %q", name)
}

func (e *Extension) run(ctx context.Context, what string, fn func(context.Context) error) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			e.mu.Lock()
			e.errs = append(e.errs, fmt.Errorf("%s: %w", what, err))
			e.mu.Unlock()
		}
	}()
}

// Start implements devnet.Extension: it starts the miners, the validators and the
// gateway, and returns once the gateway listens. They stop when ctx ends.
func (e *Extension) Start(ctx context.Context, d *devnet.Devnet) error {
	log := e.o.Logger
	if log == nil {
		log = d.Log
	}
	reg := e.o.Registerer
	if reg == nil {
		reg = d.Node.Registry()
	}
	cfg := subnet.DefaultConfig()
	cfg.Node = d.Node.RPCAddress()
	cfg.Netuid = e.o.Netuid
	cfg.AxonIP = "127.0.0.1"
	cfg.AxonPort = 0
	cfg.EpochLength = e.o.EpochLength
	cfg.StepInterval = subnet.Duration(e.o.StepInterval)
	cfg.Timeout = subnet.Duration(e.o.Timeout)
	for _, ms := range e.o.Miners {
		pair, err := e.pair(d, ms.Account)
		if err != nil {
			return err
		}
		b, err := textgen.NewBuiltin(ms.Backend)
		if err != nil {
			return fmt.Errorf("textgen devnet: miner %s: %w", ms.Account, err)
		}
		mreg := partRegisterer(reg, ms.Account)
		def, err := textgen.NewSubnet(textgen.SubnetConfig{Backend: b, Miner: textgen.MinerConfig{Registerer: mreg}})
		if err != nil {
			return err
		}
		ml := log.With("part", "textgen-miner", "account", ms.Account)
		mn, err := miner.New(def.Handler, miner.Options{Config: cfg, Hotkey: pair, Chain: subnet.ClientChain{Client: d.Client, Signer: d.Client.Signer(pair)},
			Name: "textgen", Registerer: mreg, Logger: ml, Routes: def.Routes})
		if err != nil {
			return fmt.Errorf("textgen devnet: miner %s: %w", ms.Account, err)
		}
		e.run(ctx, "miner "+ms.Account, mn.Run)
	}
	for _, name := range e.o.Validators {
		pair, err := e.pair(d, name)
		if err != nil {
			return err
		}
		vreg := partRegisterer(reg, name)
		def, err := textgen.NewSubnet(textgen.SubnetConfig{Registerer: vreg})
		if err != nil {
			return err
		}
		vc := cfg
		vc.StateDir = filepath.Join(d.Home, "textgen", "validator-"+name)
		v, err := validator.New(def, validator.Options{Config: vc, Hotkey: pair, Chain: subnet.ClientChain{Client: d.Client, Signer: d.Client.Signer(pair)},
			Registerer: vreg, Logger: routineLogger(log).With("part", "textgen-validator", "account", name)})
		if err != nil {
			return fmt.Errorf("textgen devnet: validator %s: %w", name, err)
		}
		e.run(ctx, "validator "+name, v.Run)
	}
	pair, err := e.pair(d, e.o.GatewayAccount)
	if err != nil {
		return err
	}
	dend, err := wire.NewDendrite(pair, wire.DendriteConfig{})
	if err != nil {
		return err
	}
	var ks *gateway.KeyStore
	if e.o.APIKeys {
		if e.o.KeyDB == "" {
			e.o.KeyDB = filepath.Join(d.Home, "gateway-keys.db")
		}
		if ks, err = e.openKeys(ctx, log); err != nil {
			dend.Close()
			return err
		}
	}
	var ups []gateway.Upstream
	if e.o.Upstreams != nil {
		if ups, err = e.o.Upstreams(); err != nil {
			dend.Close()
			if ks != nil {
				_ = ks.Close(context.Background())
			}
			return err
		}
	}
	g, err := gateway.New(gateway.Config{
		Keys:      ks,
		Upstreams: ups,
		Models:    []gateway.Model{{ID: "tessera-textgen", Netuid: e.o.Netuid}},
		Source:    gateway.ChainSource{Client: d.Client},
		Dendrite:  dend,
		// The runtime's miners answer within the validators' timeout; a gateway on a
		// devnet fails over sooner and re-reads the metagraph often.
		AttemptTimeout:  5 * time.Second,
		RefreshInterval: time.Second,
		Logger:          log.With("part", "gateway"),
		CORSOrigins:     append(explorerOrigins(d.Node.APIAddress()), e.o.CORSOrigins...),
	})
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", e.o.GatewayAddr)
	if err != nil {
		return fmt.Errorf("textgen devnet: gateway listen on %s: %w", e.o.GatewayAddr, err)
	}
	e.mu.Lock()
	e.url = "http://" + l.Addr().String() + "/v1"
	e.mu.Unlock()
	e.run(ctx, "gateway", func(ctx context.Context) error {
		defer dend.Close()
		return g.Serve(ctx, l)
	})
	log.Info("textgen subnet running", "netuid", e.o.Netuid, "miners", len(e.o.Miners), "validators", len(e.o.Validators), "gateway", e.GatewayURL())
	return nil
}

// openKeys opens the key database, creates a key for this run (a secret is shown once and
// stored only as a hash, so every run makes its own), and keeps usage flushed until ctx
// ends, then closes the database.
func (e *Extension) openKeys(ctx context.Context, log *slog.Logger) (*gateway.KeyStore, error) {
	ks, err := gateway.OpenKeyStore(ctx, e.o.KeyDB)
	if err != nil {
		return nil, fmt.Errorf("textgen devnet: %w", err)
	}
	// Names are unique: take the first free "devnet-N".
	taken := map[string]bool{}
	for _, k := range ks.List() {
		taken[k.Name] = true
	}
	n := 1
	for taken[fmt.Sprintf("devnet-%d", n)] {
		n++
	}
	secret, _, err := ks.Create(ctx, fmt.Sprintf("devnet-%d", n), 600, 60)
	if err != nil {
		_ = ks.Close(context.Background())
		return nil, fmt.Errorf("textgen devnet: create an API key: %w", err)
	}
	e.mu.Lock()
	e.apiKey = secret
	e.mu.Unlock()
	e.run(ctx, "key store", func(ctx context.Context) error {
		ks.Run(ctx, 5*time.Second, func(err error) { log.Warn("gateway key store", "err", err) })
		return ks.Close(context.Background())
	})
	return ks, nil
}

// explorerOrigins are the origins of the explorer page the node's API serves at api
// ("http://host:port"): that origin, and for a loopback address its "localhost" twin.
func explorerOrigins(api string) []string {
	if api == "" {
		return nil
	}
	out := []string{api}
	if rest, ok := strings.CutPrefix(api, "http://127.0.0.1:"); ok {
		out = append(out, "http://localhost:"+rest)
	}
	return out
}
