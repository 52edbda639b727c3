package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/lm"
	"github.com/tessera-net/tessera/lm/gguf"
	"github.com/tessera-net/tessera/lm/server"
	"github.com/tessera-net/tessera/lm/tokenizer"
)

// newLMCmd is the `lm` command group: Tessera's deterministic language-model engine.
func newLMCmd(env *cliEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lm",
		Short: "The deterministic language-model engine: inspect, make, run, score and serve GGUF models",
		Long: `Tessera's language-model engine runs llama-family GGUF models with a forward pass in
integers, so the same model, prompt, parameters and seed give the same tokens and
log-probabilities on every machine. These commands inspect a model file, write a random
model, generate, score a completion, and serve the OpenAI API (for a textgen miner's
--backend http, or any OpenAI client).`,
	}
	cmd.AddCommand(newLMInfoCmd(env), newLMRandomCmd(env), newLMGenerateCmd(env), newLMScoreCmd(env), newLMServeCmd(env))
	return cmd
}

// parseSeed reads a --seed: 64 hexadecimal digits are the seed's 32 bytes; any other
// string's SHA-256 is the seed.
func parseSeed(s string) [32]byte {
	var seed [32]byte
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			copy(seed[:], b)
			return seed
		}
	}
	return sha256.Sum256([]byte(s))
}

// modelFlags are the flags of the commands that load a model.
type modelFlags struct {
	path    string
	threads int
}

func (f *modelFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.path, "model", "", "the GGUF model file (required)")
	cmd.Flags().IntVar(&f.threads, "threads", runtime.NumCPU(), "goroutines that split each matrix product (the results do not depend on it)")
}

// load checks the flags and loads the model.
func (f *modelFlags) load() (*lm.Model, error) {
	if f.path == "" {
		return nil, usagef("--model is required: the GGUF model file (tessera lm random writes one)")
	}
	if f.threads < 1 {
		return nil, usagef("--threads must be at least 1, got %d", f.threads)
	}
	if _, err := os.Stat(f.path); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return lm.Load(f.path, lm.Options{Threads: f.threads})
}

// modelName is what a model is called when no --name is given: its general.name, else
// the file's base name without .gguf.
func modelName(m *lm.Model, path string) string {
	if m.Config.Name != "" {
		return m.Config.Name
	}
	return strings.TrimSuffix(filepath.Base(path), ".gguf")
}

// lmConfig is a model's shape as JSON.
type lmConfig struct {
	Arch     string  `json:"architecture"`
	Name     string  `json:"name"`
	Vocab    int     `json:"vocab"`
	Dim      int     `json:"dim"`
	Layers   int     `json:"layers"`
	Heads    int     `json:"heads"`
	KVHeads  int     `json:"kv_heads"`
	HeadDim  int     `json:"head_dim"`
	FFN      int     `json:"ffn"`
	Context  int     `json:"context"`
	RopeDims int     `json:"rope_dims"`
	RopeBase float64 `json:"rope_base"`
	Eps      float64 `json:"rms_eps"`
}

func configJSON(c lm.Config) *lmConfig {
	return &lmConfig{Arch: c.Arch, Name: c.Name, Vocab: c.Vocab, Dim: c.Dim, Layers: c.Layers, Heads: c.Heads, KVHeads: c.KVHeads,
		HeadDim: c.HeadDim(), FFN: c.FFN, Context: c.Context, RopeDims: c.RopeDims,
		RopeBase: float64(c.RopeBase) / (1 << 16), Eps: float64(c.Eps) / (1 << 32)}
}

type lmTokenizerInfo struct {
	Tokens            int    `json:"tokens"`
	BOS               int32  `json:"bos"`
	EOS               int32  `json:"eos"`
	AddBOS            bool   `json:"add_bos"`
	ChatTemplate      string `json:"chat_template"`
	TemplateDefaulted bool   `json:"chat_template_defaulted"`
}

type lmMeta struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value,omitempty"` // absent for a long array: see Len and Summary
	Len   *int   `json:"len,omitempty"`   // an array's length
	// Summary is a long array's first elements, as "[kind x N: e0 e1 ...]".
	Summary string `json:"summary,omitempty"`
}

