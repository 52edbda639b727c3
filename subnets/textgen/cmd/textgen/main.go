// Command textgen runs a miner or a validator of the text-generation subnet with the
// SDK's runtimes:
//
//	textgen miner --node tcp://127.0.0.1:26657 --netuid 1 --from-uri //Dave --axon.port 8091
//	textgen miner ... --backend http --backend.url http://127.0.0.1:8080/v1 --backend.model llama
//	textgen miner ... --builtin.latency 300ms --builtin.wrong-rate 0.2 --builtin.fail-rate 0.05
//	textgen validator --node tcp://127.0.0.1:26657 --netuid 1 --from-uri //Bob --state-dir ./bob
//
// A miner's backend is the built-in test backend (no language model: it answers the
// subnet's checkable tasks, its free-text answers are marked filler, and it can be made
// slow, wrong or failing) or any OpenAI-compatible server
// (llama.cpp server, vLLM, Ollama). Every flag of sdk/subnet.Config is accepted
// (textgen miner -h lists them), and --config file.json gives them in a file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tessera-net/tessera/sdk/runner"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/subnets/textgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "textgen:", err)
		}
		os.Exit(2)
	}
}

const usage = `usage: textgen miner|validator [flags]   (textgen miner -h lists the flags)`

// backendFlags choose and configure a miner's backend.
type backendFlags struct {
	kind    string
	http    textgen.HTTPConfig
	builtin textgen.BuiltinConfig
}

func (b *backendFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.kind, "backend", "builtin", "miner: the backend: builtin (a test backend with no language model: it solves the checkable tasks, and its free-text answers are marked filler) or http (an OpenAI-compatible server)")
	fs.StringVar(&b.http.BaseURL, "backend.url", "", "miner: the OpenAI API root of an http backend, e.g. http://127.0.0.1:8080/v1")
	fs.StringVar(&b.http.Model, "backend.model", "", "miner: the model name sent to an http backend (default: the request's)")
	fs.StringVar(&b.http.APIKey, "backend.key", "", "miner: the API key of an http backend (also TEXTGEN_BACKEND_KEY)")
	fs.StringVar(&b.builtin.Model, "builtin.model", "tessera-builtin", "miner: the name the built-in backend answers as")
	fs.DurationVar(&b.builtin.Latency, "builtin.latency", 0, "miner: built-in backend's wait before its first token")
	fs.DurationVar(&b.builtin.Jitter, "builtin.jitter", 0, "miner: built-in backend's random extra wait, up to this")
	fs.Float64Var(&b.builtin.TokensPerSecond, "builtin.tps", 0, "miner: built-in backend's tokens a second after the first (0: no pacing)")
	fs.Float64Var(&b.builtin.WrongRate, "builtin.wrong-rate", 0, "miner: share of wrong answers from the built-in backend, 0 to 1")
	fs.Float64Var(&b.builtin.FailRate, "builtin.fail-rate", 0, "miner: share of failures of the built-in backend, 0 to 1")
	fs.Uint64Var(&b.builtin.Seed, "builtin.seed", 1, "miner: seed of the built-in backend's random choices")
}

func (b *backendFlags) backend(getenv func(string) string) (textgen.Backend, error) {
	switch b.kind {
	case "builtin":
		return textgen.NewBuiltin(b.builtin)
	case "http":
		if b.http.APIKey == "" {
			b.http.APIKey = getenv("TEXTGEN_BACKEND_KEY")
		}
		return textgen.NewHTTPBackend(b.http)
	}
	return nil, fmt.Errorf("--backend %q: want builtin or http", b.kind)
}

func parseKinds(s string) ([]textgen.Kind, error) {
	if s == "" {
		return nil, nil
	}
	var out []textgen.Kind
	for _, k := range strings.Split(s, ",") {
		out = append(out, textgen.Kind(strings.TrimSpace(k)))
	}
	if _, err := textgen.NewGenerator(textgen.GeneratorConfig{Kinds: out}); err != nil {
		return nil, fmt.Errorf("--kinds: %w", err)
	}
	return out, nil
}

func run(ctx context.Context, args []string, getenv func(string) string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	role := args[0]
	if role != "miner" && role != "validator" {
		return fmt.Errorf("unknown role %q; %s", role, usage)
	}
	fs := flag.NewFlagSet("textgen "+role, flag.ContinueOnError)
	cfg := subnet.DefaultConfig()
	cfg.RegisterFlags(fs)
	var bf backendFlags
	bf.register(fs)
	kinds := fs.String("kinds", "", "validator: task kinds to draw, comma-separated (default all: "+kindList()+")")
	model := fs.String("model", "", "validator: the model name sent in tasks")
	maxTokens := fs.Int("max-tokens", 256, "validator: the longest answer asked for, in tokens")
	if err := cfg.Parse(fs, args[1:]); err != nil {
		return err
	}
	ks, err := parseKinds(*kinds)
	if err != nil {
		return err
	}
	sc := textgen.SubnetConfig{Kinds: ks, Model: *model, MaxTokens: *maxTokens}
	if role == "miner" {
		if sc.Backend, err = bf.backend(getenv); err != nil {
			return err
		}
	}
	env, err := runner.Setup(cfg, getenv)
	if err != nil {
		return err
	}
	defer env.Close()
	sc.Miner.Logger = env.Log
	sc.Miner.Registerer = env.Registry
	def, err := textgen.NewSubnet(sc)
	if err != nil {
		return err
	}
	return runner.Run(ctx, env, role, def, env.Log.With("backend", bf.kind))
}

func kindList() string {
	s := make([]string, len(textgen.Kinds))
	for i, k := range textgen.Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ",")
}
