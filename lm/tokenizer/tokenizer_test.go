package tokenizer

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLlama2Golden(t *testing.T) {
	tok := llama2Tok(t)
	cases := []struct {
		text string
		bos  bool
		want []int32
	}{
		{"Hello world", true, []int32{1, 15043, 3186}},
		{" Hello world", true, []int32{1, 29871, 15043, 3186}},
		{"Hello, world!", true, []int32{1, 15043, 29892, 3186, 29991}},
		{"The quick brown fox jumps over the lazy dog", true,
			[]int32{1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 278, 17366, 11203}},
		{"Hello world", false, []int32{15043, 3186}},
		{"", true, []int32{1}},
		{"", false, []int32{}},
		{"\n", true, []int32{1, 29871, 13}},                                // "▁" then <0x0A>
		{"a\nb", false, []int32{263, 13, 29890}},                           // newline is byte token 13
		{"a  b", false, []int32{263, 29871, 289}},                          // "▁a" "▁" "▁b"
		{"a   b", false, []int32{263, 259, 289}},                           // "▁a" "▁▁" "▁b"
		{"日本語", false, []int32{29871, 30325, 30346, 30968}},                // three single-char tokens
		{"😀", false, []int32{29871, 243, 162, 155, 131}},                   // F0 9F 98 80 by byte fallback
		{"[INST]", false, []int32{518, 25580, 29962}},                      // "▁[" "INST" "]"
		{"<s>", false, []int32{529, 29879, 29958}},                         // plain text without parse_special
		{"</s>", false, []int32{1533, 29879, 29958}},                       // likewise
		{"\xff", false, []int32{29871, 258}},                               // invalid UTF-8: byte <0xFF>
		{"\xe6\x97", false, []int32{29871, 233, 154}},                      // truncated sequence: its bytes
		{"\u2581", false, []int32{259}},                                    // a literal "▁" is a space mark: "▁▁"
		{"<0x41>", false, []int32{529, 29900, 29916, 29946, 29896, 29958}}, // byte-token text is text
	}
	for _, c := range cases {
		got := tok.Encode(c.text, c.bos)
		if !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q, %v) = %v, want %v", c.text, c.bos, got, c.want)
		}
	}
	// Pieces the brief names.
	for id, want := range map[int32]string{15043: "▁Hello", 3186: "▁world", 29892: ",", 29991: "!", 29871: "▁", 13: "<0x0A>"} {
		if got := tok.TokenText(id); got != want {
			t.Errorf("TokenText(%d) = %q, want %q", id, got, want)
		}
	}
}

func TestLlamaCppGolden(t *testing.T) {
	tok := llama2Tok(t)
	for _, c := range llamaCppGolden {
		got := tok.Encode(c.text, false)
		if !slices.Equal(got, c.ids) {
			t.Errorf("Encode(%q) =\n %v\nwant\n %v", c.text, got, c.ids)
		}
		if !slices.Equal(tok.Tokenize(c.text, false, false), c.ids) {
			t.Errorf("Tokenize(%q, false, false) differs from the golden ids", c.text)
		}
		if d := tok.Decode(c.ids); d != c.text {
			t.Errorf("Decode(%v) = %q, want %q", c.ids, d, c.text)
		}
		if d := tok.Decode(append([]int32{1}, c.ids...)); d != c.text {
			t.Errorf("Decode(BOS + %v) = %q, want %q", c.ids, d, c.text)
		}
	}
}

