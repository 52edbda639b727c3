package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/subnets/inference/mlnode"
)

// newMLNodeServeCmd is `tessera mlnode serve`: the MLNode service on a compute machine.
func newMLNodeServeCmd(env *cliEnv) *cobra.Command {
	var (
		lf         logFlags
		apiNode    string
		specs      []string
		mgmtAddr   string
		infAddr    string
		threads    int
		alterEvery int
		similarity float64
		localArgs  string
		up         string
	)
	cmd := &cobra.Command{
		Use:   "serve --api-node SS58 --model ID=FILE.gguf|random:PRESET[:SEED]|http(s)://HOST/v1 ...",
		Short: "Run an MLNode: serve a model, mine and check Proof of Compute, re-check completions, for one API node",
		Long: `Run the MLNode service (docs/mlnode.md). It serves one of its --model models at a time
on the inference listener (OpenAI-compatible /v1/chat/completions, /v1/completions,
/v1/models, /v1/health) — with the engine (a GGUF file, or random:PRESET[:SEED], a random
model of a shape as "tessera lm random --dims" takes it) or by forwarding to an
OpenAI-compatible backend (vLLM, llama.cpp's server, Ollama: ID=http(s)://HOST/v1, the id
being the backend's model name) — and is driven by its API node through the management
API (/api/v1/state, stop, inference/up|down|validate, poc/generate|status|proofs|validate).
Both listeners take only requests signed by the --api-node account; any other is refused
(401, or 403 for another signer) and has no effect.

At start it prints one line: the two URLs, the API node and the models (JSON with -o json).`,
		Example: `  tessera mlnode serve --api-node 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY \
    --model tiny=random:tiny:devnet --mgmt-addr 127.0.0.1:0 --inference-addr 127.0.0.1:0 -o json
  tessera mlnode serve --api-node 5Grw… --model llama=/models/llama-2-7b.Q8_0.gguf --threads 16
  tessera mlnode serve --api-node 5Grw… --model Qwen/Qwen2.5-7B-Instruct=http://127.0.0.1:8000/v1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := lf.logger(env.stderr)
			if err != nil {
				return err
			}
			if apiNode == "" {
				return usagef("--api-node is required: the SS58 account of the API node whose signed requests this MLNode takes")
			}
			pub, err := keys.ParsePublicKey(apiNode)
			if err != nil {
				return usagef("--api-node %q: %v", apiNode, err)
			}
			if len(specs) == 0 {
				return usagef("--model is required (repeatable): ID=FILE.gguf, ID=random:PRESET[:SEED] or ID=http(s)://HOST/v1")
			}
			var ms []mlnode.Spec
			for _, s := range specs {
				sp, err := mlnode.ParseSpec(s)
				if err != nil {
					return usageError{err}
				}
				ms = append(ms, sp)
			}
			if similarity <= 0 || similarity > 1 {
				return usagef("--similarity-threshold %v is not in (0, 1]", similarity)
			}
			if alterEvery < 0 {
				return usagef("--alter-every %d is negative", alterEvery)
			}
			if threads < 1 {
				threads = runtime.NumCPU()
			}
			s, err := mlnode.New(mlnode.Config{APINode: pub, Models: ms, LocalArgs: strings.Fields(localArgs), Threads: threads,
				AlterEvery: alterEvery, SimilarityPPM: uint64(similarity*1e6 + 0.5), Log: log})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var lc net.ListenConfig
			ml, err := lc.Listen(ctx, "tcp", mgmtAddr)
			if err != nil {
				s.Close()
				return fmt.Errorf("listen on %s: %w", mgmtAddr, err)
			}
			il, err := lc.Listen(ctx, "tcp", infAddr)
			if err != nil {
				ml.Close()
				s.Close()
				return fmt.Errorf("listen on %s: %w", infAddr, err)
			}
			if up != "" {
				if err := s.Up(ctx, up, nil); err != nil {
					ml.Close()
					il.Close()
					s.Close()
					return fmt.Errorf("--up %s: %w", up, err)
				}
			}
			start := struct {
				Management string   `json:"management_url"`
				Inference  string   `json:"inference_url"`
				APINode    string   `json:"api_node"`
				Models     []string `json:"models"`
				AlterEvery int      `json:"alter_every,omitempty"`
			}{"http://" + ml.Addr().String(), "http://" + il.Addr().String(), pub.String(), s.Models(), alterEvery}
			// One line, so that a supervisor (the devnet) reads the URLs as it starts.
			if env.output == "json" {
				err = json.NewEncoder(env.stdout).Encode(start)
			} else {
				_, err = fmt.Fprintf(env.stdout, "mlnode: management %s, inference %s, api node %s, models %s\n",
					start.Management, start.Inference, start.APINode, strings.Join(start.Models, ", "))
			}
			if err != nil {
				return err
			}
			log.Info("mlnode serving", "management", start.Management, "inference", start.Inference, "api_node", start.APINode,
				"models", strings.Join(start.Models, ","), "threads", threads, "alter_every", alterEvery)
			return s.Serve(ctx, ml, il)
		},
	}
	cmd.Flags().StringVar(&lf.level, "log-level", "info", "log level: debug, info, warn, error")
	cmd.Flags().StringVar(&lf.format, "log-format", "text", "log format: text or json")
	cmd.Flags().StringVar(&apiNode, "api-node", "", "the API node's account (SS58): the only signer taken (required)")
	cmd.Flags().StringArrayVar(&specs, "model", nil, "a model it may serve: ID=FILE.gguf, ID=random:PRESET[:SEED] or ID=http(s)://HOST/v1 (repeatable)")
	cmd.Flags().StringVar(&mgmtAddr, "mgmt-addr", "127.0.0.1:8080", "address of the management API (port 0 picks one)")
	cmd.Flags().StringVar(&infAddr, "inference-addr", "127.0.0.1:5000", "address of the inference listener (port 0 picks one)")
	cmd.Flags().IntVar(&threads, "threads", 0, "threads for the forward pass and PoC (default: the number of CPUs)")
	cmd.Flags().IntVar(&alterEvery, "alter-every", 0, "cheat: alter one token of every Nth completion served (0: honest; for tests and devnets)")
	cmd.Flags().Float64Var(&similarity, "similarity-threshold", 0.98, "the top-k log-probability similarity a backend-served completion must reach")
	cmd.Flags().StringVar(&localArgs, "local-args", "", `local model args, merged under the epoch's ("--max-batch 8 --max-tokens 512")`)
	cmd.Flags().StringVar(&up, "up", "", "a model id to serve from the start (the API node's inference/up otherwise)")
	return cmd
}