type lmTensor struct {
	Name  string   `json:"name"`
	Type  string   `json:"type"`
	Dims  []uint64 `json:"dims"`
	Bytes uint64   `json:"bytes"`
}

type lmInfo struct {
	File           string           `json:"file"`
	Version        uint32           `json:"version"`
	Size           int64            `json:"size"`
	Config         *lmConfig        `json:"config,omitempty"`
	ConfigError    string           `json:"config_error,omitempty"`
	Tokenizer      *lmTokenizerInfo `json:"tokenizer,omitempty"`
	TokenizerError string           `json:"tokenizer_error,omitempty"`
	Parameters     uint64           `json:"parameters"`
	TensorBytes    uint64           `json:"tensor_bytes"`
	Metadata       []lmMeta         `json:"metadata"`
	Tensors        []lmTensor       `json:"tensors"`
}

// maxShownArray is the longest metadata array info shows whole.
const maxShownArray = 16

// metaValue is a scalar's or short array's value as JSON can hold it (a float that is
// not finite as its string).
func metaValue(v gguf.Value) any {
	if v.Kind() == gguf.KindArray {
		out := make([]any, v.Len())
		for i := range out {
			e, _ := v.Index(i)
			out[i] = metaValue(e)
		}
		return out
	}
	if f, ok := v.AsFloat64(); ok && (v.Kind() == gguf.KindFloat32 || v.Kind() == gguf.KindFloat64) && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return v.String()
	}
	return v.Interface()
}

func readLMInfo(path string) (*lmInfo, error) {
	r, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f := r.File
	info := &lmInfo{File: path, Version: f.Version, Size: f.Size, Metadata: []lmMeta{}, Tensors: []lmTensor{}}
	if c, err := lm.ConfigOf(f); err != nil {
		info.ConfigError = err.Error()
	} else {
		info.Config = configJSON(c)
	}
	if tok, err := lm.TokenizerOf(f); err != nil {
		info.TokenizerError = err.Error()
	} else if tok != nil {
		info.Tokenizer = &lmTokenizerInfo{Tokens: tok.NumTokens(), BOS: tok.BOS(), EOS: tok.EOS(), AddBOS: tok.AddBOS(),
			ChatTemplate: tok.TemplateName(), TemplateDefaulted: tok.TemplateDefaulted()}
	}
	for _, kv := range f.KV {
		m := lmMeta{Key: kv.Key, Type: kv.Value.Kind().String()}
		if kv.Value.Kind() == gguf.KindArray {
			n := kv.Value.Len()
			ek, _ := kv.Value.ElemKind()
			m.Type, m.Len = "array of "+ek.String(), &n
			if n > maxShownArray {
				m.Summary = kv.Value.String()
			} else {
				m.Value = metaValue(kv.Value)
			}
		} else {
			m.Value = metaValue(kv.Value)
		}
		info.Metadata = append(info.Metadata, m)
	}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		info.Tensors = append(info.Tensors, lmTensor{Name: t.Name, Type: t.Type.String(), Dims: t.Dims, Bytes: t.Bytes()})
		info.Parameters += t.Elements()
		info.TensorBytes += t.Bytes()
	}
	return info, nil
}

