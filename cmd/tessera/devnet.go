package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/devnet"
	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/modules/accounts"
)

func newDevnetCmd(env *cliEnv) *cobra.Command {
	var (
		lf        logFlags
		keepHome  bool
		basePort  int
		blockTime time.Duration
	)
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a whole local network in this process until interrupted",
		Long: `Run a whole local Tessera network in this process: a one-validator chain with the
development accounts (//Alice, //Bob, ...) funded. Its data go to a temporary directory
that is removed on exit, unless --home is given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := lf.logger(env.stderr)
			if err != nil {
				return err
			}
			home := ""
			if cmd.Flags().Changed("home") || keepHome {
				home = env.home
			}
			d, err := devnet.Start(cmd.Context(), devnet.Options{Home: home, BasePort: basePort, BlockTime: blockTime, Logger: log})
			if err != nil {
				return err
			}
			info := devnetInfo(d)
			if err := env.emit(info, func(w io.Writer) error { return printDevnet(w, info) }); err != nil {
				d.Stop()
				return err
			}
			<-cmd.Context().Done()
			log.Info("stopping devnet")
			return d.Stop()
		},
	}
	cmd.Flags().StringVar(&lf.level, "log-level", "info", "log level: debug, info, warn, error")
	cmd.Flags().StringVar(&lf.format, "log-format", "text", "log format: text or json")
	cmd.Flags().BoolVar(&keepHome, "keep", false, "keep the data in --home (default ~/.tessera) instead of a temporary directory")
	cmd.Flags().IntVar(&basePort, "base-port", 26656, "p2p port; RPC is base+1 and the API base+2 (0 picks free ports)")
	cmd.Flags().DurationVar(&blockTime, "block-time", time.Second, "target time between blocks")
	return cmd
}

type devnetAccount struct {
	Name    string `json:"name"`
	URI     string `json:"uri"`
	Address string `json:"address"`
	Balance string `json:"balance"`
}

type devnetSummary struct {
	ChainID  string          `json:"chain_id"`
	Home     string          `json:"home"`
	RPC      string          `json:"rpc"`
	API      string          `json:"api"`
	Accounts []devnetAccount `json:"accounts"`
}

func devnetInfo(d *devnet.Devnet) devnetSummary {
	s := devnetSummary{ChainID: devnet.ChainID, Home: d.Home, RPC: d.Node.RPCAddress(), API: d.Node.APIAddress()}
	for _, a := range d.Accounts {
		s.Accounts = append(s.Accounts, devnetAccount{Name: a.Name, URI: a.URI, Address: a.Pair.Public().String(), Balance: accounts.FormatAmount(genesis.DevBalance)})
	}
	return s
}

func printDevnet(w io.Writer, s devnetSummary) error {
	fmt.Fprintf(w, "Tessera devnet %s is running (data in %s)\n\n", s.ChainID, s.Home)
	fmt.Fprintf(w, "  CometBFT RPC  %s\n  JSON API      %s   (try %s/v1/status)\n  metrics       %s/metrics\n\n", s.RPC, s.API, s.API, s.API)
	fmt.Fprintf(w, "Development accounts (secret URI → address, balance):\n")
	for _, a := range s.Accounts {
		fmt.Fprintf(w, "  %-8s %-10s %s  %s\n", a.Name, a.URI, a.Address, a.Balance)
	}
	fmt.Fprintf(w, "\nSend tokens:  tessera tx transfer --node %s --from-uri //Alice --to %s --amount 1.5\n", s.RPC, s.Accounts[1].Address)
	_, err := fmt.Fprintf(w, "Press Ctrl-C to stop.\n")
	return err
}
