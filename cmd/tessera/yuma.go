package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/yuma/yumajson"
)

// newYumaCmd is the `yuma` command group: tools around the Yuma Consensus epoch.
func newYumaCmd(env *cliEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "yuma",
		Short: "Yuma Consensus tools: run the epoch on a subnet state",
	}
	cmd.AddCommand(newYumaSimulateCmd(env))
	return cmd
}

func newYumaSimulateCmd(env *cliEnv) *cobra.Command {
	var (
		epochs int
		mode   string
	)
	cmd := &cobra.Command{
		Use:   "simulate [STATE.json | -]",
		Short: "Run Yuma epochs on an epoch state (JSON) and print the results",
		Long: `Run the Yuma Consensus epoch exactly as the chain does (subtensor's fixed-point epoch)
on one subnet state and print every output: active, stake_weight, consensus, incentive,
dividends, validator_trust, new_validator_permit, server_emission, validator_emission,
emission and the new bonds. The state is read from the file given, or from standard input
when the argument is "-" or absent; its format is described in docs/yuma.md.

With --epochs N the epoch runs N times: the new validator permits and bonds of each epoch
are the inputs of the next, last_mechanism_step_block becomes the epoch's block and
current_block advances by tempo. One epoch prints one JSON object; several print an array.
The output is JSON unless --output text is given explicitly, which prints a table of the
last epoch.`,
		Example: `  tessera yuma simulate subnet.json
  tessera yuma simulate --epochs 10 < subnet.json
  tessera yuma simulate --mode dense subnet.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if epochs < 1 {
				return usagef("--epochs must be at least 1, got %d", epochs)
			}
			if mode != "" && mode != "sparse" && mode != "dense" {
				return usagef("--mode must be sparse or dense, not %q", mode)
			}
			var in io.Reader = env.stdin
			name := "standard input"
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("reading epoch state: %w", err)
				}
				defer f.Close()
				in, name = f, args[0]
			}
			st, err := yumajson.Read(in)
			if err != nil {
				return fmt.Errorf("epoch state in %s: %w", name, err)
			}
			if mode != "" {
				st.Sparse = mode == "sparse"
			}
			outs, err := yumajson.Simulate(st, epochs)
			if err != nil {
				return fmt.Errorf("epoch state in %s: %w", name, err)
			}
			if env.output == "text" && cmd.Flags().Changed("output") {
				return writeYumaTable(env.stdout, outs[len(outs)-1])
			}
			enc := json.NewEncoder(env.stdout)
			enc.SetIndent("", "  ")
			if len(outs) == 1 {
				return enc.Encode(outs[0])
			}
			return enc.Encode(outs)
		},
	}
	cmd.Flags().IntVar(&epochs, "epochs", 1, "number of epochs to run, carrying permits and bonds forward")
	cmd.Flags().StringVar(&mode, "mode", "", `override the state's "sparse" field: sparse (the chain's epoch) or dense`)
	return cmd
}

// writeYumaTable prints one epoch's per-uid results; proportions as u16/65535 fractions.
func writeYumaTable(w io.Writer, o *yumajson.Output) error {
	fmt.Fprintf(w, "epoch at block %d\n", o.CurrentBlock)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "uid\tactive\tpermit\tstake\tconsensus\tincentive\tdividends\tvtrust\tserver_emission\tvalidator_emission\t")
	p := func(v uint16) string { return fmt.Sprintf("%.5f", float64(v)/65535) }
	for i := range o.Active {
		fmt.Fprintf(tw, "%d\t%v\t%v\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t\n", i, o.Active[i], o.NewValidatorPermit[i],
			p(o.StakeWeight[i]), p(o.Consensus[i]), p(o.Incentive[i]), p(o.Dividends[i]), p(o.ValidatorTrust[i]),
			o.ServerEmission[i], o.ValidatorEmission[i])
	}
	return tw.Flush()
}
