package tokenizer

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Token types, as stored in tokenizer.ggml.token_type (llama.cpp's
// LLAMA_TOKEN_TYPE_*).
const (
	TypeUndefined   int32 = 0
	TypeNormal      int32 = 1
	TypeUnknown     int32 = 2
	TypeControl     int32 = 3
	TypeUserDefined int32 = 4
	TypeUnused      int32 = 5
	TypeByte        int32 = 6
)

// Errors returned by New. Every error New returns wraps ErrInvalidVocab and
// exactly one of the more specific errors below, so both errors.Is(err,
// ErrInvalidVocab) and, for instance, errors.Is(err, ErrDuplicateToken) hold.
var (
	ErrInvalidVocab   = errors.New("tokenizer: invalid vocabulary")
	ErrEmptyVocab     = errors.New("no tokens")
	ErrTooManyTokens  = errors.New("too many tokens")
	ErrLengthMismatch = errors.New("array lengths differ")
	ErrBadScore       = errors.New("score is NaN")
	ErrBadTokenType   = errors.New("token type out of range")
	ErrDuplicateToken = errors.New("duplicate token text")
	ErrBadSpecialID   = errors.New("special token id out of range")
	ErrBadByteToken   = errors.New("byte token text is not <0xHH>")
	ErrNoByteFallback = errors.New("no token for a byte")
)

// ErrChatRoles is returned by ApplyChat when the messages do not follow the
// role order the recognised template requires (the template's own
// raise_exception). It is errors.Is-able.
var ErrChatRoles = errors.New("tokenizer: chat roles must alternate user, assistant, user, assistant")

// MaxTokens bounds the vocabulary size New accepts (ids are int32).
const MaxTokens = math.MaxInt32

// Vocab is a llama (SentencePiece, GGUF tokenizer.ggml.model = "llama")
// vocabulary given as plain slices, as read from the GGUF keys
// tokenizer.ggml.tokens / scores / token_type / bos_token_id / eos_token_id /
// unknown_token_id / add_bos_token / add_eos_token / add_space_prefix /
// chat_template.
type Vocab struct {
	// Tokens[i] is the text of token i (SentencePiece form: "▁" U+2581 for a
	// space, "<0xHH>" for byte tokens). An empty text is replaced by
	// "[EMPTY_<i>]", as llama.cpp does.
	Tokens []string
	// Scores[i] is token i's merge priority. nil means all 0 (llama.cpp's
	// default when the key is absent); otherwise len(Scores) == len(Tokens).
	Scores []float32
	// Types[i] is token i's type (Type* constants, 0..6). nil means all
	// TypeNormal (llama.cpp's default); otherwise len(Types) == len(Tokens).
	Types []int32
	// BOS, EOS, UNK: token ids, or -1 when the vocabulary has none.
	BOS, EOS, UNK int32
	// AddBOS / AddEOS: tokenizer.ggml.add_bos_token / add_eos_token (llama.cpp
	// defaults for SPM: true / false). They drive Tokenize and the BOS/EOS
	// trimming of ApplyChat; Encode takes its own addBOS argument.
	AddBOS, AddEOS bool
	// AddSpacePrefix: tokenizer.ggml.add_space_prefix (default true for the
	// llama model; the caller supplies the default when the key is absent).
	AddSpacePrefix bool
	// ChatTemplate: tokenizer.chat_template, or a template name (see
	// ApplyChat), or "".
	ChatTemplate string
}

// Tokenizer is an immutable llama SentencePiece tokenizer built by New. It is
// safe for concurrent use.
type Tokenizer struct {
	texts  []string
	scores []float32
	types  []int32
	pieces []string // Piece(id), precomputed

	byText   map[string]int32
	maxLen   int        // longest token text, bytes
	byteTok  [256]int32 // byte fallback token for each byte value
	specials []int32    // control, user-defined, unknown tokens: length desc, id asc
	userDef  []int32    // the user-defined subset of specials, same order

	// wordSplit: no token has a "▁" after anything but a leading run of
	// "▁" (true of SentencePiece vocabularies trained with
	// split_by_whitespace, llama-2's included), so Encode may merge words
	// separately with the same result.
	wordSplit bool

	bos, eos, unk  int32
	addBOS, addEOS bool
	spacePrefix    bool

	chat chatTemplate
}

func vocabErr(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrInvalidVocab, kind, fmt.Sprintf(format, args...))
}

