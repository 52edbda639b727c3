package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// Piece is the text token id contributes to output, as llama.cpp's
// llama_token_to_piece(id, lstrip=0, special=false): a normal token's text
// with "▁" replaced by " "; a byte token's single raw byte (possibly half of
// a UTF-8 sequence; see Stream); a user-defined token's text verbatim; ""
// for control, unknown, unused and undefined tokens and for ids out of range.
func (t *Tokenizer) Piece(id int32) string {
	if id < 0 || int(id) >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// Decode is the concatenation of the pieces of ids, except that when
// AddSpacePrefix() is set one leading ' ' is removed from the piece of the
// first token, or of the second token when the first is BOS: that is the
// space Encode adds. (llama.cpp's llama_detokenize removes it only when the
// sequence does not start with BOS; removing it after BOS as well is what
// SentencePiece and Hugging Face do and makes Decode(Encode(s, addBOS)) == s.)
// The result is raw bytes: byte tokens that do not form valid UTF-8 are kept
// as they are. Use Stream for text that must be valid UTF-8.
func (t *Tokenizer) Decode(ids []int32) string {
	var b strings.Builder
	strip := -1
	if t.spacePrefix && len(ids) > 0 {
		strip = 0
		if ids[0] == t.bos && t.bos >= 0 {
			strip = 1
		}
	}
	for i, id := range ids {
		p := t.Piece(id)
		if i == strip {
			p = strings.TrimPrefix(p, " ")
		}
		b.WriteString(p)
	}
	return b.String()
}

// Stream turns a sequence of token ids into text chunks that are each valid
// UTF-8, holding back the bytes of a UTF-8 sequence split across byte tokens
// until it completes. It adds and removes no spaces: every piece is used as
// Piece returns it (generated text follows a prompt, so its first space is
// real). The concatenation of all Next results and the final Flush equals
// the concatenation of the pieces with every byte that is not part of a
// valid UTF-8 sequence replaced by U+FFFD, one U+FFFD per byte (the rule of
// Go's utf8.DecodeRune, i.e. of converting the whole byte string to []rune).
// A Stream is not safe for concurrent use.
type Stream struct {
	t       *Tokenizer
	pending []byte
}

// NewStream returns an empty Stream over t.
func (t *Tokenizer) NewStream() *Stream { return &Stream{t: t} }

// Next adds token id and returns the text that is now complete (possibly "").
// At most 3 bytes are ever held back.
func (s *Stream) Next(id int32) string {
	s.pending = append(s.pending, s.t.Piece(id)...)
	return s.emit(false)
}

// Flush returns whatever is held back (each held byte becomes U+FFFD, since
// it can no longer complete) and empties the Stream for reuse.
func (s *Stream) Flush() string { return s.emit(true) }

func (s *Stream) emit(final bool) string {
	p := s.pending
	var b strings.Builder
	i := 0
	for i < len(p) {
		c := p[i]
		if c < utf8.RuneSelf {
			b.WriteByte(c)
			i++
			continue
		}
		if !final && !utf8.FullRune(p[i:]) {
			break // an incomplete but so far valid sequence: wait for more
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.Write(p[i : i+size])
		}
		i += size
	}
	rest := copy(p, p[i:])
	s.pending = p[:rest]
	return b.String()
}
