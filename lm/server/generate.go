package server

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/lm"
	"github.com/tessera-net/tessera/lm/tokenizer"
)

// This file runs a checked completion on the engine and answers it, whole or streamed.

const fingerprint = "tessera-lm"

// decoder turns a completion's tokens into the text that may be sent: valid UTF-8
// (a character split across byte tokens waits for its last byte), cut before the
// first stop string, and never ending in what could still become one.
type decoder struct {
	tok     *tokenizer.Tokenizer
	ts      *tokenizer.Stream // nil: no vocabulary, no text
	tail    []byte            // the last bytes of the tokens' pieces, at most 3
	stops   []string
	text    strings.Builder // released so far
	runes   int             // characters in text
	pending string          // decoded, held back
	offsets []int           // each token's first character in the text
	stopped bool            // a stop string matched: nothing more is released
}

func newDecoder(tok *tokenizer.Tokenizer, stops []string) *decoder {
	d := &decoder{tok: tok, stops: stops}
	if tok != nil {
		d.ts = tok.NewStream()
	}
	return d
}

// add takes the next token and returns the text it releases. The token's offset is
// the characters of the text before it: released, held back, and the bytes the stream
// holds of an unfinished character, each counted as one (as each would appear if the
// completion ended there).
func (d *decoder) add(id int32) string {
	d.offsets = append(d.offsets, d.runes+utf8.RuneCountInString(d.pending)+unfinished(d.tail))
	if d.ts != nil && !d.stopped {
		d.pending += d.ts.Next(id)
		d.tail = append(d.tail, d.tok.Piece(id)...)
		d.tail = d.tail[max(0, len(d.tail)-3):]
	}
	return d.release(false)
}

// unfinished is how many of the last bytes of b begin a UTF-8 character that they do
// not complete: what tokenizer.Stream holds back (its first byte from which the rest is
// not a full rune). Such a sequence is at most 3 bytes, so the last 3 bytes decide.
func unfinished(b []byte) int {
	for i := max(0, len(b)-3); i < len(b); i++ {
		if b[i] >= utf8.RuneSelf && !utf8.FullRune(b[i:]) {
			return len(b) - i
		}
	}
	return 0
}

// finish releases what is held back at the end of the completion.
func (d *decoder) finish() string {
	if d.ts != nil && !d.stopped {
		d.pending += d.ts.Flush()
	}
	out := d.release(true)
	for i, o := range d.offsets {
		d.offsets[i] = min(o, d.runes) // tokens after a stop string start at its cut
	}
	return out
}

func (d *decoder) release(final bool) string {
	if d.stopped {
		return ""
	}
	cut := len(d.pending)
	if i := firstStop(d.pending, d.stops); i >= 0 {
		cut, d.stopped = i, true
	} else if !final {
		cut -= heldBack(d.pending, d.stops)
	}
	out := d.pending[:cut]
	d.pending = d.pending[cut:]
	if d.stopped {
		d.pending = ""
	}
	d.text.WriteString(out)
	d.runes += utf8.RuneCountInString(out)
	return out
}