// New validates v and builds a Tokenizer. It returns an error (wrapping
// ErrInvalidVocab and a specific error) when:
//   - v.Tokens is empty (ErrEmptyVocab) or longer than MaxTokens
//     (ErrTooManyTokens);
//   - v.Scores or v.Types is non-nil with a length other than len(v.Tokens)
//     (ErrLengthMismatch);
//   - a score is NaN (ErrBadScore): scores are only ever compared, and NaN has
//     no order;
//   - a type is outside 0..6 (ErrBadTokenType);
//   - two tokens have the same text (ErrDuplicateToken; llama.cpp refuses
//     such a vocabulary too, so no rule for which wins is needed);
//   - BOS, EOS or UNK is neither -1 nor a valid id, or AddBOS/AddEOS is set
//     without a BOS/EOS (ErrBadSpecialID);
//   - a TypeByte token's text is not "<0xHH>" with two hex digits
//     (ErrBadByteToken);
//   - some byte value has no fallback token: no token "<0xHH>" (upper-case
//     hex), no single-byte token, and no UNK (ErrNoByteFallback).
//
// The error text names the offending token id, text or byte. New copies
// nothing it does not need and keeps no reference to v's slices' backing
// arrays except Tokens' strings (which are immutable).
func New(v Vocab) (*Tokenizer, error) {
	n := len(v.Tokens)
	if n == 0 {
		return nil, vocabErr(ErrEmptyVocab, "tokenizer.ggml.tokens is empty")
	}
	if n > MaxTokens {
		return nil, vocabErr(ErrTooManyTokens, "%d tokens, at most %d", n, MaxTokens)
	}
	if v.Scores != nil && len(v.Scores) != n {
		return nil, vocabErr(ErrLengthMismatch, "%d scores for %d tokens", len(v.Scores), n)
	}
	if v.Types != nil && len(v.Types) != n {
		return nil, vocabErr(ErrLengthMismatch, "%d token types for %d tokens", len(v.Types), n)
	}
	t := &Tokenizer{
		texts:       make([]string, n),
		scores:      make([]float32, n),
		types:       make([]int32, n),
		pieces:      make([]string, n),
		byText:      make(map[string]int32, n),
		bos:         v.BOS,
		eos:         v.EOS,
		unk:         v.UNK,
		addBOS:      v.AddBOS,
		addEOS:      v.AddEOS,
		spacePrefix: v.AddSpacePrefix,
		wordSplit:   true,
	}
	for i := 0; i < n; i++ {
		text := v.Tokens[i]
		if text == "" {
			text = "[EMPTY_" + strconv.Itoa(i) + "]"
		}
		typ := TypeNormal
		if v.Types != nil {
			typ = v.Types[i]
			if typ < TypeUndefined || typ > TypeByte {
				return nil, vocabErr(ErrBadTokenType, "token %d %q has type %d, want 0..6", i, text, typ)
			}
		}
		var score float32
		if v.Scores != nil {
			score = v.Scores[i]
			if score != score {
				return nil, vocabErr(ErrBadScore, "token %d %q", i, text)
			}
		}
		if prev, dup := t.byText[text]; dup {
			return nil, vocabErr(ErrDuplicateToken, "%q has ids %d and %d", text, prev, i)
		}
		t.byText[text] = int32(i)
		t.texts[i] = text
		t.scores[i] = score
		t.types[i] = typ
		if strings.Contains(strings.TrimLeft(text, spaceMark), spaceMark) {
			t.wordSplit = false
		}
		if len(text) > t.maxLen {
			t.maxLen = len(text)
		}
		switch typ {
		case TypeNormal:
			t.pieces[i] = unescapeSpace(text)
		case TypeUserDefined:
			t.pieces[i] = text
		case TypeByte:
			b, ok := parseByteToken(text)
			if !ok {
				return nil, vocabErr(ErrBadByteToken, "token %d %q has type byte", i, text)
			}
			t.pieces[i] = string([]byte{b})
		default: // unknown, control, unused, undefined: invisible
			t.pieces[i] = ""
		}
		if typ == TypeControl || typ == TypeUserDefined || typ == TypeUnknown {
			t.specials = append(t.specials, int32(i))
		}
	}
	for _, s := range []struct {
		name string
		id   int32
	}{{"bos", v.BOS}, {"eos", v.EOS}, {"unk", v.UNK}} {
		if s.id < -1 || s.id >= int32(n) {
			return nil, vocabErr(ErrBadSpecialID, "%s token id %d, vocabulary has %d tokens", s.name, s.id, n)
		}
	}
	if v.AddBOS && v.BOS < 0 {
		return nil, vocabErr(ErrBadSpecialID, "add_bos_token is true but there is no bos token id")
	}
	if v.AddEOS && v.EOS < 0 {
		return nil, vocabErr(ErrBadSpecialID, "add_eos_token is true but there is no eos token id")
	}
	const hex = "0123456789ABCDEF"
	for b := 0; b < 256; b++ {
		name := string([]byte{'<', '0', 'x', hex[b>>4], hex[b&15], '>'})
		if id, ok := t.byText[name]; ok {
			t.byteTok[b] = id
		} else if id, ok := t.byText[string([]byte{byte(b)})]; ok {
			t.byteTok[b] = id
		} else if v.UNK >= 0 {
			t.byteTok[b] = v.UNK
		} else {
			return nil, vocabErr(ErrNoByteFallback, "no token %s, no single-byte token 0x%02X and no unk token", name, b)
		}
	}
	sort.SliceStable(t.specials, func(a, b int) bool {
		la, lb := len(t.texts[t.specials[a]]), len(t.texts[t.specials[b]])
		if la != lb {
			return la > lb
		}
		return t.specials[a] < t.specials[b]
	})
	for _, id := range t.specials {
		if t.types[id] == TypeUserDefined {
			t.userDef = append(t.userDef, id)
		}
	}
	t.chat = detectTemplate(v.ChatTemplate, v.BOS >= 0 && v.EOS >= 0)
	return t, nil
}

