package tokenizer

import (
	"strings"
	"sync"
)

const spaceMark = "\u2581" // "▁", SentencePiece's visible space

func escapeSpace(s string) string   { return strings.ReplaceAll(s, " ", spaceMark) }
func unescapeSpace(s string) string { return strings.ReplaceAll(s, spaceMark, " ") }

// Encode tokenizes text the way llama.cpp's llama_tokenize does for a llama
// (SPM) vocabulary with parse_special = false: control and unknown token
// texts appearing in text are ordinary text, user-defined tokens are split
// out (llama.cpp does that even without parse_special). When addBOS is true
// and the vocabulary has a BOS, the result starts with it; Encode never adds
// EOS. The result is a new slice; Encode never fails: every byte of text is
// covered by a token (byte fallback, or UNK where the vocabulary has no byte
// token for it).
//
// Cost: see doc.go (O(n log n) at worst, about 40 bytes of working memory
// per input character).
func (t *Tokenizer) Encode(text string, addBOS bool) []int32 {
	return t.tokenize(text, addBOS, false, false)
}

// EncodeSpecial is Encode with parse_special = true: the texts of control,
// user-defined and unknown tokens ("<s>", "</s>", "<|im_start|>", ...)
// appearing literally in text become those tokens. Use it for the output of
// ApplyChat. Note that it lets text from a user select control tokens.
func (t *Tokenizer) EncodeSpecial(text string, addBOS bool) []int32 {
	return t.tokenize(text, addBOS, false, true)
}

// Tokenize is llama.cpp's llama_tokenize(text, add_special, parse_special)
// for this vocabulary: with addSpecial it adds BOS if AddBOS() and EOS if
// AddEOS().
func (t *Tokenizer) Tokenize(text string, addSpecial, parseSpecial bool) []int32 {
	return t.tokenize(text, addSpecial && t.addBOS, addSpecial && t.addEOS, parseSpecial)
}

// fragment is a piece of the input: raw text [start, end) when tok < 0, or
// the special token tok.
type fragment struct {
	tok        int32
	start, end int
}

func (t *Tokenizer) tokenize(text string, addBOS, addEOS, parseSpecial bool) []int32 {
	out := make([]int32, 0, len(text)/3+2)
	if addBOS && t.bos >= 0 {
		out = append(out, t.bos)
	}
	if text != "" {
		specials := t.userDef
		if parseSpecial {
			specials = t.specials
		}
		frags := t.partition(text, specials)
		prevSpecial := true // the first raw fragment gets the space prefix
		s := sessions.Get().(*session)
		defer sessions.Put(s)
		for _, f := range frags {
			if f.tok >= 0 {
				out = append(out, f.tok)
				prevSpecial = true
				continue
			}
			piece := text[f.start:f.end]
			if t.spacePrefix && prevSpecial {
				piece = " " + piece
			}
			out = s.run(t, escapeSpace(piece), out)
			prevSpecial = false
		}
	}
	if addEOS && t.eos >= 0 {
		out = append(out, t.eos)
	}
	return out
}

// partition splits text on the given special tokens exactly as llama.cpp's
// tokenizer_st_partition: for each special token in order (longest text
// first, ties by lower id), every raw-text fragment is split at each
// non-overlapping occurrence of the token's text, scanning left to right.
// Raw fragments are never empty.
func (t *Tokenizer) partition(text string, specials []int32) []fragment {
	frags := []fragment{{tok: -1, start: 0, end: len(text)}}
	if len(specials) == 0 {
		return frags
	}
	var next []fragment
	for _, id := range specials {
		pat := t.texts[id]
		if !strings.Contains(text, pat) {
			continue // cheap filter: no fragment can contain it
		}
		next = next[:0]
		for _, f := range frags {
			if f.tok >= 0 {
				next = append(next, f)
				continue
			}
			pos := f.start
			for pos < f.end {
				k := strings.Index(text[pos:f.end], pat)
				if k < 0 {
					break
				}
				if k > 0 {
					next = append(next, fragment{tok: -1, start: pos, end: pos + k})
				}
				next = append(next, fragment{tok: id})
				pos += k + len(pat)
			}
			if pos < f.end {
				next = append(next, fragment{tok: -1, start: pos, end: f.end})
			}
		}
		frags, next = next, frags
	}
	return frags
}

// symbol is a run of input bytes [start, start+n); n == 0 once merged into its
// left neighbour. prev/next link the live symbols (-1 at the ends).
type symbol struct {
	start, n   int
	prev, next int
}

