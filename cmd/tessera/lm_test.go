package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lmCLI runs this package's binary as tessera (see TestMain) with args and returns its
// stdout, stderr and exit code.
func lmCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TESSERA_TEST_RUN_MAIN=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// lmModel writes the tiny random model with seed into a temporary directory.
func lmModel(t *testing.T, seed string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if _, errs, code := lmCLI(t, "lm", "random", "--dims", "tiny", "--seed", seed, "--out", path); code != 0 {
		t.Fatalf("lm random: exit %d: %s", code, errs)
	}
	return path
}

// The same shape and seed write the same file; a 64-hex-digit seed is the 32 bytes
// themselves, any other string is hashed. info describes it.
func TestLmRandomAndInfo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the tessera binary")
	}
	a, b := lmModel(t, "devnet"), lmModel(t, "devnet")
	sum := sha256.Sum256([]byte("devnet"))
	c := lmModel(t, hex.EncodeToString(sum[:]))
	d := lmModel(t, "other")
	fa, _ := os.ReadFile(a)
	fb, _ := os.ReadFile(b)
	fc, _ := os.ReadFile(c)
	fd, _ := os.ReadFile(d)
	if len(fa) == 0 || !bytes.Equal(fa, fb) || !bytes.Equal(fa, fc) || bytes.Equal(fa, fd) {
		t.Fatalf("random files: %d bytes; same seed equal %v, hex seed equal %v, other seed equal %v",
			len(fa), bytes.Equal(fa, fb), bytes.Equal(fa, fc), bytes.Equal(fa, fd))
	}
	out, errs, code := lmCLI(t, "lm", "random", "--dims", "vocab=300,dim=32,layers=1,heads=2,ffn=64,context=128", "--seed", "x",
		"--out", filepath.Join(t.TempDir(), "m.gguf"), "-o", "json")
	var rnd struct {
		Bytes int64
		Dims  struct{ Vocab, KVHeads, Context int } `json:"dims"`
		Seed  string
	}
	if code != 0 || json.Unmarshal([]byte(out), &rnd) != nil || rnd.Bytes == 0 || rnd.Dims.Vocab != 300 || len(rnd.Seed) != 64 {
		t.Fatalf("random -o json: %d %s %s", code, out, errs)
	}

	out, errs, code = lmCLI(t, "lm", "info", a, "-o", "json")
	if code != 0 {
		t.Fatalf("info: exit %d: %s", code, errs)
	}
	var info struct {
		Version uint32
		Config  struct {
			Architecture string
			Vocab        int
			Layers       int
			KVHeads      int `json:"kv_heads"`
			Context      int
		}
		Tokenizer struct {
			Tokens       int
			BOS, EOS     int32
			ChatTemplate string `json:"chat_template"`
		}
		Parameters uint64
		Metadata   []struct {
			Key     string
			Type    string
			Value   any
			Len     *int
			Summary string
		}
		Tensors []struct {
			Name  string
			Type  string
			Dims  []uint64
			Bytes uint64
		}
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if info.Version != 3 || info.Config.Architecture != "llama" || info.Config.Vocab != 512 || info.Config.Layers != 2 || info.Config.KVHeads != 2 ||
		info.Config.Context != 256 || info.Tokenizer.Tokens != 512 || info.Tokenizer.BOS != 1 || info.Tokenizer.EOS != 2 ||
		info.Tokenizer.ChatTemplate != "llama-2" || len(info.Tensors) != 3+2*9 || info.Parameters == 0 {
		t.Fatalf("info %+v", info)
	}
	if tt := info.Tensors[0]; tt.Name != "token_embd.weight" || tt.Type != "Q8_0" || len(tt.Dims) != 2 || tt.Dims[0] != 64 || tt.Dims[1] != 512 || tt.Bytes != 512*2*34 {
		t.Fatalf("tensor %+v", tt)
	}
	seen := 0
	for _, m := range info.Metadata {
		switch m.Key {
		case "tokenizer.ggml.tokens":
			// A long array: its length and first elements, not all 512 strings.
			if m.Len == nil || *m.Len != 512 || m.Value != nil || !strings.HasPrefix(m.Summary, `[string x 512: "<unk>" "<s>" "</s>"`) {
				t.Fatalf("tokens %+v", m)
			}
			seen++
		case "general.architecture":
			if m.Value != "llama" || m.Type != "string" {
				t.Fatalf("architecture %+v", m)
			}
			seen++
		}
	}
	if seen != 2 {
		t.Fatalf("metadata %+v", info.Metadata)
	}
	out, _, code = lmCLI(t, "lm", "info", a)
	for _, want := range []string{"GGUF v3", `llama "tessera-random": vocab 512, dim 64, 2 layers`, "chat template llama-2", "tokenizer.ggml.tokens", "[string x 512:", "tensors (21):", "blk.1.ffn_down.weight"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("info text lacks %q:\n%s", want, out)
		}
	}
}

