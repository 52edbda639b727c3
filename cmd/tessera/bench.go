package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/loadgen"
)

func newBenchCmd(env *cliEnv) *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure the node under load"}
	var (
		o          loadgen.Options
		yardstick  bool
		weights    bool
		lf         logFlags
		cpuProfile string
	)
	transfers := &cobra.Command{
		Use:   "transfers",
		Short: "Sustained signed transfers per second through a single-node chain",
		Long: `Starts a one-validator chain in this process, submits pre-signed transfers from many
accounts over CometBFT's HTTP RPC, and reports the transactions committed per second over
the measured window. With --yardstick it then runs CometBFT's kvstore example on the same
node configuration with same-size unsigned transactions, for comparison.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := lf.logger(env.stderr)
			if err != nil {
				return err
			}
			o.Logger = log
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			runs := []bool{false}
			if yardstick {
				runs = append(runs, true)
			}
			o.Weights = weights
			var results []*loadgen.Result
			for _, ys := range runs {
				oo := o
				oo.Yardstick = ys
				if ys {
					oo.Weights = false
				}
				r, err := loadgen.Run(cmd.Context(), oo)
				if err != nil {
					return err
				}
				results = append(results, r)
			}
			return env.emit(results, func(w io.Writer) error {
				for _, r := range results {
					fmt.Fprintf(w, "%-17s %8.0f tx/s committed  (%d txs in %d blocks over %.1fs; max %d txs/block; %d-byte txs; %d rejected; %d mempool-full retries)\n",
						r.App, r.TxPerSec, r.Committed, r.Blocks, r.WindowSecs, r.MaxBlockTxs, r.TxBytes, r.Rejected, r.MempoolFull)
					if r.FirstReject != "" {
						fmt.Fprintf(w, "  first rejection: %s\n", r.FirstReject)
					}
					if r.RanOutOfTxs {
						fmt.Fprintf(w, "  ran out of pre-signed transactions: raise --max-rate\n")
					}
				}
				if len(results) == 2 && results[1].TxPerSec > 0 {
					fmt.Fprintf(w, "tessera/kvstore: %.0f%%\n", 100*results[0].TxPerSec/results[1].TxPerSec)
				}
				return nil
			})
		},
	}
	transfers.Flags().DurationVar(&o.Duration, "duration", 30*time.Second, "measured window")
	transfers.Flags().DurationVar(&o.Warmup, "warmup", 3*time.Second, "load before the window opens")
	transfers.Flags().DurationVar(&o.BlockTime, "block-time", time.Second, "target time between blocks")
	transfers.Flags().IntVar(&o.Workers, "workers", 64, "concurrent RPC clients")
	transfers.Flags().IntVar(&o.Senders, "senders", 64, "signing accounts")
	transfers.Flags().IntVar(&o.MaxRate, "max-rate", 8000, "transactions pre-signed per second of load")
	transfers.Flags().IntVar(&o.BasePort, "base-port", 27656, "p2p port of the benchmark node (RPC +1)")
	transfers.Flags().BoolVar(&yardstick, "yardstick", false, "also run CometBFT's kvstore example for comparison")
	transfers.Flags().BoolVar(&weights, "set-weights", false, "send set_weights of 256 entries from 64 validators of a 256-uid subnet instead of transfers")
	transfers.Flags().StringVar(&cpuProfile, "cpu-profile", "", "write a CPU profile of the whole run to this file")
	transfers.Flags().StringVar(&lf.level, "log-level", "warn", "log level")
	transfers.Flags().StringVar(&lf.format, "log-format", "text", "log format")
	cmd.AddCommand(transfers)
	return cmd
}