// firstStop is where the first of stops begins in s, or -1.
func firstStop(s string, stops []string) int {
	at := -1
	for _, st := range stops {
		if i := strings.Index(s, st); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	return at
}

// heldBack is the length of the longest end of s that begins one of stops (and is
// shorter than it): text that a stop string may yet complete. Both are valid UTF-8,
// so the cut falls between characters.
func heldBack(s string, stops []string) int {
	n := 0
	for _, st := range stops {
		for k := min(len(st)-1, len(s)); k > n; k-- {
			if s[len(s)-k:] == st[:k] {
				n = k
				break
			}
		}
	}
	return n
}

func q16(v int32) float64 { return Logprob(v) }

func (s *Server) tokenText(id int32) (string, []int) { return TokenText(s.tok, id) }

// chatLogprobs is the chat "logprobs" of steps.
func (s *Server) chatLogprobs(steps []lm.Step) *openai.ChatLogprobs {
	c := make([]openai.TokenLogprob, len(steps))
	for i, st := range steps {
		tok, b := s.tokenText(st.ID)
		top := make([]openai.TopLogprob, len(st.Top))
		for k, t := range st.Top {
			tt, tb := s.tokenText(t.ID)
			top[k] = openai.TopLogprob{Token: tt, Logprob: q16(t.Logprob), Bytes: tb}
		}
		c[i] = openai.TokenLogprob{Token: tok, Logprob: q16(st.Logprob), Bytes: b, TopLogprobs: top}
	}
	return &openai.ChatLogprobs{Content: c}
}

// textLogprobs is the legacy "logprobs" of steps, whose texts start at offsets.
func (s *Server) textLogprobs(steps []lm.Step, offsets []int) *openai.CompletionLogprobs {
	l := &openai.CompletionLogprobs{Tokens: make([]string, len(steps)), TokenLogprobs: make([]float64, len(steps)),
		TopLogprobs: make([]map[string]float64, len(steps)), TextOffset: offsets}
	for i, st := range steps {
		l.Tokens[i], _ = s.tokenText(st.ID)
		l.TokenLogprobs[i] = q16(st.Logprob)
		top := make(map[string]float64, len(st.Top))
		for _, t := range st.Top {
			tt, _ := s.tokenText(t.ID)
			if _, dup := top[tt]; !dup { // two tokens with one text: the likelier (listed first)
				top[tt] = q16(t.Logprob)
			}
		}
		l.TopLogprobs[i] = top
	}
	return l
}

func ids(steps []lm.Step) []int32 {
	out := make([]int32, len(steps))
	for i, st := range steps {
		out[i] = st.ID
	}
	return out
}

// stream is one streamed answer in the making.
type stream struct {
	s       *Server
	j       *job
	sse     *openai.SSE
	id      string
	created int64
	model   string
	started bool
	sent    int // steps sent so far
}

// start sends the headers and, for a chat, the chunk that names the role.
func (st *stream) start() error {
	if st.started {
		return nil
	}
	st.started = true
	st.sse.Start()
	if st.j.legacy {
		return nil
	}
	c := st.chat(openai.ChunkChoice{Delta: openai.ChunkDelta{Role: "assistant", Content: new(string)}})
	if st.j.tokenIDs {
		c.PromptTokenIDs = st.j.req.Prompt
	}
	return st.sse.Send(c)
}

func (st *stream) chat(ch ...openai.ChunkChoice) openai.ChatChunk {
	if ch == nil {
		ch = []openai.ChunkChoice{}
	}
	return openai.ChatChunk{ID: st.id, Object: "chat.completion.chunk", Created: st.created, Model: st.model,
		SystemFingerprint: fingerprint, Choices: ch}
}

func (st *stream) text(ch ...openai.TextChoice) openai.TextCompletion {
	if ch == nil {
		ch = []openai.TextChoice{}
	}
	return openai.TextCompletion{ID: st.id, Object: "text_completion", Created: st.created, Model: st.model,
		SystemFingerprint: fingerprint, Choices: ch}
}

// delta sends text and the steps since the last chunk (their logprobs and ids when
// asked for); offsets are every step's so far, the last len(steps) theirs.
func (st *stream) delta(text string, steps []lm.Step, offsets []int) error {
	if err := st.start(); err != nil {
		return err
	}
	var tids []int32
	if st.j.tokenIDs {
		tids = ids(steps)
	}
	first := st.sent == 0
	st.sent += len(steps)
	if st.j.legacy {
		tc := openai.TextChoice{Text: text, TokenIDs: tids}
		if st.j.logprobs {
			tc.Logprobs = st.s.textLogprobs(steps, offsets[len(offsets)-len(steps):])
		}
		c := st.text(tc)
		if first && st.j.tokenIDs {
			c.PromptTokenIDs = st.j.req.Prompt
		}
		return st.sse.Send(c)
	}
	cc := openai.ChunkChoice{Delta: openai.ChunkDelta{Content: &text}, TokenIDs: tids}
	if st.j.logprobs {
		cc.Logprobs = st.s.chatLogprobs(steps)
	}
	return st.sse.Send(st.chat(cc))
}

// end sends the finish reason, the usage when asked for, and [DONE].
func (st *stream) end(finish string, u openai.Usage) error {
	if err := st.start(); err != nil {
		return err
	}
	var err error
	if st.j.legacy {
		err = st.sse.Send(st.text(openai.TextChoice{FinishReason: &finish}))
	} else {
		err = st.sse.Send(st.chat(openai.ChunkChoice{FinishReason: &finish}))
	}
	if err != nil {
		return err
	}
	if st.j.includeUsage {
		if st.j.legacy {
			c := st.text()
			c.Usage = &u
			err = st.sse.Send(c)
		} else {
			c := st.chat()
			c.Usage = &u
			err = st.sse.Send(c)
		}
		if err != nil {
			return err
		}
	}
	return st.sse.Done()
}

// complete runs j and answers it.
func (s *Server) complete(w http.ResponseWriter, r *http.Request, j *job) {
	ctx := r.Context()
	start := time.Now()
	rec := recordOf(ctx)
	rec.prompt = len(j.req.Prompt)
	prefix := "chatcmpl-"
	if j.legacy {
		prefix = "cmpl-"
	}
	st := &stream{s: s, j: j, sse: openai.NewSSE(w), id: openai.NewID(prefix), created: start.Unix(), model: s.o.Name}
	d := newDecoder(s.tok, j.stops)
	var unsent []lm.Step
	emit := func(step lm.Step) error {
		text := d.add(step.ID)
		unsent = append(unsent, step)
		if j.stream && (text != "" || j.logprobs || j.tokenIDs) {
			if err := st.delta(text, unsent, d.offsets); err != nil {
				return err // the client is gone
			}
			unsent = unsent[:0]
		}
		if d.stopped {
			return lm.ErrStopped
		}
		return nil
	}
	steps, finish, err := s.e.Generate(ctx, j.req, emit)
	rec.completion = len(steps)
	s.met.tokens.WithLabelValues("prompt").Add(float64(len(j.req.Prompt)))
	s.met.tokens.WithLabelValues("completion").Add(float64(len(steps)))
	if len(steps) > 0 {
		s.met.rate.Observe(float64(len(steps)) / max(time.Since(start).Seconds(), 1e-9))
	}
	if err != nil {
		switch {
		case ctx.Err() != nil:
			rec.finish = "cancelled" // the client went away: nobody to answer
		case st.started:
			rec.finish = "error"
			st.sse.Error(engineError(err))
		default:
			rec.finish = "error"
			openai.WriteError(w, engineError(err))
		}
		return
	}
	tail := d.finish()
	if d.stopped {
		finish = lm.FinishStop
	}
	rec.finish = finish
	u := openai.NewUsage(len(j.req.Prompt), len(steps))
	if j.stream {
		if tail != "" || len(unsent) > 0 {
			if st.delta(tail, unsent, d.offsets) != nil {
				return
			}
		}
		st.end(finish, u)
		return
	}
	s.answer(w, j, st, d, steps, finish, u)
}

// answer writes a whole completion.
func (s *Server) answer(w http.ResponseWriter, j *job, st *stream, d *decoder, steps []lm.Step, finish string, u openai.Usage) {
	var tids, pids []int32
	if j.tokenIDs {
		tids, pids = ids(steps), j.req.Prompt
	}
	var resp any
	if j.legacy {
		tc := openai.TextChoice{Text: d.text.String(), FinishReason: &finish, TokenIDs: tids}
		if j.logprobs {
			tc.Logprobs = s.textLogprobs(steps, d.offsets)
		}
		c := st.text(tc)
		c.Usage, c.PromptTokenIDs = &u, pids
		resp = c
	} else {
		ch := openai.ChatChoice{Message: openai.ChatMessage{Role: "assistant", Content: d.text.String()}, FinishReason: finish, TokenIDs: tids}
		if j.logprobs {
			ch.Logprobs = s.chatLogprobs(steps)
		}
		resp = openai.ChatCompletion{ID: st.id, Object: "chat.completion", Created: st.created, Model: st.model,
			Choices: []openai.ChatChoice{ch}, Usage: u, SystemFingerprint: fingerprint, PromptTokenIDs: pids}
	}
	writeAny(w, resp)
}

// chatCompletions answers POST /v1/chat/completions.
func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	s.post(w, r, func(body []byte) (*job, *openai.APIError) { return s.chatJob(body) })
}

// completions answers POST /v1/completions.
func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	s.post(w, r, func(body []byte) (*job, *openai.APIError) { return s.completionJob(body) })
}

// post reads and checks a completion request and runs it.
func (s *Server) post(w http.ResponseWriter, r *http.Request, parse func([]byte) (*job, *openai.APIError)) {
	if r.Method != http.MethodPost {
		openai.WriteError(w, openai.MethodNotAllowed(w, r, http.MethodPost))
		return
	}
	body, e := openai.ReadBody(w, r, s.o.MaxBodyBytes)
	if e != nil {
		openai.WriteError(w, e)
		return
	}
	j, e := parse(body)
	if e != nil {
		openai.WriteError(w, e)
		return
	}
	s.complete(w, r, j)
}