type lmGenerated struct {
	PromptTokens []int32 `json:"prompt_tokens"`
	Tokens       []struct {
		ID         int32
		Text       string
		Logprob    float64
		LogprobQ16 int32 `json:"logprob_q16"`
		Top        []struct {
			ID      int32
			Logprob float64
		}
	}
	Text         string
	FinishReason string `json:"finish_reason"`
}

// generate gives the same completion every time for the same flags, in text and JSON,
// and scores as a validator would.
func TestLmGenerateAndScore(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the tessera binary")
	}
	model := lmModel(t, "gen")
	args := []string{"lm", "generate", "--model", model, "--prompt", "once upon a time", "--seed", "5", "--max-tokens", "20", "--threads", "2"}
	out1, errs, code := lmCLI(t, append(args, "-o", "json", "--top-logprobs", "3")...)
	if code != 0 {
		t.Fatalf("generate: exit %d: %s", code, errs)
	}
	out2, _, _ := lmCLI(t, append(args, "-o", "json", "--top-logprobs", "3", "--threads", "1")...)
	if out1 != out2 {
		t.Fatalf("two runs differ:\n%s\n%s", out1, out2)
	}
	var g lmGenerated
	if err := json.Unmarshal([]byte(out1), &g); err != nil {
		t.Fatalf("%v: %s", err, out1)
	}
	if len(g.PromptTokens) == 0 || g.PromptTokens[0] != 1 || len(g.Tokens) == 0 || len(g.Tokens) > 20 || g.Text == "" ||
		(g.FinishReason != "length" && g.FinishReason != "stop") {
		t.Fatalf("generated %+v", g)
	}
	for i, tok := range g.Tokens {
		if float64(tok.LogprobQ16)/65536 != tok.Logprob || len(tok.Top) != 3 || tok.Top[0].Logprob < tok.Top[2].Logprob {
			t.Fatalf("token %d: %+v", i, tok)
		}
	}
	text, errs, code := lmCLI(t, args...)
	if code != 0 || text != g.Text+"\n" || !strings.Contains(errs, "tokens/s") {
		t.Fatalf("text mode: exit %d, %q (want %q), stderr %s", code, text, g.Text, errs)
	}
	chat, _, code := lmCLI(t, append(args, "--chat", "-o", "json")...)
	var gc lmGenerated
	if code != 0 || json.Unmarshal([]byte(chat), &gc) != nil || len(gc.PromptTokens) <= len(g.PromptTokens) {
		t.Fatalf("chat: %d %s", code, chat)
	}

	out, errs, code := lmCLI(t, "lm", "score", "--model", model, "--prompt", "once upon a time", "--completion", " ab cd", "--top-logprobs", "2", "-o", "json")
	var sc struct {
		PromptTokenIDs []int32 `json:"prompt_token_ids"`
		Tokens         []struct {
			ID          int32
			Token       string
			Logprob     float64
			LogprobQ16  int32                `json:"logprob_q16"`
			TopLogprobs []struct{ ID int32 } `json:"top_logprobs"`
		}
		Logprob    float64
		LogprobQ16 int64 `json:"logprob_q16"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &sc) != nil {
		t.Fatalf("score: %d %s %s", code, out, errs)
	}
	if len(sc.Tokens) != 2 || sc.Tokens[0].Token != " ab" || sc.Tokens[1].Token != " cd" || len(sc.Tokens[0].TopLogprobs) != 2 ||
		sc.LogprobQ16 != int64(sc.Tokens[0].LogprobQ16)+int64(sc.Tokens[1].LogprobQ16) || len(sc.PromptTokenIDs) != len(g.PromptTokens) {
		t.Fatalf("score %+v", sc)
	}
	table, _, code := lmCLI(t, "lm", "score", "--model", model, "--prompt", "once upon a time", "--completion", " ab cd")
	if code != 0 || !strings.Contains(table, `" ab"`) || !strings.Contains(table, "total: 2 tokens") {
		t.Fatalf("score table:\n%s", table)
	}
}

// serve prints its URL, answers, and exits 0 on SIGTERM.
func TestLmServe(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the tessera binary")
	}
	model := lmModel(t, "serve")
	cmd := exec.Command(os.Args[0], "lm", "serve", "--model", model, "--addr", "127.0.0.1:0", "--name", "tiny", "-o", "json", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "TESSERA_TEST_RUN_MAIN=1")
	stdout, _ := cmd.StdoutPipe()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var info struct{ URL, Model string }
	if err := json.NewDecoder(bufio.NewReader(stdout)).Decode(&info); err != nil || info.Model != "tiny" || !strings.HasSuffix(info.URL, "/v1") {
		t.Fatalf("serve printed %+v (%v); stderr %s", info, err, errb.String())
	}
	resp, err := http.Post(info.URL+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":5}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"object":"chat.completion"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v: %s", err, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not exit on SIGTERM")
	}
}

// Bad flags are usage errors (exit 2); files that cannot be read, 1. Each says what is
// wrong.
func TestLmErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the tessera binary")
	}
	model := lmModel(t, "errors")
	notGGUF := filepath.Join(t.TempDir(), "not.gguf")
	os.WriteFile(notGGUF, []byte("this is not a model file at all"), 0o644)
	missing := filepath.Join(t.TempDir(), "missing.gguf")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"lm", "frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"lm", "info"}, 2, "takes one argument, the GGUF file; got 0"},
		{[]string{"lm", "info", missing}, 1, "no such file"},
		{[]string{"lm", "info", notGGUF}, 1, "gguf"},
		{[]string{"lm", "random", "--dims", "tiny"}, 2, "--out is required"},
		{[]string{"lm", "random", "--dims", "huge", "--out", missing}, 2, `"huge" is not one of`},
		{[]string{"lm", "random", "--dims", "vocab=10,dim=0", "--out", missing}, 2, "not a positive integer"},
		{[]string{"lm", "random", "--out", filepath.Join(missing, "sub", "x.gguf")}, 1, "write"},
		{[]string{"lm", "generate", "--prompt", "x"}, 2, "--model is required"},
		{[]string{"lm", "generate", "--model", model}, 2, "--prompt is required"},
		{[]string{"lm", "generate", "--model", missing, "--prompt", "x"}, 1, "no such file"},
		{[]string{"lm", "generate", "--model", notGGUF, "--prompt", "x"}, 1, "gguf"},
		{[]string{"lm", "generate", "--model", model, "--prompt", "x", "--temperature", "3"}, 2, "--temperature must be in [0, 2]"},
		{[]string{"lm", "generate", "--model", model, "--prompt", "x", "--top-logprobs", "21"}, 2, "--top-logprobs must be in [0, 20]"},
		{[]string{"lm", "generate", "--model", model, "--prompt", "x", "--max-tokens", "0"}, 2, "--max-tokens must be at least 1"},
		{[]string{"lm", "generate", "--model", model, "--prompt", "x", "--threads", "0"}, 2, "--threads must be at least 1"},
		{[]string{"lm", "generate", "--model", model, "--prompt", "x", "--top-k", "many"}, 2, "invalid argument"},
		{[]string{"lm", "score", "--model", model, "--prompt", "x"}, 2, "--prompt and --completion are required"},
		{[]string{"lm", "score", "--model", model, "--prompt", "x", "--completion", ""}, 2, "--completion has no tokens"},
		{[]string{"lm", "serve", "--model", model, "--max-batch", "0"}, 2, "--max-batch must be at least 1"},
		{[]string{"lm", "serve", "--model", model, "--addr", "256.1.1.1:1"}, 1, "listen on 256.1.1.1:1"},
	} {
		_, errs, code := lmCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("tessera %s: exit %d, stderr %q; want exit %d with %q", strings.Join(tc.args, " "), code, errs, tc.code, tc.msg)
		}
	}
}
