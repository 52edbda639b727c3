package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/subnets/inference/apinode"
)

// newInferenceAPICmd is `tessera inference-api`: a participant's API node.
func newInferenceAPICmd(env *cliEnv) *cobra.Command {
	var (
		nf         nodeFlag
		kf         = keyFlags{role: hotkeyRole}
		lf         logFlags
		netuid     uint16
		addr       string
		publicURL  string
		mlnodes    []string
		forge      uint64
		budget     uint64
		noValidate bool
		poll       time.Duration
		payloads   int
	)
	cmd := &cobra.Command{
		Use:   "inference-api",
		Short: "Run an inference participant's API node: drive its MLNodes, route and serve paid requests, validate others",
		Long: `Run the API node of an inference participant (the signing hotkey, registered on the
inference subnet --netuid). It declares its MLNodes on chain (--mlnode) and publishes its
URL (--public-url, with serve_axon) whenever the chain's differ; follows the epochs —
mining each PoC on the MLNodes allocated PRE_POC_SLOT, committing, serving proofs,
judging the others' samples, and loading the epoch snapshot's model and args on every
MLNode once a group is in force; serves the OpenAI-compatible POST /v1/chat/completions
and /v1/completions to users who sign their requests (the transfer agent path: worst
case held in escrow, executor drawn by weight, start recorded on chain), the executor
routes other API nodes forward to, and GET /v1/models, /v1/pricing,
/v1/governance/models, /v1/governance/pricing, /v1/participants, /v1/epochs/{n|current|latest};
and checks a sample of the other executors' inferences on its own MLNode (unless
--no-validate). See docs/inference-api.md.`,
		Example: `  tessera inference-api --from-uri //Inference1 --netuid 2 --addr 10.0.0.5:9000 \
      --mlnode gpu-0=http://10.0.0.6:8080,http://10.0.0.6:8000,llama-3.1-8b,hardware=H100:8`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("netuid") {
				return usagef("--netuid is required")
			}
			if len(mlnodes) == 0 {
				return usagef("at least one --mlnode is required")
			}
			log, err := lf.logger(env.stderr)
			if err != nil {
				return err
			}
			var nodes []apinode.MLNode
			for _, s := range mlnodes {
				m, err := apinode.ParseMLNode(s)
				if err != nil {
					return usagef("--mlnode: %v", err)
				}
				nodes = append(nodes, m)
			}
			pair, err := kf.pair(cmd, env)
			if err != nil {
				return err
			}
			c, err := nf.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var lc net.ListenConfig
			l, err := lc.Listen(ctx, "tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			defer l.Close()
			if publicURL == "" {
				ta := l.Addr().(*net.TCPAddr)
				if ta.IP.IsUnspecified() {
					return usagef("--addr %s listens on every address: give --public-url http://IP:PORT, where other API nodes reach this one", addr)
				}
				publicURL = "http://" + l.Addr().String()
			}
			n, err := apinode.New(apinode.Config{Netuid: netuid, Key: pair, Chain: apinode.ClientChain{C: c, S: c.Signer(pair), Log: log},
				PublicURL: publicURL, MLNodes: nodes, Budget: budget, Forge: forge, NoValidate: noValidate,
				PayloadDir: filepath.Join(env.home, "inference-api", "payloads"), MaxPayloads: payloads, Poll: poll, Log: log})
			if err != nil {
				return usagef("%v", err)
			}
			if env.output == "json" {
				b, _ := json.Marshal(map[string]string{"url": publicURL, "hotkey": n.Hotkey().String()})
				fmt.Fprintln(env.stdout, string(b))
			} else {
				fmt.Fprintf(env.stdout, "inference API node of %s on subnet %d serving at %s (%d MLNodes)\n", n.Hotkey(), netuid, publicURL, len(nodes))
			}
			srv := &http.Server{Handler: n.Handler(), ReadHeaderTimeout: 10 * time.Second}
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(l) }()
			runErr := n.Run(ctx)
			_ = srv.Close()
			if err := <-errc; err != nil && err != http.ErrServerClosed {
				return err
			}
			return runErr
		},
	}
	nf.register(cmd, env)
	kf.register(cmd)
	cmd.Flags().StringVar(&lf.level, "log-level", "info", "log level: debug, info, warn, error")
	cmd.Flags().StringVar(&lf.format, "log-format", "text", "log format: text or json")
	cmd.Flags().Uint16Var(&netuid, "netuid", 0, "the inference subnet")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "address to serve on (port 0 picks one)")
	cmd.Flags().StringVar(&publicURL, "public-url", "", "http://IP:PORT where other API nodes and users reach this one, published with serve_axon (default: the listener's)")
	cmd.Flags().StringArrayVar(&mlnodes, "mlnode", nil, "an MLNode: ID=MANAGEMENT_URL,INFERENCE_URL,MODEL[+MODEL...][,hardware=TYPE:N] (repeatable)")
	cmd.Flags().Uint64Var(&forge, "forge", 0, "commit this many PoC nonces never computed per valid one (a cheater, for tests and demonstrations)")
	cmd.Flags().Uint64Var(&budget, "budget", 256, "nonces each MLNode mines per PoC round")
	cmd.Flags().BoolVar(&noValidate, "no-validate", false, "do not check other executors' inferences")
	cmd.Flags().DurationVar(&poll, "poll", 250*time.Millisecond, "how often the chain is read")
	cmd.Flags().IntVar(&payloads, "payloads", 4096, "how many executed payloads are kept for the validators")
	return cmd
}
