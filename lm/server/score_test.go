package server

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tessera-net/tessera/internal/openai"
)

// What a validator runs: /v1/score on the prompt and the token ids a completion
// returned gives exactly the completion's logprobs and top logprobs, for a sampled
// chat as for a greedy text completion; a prompt given as text, as messages or as ids
// scores the same.
func TestScoreEqualsGeneration(t *testing.T) {
	ts := startServer(t, tiny(t), Options{})
	type gen struct {
		path, body string
		prompt     string // the score request's prompt field(s)
	}
	msgs := `[{"role":"user","content":"Name three rivers."}]`
	for _, g := range []gen{
		{"/v1/chat/completions", `{"messages":` + msgs + `,"temperature":1.2,"top_p":0.9,"top_k":40,"seed":99,"max_tokens":25,"logprobs":true,"top_logprobs":5,"return_token_ids":true}`,
			`"messages":` + msgs},
		{"/v1/completions", `{"prompt":"rivers of the world","temperature":0,"max_tokens":25,"logprobs":5,"return_token_ids":true}`,
			`"prompt":"rivers of the world"`},
	} {
		var chat openai.ChatCompletion
		var text openai.TextCompletion
		var tokenIDs, promptIDs []int32
		var lps []float64
		var tops [][]float64
		if g.path == "/v1/chat/completions" {
			ts.postJSON(t, g.path, g.body, &chat)
			tokenIDs, promptIDs = chat.Choices[0].TokenIDs, chat.PromptTokenIDs
			for _, l := range chat.Choices[0].Logprobs.Content {
				lps = append(lps, l.Logprob)
				var top []float64
				for _, x := range l.TopLogprobs {
					top = append(top, x.Logprob)
				}
				tops = append(tops, top)
			}
		} else {
			ts.postJSON(t, g.path, g.body, &text)
			tokenIDs, promptIDs = text.Choices[0].TokenIDs, text.PromptTokenIDs
			lps = text.Choices[0].Logprobs.TokenLogprobs
		}
		if len(tokenIDs) == 0 || len(tokenIDs) != len(lps) {
			t.Fatalf("%s: %d token ids, %d logprobs", g.path, len(tokenIDs), len(lps))
		}
		ids, _ := json.Marshal(tokenIDs)
		pids, _ := json.Marshal(promptIDs)
		for _, prompt := range []string{g.prompt, `"prompt_tokens":` + string(pids)} {
			var sr ScoreResponse
			ts.postJSON(t, "/v1/score", fmt.Sprintf(`{%s,"completion_tokens":%s,"top_logprobs":5}`, prompt, ids), &sr)
			if sr.Object != "score" || len(sr.Tokens) != len(tokenIDs) || fmt.Sprint(sr.PromptTokenIDs) != fmt.Sprint(promptIDs) ||
				sr.Usage.CompletionTokens != len(tokenIDs) {
				t.Fatalf("%s, %s: score %+v", g.path, prompt, sr)
			}
			var sum int64
			for i, tok := range sr.Tokens {
				if tok.ID != tokenIDs[i] || tok.Logprob != lps[i] || float64(tok.LogprobQ16)/65536 != tok.Logprob || len(tok.TopLogprobs) != 5 {
					t.Fatalf("%s, %s: token %d scored %+v, generated %d with %v", g.path, prompt, i, tok, tokenIDs[i], lps[i])
				}
				for k, top := range tok.TopLogprobs {
					if tops != nil && top.Logprob != tops[i][k] {
						t.Fatalf("%s: token %d top %d scored %v, generated %v", g.path, i, k, top.Logprob, tops[i][k])
					}
				}
				sum += int64(tok.LogprobQ16)
			}
			if sr.LogprobQ16 != sum || sr.Logprob != float64(sum)/65536 {
				t.Fatalf("sum %d %v, want %d", sr.LogprobQ16, sr.Logprob, sum)
			}
		}
	}
}

// A completion given as text is tokenized on its own, its leading space standing for
// the vocabulary's space prefix: the generated words score as generated.
func TestScoreCompletionText(t *testing.T) {
	m := tiny(t)
	ts := startServer(t, m, Options{})
	var by struct{ text, ids ScoreResponse }
	ids, _ := json.Marshal(m.Tokenizer.Encode("river bank", false))
	ts.postJSON(t, "/v1/score", `{"prompt":"the","completion":" river bank"}`, &by.text)
	ts.postJSON(t, "/v1/score", `{"prompt":"the","completion_tokens":`+string(ids)+`}`, &by.ids)
	if len(by.text.Tokens) == 0 || fmt.Sprint(by.text.Tokens) != fmt.Sprint(by.ids.Tokens) || by.text.Tokens[0].TopLogprobs != nil {
		t.Fatalf("text %+v\nids %+v", by.text.Tokens, by.ids.Tokens)
	}
}