func newLMInfoCmd(env *cliEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "info FILE",
		Short: "Describe a GGUF model file: architecture, shape, tokenizer, metadata and tensors",
		Long: `Describe a GGUF model file without loading its weights: the format version, the model's
architecture and shape as the engine reads them, its tokenizer (vocabulary size, BOS/EOS,
the chat template the engine renders), every metadata key (long arrays, such as the
vocabulary, summarised by their first elements) and the tensor table (name, type, dims,
bytes). A file the engine cannot run is still described, with the reason.`,
		Example: `  tessera lm info model.gguf
  tessera lm info model.gguf -o json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("lm info takes one argument, the GGUF file; got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			info, err := readLMInfo(args[0])
			if err != nil {
				return err
			}
			return env.emit(info, func(w io.Writer) error { return printLMInfo(w, info) })
		},
	}
}

func printLMInfo(w io.Writer, info *lmInfo) error {
	fmt.Fprintf(w, "file:        %s (GGUF v%d, %s)\n", info.File, info.Version, byteSize(uint64(info.Size)))
	if c := info.Config; c != nil {
		fmt.Fprintf(w, "model:       %s %q: vocab %d, dim %d, %d layers, %d heads (%d key/value, head dim %d), ffn %d, context %d\n",
			c.Arch, c.Name, c.Vocab, c.Dim, c.Layers, c.Heads, c.KVHeads, c.HeadDim, c.FFN, c.Context)
		fmt.Fprintf(w, "             rope dims %d, rope base %g, rms eps %.4g\n", c.RopeDims, c.RopeBase, c.Eps)
	} else {
		fmt.Fprintf(w, "model:       not runnable by the engine: %s\n", info.ConfigError)
	}
	switch t := info.Tokenizer; {
	case t != nil:
		def := ""
		if t.TemplateDefaulted {
			def = " (the default: the file has none the engine recognises)"
		}
		fmt.Fprintf(w, "tokenizer:   %d tokens, bos %d, eos %d, add bos %v; chat template %s%s\n", t.Tokens, t.BOS, t.EOS, t.AddBOS, t.ChatTemplate, def)
	case info.TokenizerError != "":
		fmt.Fprintf(w, "tokenizer:   unusable: %s\n", info.TokenizerError)
	default:
		fmt.Fprintln(w, "tokenizer:   none (the model takes token ids only)")
	}
	fmt.Fprintf(w, "weights:     %d parameters, %s in the file\n", info.Parameters, byteSize(info.TensorBytes))
	fmt.Fprintf(w, "\nmetadata (%d keys):\n", len(info.Metadata))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, m := range info.Metadata {
		var v string
		switch {
		case m.Summary != "":
			v = m.Summary
		case m.Type == "string":
			v = strconv.Quote(m.Value.(string))
			if len(v) > 100 {
				v = v[:97] + "…" + fmt.Sprintf(" (%d bytes)", len(m.Value.(string)))
			}
		default:
			v = fmt.Sprint(m.Value)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", m.Key, m.Type, v)
	}
	tw.Flush()
	fmt.Fprintf(w, "\ntensors (%d):\n", len(info.Tensors))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  name\ttype\tdims\tbytes")
	for _, t := range info.Tensors {
		dims := make([]string, len(t.Dims))
		for i, d := range t.Dims {
			dims[i] = strconv.FormatUint(d, 10)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\n", t.Name, t.Type, strings.Join(dims, "×"), t.Bytes)
	}
	return tw.Flush()
}

// byteSize is n bytes for people.
func byteSize(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func newLMRandomCmd(env *cliEnv) *cobra.Command {
	var dims, seed, out string
	cmd := &cobra.Command{
		Use:   "random --dims PRESET|LIST --seed SEED --out FILE",
		Short: "Write a random llama model of a given shape as a GGUF file, the same for the same seed",
		Long: `Write a llama model with random weights (Q8_0, norms F32) and a small synthetic
vocabulary, as the engine's lm.WriteRandom makes it: the same shape and seed give the same
file, byte for byte, on every machine. It is for tests, benchmarks and devnets: it runs at
the speed of a real model of its shape, but its text is gibberish.

--dims is a preset (tiny: vocab 512, dim 64, 2 layers, 4 heads, 2 key/value heads, ffn 128,
context 256; tinyllama-1.1b: TinyLlama's shape) or a list
vocab=N,dim=N,layers=N,heads=N[,kv-heads=N][,ffn=N][,context=N] (kv-heads defaults to heads,
context to 2048). --seed is 64 hexadecimal digits, the seed's 32 bytes, or any other string,
whose SHA-256 is the seed.`,
		Example: `  tessera lm random --dims tiny --seed devnet --out tiny.gguf
  tessera lm random --dims vocab=512,dim=128,layers=4,heads=4,ffn=256,context=1024 --seed 1 --out small.gguf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("--out is required: the GGUF file to write")
			}
			d, err := lm.ParseDims(dims)
			if err != nil {
				return usageError{err}
			}
			s := parseSeed(seed)
			n, err := writeRandomModel(out, d, s)
			if err != nil {
				return err
			}
			type dimsJSON struct {
				Vocab   int `json:"vocab"`
				Dim     int `json:"dim"`
				Layers  int `json:"layers"`
				Heads   int `json:"heads"`
				KVHeads int `json:"kv_heads"`
				FFN     int `json:"ffn"`
				Context int `json:"context"`
			}
			res := struct {
				File  string   `json:"file"`
				Bytes int64    `json:"bytes"`
				Dims  dimsJSON `json:"dims"`
				Seed  string   `json:"seed"`
			}{out, n, dimsJSON(d), hex.EncodeToString(s[:])}
			return env.emit(res, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "wrote %s (%s): vocab %d, dim %d, %d layers, %d heads (%d key/value), ffn %d, context %d; seed %s\n",
					out, byteSize(uint64(n)), d.Vocab, d.Dim, d.Layers, d.Heads, d.KVHeads, d.FFN, d.Context, res.Seed)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&dims, "dims", "tiny", "the shape: a preset (tiny, tinyllama-1.1b) or vocab=…,dim=…,layers=…,heads=…,kv-heads=…,ffn=…,context=…")
	cmd.Flags().StringVar(&seed, "seed", "tessera", "the seed: 64 hex digits (its 32 bytes) or any string (its SHA-256)")
	cmd.Flags().StringVar(&out, "out", "", "the GGUF file to write (required)")
	return cmd
}

