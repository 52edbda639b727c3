package server

import (
	"strings"
	"unicode/utf8"

	"github.com/tessera-net/tessera/lm"
	"github.com/tessera-net/tessera/lm/tokenizer"
)

// How text becomes tokens and tokens appear, the same for the server's endpoints and
// the `tessera lm` commands.

// EncodePrompt tokenizes a completion prompt as llama.cpp's server does: special
// tokens ("<s>", "<|im_start|>", …) parsed, BOS first when the vocabulary asks for it.
func EncodePrompt(tok *tokenizer.Tokenizer, text string) []int32 {
	return tok.EncodeSpecial(text, tok.AddBOS())
}

// EncodeChat renders msgs with the vocabulary's chat template, with the assistant's
// generation prompt, and tokenizes the result as EncodePrompt does. It fails where the
// template does (tokenizer.ErrChatRoles: llama-2 and gemma need user and assistant to
// alternate, user first).
func EncodeChat(tok *tokenizer.Tokenizer, msgs []tokenizer.Message) ([]int32, error) {
	text, err := tok.ApplyChat(msgs, true)
	if err != nil {
		return nil, err
	}
	return EncodePrompt(tok, text), nil
}

// EncodeCompletion tokenizes a completion's text on its own, to score it after a
// prompt: without BOS, and with one leading space removed when the vocabulary adds a
// space prefix (so " Paris" becomes ▁Paris, as a model generates it). The model may
// have generated other tokens for the same text; scoring the ids it returned is exact.
func EncodeCompletion(tok *tokenizer.Tokenizer, text string) []int32 {
	if tok.AddSpacePrefix() {
		text = strings.TrimPrefix(text, " ")
	}
	return tok.Encode(text, false)
}

// TokenText is how token id appears in logprobs and scores: its text (Piece), as
// "bytes:\xNN…" when that is not valid UTF-8 (a byte token holding part of a
// character), with its bytes; a token that adds no text (a control token such as EOS)
// appears as its vocabulary text ("</s>") with nil bytes. With no vocabulary (nil tok)
// it is "" and nil.
func TokenText(tok *tokenizer.Tokenizer, id int32) (string, []int) {
	if tok == nil {
		return "", nil
	}
	piece := tok.Piece(id)
	if piece == "" {
		return tok.TokenText(id), nil
	}
	b := make([]int, len(piece))
	for i := range len(piece) {
		b[i] = int(piece[i])
	}
	if utf8.ValidString(piece) {
		return piece, b
	}
	var sb strings.Builder
	sb.WriteString("bytes:")
	for i := range len(piece) {
		sb.WriteString(`\x`)
		sb.WriteByte("0123456789abcdef"[piece[i]>>4])
		sb.WriteByte("0123456789abcdef"[piece[i]&15])
	}
	return sb.String(), b
}

// Logprob is a Q16 log-probability as a float: exactly v/65536 (a float64 holds every
// int32/2^16).
func Logprob(v int32) float64 { return float64(v) / 65536 }

// ScoreTokens are steps as the score endpoint lists them: each token with its
// log-probability and its top alternatives; sum is their log-probabilities' Q16 sum.
func ScoreTokens(tok *tokenizer.Tokenizer, steps []lm.Step) (tokens []ScoreToken, sum int64) {
	tokens = make([]ScoreToken, len(steps))
	for i, st := range steps {
		tokens[i] = scoreToken(tok, st.TokenLogprob)
		for _, t := range st.Top {
			tokens[i].TopLogprobs = append(tokens[i].TopLogprobs, scoreToken(tok, t))
		}
		sum += int64(st.Logprob)
	}
	return tokens, sum
}

func scoreToken(tok *tokenizer.Tokenizer, t lm.TokenLogprob) ScoreToken {
	text, b := TokenText(tok, t.ID)
	return ScoreToken{ID: t.ID, Token: text, Bytes: b, Logprob: Logprob(t.Logprob), LogprobQ16: t.Logprob}
}