// TestEncodeSpecialGolden: llama.cpp's tinyllama tokenizer test
// (models/ggml-vocab-tinyllama.gguf.inp/.out; TinyLlama uses the llama-2
// vocabulary), tokenized with parse_special = true: text after a special
// token gets the space prefix again.
func TestEncodeSpecialGolden(t *testing.T) {
	tok := llama2Tok(t)
	cases := []struct {
		text string
		want []int32
	}{
		{"abc</s> def ghi", []int32{25638, 2, 29871, 822, 330, 2918}},
		{"</s> XML", []int32{2, 29871, 6560}},
		{"X</s> Y", []int32{1060, 2, 29871, 612}},
		{"a</s>b", []int32{263, 2, 289}},
		{"a</s> b", []int32{263, 2, 29871, 289}},
		{"a</s>  b", []int32{263, 2, 259, 289}},
		{"a</s>\nb", []int32{263, 2, 29871, 13, 29890}},
		{"def ghi", []int32{822, 330, 2918}},
		{" def ghi", []int32{29871, 822, 330, 2918}},
		{"ghi", []int32{330, 2918}},
		{" ghi", []int32{29871, 330, 2918}},
		{"<s>", []int32{1}},
		{"<s><s>", []int32{1, 1}},
		{"<unk>x", []int32{0, 921}},
		{"Hi<s>", []int32{6324, 1}},
	}
	for _, c := range cases {
		if got := tok.EncodeSpecial(c.text, false); !slices.Equal(got, c.want) {
			t.Errorf("EncodeSpecial(%q) = %v, want %v", c.text, got, c.want)
		}
		if got := tok.Tokenize(c.text, false, true); !slices.Equal(got, c.want) {
			t.Errorf("Tokenize(%q, false, true) = %v, want %v", c.text, got, c.want)
		}
	}
	if got := tok.EncodeSpecial("<s>[INST] Hi [/INST]", false); !slices.Equal(got,
		[]int32{1, 518, 25580, 29962, 6324, 518, 29914, 25580, 29962}) {
		t.Errorf("EncodeSpecial(llama-2 prompt) = %v", got)
	}
	if got := tok.Tokenize("Hi", true, false); !slices.Equal(got, []int32{1, 6324}) {
		t.Errorf("Tokenize(add_special) = %v", got)
	}
}

// tiny builds a synthetic vocabulary: the 256 byte tokens, then the given
// tokens (text, score, type).
type tt struct {
	text  string
	score float32
	typ   int32
}

func tinyVocab(extra ...tt) Vocab {
	v := Vocab{BOS: -1, EOS: -1, UNK: -1, AddSpacePrefix: true}
	add := func(s string, sc float32, ty int32) {
		v.Tokens = append(v.Tokens, s)
		v.Scores = append(v.Scores, sc)
		v.Types = append(v.Types, ty)
	}
	const hex = "0123456789ABCDEF"
	for b := 0; b < 256; b++ {
		add("<0x"+string(hex[b>>4])+string(hex[b&15])+">", 0, TypeByte)
	}
	for _, e := range extra {
		add(e.text, e.score, e.typ)
	}
	return v
}

