package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// cliEnv is what every command shares: the global flags and the process's streams. It is
// passed to each command constructor instead of living in package variables.
type cliEnv struct {
	home   string // --home: the node and wallet directory
	output string // --output: "text" or "json"

	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// usageError marks an error in how a command was called (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// usagef builds a usageError.
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func defaultHome() string {
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".tessera")
	}
	return ".tessera"
}

// newRootCmd assembles the command tree.
func newRootCmd(env *cliEnv) *cobra.Command {
	root := &cobra.Command{
		Use:           "tessera",
		Short:         "Tessera: an open network where AI work is produced, scored and paid for",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if env.output != "text" && env.output != "json" {
				return usagef("--output must be text or json, not %q", env.output)
			}
			return nil
		},
	}
	root.PersistentFlags().StringVar(&env.home, "home", defaultHome(), "directory for node data, configuration and wallets")
	root.PersistentFlags().StringVarP(&env.output, "output", "o", "text", "output format: text or json")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	for _, c := range []*cobra.Command{
		// One constructor per command group; keep one per line.
		newWalletCmd(env),
		newKeysCmd(env),
		newNodeCmd(env),
		newTestnetCmd(env),
		newDevnetCmd(env),
		newTxCmd(env),
		newQueryCmd(env),
		newBenchCmd(env),
		newSubnetCmd(env),
		newStakeCmd(env),
		newWeightsCmd(env),
		newRootSubnetCmd(env),
		newMetagraphCmd(env),
		newGovCmd(env),
		newModelCmd(env),
		newMLNodeCmd(env),
		newInferenceCmd(env),
		newYumaCmd(env),
		newGatewayCmd(env),
		newInferenceAPICmd(env),
		newLMCmd(env),
		newKernelbenchCmd(env),
	} {
		root.AddCommand(c)
	}
	refuseUnknownSubcommands(root)
	return root
}

// refuseUnknownSubcommands makes every command group (a command with subcommands and no
// action of its own) fail with a usage error when it is given an argument that names none
// of its subcommands, where cobra would print the help and exit 0. Bare, a group still
// prints its help.
func refuseUnknownSubcommands(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		refuseUnknownSubcommands(c)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's own default for the root
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		hint := ""
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			hint = fmt.Sprintf("; did you mean %q?", s[0])
		}
		return usagef("unknown command %q for %q%s (see %s --help)", args[0], cmd.CommandPath(), hint, cmd.CommandPath())
	}
}

// emit prints a command's result: as indented JSON with --output json, otherwise through
// the text renderer.
func (env *cliEnv) emit(v any, text func(w io.Writer) error) error {
	if env.output == "json" {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return text(env.stdout)
}
