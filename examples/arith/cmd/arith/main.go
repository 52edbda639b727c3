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
	"os"
	"time"

	"github.com/tessera-net/tessera/examples/arith"
	"github.com/tessera-net/tessera/sdk/runner"
	"github.com/tessera-net/tessera/sdk/subnet"
)

func main() {
	runner.Main("arith", run)
}

func run(ctx context.Context, args []string) error {
	cfg := subnet.DefaultConfig()
	role, fs, err := runner.Flags("arith", args, &cfg)
	if err != nil {
		return err
	}
	mode := fs.String("mode", "good", "miner: good, wrong (off by one) or slow")
	delay := fs.Duration("delay", 500*time.Millisecond, "miner: how long a slow miner takes")
	if err := cfg.Parse(fs, args[1:]); err != nil {
		return err
	}
	m, err := arith.ParseMode(*mode)
	if err != nil {
		return err
	}
	env, err := runner.Setup(cfg, os.Getenv)
	if err != nil {
		return err
	}
	defer env.Close()
	def, err := arith.Subnet(m, *delay, env.Log)
	if err != nil {
		return err
	}
	return runner.Run(ctx, env, role, def, env.Log.With("mode", string(m)))
}
