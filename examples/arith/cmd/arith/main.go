// Command arith runs the tutorial subnet's miner or validator:
//
//	arith miner --node tcp://127.0.0.1:26657 --netuid 1 --from-uri //Dave --axon.port 8091
//	arith validator --node tcp://127.0.0.1:26657 --netuid 1 --from-uri //Bob --state-dir ./bob
//
// Every flag of sdk/subnet.Config is accepted (arith miner -h lists them), and
// --config file.json gives them in a file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/examples/arith"
	"github.com/tessera-net/tessera/sdk/miner"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/sdk/validator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "arith:", err)
		}
		os.Exit(2)
	}
}

const usage = `usage: arith miner|validator [flags]   (arith miner -h lists the flags)`

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	role := args[0]
	if role != "miner" && role != "validator" {
		return fmt.Errorf("unknown role %q; %s", role, usage)
	}
	fs := flag.NewFlagSet("arith "+role, flag.ContinueOnError)
	cfg := subnet.DefaultConfig()
	cfg.RegisterFlags(fs)
	mode := fs.String("mode", "good", "miner: good, wrong (off by one) or slow")
	delay := fs.Duration("delay", 500*time.Millisecond, "miner: how long a slow miner takes")
	if err := cfg.Parse(fs, args[1:]); err != nil {
		return err
	}
	m, err := arith.ParseMode(*mode)
	if err != nil {
		return err
	}
	log, err := cfg.Logger(os.Stderr)
	if err != nil {
		return err
	}
	hot, err := cfg.Hotkey(nil)
	if err != nil {
		return err
	}
	c, err := client.Dial(cfg.Node)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if cfg.MetricsAddr != "" {
		l, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("metrics.addr: %w", err)
		}
		srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(l)
		defer srv.Close()
		log.Info("metrics served", "addr", l.Addr().String()+"/metrics")
	}
	def, err := arith.Subnet(m, *delay, log)
	if err != nil {
		return err
	}
	chain := subnet.ClientChain{Client: c, Signer: c.Signer(hot)}
	if role == "miner" {
		mn, err := miner.New(def.Handler, miner.Options{Config: cfg, Hotkey: hot, Chain: chain, Name: def.Name, Registerer: reg, Logger: log.With("mode", string(m))})
		if err != nil {
			return err
		}
		return mn.Run(ctx)
	}
	if cfg.StateDir, err = cfg.ResolveStateDir(hot.Public().String()); err != nil {
		return err
	}
	v, err := validator.New(def, validator.Options{Config: cfg, Hotkey: hot, Chain: chain, Registerer: reg, Logger: log})
	if err != nil {
		return err
	}
	return v.Run(ctx)
}
