package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/subnets/inference/signed"
)

// chatAnswer is what `tessera inference chat` prints: the answer and who served it.
type chatAnswer struct {
	InferenceID string          `json:"inference_id"`
	Executor    string          `json:"executor"`
	Seed        string          `json:"seed"`
	Text        string          `json:"text"`
	Usage       json.RawMessage `json:"usage,omitempty"`
	Response    json.RawMessage `json:"response"`
}

// newInferenceChatCmd is `tessera inference chat`: one chat completion through an API
// node, signed by the paying account.
func newInferenceChatCmd(env *cliEnv) *cobra.Command {
	kf := keyFlags{role: coldkeyRole}
	var (
		api, model     string
		maxTokens, top int
		temperature    float64
		seed           int64
		timeout        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "chat PROMPT",
		Short: "Send one chat completion through an inference API node, paid by the signing account",
		Long: `Send one chat completion to an inference participant's API node (--api). The request is
signed by the paying account (--from-uri or a wallet's coldkey); the API node holds its
worst-case price in escrow on chain, routes it to an executor chosen by weight, and the
record's cost is settled once the validators' checks pass (tessera inference record ID).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if api == "" {
				return usagef("--api is required: an API node's URL (the devnet prints them)")
			}
			if model == "" {
				return usagef("--model is required (tessera model list --netuid N)")
			}
			pair, err := kf.pair(cmd, env)
			if err != nil {
				return err
			}
			req := map[string]any{"model": model, "messages": []map[string]string{{"role": "user", "content": args[0]}}}
			if maxTokens > 0 {
				req["max_tokens"] = maxTokens
			}
			if cmd.Flags().Changed("temperature") {
				req["temperature"] = temperature
			}
			if cmd.Flags().Changed("seed") {
				req["seed"] = seed
			}
			if top > 0 {
				req["logprobs"], req["top_logprobs"] = true, top
			}
			body, err := json.Marshal(req)
			if err != nil {
				return err
			}
			raw, resp, err := sendSignedChat(cmd, env, api, body, pair, timeout)
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				if e := apiError(raw); e.Message != "" {
					return fmt.Errorf("the API node refused the request (%d %s): %s", resp.StatusCode, e.Code, e.Message)
				}
				return fmt.Errorf("the API node answered %s: %s", resp.Status, bytes.TrimSpace(raw))
			}
			var out struct {
				Choices []struct {
					Message struct {
						Content string `json:"content"`
					} `json:"message"`
				} `json:"choices"`
				Usage json.RawMessage `json:"usage"`
			}
			if err := json.Unmarshal(raw, &out); err != nil {
				return fmt.Errorf("the API node's answer is not a chat completion: %v", err)
			}
			a := chatAnswer{InferenceID: resp.Header.Get("X-Tessera-Inference-Id"), Executor: resp.Header.Get("X-Tessera-Executor"),
				Seed: resp.Header.Get("X-Tessera-Seed"), Usage: out.Usage, Response: raw}
			if len(out.Choices) > 0 {
				a.Text = out.Choices[0].Message.Content
			}
			return env.emit(a, func(w io.Writer) error {
				fmt.Fprintln(w, a.Text)
				fmt.Fprintf(w, "\nserved by %s, inference %s (seed %s); its record: tessera inference record %s\n", a.Executor, a.InferenceID, a.Seed, a.InferenceID)
				return nil
			})
		},
	}
	kf.register(cmd)
	cmd.Flags().StringVar(&api, "api", "", "the API node's URL (http://host:port)")
	cmd.Flags().StringVar(&model, "model", "", "the model id")
	cmd.Flags().IntVar(&maxTokens, "max-tokens", 64, "the most tokens to generate (the worst-case price held in escrow counts them)")
	cmd.Flags().Float64Var(&temperature, "temperature", 1, "sampling temperature, 0 to 2")
	cmd.Flags().Int64Var(&seed, "seed", 0, "sampling seed (the executor sets one when absent)")
	cmd.Flags().IntVar(&top, "top-logprobs", 0, "return the log-probabilities of the top N tokens at each position (0 to 20)")
	cmd.Flags().DurationVar(&timeout, "timeout", 60*time.Second, "how long to wait for the answer, and for the network's first epoch group when it has none yet")
	return cmd
}

// apiError reads an OpenAI-style error body (zero when it is not one).
func apiError(raw []byte) (e struct {
	Message string `json:"message"`
	Code    string `json:"code"`
}) {
	var b struct {
		Error struct {
			Message string `json:"message"`
			Code    string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &b) == nil {
		e.Message, e.Code = b.Error.Message, b.Error.Code
	}
	return e
}

// sendSignedChat posts body to the API node's chat completions, signed by pair, and
// returns the answer. While the network has no epoch group in force yet (503
// no_group_in_force: a devnet's first 44 blocks) it says so once and asks again, signed
// afresh, until timeout.
func sendSignedChat(cmd *cobra.Command, env *cliEnv, api string, body []byte, pair *keys.Pair, timeout time.Duration) ([]byte, *http.Response, error) {
	deadline := time.Now().Add(timeout)
	told := false
	for {
		hr, _, err := signed.NewPost(cmd.Context(), strings.TrimSuffix(api, "/")+"/v1/chat/completions", body, pair, time.Now())
		if err != nil {
			return nil, nil, usagef("--api %q: %v", api, err)
		}
		resp, err := (&http.Client{Timeout: time.Until(deadline)}).Do(hr)
		if err != nil {
			return nil, nil, fmt.Errorf("the API node at %s: %w", api, err)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		resp.Body.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("reading the answer: %w", err)
		}
		e := apiError(raw)
		if resp.StatusCode != http.StatusServiceUnavailable || e.Code != "no_group_in_force" || time.Until(deadline) < time.Second {
			return raw, resp, nil
		}
		if !told {
			told = true
			fmt.Fprintf(env.stderr, "%s\nwaiting for it (up to --timeout %s)…\n", e.Message, timeout)
		}
		select {
		case <-cmd.Context().Done():
			return nil, nil, cmd.Context().Err()
		case <-time.After(time.Second):
		}
	}
}
