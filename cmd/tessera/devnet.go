package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/devnet"
	"github.com/tessera-net/tessera/explorer"
	"github.com/tessera-net/tessera/gateway"
	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/subnets/inference/infdev"
	"github.com/tessera-net/tessera/subnets/textgen/textgendev"
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
		dtaoOn     bool
		miners     int
		validators int
		chainOnly  bool
		gatewayAt  string
		noKeys     bool
		noFaucet   bool
		noInfer    bool
		forger     int
		alterer    int
		infModel   string
		inProcess  bool
		ef         explorerFlags
		league     bool
	)
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a whole local network in this process until interrupted",
		Long: `Run a whole local Tessera network in this process: a one-validator chain with the
development accounts (//Alice, //Bob, ...) funded; subnet 1, a text-generation subnet,
owned by Alice, with validators (Bob, Charlie) and miners of different quality (Dave
good, Eve slow, Ferdie often wrong, Miner4 flapping) that answer, are scored and paid; and
an OpenAI-compatible gateway in front of them, with a ready-to-use API key; and an
inference subnet (mechanism poc) with two models voted in at genesis and three
participants (//Inference1..3) whose Proof of Compute runs in this process, each epoch's
stages, valid nonces and rewards printed as they happen; and the kernel league, a subnet
where three miners submit a linear-attention kernel by commit-reveal and a judge
benchmarks them in a sandbox and logs the leaderboard and weights each round. Its data
go to a temporary directory that is removed on exit, unless --home is given.`,
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
			opts := devnet.Options{Home: home, BasePort: basePort, BlockTime: blockTime, Logger: log, DTAO: dtaoOn,
				Explorer: explorer.Handler(), NoExplorer: !ef.explorer, CORSOrigins: ef.corsOrigins}
			if !noFaucet {
				opts.Faucet = &devnet.FaucetOptions{}
			}
			if tempo == 0 {
				return usagef("--tempo must be at least 1")
			}
			if validators < 1 || miners < 1 || validators+miners > 200 {
				return usagef("--validators and --miners must each be at least 1, together at most 200")
			}
			layout := devnet.NewSubnetLayout(validators, miners, tempo)
			// The gateway serves the inference network's models beside the text-generation
			// subnet's: it finds the API nodes as they start, after it does.
			var inf *infdev.Extension
			if !noInfer {
				if inf, err = newInferenceExtension(inferenceFlags{forger, alterer, infModel, inProcess}, log, env, quiet); err != nil {
					return err
				}
			}
			var tg *textgendev.Extension
			if !noSubnet {
				opts.Subnet = &layout
				if !chainOnly {
					if basePort == 0 && !cmd.Flags().Changed("gateway") {
						gatewayAt = "127.0.0.1:0"
					}
					tg = textgendev.New(textgendev.Options{Miners: textgendev.MinersFor(layout.Miners), Validators: layout.Validators,
						GatewayAddr: gatewayAt, APIKeys: !noKeys, Logger: log, CORSOrigins: ef.corsOrigins, Upstreams: inferenceUpstreams(inf)})
					opts.Extensions = append(opts.Extensions, tg)
				}
			}
			if inf != nil {
				opts.Extensions = append(opts.Extensions, inf)
			}
			var lg *devnet.League // the kernel league (devnet/league.go), unless --league=false
			if league {
				lg = devnet.NewLeague(devnet.LeagueOptions{Logger: log})
				opts.Extensions = append(opts.Extensions, lg)
			}
			d, err := devnet.Start(cmd.Context(), opts)
			if err != nil {
				return err
			}
			gatewayURL := ""
			if tg != nil {
				gatewayURL = tg.GatewayURL()
			}
			if opts.Subnet != nil {
				if err := awaitBannerReady(cmd.Context(), log, d.Client, opts.Subnet, gatewayURL); err != nil {
					d.Stop()
					return err
				}
			}
			info := devnetInfo(d, opts.Subnet)
			if inf != nil {
				info.InferenceNetuid = inf.Netuid()
				info.InferenceProcesses = inf.Processes()
				info.InferenceUser = infdev.UserURI
				if len(info.InferenceProcesses) > 0 {
					info.InferenceModel = inf.ModelSource()
				}
			}
			if lg != nil {
				info.LeagueNetuid, info.LeagueJudge = lg.Netuid(), lg.APIURL()
			}
			if tg != nil {
				info.Gateway = &gatewayInfo{URL: tg.GatewayURL(), APIKey: tg.APIKey(), Model: "tessera-textgen"}
				for i, m := range layout.Miners {
					info.MinerBehaviour = append(info.MinerBehaviour, m+": "+textgendev.Behaviours[i%len(textgendev.Behaviours)].Name)
				}
			}
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
			if inf != nil {
				inf.Wait()
			}
			if lg != nil {
				lg.Wait()
			}
			if tg != nil {
				if err := tg.Wait(); err != nil {
					log.Warn("text-generation parts stopped with errors", "err", err)
				}
			}
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
	cmd.Flags().BoolVar(&dtaoOn, "dtao", true, "run dynamic TAO: a pool per subnet, stake in alpha, emission by price (docs/dtao.md); false: the root-weights split")
	cmd.Flags().IntVar(&validators, "validators", 2, "validators on subnet 1 (Bob, Charlie, then //Validator3, …)")
	cmd.Flags().IntVar(&miners, "miners", 4, "miners on subnet 1 (Dave, Eve, Ferdie, then //Miner4, …); their quality cycles good, slow, wrong, flapping")
	cmd.Flags().BoolVar(&chainOnly, "chain-only", false, "create subnet 1 but run no miners, validators or gateway (set weights by hand)")
	cmd.Flags().StringVar(&gatewayAt, "gateway", "127.0.0.1:8080", "address of the OpenAI-compatible gateway")
	cmd.Flags().BoolVar(&noKeys, "no-api-keys", false, "serve the gateway without API keys")
	cmd.Flags().BoolVar(&noFaucet, "no-faucet", false, "serve no faucet (by default on base+3: POST /v1/faucet, or tessera devnet fund)")
	cmd.Flags().BoolVar(&noInfer, "no-inference", false, "run no inference subnet")
	cmd.Flags().IntVar(&forger, "inference-forger", 0, "make inference participant N (1-3) commit forged nonces, to watch it caught and unpaid")
	cmd.Flags().IntVar(&alterer, "inference-alterer", 3, "make inference participant N (1-3) alter every completion its MLNodes serve, to watch it caught, refunded and unpaid (0: none)")
	cmd.Flags().StringVar(&infModel, "inference-model", "", "the GGUF the inference MLNodes serve (default: "+sharedModel+" when it is there, else an engine random model)")
	cmd.Flags().BoolVar(&inProcess, "inference-in-process", false, "run the inference participants' PoC in this process, without MLNode and API node processes (nothing serves inference)")
	cmd.Flags().BoolVar(&league, "league", true, "run the kernel league: a subnet of its own, three miners (fast, slow, wrong) and a judge logging its leaderboard each round (--league=false leaves it out)")
	ef.register(cmd, false)
	cmd.AddCommand(newDevnetFundCmd(env))
	return cmd
}

