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
		lf         logFlags
		keepHome   bool
		basePort   int
		blockTime  time.Duration
		tempo      uint16
		noSubnet   bool
		quiet      bool
		miners     int
		validators int
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
			opts := devnet.Options{Home: home, BasePort: basePort, BlockTime: blockTime, Logger: log}
			if tempo == 0 {
				return usagef("--tempo must be at least 1")
			}
			if validators < 1 || miners < 1 || validators+miners > 200 {
				return usagef("--validators and --miners must each be at least 1, together at most 200")
			}
			layout := devnet.NewSubnetLayout(validators, miners, tempo)
			if !noSubnet {
				opts.Subnet = &layout
			}
			d, err := devnet.Start(cmd.Context(), opts)
			if err != nil {
				return err
			}
			info := devnetInfo(d, opts.Subnet)
			if err := env.emit(info, func(w io.Writer) error { return printDevnet(w, info) }); err != nil {
				d.Stop()
				return err
			}
			if opts.Subnet != nil && env.output == "text" && !quiet {
				names := map[string]string{}
				for _, a := range d.Accounts {
					names[a.Pair.Public().String()] = a.Name
				}
				go watchEpochs(cmd.Context(), env.stdout, d.Client, opts.Subnet.Netuid, names)
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
	cmd.Flags().Uint16Var(&tempo, "tempo", 20, "blocks between the epochs of subnet 1")
	cmd.Flags().BoolVar(&noSubnet, "no-subnet", false, "start the chain only, without subnet 1")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "do not print each epoch's results")
	cmd.Flags().IntVar(&validators, "validators", 2, "validators on subnet 1 (Bob, Charlie, then //Validator3, …)")
	cmd.Flags().IntVar(&miners, "miners", 3, "miners on subnet 1 (Dave, Eve, Ferdie, then //Miner4, …)")
	return cmd
}

type devnetAccount struct {
	Name    string `json:"name"`
	URI     string `json:"uri"`
	Address string `json:"address"`
	Balance string `json:"balance"`
}

type devnetSummary struct {
	ChainID  string               `json:"chain_id"`
	Home     string               `json:"home"`
	RPC      string               `json:"rpc"`
	API      string               `json:"api"`
	Accounts []devnetAccount      `json:"accounts"`
	Subnet   *devnet.SubnetLayout `json:"subnet,omitempty"`
}

func devnetInfo(d *devnet.Devnet, subnet *devnet.SubnetLayout) devnetSummary {
	s := devnetSummary{ChainID: devnet.ChainID, Home: d.Home, RPC: d.Node.RPCAddress(), API: d.Node.APIAddress(), Subnet: subnet}
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
		fmt.Fprintf(w, "  %-10s %-12s %s  %s\n", a.Name, a.URI, a.Address, a.Balance)
	}
	fmt.Fprintf(w, "\nSend tokens:  tessera tx transfer --node %s --from-uri //Alice --to %s --amount 1.5\n", s.RPC, s.Accounts[1].Address)
	if l := s.Subnet; l != nil {
		fmt.Fprintf(w, "\nSubnet %d (tempo %d blocks): owner %s (uid 0), validators %v (uids 1-%d, %s staked each), miners %v (uids %d-%d).\n",
			l.Netuid, l.Tempo, l.Owner, l.Validators, len(l.Validators), accounts.FormatAmount(l.Stake), l.Miners, len(l.Validators)+1, len(l.Validators)+len(l.Miners))
		first := len(l.Validators) + 1
		fmt.Fprintf(w, "Set weights:  tessera weights set --node %s --from-uri //%s --netuid %d --uids %d,%d --weights 1,0.5\n", s.RPC, l.Validators[0], l.Netuid, first, first+min(1, len(l.Miners)-1))
		fmt.Fprintf(w, "Watch:        tessera metagraph --node %s --netuid %d\n", s.RPC, l.Netuid)
	}
	_, err := fmt.Fprintf(w, "Press Ctrl-C to stop.\n")
	return err
}
