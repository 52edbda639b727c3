package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcfg "github.com/cometbft/cometbft/config"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpclocal "github.com/cometbft/cometbft/rpc/client/local"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tessera-net/tessera/api"
	"github.com/tessera-net/tessera/app"
	"github.com/tessera-net/tessera/modules"
	"github.com/tessera-net/tessera/store"
)

// Options configure a node.
type Options struct {
	Home   string
	Logger *slog.Logger
	// VerboseConsensus shows CometBFT's info-level logs.
	VerboseConsensus bool
	// Yardstick runs this ABCI application instead of Tessera's (no state store, no
	// API); the load benchmarks use it to run CometBFT's kvstore example on the very same
	// node configuration.
	Yardstick abci.Application
	// Explorer is the explorer's web page, which the JSON API serves at / and /explorer/
	// unless the settings turn it off (nil: no page).
	Explorer http.Handler

	// Overrides of the home's settings (config/tessera.json), from command-line flags:
	// nil or "" keeps the setting.
	ExplorerEnabled *bool    // Settings.Explorer
	CORSOrigins     []string // Settings.APICORSOrigins
	GatewayURL      string   // Settings.ExplorerGatewayURL
}

// Node is a running Tessera node.
type Node struct {
	cfg      *cmtcfg.Config
	settings Settings
	log      *slog.Logger
	store    *store.Store
	app      *app.App
	comet    *nm.Node
	registry *prometheus.Registry
	explorer http.Handler // nil: none, or turned off

	apiLn  net.Listener
	apiSrv *http.Server
	api    *api.Handler
}

// New opens a node home: its configuration, state and keys. It starts nothing.
func New(o Options) (*Node, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := LoadConfig(o.Home)
	if err != nil {
		return nil, err
	}
	settings, err := LoadSettings(o.Home)
	if err != nil {
		return nil, err
	}
	if o.ExplorerEnabled != nil {
		settings.Explorer = *o.ExplorerEnabled
	}
	if o.CORSOrigins != nil {
		settings.APICORSOrigins = o.CORSOrigins
	}
	if o.GatewayURL != "" {
		settings.ExplorerGatewayURL = o.GatewayURL
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var (
		st      *store.Store
		a       *app.App
		creator proxy.ClientCreator
	)
	if o.Yardstick != nil {
		// CometBFT's example applications serve one query at a time per connection.
		st, creator, settings.APIAddress = store.OpenMemory(), proxy.NewConnSyncLocalClientCreator(o.Yardstick), ""
	} else {
		if st, err = openVerifiedState(cfg, settings, o.Logger); err != nil {
			return nil, err
		}
		// Every node runs the chain's one registry of modules (package modules).
		set := modules.Builtin()
		m, err := app.NewMetrics(reg)
		if err == nil {
			a, err = app.New(st, app.Options{Logger: o.Logger.With("module", "app"), Metrics: m, Modules: set.Modules, Ante: set.Ante})
		}
		if err != nil {
			st.Close()
			return nil, err
		}
		// Queries run concurrently, straight from committed state (see package app).
		creator = newConcurrentQueries(a)
	}
	nodeKey, err := p2p.LoadNodeKey(cfg.NodeKeyFile())
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("load node key %s: %w", cfg.NodeKeyFile(), err)
	}
	pv, err := loadPrivValidator(cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	logger := cometLogger{l: o.Logger.With("module", "comet"), verbose: o.VerboseConsensus}
	var comet *nm.Node
	// CometBFT panics on data it cannot read: report that as the error it is.
	if perr := guard(cfg.DBDir(), hintComet, func() {
		comet, err = nm.NewNode(cfg, pv, nodeKey, creator,
			nm.DefaultGenesisDocProviderFunc(cfg), cmtcfg.DefaultDBProvider,
			nm.DefaultMetricsProvider(cfg.Instrumentation), logger)
	}); perr != nil {
		st.Close()
		logDataError(o.Logger, perr)
		return nil, perr
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("create consensus node: %w", err)
	}
	n := &Node{cfg: cfg, settings: settings, log: o.Logger, store: st, app: a, comet: comet, registry: reg}
	if settings.Explorer {
		n.explorer = o.Explorer
	}
	return n, nil
}

// loadPrivValidator loads the validator key, checking the files first: CometBFT's
// loader exits the process on a bad file instead of returning an error.
func loadPrivValidator(cfg *cmtcfg.Config) (*privval.FilePV, error) {
	for _, f := range []string{cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile()} {
		if err := checkJSONFile(f); err != nil {
			return nil, fmt.Errorf("validator key: %w", err)
		}
	}
	return privval.LoadFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile()), nil
}