func mustNew(t testing.TB, v Vocab) *Tokenizer {
	t.Helper()
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestMergeOrder(t *testing.T) {
	// Ids: 256 "a", 257 "b", 258 "c", 259 "ab", 260 "bc", 261 "abc", 262 "▁".
	base := func(ab, bc float32) *Tokenizer {
		v := tinyVocab(tt{"a", -1, 1}, tt{"b", -1, 1}, tt{"c", -1, 1}, tt{"ab", ab, 1}, tt{"bc", bc, 1}, tt{"abc", -5, 1}, tt{"▁", -1, 1})
		v.AddSpacePrefix = false
		return mustNew(t, v)
	}
	cases := []struct {
		ab, bc float32
		text   string
		want   []int32
	}{
		{-1, -2, "abc", []int32{261}},       // ab first, then ab+c = abc
		{-2, -1, "abc", []int32{261}},       // bc first, then a+bc = abc
		{-2, -1, "abab", []int32{259, 259}}, // two ab merges
		// Equal scores: leftmost first. "abcbc": ab (left 0) before bc (1).
		{-1, -1, "abcbc", []int32{261, 260}},
		// Score beats position: bc wins over the earlier ab.
		{-3, -1, "abcbc", []int32{261, 260}},
		{-1, -1, "xbc", []int32{0x78, 260}}, // x: byte fallback
		{-1, -1, "a b", []int32{256, 262, 257}},
	}
	for _, c := range cases {
		if got := base(c.ab, c.bc).Encode(c.text, false); !slices.Equal(got, c.want) {
			t.Errorf("ab=%v bc=%v Encode(%q) = %v, want %v", c.ab, c.bc, c.text, got, c.want)
		}
	}
	// Tie on the same score at different positions, where the choice
	// matters: "aab" with "aa" and "ab" both at score -1: leftmost (aa)
	// wins, leaving b; with ab higher, a + ab.
	tie := func(aa, ab float32) []int32 {
		v := tinyVocab(tt{"a", -9, 1}, tt{"b", -9, 1}, tt{"aa", aa, 1}, tt{"ab", ab, 1})
		v.AddSpacePrefix = false
		return mustNew(t, v).Encode("aab", false)
	}
	if got := tie(-1, -1); !slices.Equal(got, []int32{258, 257}) {
		t.Errorf("tie: %v, want [aa b]", got)
	}
	if got := tie(-1, 0); !slices.Equal(got, []int32{256, 259}) {
		t.Errorf("ab higher: %v, want [a ab]", got)
	}
	// Negative zero and zero are equal scores: leftmost wins.
	if got := tie(float32(math.Copysign(0, -1)), 0); !slices.Equal(got, []int32{258, 257}) {
		t.Errorf("-0 vs 0: %v, want [aa b]", got)
	}
}

func TestByteFallback(t *testing.T) {
	// No byte tokens, an UNK: every unknown byte is UNK.
	v := Vocab{Tokens: []string{"<unk>", "a", "▁"}, Types: []int32{2, 1, 1}, BOS: -1, EOS: -1, UNK: 0, AddSpacePrefix: true}
	tok := mustNew(t, v)
	if got := tok.Encode("aé", false); !slices.Equal(got, []int32{2, 1, 0, 0}) {
		t.Errorf("UNK fallback: %v", got)
	}
	// Single-byte tokens are used when "<0xHH>" is missing.
	v = Vocab{Tokens: []string{"<unk>", "\xc3", "\xa9", "▁"}, BOS: -1, EOS: -1, UNK: 0}
	tok = mustNew(t, v)
	if got := tok.Encode("é", false); !slices.Equal(got, []int32{1, 2}) {
		t.Errorf("single-byte fallback: %v", got)
	}
	if got := tok.Decode([]int32{1, 2}); got != "é" {
		t.Errorf("Decode = %q", got)
	}
}

func TestNewErrors(t *testing.T) {
	good := func() Vocab { return tinyVocab(tt{"▁", 0, 1}, tt{"<s>", 0, 3}) }
	cases := []struct {
		name string
		mod  func(*Vocab)
		want error
	}{
		{"empty", func(v *Vocab) { *v = Vocab{} }, ErrEmptyVocab},
		{"scores", func(v *Vocab) { v.Scores = v.Scores[1:] }, ErrLengthMismatch},
		{"types", func(v *Vocab) { v.Types = append(v.Types, 1) }, ErrLengthMismatch},
		{"nan", func(v *Vocab) { v.Scores[3] = float32(math.NaN()) }, ErrBadScore},
		{"type7", func(v *Vocab) { v.Types[256] = 7 }, ErrBadTokenType},
		{"type-1", func(v *Vocab) { v.Types[256] = -1 }, ErrBadTokenType},
		{"dup", func(v *Vocab) { v.Tokens[257] = "▁" }, ErrDuplicateToken},
		{"dup-empty", func(v *Vocab) { v.Tokens[256] = ""; v.Tokens[257] = "[EMPTY_256]" }, ErrDuplicateToken},
		{"bos", func(v *Vocab) { v.BOS = 258 }, ErrBadSpecialID},
		{"eos", func(v *Vocab) { v.EOS = -2 }, ErrBadSpecialID},
		{"unk", func(v *Vocab) { v.UNK = 1 << 30 }, ErrBadSpecialID},
		{"addbos", func(v *Vocab) { v.AddBOS = true }, ErrBadSpecialID},
		{"addeos", func(v *Vocab) { v.AddEOS = true }, ErrBadSpecialID},
		{"bytetext", func(v *Vocab) { v.Tokens[5] = "<0xZZ>" }, ErrBadByteToken},
		{"bytetype", func(v *Vocab) { v.Types[256] = TypeByte }, ErrBadByteToken},
		{"nofallback", func(v *Vocab) { v.Tokens[0x41] = "A"; v.Types[0x41] = 1; v.Tokens[0x41] = "AA" }, ErrNoByteFallback},
	}
	for _, c := range cases {
		v := good()
		c.mod(&v)
		_, err := New(v)
		if !errors.Is(err, c.want) || !errors.Is(err, ErrInvalidVocab) {
			t.Errorf("%s: New error %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := New(good()); err != nil {
		t.Fatal(err)
	}
	// Missing byte tokens are fine when there is an UNK.
	v := good()
	v.Tokens[0x41], v.Types[0x41] = "AA", 1
	v.UNK = 257
	if _, err := New(v); err != nil {
		t.Errorf("with UNK: %v", err)
	}
	// nil Scores and Types mean 0 and normal.
	v = good()
	v.Scores, v.Types = nil, nil
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType(3) != TypeNormal || tok.Piece(3) != "<0x03>" {
		t.Errorf("nil types: type %d piece %q", tok.TokenType(3), tok.Piece(3))
	}
}

func TestEmptyTokenText(t *testing.T) {
	v := tinyVocab(tt{"", 0, 1}, tt{"▁", 0, 1})
	tok := mustNew(t, v)
	if got := tok.TokenText(256); got != "[EMPTY_256]" {
		t.Errorf("TokenText = %q", got)
	}
}

func TestPieceDecode(t *testing.T) {
	v := tinyVocab(
		tt{"<unk>", 0, TypeUnknown}, tt{"<s>", 0, TypeControl}, tt{"</s>", 0, TypeControl}, // 256 257 258
		tt{"▁hi", -1, TypeNormal}, tt{"<|u|>", 0, TypeUserDefined}, tt{"zz", 0, TypeUnused}, // 259 260 261
		tt{"qq", 0, TypeUndefined}, tt{"▁", -2, TypeNormal}, tt{"a▁b", -3, TypeNormal}, // 262 263 264
	)
	v.BOS, v.EOS, v.UNK = 257, 258, 256
	tok := mustNew(t, v)
	for id, want := range map[int32]string{
		256: "", 257: "", 258: "", 259: " hi", 260: "<|u|>", 261: "", 262: "", 263: " ", 264: "a b",
		0x41: "A", 0xC3: "\xc3", -1: "", 265: "", 1 << 30: "",
	} {
		if got := tok.Piece(id); got != want {
			t.Errorf("Piece(%d) = %q, want %q", id, got, want)
		}
	}
	cases := []struct {
		ids  []int32
		want string
	}{
		{nil, ""},
		{[]int32{259, 259}, "hi hi"},
		{[]int32{257, 259, 259}, "hi hi"}, // after BOS as well
		{[]int32{257, 257, 259}, " hi"},   // only the token right after BOS
		{[]int32{258, 259}, " hi"},        // EOS is not BOS
		{[]int32{259, 258}, "hi"},         // control pieces are empty
		{[]int32{0xE6, 0x97, 0xA5}, "日"},  // bytes combine
		{[]int32{0xFF, 259}, "\xff hi"},   // raw bytes, even invalid
		{[]int32{263, 263, 259}, "  hi"},  // strip one space only
		{[]int32{260, 259}, "<|u|> hi"},   // user-defined verbatim
		{[]int32{0x20, 259}, " hi"},       // a byte-token space is stripped too
		{[]int32{257}, ""},                // BOS alone
	}
	for _, c := range cases {
		if got := tok.Decode(c.ids); got != c.want {
			t.Errorf("Decode(%v) = %q, want %q", c.ids, got, c.want)
		}
	}
	v.AddSpacePrefix = false
	tok = mustNew(t, v)
	if got := tok.Decode([]int32{259, 259}); got != " hi hi" {
		t.Errorf("no space prefix: %q", got)
	}
	if got := tok.Encode("hi", false); !slices.Equal(got, []int32{'h', 'i'}) {
		t.Errorf("no space prefix Encode: %v", got)
	}
}

func TestUserDefinedSplit(t *testing.T) {
	v := tinyVocab(tt{"▁", 0, 1}, tt{"<|u|>", 0, TypeUserDefined}, tt{"<|c|>", 0, TypeControl},
		tt{"<|uu|>", 0, TypeUserDefined}, tt{"▁x", 0, 1}, tt{"x", -1, 1})
	// Ids: 256 ▁, 257 <|u|>, 258 <|c|>, 259 <|uu|>, 260 ▁x, 261 x.
	tok := mustNew(t, v)
	// Encode splits user-defined tokens (llama.cpp does without
	// parse_special), not control ones; text after a special gets "▁".
	if got := tok.Encode("x<|u|>x", false); !slices.Equal(got, []int32{260, 257, 260}) {
		t.Errorf("Encode user-defined: %v", got)
	}
	want := []int32{260, '<', '|', 'c', '|', '>', 261}
	if got := tok.Encode("x<|c|>x", false); !slices.Equal(got, want) {
		t.Errorf("Encode control as text: %v, want %v", got, want)
	}
	if got := tok.EncodeSpecial("x<|c|>x", false); !slices.Equal(got, []int32{260, 258, 260}) {
		t.Errorf("EncodeSpecial control: %v", got)
	}
	// Longest first: <|uu|> is not split as text around <|u|>.
	if got := tok.EncodeSpecial("<|uu|><|u|>", false); !slices.Equal(got, []int32{259, 257}) {
		t.Errorf("longest first: %v", got)
	}
}

func TestPartitionOrder(t *testing.T) {
	// llama.cpp partitions by the longest special first over the whole
	// text, not leftmost-longest: with "ab" and "bcd" in "abcd", bcd wins.
	v := tinyVocab(tt{"ab", 0, TypeControl}, tt{"bcd", 0, TypeControl})
	v.AddSpacePrefix = false
	tok := mustNew(t, v)
	if got := tok.EncodeSpecial("abcd", false); !slices.Equal(got, []int32{'a', 257}) {
		t.Errorf("EncodeSpecial(abcd) = %v", got)
	}
	if got := tok.EncodeSpecial("ababbcdab", false); !slices.Equal(got, []int32{256, 256, 257, 256}) {
		t.Errorf("EncodeSpecial(ababbcdab) = %v", got)
	}
}

func TestStream(t *testing.T) {
	tok := mustNew(t, tinyVocab(tt{"▁hi", 0, 1}))
	s := tok.NewStream()
	var got []string
	for _, id := range []int32{256, 0xF0, 0x9F, 0x98, 0x80, 256, 0xE6, 0x97} {
		got = append(got, s.Next(id))
	}
	got = append(got, s.Flush())
	want := []string{" hi", "", "", "", "😀", " hi", "", "", "\uFFFD\uFFFD"}
	if !slices.Equal(got, want) {
		t.Errorf("stream chunks %q, want %q", got, want)
	}
	// Invalid bytes are replaced as soon as they are known to be invalid.
	s = tok.NewStream()
	if g := s.Next(0xFF); g != "\uFFFD" {
		t.Errorf("0xFF -> %q", g)
	}
	if g := s.Next(0xE6); g != "" {
		t.Errorf("E6 -> %q", g)
	}
	if g := s.Next('A'); g != "\uFFFDA" {
		t.Errorf("E6 A -> %q", g)
	}
	if g := s.Flush(); g != "" {
		t.Errorf("flush -> %q", g)
	}
}

// TestStreamProperty: the chunks are valid UTF-8 and concatenate to the
// per-byte replacement of the raw decoding.
func TestStreamProperty(t *testing.T) {
	tok := mustNew(t, tinyVocab(tt{"▁hi", 0, 1}, tt{"é", 0, 1}))
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 2000; iter++ {
		n := r.IntN(12)
		ids := make([]int32, n)
		for i := range ids {
			switch r.IntN(4) {
			case 0:
				ids[i] = int32(256 + r.IntN(2))
			case 1:
				ids[i] = int32(r.IntN(256))
			default: // bytes of a random rune, to make valid sequences likely
				ids[i] = int32([]byte(string(rune(0x80 + r.IntN(0x1F000))))[0])
			}
		}
		s := tok.NewStream()
		var b strings.Builder
		for _, id := range ids {
			c := s.Next(id)
			if !utf8.ValidString(c) {
				t.Fatalf("invalid chunk %q for %v", c, ids)
			}
			b.WriteString(c)
		}
		c := s.Flush()
		if !utf8.ValidString(c) {
			t.Fatalf("invalid flush %q", c)
		}
		b.WriteString(c)
		var raw strings.Builder
		for _, id := range ids {
			raw.WriteString(tok.Piece(id))
		}
		if want := string([]rune(raw.String())); b.String() != want {
			t.Fatalf("ids %v: stream %q, want %q", ids, b.String(), want)
		}
	}
}

// randText draws from an alphabet mixing ASCII, spaces, newlines, Latin,
// Cyrillic, CJK, emoji (with ZWJ and variation selectors) and rare
// characters that fall back to bytes.
func randText(r *rand.Rand, n int) string {
	alphabet := []string{"a", "e", "t", "the", " ", " ", "  ", "\n", "\t", ",", ".", "!", "'", "é", "ü", "ж",
		"日", "本", "語", "😀", "\u200d", "\ufe0f", "🦙", "3", "0", "<", ">", "s", "/", "[", "]", "\u0301",
		"\U0001F9FF", "\u07c0", "INST", "unk", "~", "\x7f", "\x00"}
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func TestRoundTrip(t *testing.T) {
	tok := llama2Tok(t)
	r := rand.New(rand.NewPCG(7, 11))
	for iter := 0; iter < 3000; iter++ {
		s := randText(r, r.IntN(40))
		for _, bos := range []bool{false, true} {
			ids := tok.Encode(s, bos)
			if got := tok.Decode(ids); got != s {
				t.Fatalf("Decode(Encode(%q, %v)) = %q (ids %v)", s, bos, got, ids)
			}
		}
	}
	// Random bytes without spaces round-trip too (see doc.go).
	for iter := 0; iter < 3000; iter++ {
		b := make([]byte, r.IntN(24))
		for i := range b {
			b[i] = byte(r.IntN(256))
			if b[i] == ' ' {
				b[i] = 0xE2
			}
		}
		s := string(b)
		if strings.Contains(s, spaceMark) {
			continue
		}
		if got := tok.Decode(tok.Encode(s, true)); got != s {
			t.Fatalf("bytes %q: round trip %q", s, got)
		}
	}
	// A space right after a truncated sequence is swallowed into it and
	// comes back as the bytes of "▁" (llama.cpp behaves the same).
	if got := tok.Decode(tok.Encode("\xe2 x", false)); got != "\xe2\u2581x" {
		t.Errorf("truncated + space: %q", got)
	}
}

func TestIDsInRange(t *testing.T) {
	tok := llama2Tok(t)
	r := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 500; iter++ {
		s := randText(r, 30) + "<s></s><unk>"
		for _, ids := range [][]int32{tok.Encode(s, true), tok.EncodeSpecial(s, true)} {
			for _, id := range ids {
				if id < 0 || int(id) >= tok.NumTokens() {
					t.Fatalf("id %d out of range for %q", id, s)
				}
			}
		}
	}
}

func TestAccessors(t *testing.T) {
	tok := llama2Tok(t)
	if tok.NumTokens() != 32000 || tok.BOS() != 1 || tok.EOS() != 2 || tok.UNK() != 0 ||
		!tok.AddBOS() || tok.AddEOS() || !tok.AddSpacePrefix() {
		t.Errorf("accessors: %d %d %d %d %v %v %v", tok.NumTokens(), tok.BOS(), tok.EOS(), tok.UNK(), tok.AddBOS(), tok.AddEOS(), tok.AddSpacePrefix())
	}
	if tok.TokenType(1) != TypeControl || tok.TokenType(0) != TypeUnknown || tok.TokenType(13) != TypeByte ||
		tok.TokenType(15043) != TypeNormal || tok.TokenType(-1) != -1 || tok.TokenType(32000) != -1 {
		t.Error("TokenType")
	}
	if id, ok := tok.TokenID("▁Hello"); !ok || id != 15043 {
		t.Error("TokenID")
	}
	if !tok.IsEOG(2) || tok.IsEOG(1) || tok.IsEOG(15043) || tok.IsEOG(-5) {
		t.Error("IsEOG")
	}
	if tok.TemplateName() != TemplateLlama2 || !tok.TemplateDefaulted() {
		t.Errorf("template %s %v", tok.TemplateName(), tok.TemplateDefaulted())
	}
}

func TestConcurrentEncode(t *testing.T) {
	tok := llama2Tok(t)
	want := tok.Encode(benchText, true)
	done := make(chan []int32)
	for i := 0; i < 4; i++ {
		go func() { done <- tok.Encode(benchText, true) }()
	}
	for i := 0; i < 4; i++ {
		if got := <-done; !slices.Equal(got, want) {
			t.Fatal("concurrent Encode differs")
		}
	}
}

// FuzzEncodeDecode runs on the llama-2 vocabulary when the fixture is
// present, else on a small synthetic one with merges, a control token and
// bytes (no user-defined token: Encode splits those out and the space
// prefix after them would break the round trip the fuzz checks).
func FuzzEncodeDecode(f *testing.F) {
	var tok *Tokenizer
	if v, err := loadLlama2(); err == nil {
		tok = mustNew(f, v)
	} else {
		v := tinyVocab(tt{"▁", -1, 1}, tt{"▁a", -2, 1}, tt{"ab", -3, 1}, tt{"▁ab", -1, 1}, tt{"é", -4, 1},
			tt{"<s>", 0, TypeControl})
		v.BOS = 261
		tok = mustNew(f, v)
	}
	for _, c := range llamaCppGolden {
		f.Add(c.text)
	}
	f.Add("<s>[INST] hi [/INST]")
	f.Add("\xe2\x96")
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s, true)
		for _, id := range ids {
			if id < 0 || int(id) >= tok.NumTokens() {
				t.Fatalf("id %d out of range", id)
			}
		}
		if utf8.ValidString(s) && !strings.Contains(s, spaceMark) {
			if got := tok.Decode(ids); got != s {
				t.Fatalf("Decode(Encode(%q)) = %q", s, got)
			}
		}
		sp := tok.EncodeSpecial(s, false)
		st := tok.NewStream()
		var b strings.Builder
		for _, id := range sp {
			c := st.Next(id)
			if !utf8.ValidString(c) {
				t.Fatalf("invalid stream chunk %q", c)
			}
			b.WriteString(c)
		}
		b.WriteString(st.Flush())
		var raw strings.Builder
		for _, id := range sp {
			raw.WriteString(tok.Piece(id))
		}
		if b.String() != string([]rune(raw.String())) {
			t.Fatalf("stream differs from pieces for %q", s)
		}
	})
}

// benchText is about 4 KB of English prose.
var benchText = strings.Repeat("The tokenizer splits the text into characters, then repeatedly merges the adjacent pair "+
	"whose concatenation is in the vocabulary with the highest score. Ties go to the leftmost pair. "+
	"Characters that never merge into a known piece fall back to byte tokens, so nothing is lost. "+
	"Decoding reverses this: the visible space mark becomes a space again, and bytes are joined.\n", 11)

func BenchmarkEncode(b *testing.B) {
	tok := llama2Tok(b)
	b.SetBytes(int64(len(benchText)))
	n := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n += len(tok.Encode(benchText, true))
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tokens/s")
}

func BenchmarkDecode(b *testing.B) {
	tok := llama2Tok(b)
	ids := tok.Encode(benchText, true)
	b.SetBytes(int64(len(benchText)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = tok.Decode(ids)
	}
	b.ReportMetric(float64(len(ids)*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// TestWordSplitExact: merging word by word (the fast path) gives exactly
// the single-pass result.
func TestWordSplitExact(t *testing.T) {
	fast := llama2Tok(t)
	if !fast.wordSplit {
		t.Fatal("llama-2 vocabulary should be word-split")
	}
	slow := *fast
	slow.wordSplit = false
	r := rand.New(rand.NewPCG(5, 6))
	texts := []string{benchText}
	for _, c := range llamaCppGolden {
		texts = append(texts, c.text)
	}
	for i := 0; i < 3000; i++ {
		s := randText(r, r.IntN(60))
		if i%3 == 0 {
			b := []byte(s)
			for j := 0; j < 3 && len(b) > 0; j++ {
				b[r.IntN(len(b))] = byte(r.IntN(256))
			}
			s = string(b)
		}
		texts = append(texts, s, strings.Repeat(" ", r.IntN(4))+s+"\u2581\u2581x\u2581")
	}
	for _, s := range texts {
		if a, b := fast.Encode(s, true), slow.Encode(s, true); !slices.Equal(a, b) {
			t.Fatalf("%q: word-split %v, single pass %v", s, a, b)
		}
	}
	// A token with an inner "▁" turns the fast path off.
	v := tinyVocab(tt{"a", -1, 1}, tt{"b", -1, 1}, tt{"▁", -1, 1}, tt{"a▁", -2, 1}, tt{"a▁b", -1, 1})
	v.AddSpacePrefix = false
	tok := mustNew(t, v)
	if tok.wordSplit {
		t.Fatal("wordSplit with an inner ▁")
	}
	if got := tok.Encode("a b", false); !slices.Equal(got, []int32{260}) {
		t.Errorf("Encode(a b) = %v, want [a▁b]", got)
	}
	v = tinyVocab(tt{"▁▁", -1, 1}, tt{"▁", -1, 1}, tt{"▁▁x", -1, 1})
	if tok := mustNew(t, v); !tok.wordSplit {
		t.Error("leading ▁ run should keep wordSplit")
	}
}

// TestNoMergeReachesSpecial backs the doc's claim: in the llama-2
// vocabulary no sequence of merges can form the text of a control, unknown
// or byte token, so plain text never encodes to them (except through byte
// fallback) and Decode gives the text back.
func TestNoMergeReachesSpecial(t *testing.T) {
	tok := llama2Tok(t)
	memo := map[string]bool{}
	// formable: s is one symbol of step 4, or a token that is the
	// concatenation of two formable strings.
	var formable func(s string) bool
	formable = func(s string) bool {
		if v, ok := memo[s]; ok {
			return v
		}
		memo[s] = false
		res := len(s) == min(utf8Len(s[0]), len(s))
		if _, isTok := tok.byText[s]; !res && isTok {
			for k := 1; k < len(s) && !res; k++ {
				res = formable(s[:k]) && formable(s[k:])
			}
		}
		memo[s] = res
		return res
	}
	for id := int32(0); id < int32(tok.NumTokens()); id++ {
		switch tok.TokenType(id) {
		case TypeNormal:
			continue
		}
		if s := tok.TokenText(id); len(s) > 1 && formable(s) {
			t.Errorf("token %d %q (type %d) can be formed by merges", id, s, tok.TokenType(id))
		}
	}
}
