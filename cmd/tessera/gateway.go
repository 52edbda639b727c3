package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/gateway"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/wire"
)

// gatewayDB is the --db flag of the gateway commands: the API key database.
type gatewayDB struct{ path string }

func (g *gatewayDB) resolve(env *cliEnv) string {
	if g.path != "" {
		return g.path
	}
	return filepath.Join(env.home, "gateway", "keys.db")
}

func (g *gatewayDB) open(ctx context.Context, env *cliEnv) (*gateway.KeyStore, error) {
	path := g.resolve(env)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create the key database directory: %w", err)
	}
	return gateway.OpenKeyStore(ctx, path)
}

func newGatewayCmd(env *cliEnv) *cobra.Command {
	var db gatewayDB
	cmd := &cobra.Command{Use: "gateway", Short: "Run the OpenAI-compatible API gateway and manage its API keys"}
	cmd.PersistentFlags().StringVar(&db.path, "db", "", "API key database (default <home>/gateway/keys.db)")
	cmd.AddCommand(newGatewayServeCmd(env, &db), newGatewayKeysCmd(env, &db))
	return cmd
}

// parseModels reads --model values: name=netuid.
func parseModels(specs []string) ([]gateway.Model, error) {
	var out []gateway.Model
	for _, s := range specs {
		name, n, ok := strings.Cut(s, "=")
		netuid, err := strconv.ParseUint(n, 10, 16)
		if !ok || name == "" || err != nil {
			return nil, usagef("--model %q: want name=netuid, for example tessera-textgen=1", s)
		}
		out = append(out, gateway.Model{ID: name, Netuid: uint16(netuid)})
	}
	return out, nil
}

