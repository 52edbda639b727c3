package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/node"
)

func newNodeCmd(env *cliEnv) *cobra.Command {
	cmd := &cobra.Command{Use: "node", Short: "Run a Tessera node (CometBFT and the Tessera application in one process)"}
	cmd.AddCommand(newNodeInitCmd(env), newNodeStartCmd(env), newNodeBindAuthorCmd(env))
	return cmd
}

func newNodeInitCmd(env *cliEnv) *cobra.Command {
	var (
		chainID, moniker  string
		p2p, rpc, apiAddr string
		blockTime         time.Duration
		devAccounts       bool
		fund              []string
	)
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a node home with keys, configuration and a one-validator genesis",
		Example: `  tessera node init --home ./mynode --chain-id my-chain --dev-accounts
  tessera node init --fund 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY=1000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st genesis.AppState
			if devAccounts {
				if err := st.FundDevAccounts(); err != nil {
					return err
				}
			}
			for _, f := range fund {
				pub, amount, err := parseFund(f)
				if err != nil {
					return err
				}
				st.Fund(pub, amount)
			}
			raw, err := json.Marshal(st)
			if err != nil {
				return err
			}
			gv, id, err := node.InitHome(node.InitOptions{Home: env.home, Moniker: moniker, BlockTime: blockTime,
				Ports: node.Ports{P2P: p2p, RPC: rpc, API: apiAddr}})
			if err != nil {
				return err
			}
			if err := node.WriteGenesis(chainID, []cmttypes.GenesisValidator{gv}, raw, env.home); err != nil {
				return err
			}
			out := map[string]any{"home": env.home, "chain_id": chainID, "node_id": id, "rpc": rpc, "p2p": p2p, "api": apiAddr,
				"validator_address": gv.Address.String()}
			return env.emit(out, func(w io.Writer) error {
				fmt.Fprintf(w, "node home %s created (chain %s, node id %s)\nstart it with: tessera node start --home %s\n", env.home, chainID, id, env.home)
				return nil
			})
		},
	}
	d := node.DefaultPorts()
	cmd.Flags().StringVar(&chainID, "chain-id", "tessera-local", "chain id of the new chain")
	cmd.Flags().StringVar(&moniker, "moniker", "tessera", "the node's name")
	cmd.Flags().StringVar(&p2p, "p2p", d.P2P, "p2p listen address")
	cmd.Flags().StringVar(&rpc, "rpc", d.RPC, "CometBFT RPC listen address")
	cmd.Flags().StringVar(&apiAddr, "api", d.API, "JSON API listen address (empty to disable)")
	cmd.Flags().DurationVar(&blockTime, "block-time", time.Second, "target time between blocks")
	cmd.Flags().BoolVar(&devAccounts, "dev-accounts", false, "fund the development accounts (//Alice, //Bob, ...)")
	cmd.Flags().StringArrayVar(&fund, "fund", nil, "fund an account at genesis: ADDRESS=TOKENS (repeatable)")
	return cmd
}

// parseFund reads ADDRESS=TOKENS.
func parseFund(s string) (keys.PublicKey, uint64, error) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '=' {
			pub, err := keys.ParsePublicKey(s[:i])
			if err != nil {
				return pub, 0, usagef("--fund %q: %v", s, err)
			}
			amt, err := accounts.ParseAmount(s[i+1:])
			if err != nil {
				return pub, 0, usagef("--fund %q: %v", s, err)
			}
			return pub, amt, nil
		}
	}
	return keys.PublicKey{}, 0, usagef("--fund %q must be ADDRESS=TOKENS", s)
}

func newNodeStartCmd(env *cliEnv) *cobra.Command {
	var lf logFlags
	var verbose bool
	var ef explorerFlags
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start the node in --home and run until interrupted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := lf.logger(env.stderr)
			if err != nil {
				return err
			}
			o := node.Options{Home: env.home, Logger: log, VerboseConsensus: verbose}
			ef.apply(cmd, &o)
			n, err := node.New(o)
			if err != nil {
				return err
			}
			return n.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&lf.level, "log-level", "info", "log level: debug, info, warn, error")
	cmd.Flags().StringVar(&lf.format, "log-format", "text", "log format: text or json")
	cmd.Flags().BoolVar(&verbose, "verbose-consensus", false, "show CometBFT's info-level logs")
	ef.register(cmd, true)
	return cmd
}

func newTestnetCmd(env *cliEnv) *cobra.Command {
	var o node.TestnetOptions
	var devAccounts bool
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "Write the homes of a multi-validator network on this machine",
		Example: `  tessera testnet --validators 4 --out ./testnet
  tessera node start --home ./testnet/node0   # and node1..node3, each in its own terminal`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Dir == "" {
				return usagef("--out is required")
			}
			var st genesis.AppState
			if devAccounts {
				if err := st.FundDevAccounts(); err != nil {
					return err
				}
			}
			raw, err := json.Marshal(st)
			if err != nil {
				return err
			}
			o.AppState = raw
			nodes, err := node.WriteTestnet(o)
			if err != nil {
				return err
			}
			return env.emit(map[string]any{"chain_id": o.ChainID, "nodes": nodes}, func(w io.Writer) error {
				fmt.Fprintf(w, "%d-validator network %s written to %s\n", len(nodes), o.ChainID, o.Dir)
				for _, n := range nodes {
					fmt.Fprintf(w, "  tessera node start --home %s    # rpc %s, api %s, metrics %s\n", n.Home, n.RPC, n.API, n.Metrics)
				}
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&o.Validators, "validators", 4, "number of validators")
	cmd.Flags().StringVar(&o.Dir, "out", "", "directory to write node0..nodeN-1 into")
	cmd.Flags().StringVar(&o.ChainID, "chain-id", "tessera-testnet", "chain id")
	cmd.Flags().StringVar(&o.Host, "host", "127.0.0.1", "listen host of every node")
	cmd.Flags().IntVar(&o.BasePort, "base-port", 26656, "node k listens on base+10k (p2p), +1 (RPC), +2 (API), and +3 on 127.0.0.1 for metrics")
	cmd.Flags().DurationVar(&o.BlockTime, "block-time", time.Second, "target time between blocks")
	cmd.Flags().BoolVar(&devAccounts, "dev-accounts", true, "fund the development accounts")
	return cmd
}