// inferenceFlags are the devnet's inference flags.
type inferenceFlags struct {
	forger, alterer int    // 1-based participants, 0 for none
	model           string // the GGUF the MLNodes serve ("": a random model)
	inProcess       bool   // PoC in this process, no MLNode or API node processes
}

// sharedModel is the small GGUF the project's tests use, beside the repository.
const sharedModel = "../shared/models/llama-2-tiny-random.gguf"

// newInferenceExtension is the devnet's inference network: participant forger forging
// its PoC, participant alterer's MLNodes altering completions, its commentary on stdout
// unless quiet or JSON.
func newInferenceExtension(f inferenceFlags, log *slog.Logger, env *cliEnv, quiet bool) (*infdev.Extension, error) {
	ps := infdev.DefaultParticipants()
	if f.forger < 0 || f.forger > len(ps) {
		return nil, usagef("--inference-forger must be 0 (none) to %d, not %d", len(ps), f.forger)
	}
	if f.alterer < 0 || f.alterer > len(ps) {
		return nil, usagef("--inference-alterer must be 0 (none) to %d, not %d", len(ps), f.alterer)
	}
	if f.forger > 0 {
		ps[f.forger-1].Forge = 3
	}
	if f.alterer > 0 {
		ps[f.alterer-1].AlterEvery = 1
	}
	o := infdev.Options{Participants: ps, Logger: log}
	if !f.inProcess {
		bin, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("the inference network runs this binary's mlnode and inference-api commands: %w", err)
		}
		o.Binary = bin
		switch {
		case f.model != "":
			if _, err := os.Stat(f.model); err != nil {
				return nil, usagef("--inference-model: %v", err)
			}
			o.ModelFile = f.model
		default:
			if _, err := os.Stat(sharedModel); err == nil {
				o.ModelFile, _ = filepath.Abs(sharedModel)
			}
		}
	}
	if env.output == "text" && !quiet {
		o.Out = env.stdout
	}
	return infdev.New(o)
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
	Explorer string               `json:"explorer,omitempty"` // the explorer page's URL
	Accounts []devnetAccount      `json:"accounts"`
	Subnet   *devnet.SubnetLayout `json:"subnet,omitempty"`
	Gateway  *gatewayInfo         `json:"gateway,omitempty"`
	Faucet   string               `json:"faucet,omitempty"` // the faucet's URL
	// MinerBehaviour says how each miner's built-in backend behaves.
	MinerBehaviour []string `json:"miner_behaviour,omitempty"`
	// InferenceNetuid is the inference subnet (mechanism poc), 0 when it does not run.
	InferenceNetuid uint16 `json:"inference_netuid,omitempty"`
	// InferenceProcesses are its MLNodes and API nodes (processes of this binary), and
	// InferenceUser the funded account whose requests the devnet sends through them.
	InferenceProcesses []infdev.Process `json:"inference_processes,omitempty"`
	InferenceUser      string           `json:"inference_user,omitempty"`
	InferenceModel     string           `json:"inference_model,omitempty"` // what the MLNodes serve for every model
	// LeagueNetuid and LeagueJudge are the kernel league's subnet and its judge's
	// leaderboard API, when it runs.
	LeagueNetuid uint16 `json:"league_netuid,omitempty"`
	LeagueJudge  string `json:"league_judge,omitempty"`
}