// writeRandomModel writes the random model to path through a temporary file, so a
// failure leaves no half-written model.
func writeRandomModel(path string, d lm.Dims, seed [32]byte) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	n, err := lm.WriteRandom(tmp, d, seed)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	return n, nil
}

// samplingFlags are generate's sampling options; their defaults are the server's.
type samplingFlags struct {
	temperature, topP float64
	topK              int
	seed              int64
}

func (f *samplingFlags) register(cmd *cobra.Command) {
	cmd.Flags().Float64Var(&f.temperature, "temperature", 1, "sampling temperature, 0 to 2 (0: greedy)")
	cmd.Flags().Float64Var(&f.topP, "top-p", 1, "nucleus sampling: keep the likeliest tokens up to this probability (1: all)")
	cmd.Flags().IntVar(&f.topK, "top-k", 0, "keep the K likeliest tokens (0: all)")
	cmd.Flags().Int64Var(&f.seed, "seed", 0, "the sampler's seed (as the server's seed; -1 is 2^64-1)")
}

func (f *samplingFlags) sampling() (lm.Sampling, error) {
	if f.temperature < 0 || f.temperature > 2 || math.IsNaN(f.temperature) {
		return lm.Sampling{}, usagef("--temperature must be in [0, 2], got %v", f.temperature)
	}
	if f.topP < 0 || f.topP > 1 || math.IsNaN(f.topP) {
		return lm.Sampling{}, usagef("--top-p must be in [0, 1], got %v", f.topP)
	}
	if f.topK < 0 {
		return lm.Sampling{}, usagef("--top-k must not be negative, got %d", f.topK)
	}
	s, err := lm.SamplingFromFloats(f.temperature, f.topP, f.topK, uint64(f.seed))
	if err != nil {
		return lm.Sampling{}, usageError{err}
	}
	return s, nil
}

// lmPrompt tokenizes --prompt as the server does: a chat's one user message with the
// model's template (--chat), or a completion prompt.
func lmPrompt(m *lm.Model, prompt string, chat bool) ([]int32, error) {
	if m.Tokenizer == nil {
		return nil, errors.New("the model has no vocabulary: it takes token ids only (use tessera lm serve and /v1/completions)")
	}
	if chat {
		return server.EncodeChat(m.Tokenizer, []tokenizer.Message{{Role: "user", Content: prompt}})
	}
	ids := server.EncodePrompt(m.Tokenizer, prompt)
	if len(ids) == 0 {
		return nil, usagef("--prompt has no tokens")
	}
	return ids, nil
}