func newGatewayServeCmd(env *cliEnv, db *gatewayDB) *cobra.Command {
	var (
		nf      nodeFlag
		kf      = keyFlags{role: hotkeyRole}
		lf      logFlags
		listen  string
		models  []string
		noAuth  bool
		route   gateway.RouteConfig
		timeout time.Duration
		attempt time.Duration
		refresh time.Duration
		maxBody int64
		origins []string
		infAPIs []string
		infKey  string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the OpenAI-compatible API, routing requests to text-generation subnets and the inference network",
		Long: `Serve POST /v1/chat/completions and /v1/completions (streamed and not), GET
/v1/models, /metrics and /healthz, in front of two networks:

  - text-generation subnets: each model name maps to a subnet (--model name=netuid);
    requests go to the top miners of that subnet by incentive and observed latency,
    signed with the gateway's hotkey (--from-uri or the wallet's hotkey), and fail over
    to the next miner on an error or a timeout before the first byte;
  - the inference network: --inference-api names its API nodes (repeatable); their
    models (GET /v1/models) are served too, each request signed by the gateway's funded
    account (--inference-key) and failed over to the next API node before the first
    byte. Log-probabilities (logprobs, top_logprobs) come from this network only.

With --inference-api and no --model the gateway serves the inference network alone
(no chain node or hotkey needed). Callers need an API key from "tessera gateway keys
create" unless --no-auth is given; the inference network charges the one funded account
for every key, and the gateway keeps each key's usage.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := lf.logger(env.stderr)
			if err != nil {
				return err
			}
			if len(infAPIs) > 0 && !cmd.Flags().Changed("model") {
				models = nil // the inference network alone
			}
			ms, err := parseModels(models)
			if err != nil {
				return err
			}
			var ups []gateway.Upstream
			if len(infAPIs) > 0 || infKey != "" {
				up, err := inferenceUpstream(env, infAPIs, infKey, attempt)
				if err != nil {
					return err
				}
				log.Info("inference network", "api_nodes", len(infAPIs), "account", up.Account().String())
				ups = append(ups, up)
			}
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			var (
				d      *wire.Dendrite
				source gateway.Source
				hotkey string
			)
			if len(ms) > 0 {
				pair, err := kf.pair(cmd, env)
				if err != nil {
					return err
				}
				c, err := nf.client()
				if err != nil {
					return err
				}
				if d, err = wire.NewDendrite(pair, wire.DendriteConfig{Registerer: reg, Logger: log}); err != nil {
					return err
				}
				defer d.Close()
				source, hotkey = gateway.ChainSource{Client: c}, d.Hotkey()
			}
			ctx := cmd.Context()
			var ks *gateway.KeyStore
			if !noAuth {
				if ks, err = db.open(ctx, env); err != nil {
					return err
				}
				defer func() {
					if err := ks.Close(context.WithoutCancel(ctx)); err != nil {
						log.Error("closing the key database", "err", err)
					}
				}()
			}
			g, err := gateway.New(gateway.Config{
				Models: ms, Source: source, Dendrite: d, Upstreams: ups, Keys: ks, Route: route,
				RequestTimeout: timeout, AttemptTimeout: attempt, RefreshInterval: refresh, MaxBodyBytes: maxBody,
				Registerer: reg, Logger: log, CORSOrigins: origins,
			})
			if err != nil {
				return err
			}
			var lc net.ListenConfig
			l, err := lc.Listen(ctx, "tcp", listen)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", listen, err)
			}
			log.Info("gateway", "listen", l.Addr().String(), "hotkey", hotkey, "auth", !noAuth, "node", nf.address())
			return g.Serve(ctx, l)
		},
	}
	nf.register(cmd, env)
	kf.register(cmd)
	cmd.Flags().StringVar(&lf.level, "log-level", "info", "log level: debug, info, warn, error")
	cmd.Flags().StringVar(&lf.format, "log-format", "text", "log format: text or json")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address to serve the API on")
	cmd.Flags().StringArrayVar(&models, "model", []string{"tessera-textgen=1"}, "a model name and the subnet that serves it, name=netuid (repeatable)")
	cmd.Flags().BoolVar(&noAuth, "no-auth", false, "serve without API keys (private deployments and devnets only)")
	cmd.Flags().IntVar(&route.TopK, "top-k", 3, "how many of the best miners share the traffic")
	cmd.Flags().IntVar(&route.Attempts, "attempts", 3, "how many miners one request may try")
	cmd.Flags().DurationVar(&route.LatencyRef, "latency-ref", 250*time.Millisecond, "latency at which a miner's latency factor is one half")
	cmd.Flags().DurationVar(&timeout, "timeout", 60*time.Second, "the longest a request may take")
	cmd.Flags().DurationVar(&attempt, "attempt-timeout", 20*time.Second, "the longest one miner or API node may take to its first byte (its whole answer when not streamed) before the request fails over")
	cmd.Flags().DurationVar(&refresh, "refresh", 12*time.Second, "how often the miners are read from the metagraph")
	cmd.Flags().Int64Var(&maxBody, "max-body", 4<<20, "largest request body, in bytes")
	cmd.Flags().StringArrayVar(&origins, "cors-origin", nil, `an origin browsers may call the API from, e.g. https://app.example, or "*" for any (repeatable; default none)`)
	cmd.Flags().StringArrayVar(&infAPIs, "inference-api", nil, "base URL of an API node of the inference network, e.g. http://127.0.0.1:9100 (repeatable)")
	cmd.Flags().StringVar(&infKey, "inference-key", "", "secret URI of the funded account that signs and pays for the gateway's requests to the inference network (for example //Alice on a devnet); also TESSERA_INFERENCE_KEY")
	return cmd
}

// inferenceUpstream makes the inference network's upstream from --inference-api and
// --inference-key (or TESSERA_INFERENCE_KEY), each attempt on an API node bounded by
// attempt.
func inferenceUpstream(env *cliEnv, apis []string, uri string, attempt time.Duration) (*gateway.InferenceUpstream, error) {
	if uri == "" {
		uri = env.getenv("TESSERA_INFERENCE_KEY")
	}
	switch {
	case len(apis) == 0:
		return nil, usagef("--inference-key needs at least one --inference-api URL")
	case uri == "":
		return nil, usagef("--inference-api needs --inference-key (or TESSERA_INFERENCE_KEY): the secret URI of the funded account that pays for the requests")
	}
	key, err := keys.FromURI(uri)
	if err != nil {
		return nil, usagef("--inference-key: %v", err)
	}
	up, err := gateway.NewInferenceUpstream(gateway.InferenceConfig{APINodes: apis, Key: key, AttemptTimeout: attempt})
	if err != nil {
		return nil, usagef("--inference-api: %v", strings.TrimPrefix(err.Error(), "gateway: "))
	}
	return up, nil
}

func newGatewayKeysCmd(env *cliEnv, db *gatewayDB) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Create, list and revoke the gateway's API keys"}

	var rpm float64
	var burst int
	create := &cobra.Command{
		Use: "create NAME", Short: "Create an API key; its secret is printed once and never stored", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, err := db.open(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer ks.Close(cmd.Context())
			secret, k, err := ks.Create(cmd.Context(), args[0], rpm, burst)
			if err != nil {
				return err
			}
			out := struct {
				gateway.Key
				Secret string `json:"secret"`
			}{k, secret}
			return env.emit(out, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "API key %q created (id %d, %s).\nSecret (shown only now): %s\n", k.Name, k.ID, rateText(k), secret)
				return err
			})
		},
	}
	create.Flags().Float64Var(&rpm, "rpm", 60, "requests per minute the key may make (0: unlimited)")
	create.Flags().IntVar(&burst, "burst", 0, "requests the key may make at once (0: ten seconds' worth)")

	list := &cobra.Command{
		Use: "list", Short: "List the API keys with their limits and usage", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ks, err := db.open(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer ks.Close(cmd.Context())
			keys := ks.List()
			return env.emit(keys, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tKEY\tLIMIT\tREQUESTS\tERRORS\tPROMPT TOK\tCOMPLETION TOK\tLAST USED\tSTATUS")
				for _, k := range keys {
					status, last := "active", "never"
					if k.RevokedAt != nil {
						status = "revoked " + k.RevokedAt.Format(time.DateTime)
					}
					if !k.LastUsed.IsZero() {
						last = k.LastUsed.Format(time.DateTime)
					}
					fmt.Fprintf(tw, "%d\t%s\t%s…\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", k.ID, k.Name, k.Hint, rateText(k),
						k.Usage.Requests, k.Usage.Errors, k.Usage.PromptTokens, k.Usage.CompletionTokens, last, status)
				}
				return tw.Flush()
			})
		},
	}

	var revokeID int64
	var revokeName string
	revoke := &cobra.Command{
		Use:   "revoke (--id ID | --name NAME)",
		Short: "Revoke an API key (a running gateway stops accepting it within seconds)",
		Long: `Revoke an API key, named by exactly one of --id (the id "keys list" shows) or --name.
A name is never read as an id: a key named "1" is revoked with --name 1.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("gateway keys revoke takes no arguments: name the key with --id or --name, not %q", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			byID, byName := cmd.Flags().Changed("id"), cmd.Flags().Changed("name")
			if byID == byName {
				return usagef("gateway keys revoke: give exactly one of --id or --name")
			}
			ks, err := db.open(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer ks.Close(cmd.Context())
			var k gateway.Key
			if byID {
				k, err = ks.RevokeID(cmd.Context(), revokeID)
			} else {
				k, err = ks.Revoke(cmd.Context(), revokeName)
			}
			if err != nil {
				return err
			}
			return env.emit(k, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "API key %q (id %d) revoked.\n", k.Name, k.ID)
				return err
			})
		},
	}
	revoke.Flags().Int64Var(&revokeID, "id", 0, "the id of the key to revoke")
	revoke.Flags().StringVar(&revokeName, "name", "", "the name of the key to revoke")
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func rateText(k gateway.Key) string {
	if k.RatePerMinute == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%g/min, burst %d", k.RatePerMinute, k.Burst)
}