// parseByteToken parses "<0xHH>" (either case of hex digit).
func parseByteToken(s string) (byte, bool) {
	if len(s) != 6 || s[0] != '<' || s[1] != '0' || s[2] != 'x' || s[5] != '>' {
		return 0, false
	}
	hi, ok1 := hexVal(s[3])
	lo, ok2 := hexVal(s[4])
	return hi<<4 | lo, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// NumTokens is the vocabulary size.
func (t *Tokenizer) NumTokens() int { return len(t.texts) }

// BOS returns the beginning-of-sequence token id, -1 when absent.
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS returns the end-of-sequence token id, -1 when absent.
func (t *Tokenizer) EOS() int32 { return t.eos }

// UNK returns the unknown token id, -1 when absent.
func (t *Tokenizer) UNK() int32 { return t.unk }

// AddBOS reports tokenizer.ggml.add_bos_token: whether a prompt should start
// with BOS (pass it to Encode / EncodeSpecial).
func (t *Tokenizer) AddBOS() bool { return t.addBOS }

// AddEOS reports tokenizer.ggml.add_eos_token.
func (t *Tokenizer) AddEOS() bool { return t.addEOS }

// AddSpacePrefix reports tokenizer.ggml.add_space_prefix.
func (t *Tokenizer) AddSpacePrefix() bool { return t.spacePrefix }

// TokenText is token id's text as stored in the vocabulary ("▁Hello",
// "<0x0A>", "<s>"), or "" when id is out of range.
func (t *Tokenizer) TokenText(id int32) string {
	if id < 0 || int(id) >= len(t.texts) {
		return ""
	}
	return t.texts[id]
}

// TokenType is token id's type (Type* constants), or -1 when id is out of
// range.
func (t *Tokenizer) TokenType(id int32) int32 {
	if id < 0 || int(id) >= len(t.types) {
		return -1
	}
	return t.types[id]
}

// TokenID returns the id of the token whose text is exactly s.
func (t *Tokenizer) TokenID(s string) (int32, bool) {
	id, ok := t.byText[s]
	return id, ok
}

// eogTexts are the token texts llama.cpp treats as end of generation besides
// EOS (its special_eog_ids list for the templates this package renders and
// their relatives).
var eogTexts = map[string]bool{
	"<|eot_id|>": true, "<|im_end|>": true, "<|end|>": true, "<end_of_turn>": true,
	"<|endoftext|>": true, "<|eom_id|>": true, "<EOT>": true, "<|end_of_text|>": true,
}

// IsEOG reports whether id ends generation: it is EOS, or a control or
// user-defined token whose text is one of <|eot_id|> <|im_end|> <|end|>
// <end_of_turn> <|endoftext|> <|eom_id|> <EOT> <|end_of_text|>.
func (t *Tokenizer) IsEOG(id int32) bool {
	if id < 0 || int(id) >= len(t.texts) {
		return false
	}
	if id == t.eos {
		return true
	}
	typ := t.types[id]
	return (typ == TypeControl || typ == TypeUserDefined) && eogTexts[t.texts[id]]
}