// lmToken is a generated token in generate's JSON.
type lmToken struct {
	ID         int32     `json:"id"`
	Text       string    `json:"text"`
	Logprob    float64   `json:"logprob"`
	LogprobQ16 int32     `json:"logprob_q16"`
	Top        []lmToken `json:"top,omitempty"`
}

func lmTokenOf(tok *tokenizer.Tokenizer, t lm.TokenLogprob) lmToken {
	text, _ := server.TokenText(tok, t.ID)
	return lmToken{ID: t.ID, Text: text, Logprob: server.Logprob(t.Logprob), LogprobQ16: t.Logprob}
}

func newLMGenerateCmd(env *cliEnv) *cobra.Command {
	var (
		mf        modelFlags
		sf        samplingFlags
		prompt    string
		chat      bool
		maxTokens int
		top       int
		ignoreEOS bool
	)
	cmd := &cobra.Command{
		Use:   "generate --model FILE --prompt TEXT",
		Short: "Generate a completion of a prompt",
		Long: `Generate a completion of --prompt with the model, exactly as tessera lm serve answers the
same request (the defaults are the server's: temperature 1, top-p 1, top-k 0, seed 0): the
prompt is tokenized with special tokens parsed and BOS per the vocabulary, or, with --chat,
rendered as one user message with the model's chat template first.

The text streams to standard output as it is generated. With -o json the command prints
one object instead: prompt_tokens (the prompt's ids), tokens (each generated token's id,
text, log-probability as a float and in Q16, and with --top-logprobs its top alternatives),
text and finish_reason ("stop": the end-of-sequence token; "length": --max-tokens or the
context ran out).`,
		Example: `  tessera lm generate --model tiny.gguf --prompt "Once upon a time" --temperature 0
  tessera lm generate --model model.gguf --chat --prompt "What is the capital of Peru?" --seed 7 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("prompt") {
				return usagef("--prompt is required")
			}
			if maxTokens < 1 {
				return usagef("--max-tokens must be at least 1, got %d", maxTokens)
			}
			if top < 0 || top > lm.MaxTopLogprobs {
				return usagef("--top-logprobs must be in [0, %d], got %d", lm.MaxTopLogprobs, top)
			}
			smp, err := sf.sampling()
			if err != nil {
				return err
			}
			m, err := mf.load()
			if err != nil {
				return err
			}
			defer m.Close()
			ids, err := lmPrompt(m, prompt, chat)
			if err != nil {
				return err
			}
			if len(ids) >= m.Config.Context {
				return fmt.Errorf("the prompt's %d tokens fill the model's context of %d", len(ids), m.Config.Context)
			}
			tok := m.Tokenizer
			stream := tok.NewStream()
			text := env.output == "text"
			var sb strings.Builder
			start := time.Now()
			steps, finish, err := m.Generate(cmd.Context(), lm.Request{Prompt: ids, MaxTokens: maxTokens, Sampling: smp, TopLogprobs: top, IgnoreEOS: ignoreEOS},
				func(s lm.Step) error {
					chunk := stream.Next(s.ID)
					sb.WriteString(chunk)
					if text {
						_, err := io.WriteString(env.stdout, chunk)
						return err
					}
					return nil
				})
			if err != nil {
				return err
			}
			tail := stream.Flush()
			sb.WriteString(tail)
			if text {
				fmt.Fprintln(env.stdout, tail)
				d := time.Since(start)
				fmt.Fprintf(env.stderr, "%d prompt tokens, %d generated in %s (%.1f tokens/s), finish %s\n",
					len(ids), len(steps), d.Round(time.Millisecond), float64(len(steps))/d.Seconds(), finish)
				return nil
			}
			res := struct {
				PromptTokens []int32   `json:"prompt_tokens"`
				Tokens       []lmToken `json:"tokens"`
				Text         string    `json:"text"`
				FinishReason string    `json:"finish_reason"`
			}{ids, make([]lmToken, len(steps)), sb.String(), finish}
			for i, s := range steps {
				res.Tokens[i] = lmTokenOf(tok, s.TokenLogprob)
				for _, t := range s.Top {
					res.Tokens[i].Top = append(res.Tokens[i].Top, lmTokenOf(tok, t))
				}
			}
			return env.emit(res, nil)
		},
	}
	mf.register(cmd)
	sf.register(cmd)
	cmd.Flags().StringVar(&prompt, "prompt", "", "the prompt (required)")
	cmd.Flags().BoolVar(&chat, "chat", false, "render the prompt as a user message with the model's chat template")
	cmd.Flags().IntVar(&maxTokens, "max-tokens", 128, "the most tokens to generate")
	cmd.Flags().IntVar(&top, "top-logprobs", 0, "with -o json, list this many likeliest tokens at each position (0 to 20)")
	cmd.Flags().BoolVar(&ignoreEOS, "ignore-eos", false, "keep generating past the end-of-sequence token")
	return cmd
}

func newLMScoreCmd(env *cliEnv) *cobra.Command {
	var (
		mf         modelFlags
		prompt     string
		completion string
		chat       bool
		top        int
	)
	cmd := &cobra.Command{
		Use:   "score --model FILE --prompt TEXT --completion TEXT",
		Short: "The log-probability of each token of a completion after a prompt, as a validator computes it",
		Long: `Score --completion after --prompt: each completion token's log-probability under the
model (temperature 1, no top-k or top-p), exactly as POST /v1/score of tessera lm serve
answers. The prompt is tokenized as generate does (--chat: as a user message with the chat
template); the completion on its own, without BOS, one leading space removed when the
vocabulary adds a space prefix (so " Paris" is the token ▁Paris).

The text output is a table of the tokens and the total; -o json prints the score endpoint's
object: prompt_token_ids, tokens (id, token, bytes, logprob, logprob_q16, top_logprobs),
logprob and logprob_q16 (the sum), usage.`,
		Example: `  tessera lm score --model model.gguf --prompt "The capital of France is" --completion " Paris"
  tessera lm score --model model.gguf --chat --prompt "Capital of Peru?" --completion "Lima" --top-logprobs 3 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("prompt") || !cmd.Flags().Changed("completion") {
				return usagef("--prompt and --completion are required")
			}
			if top < 0 || top > lm.MaxTopLogprobs {
				return usagef("--top-logprobs must be in [0, %d], got %d", lm.MaxTopLogprobs, top)
			}
			m, err := mf.load()
			if err != nil {
				return err
			}
			defer m.Close()
			ids, err := lmPrompt(m, prompt, chat)
			if err != nil {
				return err
			}
			comp := server.EncodeCompletion(m.Tokenizer, completion)
			if len(comp) == 0 {
				return usagef("--completion has no tokens")
			}
			steps, err := m.Score(cmd.Context(), ids, comp, top)
			if err != nil {
				return err
			}
			res := server.NewScoreResponse(modelName(m, mf.path), m.Tokenizer, ids, steps)
			return env.emit(res, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "#\tid\ttoken\tlogprob\tprob")
				for i, t := range res.Tokens {
					fmt.Fprintf(tw, "%d\t%d\t%s\t%.6f\t%.4f\n", i, t.ID, quoteToken(t.Token), t.Logprob, math.Exp(t.Logprob))
					for _, a := range t.TopLogprobs {
						fmt.Fprintf(tw, "\t%d\t  %s\t%.6f\t%.4f\n", a.ID, quoteToken(a.Token), a.Logprob, math.Exp(a.Logprob))
					}
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				_, err := fmt.Fprintf(w, "total: %d tokens, logprob %.6f (Q16 %d), perplexity %.4f\n", len(res.Tokens), res.Logprob, res.LogprobQ16,
					math.Exp(-res.Logprob/float64(len(res.Tokens))))
				return err
			})
		},
	}
	mf.register(cmd)
	cmd.Flags().StringVar(&prompt, "prompt", "", "the prompt (required)")
	cmd.Flags().StringVar(&completion, "completion", "", "the completion to score (required)")
	cmd.Flags().BoolVar(&chat, "chat", false, "render the prompt as a user message with the model's chat template")
	cmd.Flags().IntVar(&top, "top-logprobs", 0, "list this many likeliest tokens at each position (0 to 20)")
	return cmd
}

