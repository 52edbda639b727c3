// Package tokenizer is the llama SentencePiece tokenizer (GGUF
// tokenizer.ggml.model = "llama") as llama.cpp implements it
// (llm_tokenizer_spm, llama_vocab::tokenize / token_to_piece), built from
// plain slices so it needs no GGUF reader, plus chat-template rendering for
// the common templates without a Jinja engine.
//
// Everything here is deterministic: the only floating-point operations are
// comparisons of the float32 scores read from the file (never arithmetic),
// maps are only looked up (never iterated), and every order is defined below.
// A Tokenizer is immutable after New and safe for concurrent use.
//
// # Vocabulary
//
// Token i has a text, a float32 score (0 when Vocab.Scores is nil) and a type
// (1 normal when Vocab.Types is nil): 0 undefined, 1 normal, 2 unknown,
// 3 control, 4 user-defined, 5 unused, 6 byte. An empty text becomes
// "[EMPTY_<i>]" (llama.cpp). New rejects, with an error wrapping
// ErrInvalidVocab and naming the token or byte: no tokens; Scores/Types of
// the wrong length; a NaN score; a type outside 0..6; two tokens with the
// same text (llama.cpp refuses these too, so there is no "which wins" rule);
// BOS/EOS/UNK neither -1 nor an id; AddBOS/AddEOS without BOS/EOS; a byte
// token whose text is not "<0xHH>"; a byte value without a fallback token.
//
// The text-to-id lookup covers every token of every type, as llama.cpp's
// token_to_id does: merges may form control or byte-token texts (in the
// llama-2 vocabulary no chain of merges can form any of them; a test checks
// it).
//
// The byte-fallback token of byte value b is the token whose text is "<0x"
// + two upper-case hex digits + ">", else the token whose text is the single
// byte b, else UNK; New fails when none exists.
//
// # Encoding
//
// Encode(text, addBOS), EncodeSpecial(text, addBOS) and Tokenize(text,
// addSpecial, parseSpecial) are llama_tokenize:
//
//  1. Output starts with BOS when requested (Encode/EncodeSpecial: addBOS;
//     Tokenize: addSpecial && AddBOS()) and the vocabulary has one. An empty
//     text adds nothing more.
//  2. Special-token partition. The candidates are the user-defined tokens
//     (Encode; llama.cpp splits those even without parse_special) or the
//     control, user-defined and unknown tokens (EncodeSpecial, Tokenize with
//     parseSpecial), ordered by text length in bytes, longest first, equal
//     lengths by lower id. Starting from one raw fragment holding the whole
//     text, for each candidate in that order, every raw fragment is split at
//     each occurrence of the candidate's text found scanning left to right
//     (non-overlapping, resuming after each match) into raw text before, the
//     token, raw text after; empty raw fragments are dropped. (This is
//     "longest token first over the whole text", not leftmost-longest: with
//     specials "ab" and "bcd", "abcd" gives "a", bcd.) The lstrip/rstrip
//     attributes llama.cpp sets for a few model names are not applied.
//  3. Each raw fragment is prefixed with one " " when AddSpacePrefix() and it
//     is the first fragment or follows a special token; then every U+0020
//     (only that byte) is replaced by "▁" (U+2581, bytes E2 96 81).
//  4. The fragment is cut into symbols: from each position, a lead byte with
//     high nibble C or D takes 2 bytes, E takes 3, F takes 4, any other byte
//     1 (llama.cpp's unicode_len_utf8; no validation), truncated at the end.
//  5. Merging: a candidate is a pair of adjacent symbols whose concatenated
//     bytes are exactly some token's text. While candidates exist, the one
//     whose token has the highest score is merged into one symbol; between
//     equal scores (float32 ==, so -0 equals +0) the leftmost pair wins. This
//     is llama.cpp's priority queue (score, then lower left index) with
//     stale entries skipped; the queue order is total on live entries, so
//     any correct heap gives the same merges.
//  6. Each final symbol left to right: if its text is a token, that token;
//     otherwise (it is then a single symbol from step 4, because merges only
//     ever form token texts, so llama.cpp's rev_merge resegmentation never
//     applies) one byte-fallback token per byte.
//  7. Tokenize appends EOS when addSpecial && AddEOS(); Encode and
//     EncodeSpecial never append EOS.
//
// Word splitting (an exact speed-up): when no token text contains "▁" other
// than in its leading run of "▁" (so for llama-2), no token can span a point
// between a symbol other than "▁" and a following "▁" symbol; the fragment is
// cut at those points and each piece merged separately, which yields the
// same merges, in the same relative order, and the same output.
//
// Encode never fails and never panics; every id it returns is in range.
// Cost: O(n log w) time for n characters and words of w characters, about 40
// bytes of working memory per input character.
//
// # Decoding
//
// Piece(id) (llama_token_to_piece with lstrip 0, special false): normal →
// its text with every "▁" replaced by " "; byte → its one raw byte;
// user-defined → its text verbatim; control, unknown, unused, undefined, or
// an id out of range → "".
//
// Decode(ids) concatenates the pieces, except that when AddSpacePrefix() one
// leading " " is removed from the piece of ids[0], or of ids[1] when ids[0]
// is BOS (the space step 3 added). llama.cpp's llama_detokenize removes it
// only when the sequence does not start with BOS; removing it after BOS too
// is what SentencePiece and Hugging Face do. Decode returns raw bytes (byte
// tokens need not form valid UTF-8).
//
// Round trip (with the llama-2 vocabulary, where merges cannot form a
// control, unknown or byte token text and "▁" is a token; tested):
// Decode(Encode(s, addBOS)) == s for every valid UTF-8 s that does not
// contain "▁" (a literal "▁" decodes as " "), and for any byte string with
// neither the byte 0x20 nor the bytes of "▁". A space right after a
// truncated UTF-8 sequence can be swallowed into that sequence's symbol
// (step 4 counts bytes, not validity) and then comes back as the bytes of
// "▁"; llama.cpp behaves the same.
//
// Stream (for a server): Next(id) appends Piece(id) to a buffer and returns
// the longest prefix that is complete: valid UTF-8 sequences are returned,
// a byte that cannot start or continue a valid sequence (utf8.FullRune true
// but utf8.DecodeRune width 1) becomes U+FFFD, and an incomplete but so far
// valid sequence at the end (at most 3 bytes) is held back. Flush returns
// the held bytes, each as U+FFFD, and empties the stream. Every chunk is
// valid UTF-8; all chunks together equal the per-byte U+FFFD replacement of
// the concatenated pieces (string([]rune(raw))). Stream adds and strips no
// spaces.
//
// IsEOG(id): id is EOS, or a control or user-defined token whose text is one
// of <|eot_id|> <|im_end|> <|end|> <end_of_turn> <|endoftext|> <|eom_id|>
// <EOT> <|end_of_text|>.
//
// # Chat templates
//
// Vocab.ChatTemplate (tokenizer.chat_template) is recognised, in this order:
// exactly a template name ("llama-2", "chatml", "zephyr", "llama-3", "gemma",
// "plain") → that template; contains "<|im_start|>" → chatml; "[INST]" →
// llama-2; "<|user|>" and "<|assistant|>" but not "<|end|>" → zephyr;
// "<|start_header_id|>" → llama-3; "<start_of_turn>" → gemma; anything else,
// "" included, → llama-2 when the vocabulary has BOS and EOS, else plain
// (TemplateDefaulted reports this case). TemplateName says which is used.
//
// ApplyChat(msgs, addGenerationPrompt) renders what Hugging Face's Jinja
// rendering of the original template gives, with bos_token/eos_token the
// texts of BOS/EOS ("" if absent), strip/trim being Python's str.strip()
// (Unicode whitespace: U+0009..000D, U+001C..0020, U+0085, U+00A0, U+1680,
// U+2000..200A, U+2028, U+2029, U+202F, U+205F, U+3000). Then, as llama.cpp
// does before tokenizing, one leading bos_token is removed when AddBOS() and
// one trailing eos_token when AddEOS(); feed the result to
// EncodeSpecial(result, t.AddBOS()). Message content is not escaped: special
// token texts inside it become special tokens under EncodeSpecial, as in
// llama.cpp and Hugging Face. In the renderings below, [x] is x's text, S the
// system content, and "\n" a newline.
//
// llama-2 (meta-llama/Llama-2-chat): if msgs[0].Role is "system", S =
// msgs[0].Content (an empty S still counts) and the loop runs over msgs[1:].
// Loop message i must have role "user" exactly when i is even
// (ErrChatRoles otherwise). Its content C is Content, or for i == 0 with a
// system message "<<SYS>>\n" + S + "\n<</SYS>>\n\n" + Content. A user
// message renders bos_token + "[INST] " + strip(C) + " [/INST]", an
// assistant message " " + strip(C) + " " + eos_token, any other role
// nothing. addGenerationPrompt has no effect. Also used for other "[INST]"
// templates (Mistral), for which it is an approximation.
//
// chatml (<|im_start|>, Qwen, ...): each message "<|im_start|>" + Role +
// "\n" + Content + "<|im_end|>\n"; then "<|im_start|>assistant\n" if
// addGenerationPrompt. If the template source contains a literal default
// system message, '<|im_start|>system\n' + X + '<|im_end|>' inside a Jinja
// string with X free of quotes, braces and backslashes (Qwen's "You are a
// helpful assistant."), then when msgs is non-empty and msgs[0].Role is not
// "system", "<|im_start|>system\n" + X + "<|im_end|>\n" comes first. Roles are
// printed verbatim (no tool-call formatting).
//
// zephyr (HuggingFaceH4/zephyr, TinyLlama-chat): each message with role
// "user", "system" or "assistant" renders "<|" + Role + "|>\n" + Content +
// eos_token + "\n"; other roles nothing; then, if addGenerationPrompt and
// msgs is non-empty, "<|assistant|>\n".
//
// llama-3 (Meta-Llama-3-Instruct): bos_token before the first message; each
// message "<|start_header_id|>" + Role + "<|end_header_id|>\n\n" +
// strip(Content) + "<|eot_id|>"; then
// "<|start_header_id|>assistant<|end_header_id|>\n\n" if addGenerationPrompt.
// (Llama 3.1's dated system header is not reproduced.)
//
// gemma: bos_token; if msgs[0].Role is "system", P = its Content + "\n\n"
// and the loop runs over msgs[1:] (Gemma 3's rule; Gemma 1 and 2 templates
// raise on a system message instead); loop message i must have role "user"
// exactly when i is even (ErrChatRoles); it renders "<start_of_turn>" + R +
// "\n" + (P if i == 0) + strip(Content) + "<end_of_turn>\n" with R = "model"
// for "assistant", else Role; then "<start_of_turn>model\n" if
// addGenerationPrompt.
//
// plain (default without BOS/EOS): each message Role + ": " + Content +
// "\n"; then "assistant:" if addGenerationPrompt.
package tokenizer