// Start starts consensus, p2p, the RPC server and the JSON API.
func (n *Node) Start() error {
	var err error
	if perr := guard(n.cfg.DBDir(), hintComet, func() { err = n.comet.Start() }); perr != nil {
		logDataError(n.log, perr)
		return perr
	}
	if err != nil {
		return fmt.Errorf("start consensus node: %w", err)
	}
	if n.settings.APIAddress != "" {
		ln, err := net.Listen("tcp", n.settings.APIAddress)
		if err != nil {
			n.stopComet()
			return fmt.Errorf("API listen on %s: %w", n.settings.APIAddress, err)
		}
		n.apiLn = ln
		n.api = api.NewHandler(n.Client(), api.Options{Metrics: n.registry, Logger: n.log.With("module", "api"),
			CORSOrigins: n.settings.APICORSOrigins, Explorer: n.explorer, GatewayURL: n.settings.ExplorerGatewayURL})
		n.apiSrv = &http.Server{Handler: n.api, ReadHeaderTimeout: 10 * time.Second}
		n.apiSrv.RegisterOnShutdown(n.api.Close)
		go func() {
			if err := n.apiSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				n.log.Error("API server stopped", "err", err)
			}
		}()
	}
	n.log.Info("node started", "chain_id", n.comet.GenesisDoc().ChainID, "rpc", n.RPCAddress(), "api", n.APIAddress(), "explorer", n.ExplorerURL(), "home", n.cfg.RootDir)
	return nil
}

func (n *Node) stopComet() {
	if n.comet.IsRunning() {
		if err := n.comet.Stop(); err != nil {
			n.log.Error("stop consensus node", "err", err)
		}
		n.comet.Wait()
	}
}

// Stop stops everything and closes the state.
func (n *Node) Stop() error {
	if n.apiSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = n.apiSrv.Shutdown(ctx)
		cancel()
	}
	n.stopComet()
	return n.store.Close()
}

// Run starts the node and blocks until ctx is done, then stops it.
func (n *Node) Run(ctx context.Context) error {
	if err := n.Start(); err != nil {
		n.store.Close()
		return err
	}
	<-ctx.Done()
	n.log.Info("stopping node")
	return n.Stop()
}

// Client returns an in-process RPC client of this node.
func (n *Node) Client() rpcclient.Client { return rpclocal.New(n.comet) }

// SetGatewayURL sets the gateway the explorer shows the traffic of (GET
// /v1/explorer/config), for a gateway that starts after the node, as the devnet's does.
// It does nothing before Start or without an API.
func (n *Node) SetGatewayURL(u string) {
	if n.api != nil {
		n.api.SetGatewayURL(u)
	}
}

// App returns the Tessera application (nil on a yardstick node).
func (n *Node) App() *app.App { return n.app }

// Registry returns the node's Prometheus registry, for components that run beside it.
func (n *Node) Registry() *prometheus.Registry { return n.registry }

// RPCAddress is CometBFT's RPC address, as tcp://host:port.
func (n *Node) RPCAddress() string { return n.cfg.RPC.ListenAddress }

// APIAddress is the JSON API's base URL, or "" when it is disabled.
func (n *Node) APIAddress() string {
	if n.apiLn == nil {
		return ""
	}
	return "http://" + n.apiLn.Addr().String()
}

// ExplorerURL is the explorer page's URL (the API's base URL and "/"), or "" when the
// node serves none.
func (n *Node) ExplorerURL() string {
	if n.explorer == nil || n.apiLn == nil {
		return ""
	}
	return n.APIAddress() + "/"
}

// P2PAddress is the p2p listen address as host:port.
func (n *Node) P2PAddress() string {
	return strings.TrimPrefix(n.cfg.P2P.ListenAddress, "tcp://")
}