// quoteToken shows a token's text quoted, a "bytes:\xNN" token as it is.
func quoteToken(s string) string {
	if strings.HasPrefix(s, "bytes:") {
		return s
	}
	return strconv.Quote(s)
}

func newLMServeCmd(env *cliEnv) *cobra.Command {
	var (
		mf        modelFlags
		lf        logFlags
		addr      string
		name      string
		maxBatch  int
		maxTokens int
		maxBody   int64
	)
	cmd := &cobra.Command{
		Use:   "serve --model FILE",
		Short: "Serve a model over the OpenAI API (chat, completions, score), for miners and any OpenAI client",
		Long: `Serve the model on --addr with the OpenAI API: GET /v1/models, POST /v1/chat/completions and
POST /v1/completions (streamed and not, with logprobs, stop strings, seed, top_k), Tessera's
POST /v1/score (each token's log-probability, what a validator checks), GET /v1/health and
GET /metrics. Concurrent requests are batched, up to --max-batch at once, and each gets
exactly the tokens it would get alone. The model is called --name in requests (default: the
file's general.name, else its base name); a request may also leave "model" empty.

It prints the API's base URL (for a textgen miner: --backend http --backend.url URL
--backend.model NAME) and serves until interrupted (SIGINT or SIGTERM), then lets requests
in flight finish for up to 10 s.`,
		Example: `  tessera lm serve --model model.gguf --addr 127.0.0.1:8080
  curl http://127.0.0.1:8080/v1/chat/completions -d '{"messages":[{"role":"user","content":"Hi"}]}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := lf.logger(env.stderr)
			if err != nil {
				return err
			}
			if maxBatch < 1 {
				return usagef("--max-batch must be at least 1, got %d", maxBatch)
			}
			if maxTokens < 0 {
				return usagef("--max-tokens must not be negative, got %d", maxTokens)
			}
			m, err := mf.load()
			if err != nil {
				return err
			}
			defer m.Close()
			if name == "" {
				name = modelName(m, mf.path)
			}
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			e := lm.NewEngine(m, maxBatch)
			defer e.Close()
			s, err := server.New(e, server.Options{Name: name, MaxTokens: maxTokens, MaxBodyBytes: maxBody, Registerer: reg, Logger: log})
			if err != nil {
				return err
			}
			// The command stops on SIGINT and SIGTERM however it was started (main does the
			// same for every command; a test binary running the command does not).
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var lc net.ListenConfig
			l, err := lc.Listen(ctx, "tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			url := "http://" + l.Addr().String() + "/v1"
			c := m.Config
			info := struct {
				URL     string `json:"url"`
				Model   string `json:"model"`
				Context int    `json:"context"`
				Threads int    `json:"threads"`
				Batch   int    `json:"max_batch"`
			}{url, name, c.Context, mf.threads, maxBatch}
			if err := env.emit(info, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "serving %s (%s, context %d) at %s\n", name, byteSize(uint64(m.Bytes())), c.Context, url)
				return err
			}); err != nil {
				l.Close()
				return err
			}
			return s.Serve(ctx, l)
		},
	}
	mf.register(cmd)
	cmd.Flags().StringVar(&lf.level, "log-level", "info", "log level: debug, info, warn, error")
	cmd.Flags().StringVar(&lf.format, "log-format", "text", "log format: text or json")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to serve the API on (port 0 picks a free one)")
	cmd.Flags().StringVar(&name, "name", "", "the model's name in requests (default: general.name, else the file's base name)")
	cmd.Flags().IntVar(&maxBatch, "max-batch", 8, "the most completions run together in one batch")
	cmd.Flags().IntVar(&maxTokens, "max-tokens", 0, "the most tokens one completion may ask for (0: the model's context)")
	cmd.Flags().Int64Var(&maxBody, "max-body", 4<<20, "largest request body, in bytes")
	return cmd
}