// bigram is a candidate merge of the adjacent symbols left and right whose
// concatenation (size bytes) is the text of a token with the given score.
type bigram struct {
	score       float32
	left, right int
	size        int
}

// before is the priority order: higher score first, then lower left index.
func (a *bigram) before(b *bigram) bool {
	return a.score > b.score || (a.score == b.score && a.left < b.left)
}

// session holds the buffers of one SPM run (reused across fragments and,
// through sessions, across calls).
type session struct {
	syms []symbol
	heap []bigram
}

var sessions = sync.Pool{New: func() any { return new(session) }}

func (h *session) push(b bigram) {
	q := append(h.heap, b)
	i := len(q) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q[i].before(&q[p]) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
	h.heap = q
}

func (h *session) pop() bigram {
	q := h.heap
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(q) {
			break
		}
		m := l
		if r := l + 1; r < len(q) && q[r].before(&q[l]) {
			m = r
		}
		if !q[m].before(&q[i]) {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	h.heap = q
	return top
}

// utf8Len is llama.cpp's unicode_len_utf8: the sequence length announced by
// a lead byte, from its high nibble (continuation and invalid bytes: 1).
func utf8Len(b byte) int {
	switch b >> 4 {
	case 0xC, 0xD:
		return 2
	case 0xE:
		return 3
	case 0xF:
		return 4
	}
	return 1
}

func (h *session) tryAdd(t *Tokenizer, text string, left, right int) {
	if left < 0 || right < 0 {
		return
	}
	l := &h.syms[left]
	size := l.n + h.syms[right].n
	if size > t.maxLen {
		return
	}
	id, ok := t.byText[text[l.start:l.start+size]]
	if !ok {
		return
	}
	h.push(bigram{score: t.scores[id], left: left, right: right, size: size})
}

// run is llm_tokenizer_spm_session::tokenize on text (already space-escaped),
// appending the tokens to out. When the vocabulary is word-split (see New)
// the symbols are cut before every "▁" that follows a symbol other than "▁"
// and each piece is merged on its own: no token can span such a cut, so the
// merges, their order within each piece and the output are exactly those of
// the single pass, in less time (the heap holds one word, not the text).
func (h *session) run(t *Tokenizer, text string, out []int32) []int32 {
	h.syms = h.syms[:0]
	for offs := 0; offs < len(text); {
		n := min(utf8Len(text[offs]), len(text)-offs)
		idx := len(h.syms)
		h.syms = append(h.syms, symbol{start: offs, n: n, prev: idx - 1, next: idx + 1})
		offs += n
	}
	if !t.wordSplit {
		return h.segment(t, text, 0, len(h.syms), out)
	}
	isMark := func(s symbol) bool { return s.n == 3 && text[s.start:s.start+3] == spaceMark }
	first := 0
	for i := 1; i < len(h.syms); i++ {
		if isMark(h.syms[i]) && !isMark(h.syms[i-1]) {
			out = h.segment(t, text, first, i, out)
			first = i
		}
	}
	return h.segment(t, text, first, len(h.syms), out)
}

// segment runs the merge loop on symbols [first, end) and appends their
// tokens: merged symbols are tokens; a symbol that is not a token (always a
// single UTF-8 character or lone byte, since only token texts are ever
// formed) becomes one byte-fallback token per byte.
func (h *session) segment(t *Tokenizer, text string, first, end int, out []int32) []int32 {
	if first >= end {
		return out
	}
	h.syms[first].prev = -1
	h.syms[end-1].next = -1
	h.heap = h.heap[:0]
	for i := first + 1; i < end; i++ {
		h.tryAdd(t, text, i-1, i)
	}
	for len(h.heap) > 0 {
		b := h.pop()
		l, r := &h.syms[b.left], &h.syms[b.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != b.size {
			continue // stale: one side has merged since
		}
		l.n += r.n
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			h.syms[r.next].prev = b.left
		}
		h.tryAdd(t, text, l.prev, b.left)
		h.tryAdd(t, text, b.left, l.next)
	}
	for i := first; i != -1; i = h.syms[i].next {
		s := h.syms[i]
		piece := text[s.start : s.start+s.n]
		if id, ok := t.byText[piece]; ok {
			out = append(out, id)
			continue
		}
		for j := 0; j < len(piece); j++ {
			out = append(out, t.byteTok[piece[j]])
		}
	}
	return out
}
