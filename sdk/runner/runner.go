// Package runner is the main function of a subnet's binary, less the subnet: from a parsed
// subnet.Config it sets up the logger, the hotkey, the chain client and the metrics
// endpoint (Setup), then runs the chosen role — the miner or the validator runtime — over a
// subnet definition until the context ends (Run). A subnet binary parses its own flags,
// builds its Definition, and calls these two.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/sdk/miner"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/sdk/validator"
	"github.com/tessera-net/tessera/wire"
)

// Roles a subnet binary runs.
const (
	Miner     = "miner"
	Validator = "validator"
)

// Env is what a role runs with.
type Env struct {
	Config   subnet.Config
	Log      *slog.Logger
	Hotkey   *keys.Pair
	Client   *client.Client
	Registry *prometheus.Registry // Go and process collectors registered; served at Config.MetricsAddr

	metrics *http.Server
}

// Setup builds the Env from a parsed config: the logger (to stderr), the hotkey (getenv
// supplies passwords and TESSERA_FROM_URI), the chain client, and, when
// Config.MetricsAddr is set, the Prometheus endpoint.
func Setup(cfg subnet.Config, getenv func(string) string) (*Env, error) {
	log, err := cfg.Logger(os.Stderr)
	if err != nil {
		return nil, err
	}
	hot, err := cfg.Hotkey(getenv)
	if err != nil {
		return nil, err
	}
	c, err := client.Dial(cfg.Node)
	if err != nil {
		return nil, err
	}
	e := &Env{Config: cfg, Log: log, Hotkey: hot, Client: c, Registry: prometheus.NewRegistry()}
	e.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if cfg.MetricsAddr != "" {
		l, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return nil, fmt.Errorf("metrics.addr: %w", err)
		}
		e.metrics = &http.Server{Handler: promhttp.HandlerFor(e.Registry, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := e.metrics.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics endpoint stopped", "err", err)
			}
		}()
		log.Info("metrics served", "addr", l.Addr().String()+"/metrics")
	}
	return e, nil
}

// Close stops the metrics endpoint.
func (e *Env) Close() {
	if e.metrics != nil {
		_ = e.metrics.Close()
	}
}

// Run runs role (Miner or Validator) over def until ctx ends. minerLog, when set, is the
// miner runtime's logger (a subnet may add its own attributes); the validator's state
// directory is resolved per hotkey.
func Run[P wire.Synapse](ctx context.Context, e *Env, role string, def *subnet.Definition[P], minerLog *slog.Logger) error {
	chain := subnet.ClientChain{Client: e.Client, Signer: e.Client.Signer(e.Hotkey)}
	cfg := e.Config
	switch role {
	case Miner:
		if minerLog == nil {
			minerLog = e.Log
		}
		mn, err := miner.New(def.Handler, miner.Options{Config: cfg, Hotkey: e.Hotkey, Chain: chain, Name: def.Name, Registerer: e.Registry, Logger: minerLog, Routes: def.Routes})
		if err != nil {
			return err
		}
		return mn.Run(ctx)
	case Validator:
		dir, err := cfg.ResolveStateDir(e.Hotkey.Public().String())
		if err != nil {
			return err
		}
		cfg.StateDir = dir
		v, err := validator.New(def, validator.Options{Config: cfg, Hotkey: e.Hotkey, Chain: chain, Registerer: e.Registry, Logger: e.Log})
		if err != nil {
			return err
		}
		return v.Run(ctx)
	}
	return fmt.Errorf("unknown role %q: want %s or %s", role, Miner, Validator)
}
