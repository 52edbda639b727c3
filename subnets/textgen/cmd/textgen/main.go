// Command textgen runs a miner or a validator of the text-generation subnet with the
// SDK's runtimes:
//
//	textgen miner --node tcp://127.0.0.1:26657 --netuid 1 --from-uri //Dave --axon.port 8091
//	textgen miner ... --backend http --backend.url http://127.0.0.1:8080/v1 --backend.model llama
//	textgen miner ... --builtin.latency 300ms --builtin.wrong-rate 0.2 --builtin.fail-rate 0.05
//	textgen validator --node tcp://127.0.0.1:26657 --netuid 1 --from-uri //Bob --state-dir ./bob
//	textgen validator ... --reference.backend http --reference.url http://127.0.0.1:8080/v1 --reference.model llama
//
// A miner's backend is the built-in test backend (no language model: it answers the
// subnet's checkable tasks, its free-text answers are marked filler, and it can be made
// slow, wrong or failing) or any OpenAI-compatible server (llama.cpp server, vLLM,
// Ollama). A validator's reference model, which free prompts are scored against, takes
// the same options (--reference.backend, --reference.url, …); with the default, the
// built-in test backend, the validator asks checkable tasks only. Every flag of
// sdk/subnet.Config is accepted (textgen miner -h lists them), and --config file.json
// gives them in a file.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/tessera-net/tessera/sdk/runner"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/subnets/textgen"
)

func main() {
	runner.Main("textgen", func(ctx context.Context, args []string) error {
		return run(ctx, args, os.Getenv)
	})
}

// backendFlags choose and configure one backend from flags: a miner's (--backend,
// --backend.url, …) or a validator's reference model (--reference.backend,
// --reference.url, …). Both take the same options under their own names, and are built
// by the same code.
type backendFlags struct {
	kindFlag string // the flag that chooses the backend
	prefix   string // the prefix of its options' flags
	keyEnv   string // the environment variable an http backend's API key may come from
	kind     string
	http     textgen.HTTPConfig
	builtin  textgen.BuiltinConfig
}

// minerBackendFlags registers the miner's --backend and --builtin.* flags.
func minerBackendFlags(fs *flag.FlagSet) *backendFlags {
	b := &backendFlags{kindFlag: "backend", prefix: "backend", keyEnv: "TEXTGEN_BACKEND_KEY"}
	b.register(fs, "miner", "an http backend",
		"the backend: builtin (a test backend with no language model: it solves the checkable tasks, and its free-text answers are marked filler) or http (an OpenAI-compatible server)")
	fs.StringVar(&b.builtin.Model, "builtin.model", "tessera-builtin", "miner: the name the built-in backend answers as")
	fs.DurationVar(&b.builtin.Latency, "builtin.latency", 0, "miner: built-in backend's wait before its first token")
	fs.DurationVar(&b.builtin.Jitter, "builtin.jitter", 0, "miner: built-in backend's random extra wait, up to this")
	fs.Float64Var(&b.builtin.TokensPerSecond, "builtin.tps", 0, "miner: built-in backend's tokens a second after the first (0: no pacing)")
	fs.Float64Var(&b.builtin.WrongRate, "builtin.wrong-rate", 0, "miner: share of wrong answers from the built-in backend, 0 to 1")
	fs.Float64Var(&b.builtin.FailRate, "builtin.fail-rate", 0, "miner: share of failures of the built-in backend, 0 to 1")
	fs.Uint64Var(&b.builtin.Seed, "builtin.seed", 1, "miner: seed of the built-in backend's random choices")
	return b
}

// referenceFlags registers the validator's --reference.* flags.
func referenceFlags(fs *flag.FlagSet) *backendFlags {
	b := &backendFlags{kindFlag: "reference.backend", prefix: "reference", keyEnv: "TEXTGEN_REFERENCE_KEY"}
	b.register(fs, "validator", "the http reference model",
		"the reference model free prompts are scored against: builtin (the test backend, no model: free prompts are then off and only checkable tasks are asked) or http (an OpenAI-compatible server)")
	return b
}

// register adds the flag choosing the backend and the options of an http backend; who
// and noun word their help.
func (b *backendFlags) register(fs *flag.FlagSet, who, noun, kindHelp string) {
	fs.StringVar(&b.kind, b.kindFlag, "builtin", who+": "+kindHelp)
	fs.StringVar(&b.http.BaseURL, b.prefix+".url", "", who+": the OpenAI API root of "+noun+", e.g. http://127.0.0.1:8080/v1")
	fs.StringVar(&b.http.Model, b.prefix+".model", "", who+": the model name sent to "+noun+" (default: the request's)")
	fs.StringVar(&b.http.APIKey, b.prefix+".key", "", who+": the API key of "+noun+" (also "+b.keyEnv+")")
	fs.DurationVar(&b.http.Timeout, b.prefix+".timeout", 0, who+": the longest request to "+noun+" (0: no limit)")
}

// backend builds the chosen backend. Options of an http backend given with the
// built-in one are an error: the user meant a model and would get the test backend.
func (b *backendFlags) backend(getenv func(string) string) (textgen.Backend, error) {
	switch b.kind {
	case "builtin":
		if opt := b.httpOptionSet(); opt != "" {
			return nil, fmt.Errorf("--%s.%s is an option of an http backend, but --%s is builtin; add --%s http", b.prefix, opt, b.kindFlag, b.kindFlag)
		}
		return textgen.NewBuiltin(b.builtin)
	case "http":
		if b.http.APIKey == "" {
			b.http.APIKey = getenv(b.keyEnv)
		}
		if b.http.BaseURL == "" {
			return nil, fmt.Errorf("--%s http needs --%s.url, the server's OpenAI API root (e.g. http://127.0.0.1:8080/v1)", b.kindFlag, b.prefix)
		}
		h, err := textgen.NewHTTPBackend(b.http)
		if err != nil {
			return nil, fmt.Errorf("--%s http: %w", b.kindFlag, err)
		}
		return h, nil
	}
	return nil, fmt.Errorf("--%s %q: want builtin or http", b.kindFlag, b.kind)
}

// httpOptionSet names the first option of an http backend that was given ("" if none).
func (b *backendFlags) httpOptionSet() string {
	switch {
	case b.http.BaseURL != "":
		return "url"
	case b.http.Model != "":
		return "model"
	case b.http.APIKey != "":
		return "key"
	case b.http.Timeout != 0:
		return "timeout"
	}
	return ""
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
	cfg := subnet.DefaultConfig()
	role, fs, err := runner.Flags("textgen", args, &cfg)
	if err != nil {
		return err
	}
	bf := minerBackendFlags(fs)
	rf := referenceFlags(fs)
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
	switch role {
	case "miner":
		if sc.Backend, err = bf.backend(getenv); err != nil {
			return err
		}
	case "validator":
		if sc.Reference, err = rf.backend(getenv); err != nil {
			return err
		}
		if _, _, err := textgen.DrawKinds(ks, sc.Reference); err != nil {
			return fmt.Errorf("--kinds %s: %w; add --reference.backend http --reference.url …", *kinds, err)
		}
	}
	env, err := runner.Setup(cfg, getenv)
	if err != nil {
		return err
	}
	defer env.Close()
	sc.Miner.Logger = env.Log
	sc.Miner.Registerer = env.Registry
	if role == "validator" {
		sc.Logger = env.Log.With("reference", rf.kind)
	}
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