type gatewayInfo struct {
	URL    string `json:"url"`
	APIKey string `json:"api_key,omitempty"`
	Model  string `json:"model"`
}

func devnetInfo(d *devnet.Devnet, subnet *devnet.SubnetLayout) devnetSummary {
	s := devnetSummary{ChainID: devnet.ChainID, Home: d.Home, RPC: d.Node.RPCAddress(), API: d.Node.APIAddress(), Explorer: d.Node.ExplorerURL(), Subnet: subnet, Faucet: d.FaucetURL()}
	for _, a := range d.Accounts {
		s.Accounts = append(s.Accounts, devnetAccount{Name: a.Name, URI: a.URI, Address: a.Pair.Public().String(), Balance: accounts.FormatAmount(genesis.DevBalance)})
	}
	return s
}

func printDevnet(w io.Writer, s devnetSummary) error {
	fmt.Fprintf(w, "Tessera devnet %s is running (data in %s)\n\n", s.ChainID, s.Home)
	fmt.Fprintf(w, "  CometBFT RPC  %s\n  JSON API      %s   (try %s/v1/status)\n  metrics       %s/metrics\n", s.RPC, s.API, s.API, s.API)
	if s.Explorer != "" {
		fmt.Fprintf(w, "  explorer      %s   (open it in a browser)\n", s.Explorer)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Development accounts (secret URI → address, balance):\n")
	for _, a := range s.Accounts {
		fmt.Fprintf(w, "  %-10s %-12s %s  %s\n", a.Name, a.URI, a.Address, a.Balance)
	}
	fmt.Fprintf(w, "\nSend tokens:  tessera tx transfer --node %s --from-uri //Alice --to %s --amount 1.5\n", s.RPC, s.Accounts[1].Address)
	if s.Faucet != "" {
		// A runnable example on an address of no development account (//Newcomer's).
		example := "ADDRESS"
		if p, err := keys.FromURI("//Newcomer"); err == nil {
			example = p.Public().String()
		}
		fmt.Fprintf(w, "Faucet:       tessera devnet fund --faucet %s %s   # any address; or POST {\"address\": ...} to %s\n", s.Faucet, example, s.Faucet)
	}
	if l := s.Subnet; l != nil {
		fmt.Fprintf(w, "\nSubnet %d (tempo %d blocks): owner %s (uid 0), validators %v (uids 1-%d, %s staked each), miners %v (uids %d-%d).\n",
			l.Netuid, l.Tempo, l.Owner, l.Validators, len(l.Validators), accounts.FormatAmount(l.Stake), l.Miners, len(l.Validators)+1, len(l.Validators)+len(l.Miners))
		first := len(l.Validators) + 1
		fmt.Fprintf(w, "Set weights:  tessera weights set --node %s --from-uri //%s --netuid %d --uids %d,%d --weights 1,0.5\n", s.RPC, l.Validators[0], l.Netuid, first, first+min(1, len(l.Miners)-1))
		fmt.Fprintf(w, "Watch:        tessera metagraph --node %s --netuid %d\n", s.RPC, l.Netuid)
	}
	if g := s.Gateway; g != nil {
		auth := ""
		if g.APIKey != "" {
			auth = " -H 'Authorization: Bearer " + g.APIKey + "'"
		}
		fmt.Fprintf(w, "\nText generation: miners %v answer, validators %v score them.\n", s.MinerBehaviour, s.Subnet.Validators)
		fmt.Fprintf(w, "OpenAI-compatible gateway  %s   model %q   API key %s\n", g.URL, g.Model, orNone(g.APIKey))
		fmt.Fprintf(w, "Chat:  curl %s/chat/completions%s -H 'Content-Type: application/json' \\\n"+
			"         -d '{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"Compute the value of this expression and answer with the number only: 17 + 25\"}]}'\n", g.URL, auth, g.Model)
	}
	if n := s.InferenceNetuid; n != 0 {
		if len(s.InferenceProcesses) == 0 {
			fmt.Fprintf(w, "\nInference subnet %d (mechanism poc): participants Inference1 (MLNodes in both models), Inference2, Inference3 mine\n"+
				"Proof of Compute in this process every 30-block epoch and judge each other.\n", n)
		} else {
			fmt.Fprintf(w, "\nInference subnet %d (mechanism poc): participants Inference1 (MLNodes in both models), Inference2 and Inference3\n"+
				"each run MLNode services and an API node (processes of this binary). Every 30-block epoch they prove their\n"+
				"compute and judge each other; between PoCs they serve chat completions, paid from escrow and re-run by the others.\n", n)
			for _, p := range s.InferenceProcesses {
				if p.Kind == "api" {
					fmt.Fprintf(w, "API node      %-11s %s   (pid %d)\n", p.Participant, p.API, p.PID)
				}
			}
			fmt.Fprintf(w, "MLNodes serve %s for devnet-small and devnet-large.\n", s.InferenceModel)
			fmt.Fprintf(w, "A request:    tessera inference chat --api %s --from-uri %s --model devnet-small \"Hello\"\n", firstAPI(s.InferenceProcesses), s.InferenceUser)
			if s.Gateway != nil {
				fmt.Fprintf(w, "The gateway above serves devnet-small and devnet-large too, paid by %s (\"model\":\"devnet-small\", with \"logprobs\":true if you like).\n", infdev.GatewayURI)
			}
		}
		fmt.Fprintf(w, "Watch:        tessera inference epoch --node %s --netuid %d\n", s.RPC, n)
		fmt.Fprintf(w, "Models:       tessera model list --node %s --netuid %d\n", s.RPC, n)
	}
	if n := s.LeagueNetuid; n != 0 {
		fmt.Fprintf(w, "\nKernel league subnet %d: LeagueFast, LeagueSlow and LeagueWrong submit a linear-attention kernel;\n"+
			"Alice's judge benchmarks them in a sandbox each round (docs/kernelbench.md).\n", n)
		fmt.Fprintf(w, "Leaderboard:  tessera kernelbench leaderboard --judge %s\n", s.LeagueJudge)
	}
	_, err := fmt.Fprintf(w, "Press Ctrl-C to stop.\n")
	return err
}

func orNone(s string) string {
	if s == "" {
		return "(none needed)"
	}
	return s
}

func firstAPI(ps []infdev.Process) string {
	for _, p := range ps {
		if p.Kind == "api" {
			return p.API
		}
	}
	return ""
}

// inferenceUpstreams serves the devnet's inference network through the gateway: its
// API nodes, found as they start, each request paid by the devnet's gateway account
// (nil when nothing serves inference).
func inferenceUpstreams(inf *infdev.Extension) func() ([]gateway.Upstream, error) {
	if inf == nil || !inf.Serves() {
		return nil
	}
	return func() ([]gateway.Upstream, error) {
		pay, err := keys.FromURI(infdev.GatewayURI)
		if err != nil {
			return nil, err
		}
		up, err := gateway.NewInferenceUpstream(gateway.InferenceConfig{Discover: inf.APIURLs, Key: pay})
		if err != nil {
			return nil, err
		}
		return []gateway.Upstream{up}, nil
	}
}
