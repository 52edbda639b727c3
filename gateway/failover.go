package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"time"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/subnets/textgen"
	"github.com/tessera-net/tessera/wire"
)

// This file runs a chat request on the miners: it tries them in the router's plan, one
// after another until one answers, unary or streamed, and says why when none did.

// failures tallies a request's failed attempts.
type failures struct {
	n         int // attempts that failed
	invalid   int // refused as an invalid request (400, 413): the caller's fault
	forbidden int // refused the gateway's hotkey (401, 403)
	last      error
}

// add classifies a failed attempt and reports whether the miner is to blame (and so
// cooled down) and the outcome for metrics.
func (f *failures) add(err error) (blame bool, outcome string) {
	f.n++
	f.last = err
	var se *wire.StatusError
	if errors.As(err, &se) {
		switch se.Code {
		case http.StatusRequestTimeout:
			return true, "timeout"
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			f.invalid++
			return false, "refused"
		case http.StatusUnauthorized, http.StatusForbidden:
			f.forbidden++
			return false, "refused"
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errFirstByte) {
		return true, "timeout"
	}
	return true, "error"
}

// noAnswer is the error when no miner answered: 503 when there were no miners, 504
// past the deadline, 400 when every miner refused the request as invalid, 502
// otherwise (saying so when every miner refused the gateway's hotkey).
func (g *Gateway) noAnswer(ctx context.Context, p parsedRequest, tried int, f *failures) *openai.APIError {
	timeout := g.cfg.RequestTimeout
	var se *wire.StatusError
	lastStatus := errors.As(f.last, &se)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < 10*time.Millisecond && lastStatus && se.Code == http.StatusRequestTimeout {
		// The last attempt ran out of the request's own time: the dendrite's timeout
		// (the request's remaining time) fired just before the request's context.
		return openai.Errorf(http.StatusGatewayTimeout, openai.TypeServer, "timeout", "",
			"No miner answered within the request's deadline of %s (%d tried).", timeout, tried)
	}
	switch {
	case tried == 0:
		return openai.Errorf(http.StatusServiceUnavailable, openai.TypeServer, "no_miners_available", "",
			"No miner of subnet %d serves model '%s' right now. Please try again later.", p.model.Netuid, p.model.ID)
	case ctx.Err() != nil || f.n == 0:
		return openai.Errorf(http.StatusGatewayTimeout, openai.TypeServer, "timeout", "",
			"No miner answered within the request's deadline of %s (%d tried).", timeout, tried)
	case f.invalid == f.n:
		msg := f.last.Error()
		if lastStatus {
			msg = se.Message
		}
		return openai.Invalid("", "invalid_value", "The miners refused the request: %s", msg)
	case f.forbidden == f.n:
		return openai.Errorf(http.StatusBadGateway, openai.TypeServer, "gateway_not_admitted", "",
			"The miners refused the gateway's hotkey %s (%v); it must be registered on subnet %d.", g.cfg.Dendrite.Hotkey(), f.last, p.model.Netuid)
	}
	return openai.Errorf(http.StatusBadGateway, openai.TypeServer, "miners_unavailable", "",
		"None of the %d miners tried could answer (last error: %v). Please try again.", tried, f.last)
}

// attempts yields the plan's miners in turn while ctx lasts, counting each one after
// the first as a failover.
func (g *Gateway) attempts(ctx context.Context, plan []Miner) iter.Seq[Miner] {
	return func(yield func(Miner) bool) {
		for i, m := range plan {
			if ctx.Err() != nil {
				return
			}
			if i > 0 {
				g.m.failovers.Inc()
			}
			if !yield(m) {
				return
			}
		}
	}
}

// attempted counts an attempt that ended, answered or not, before the caller's answer
// was committed: in the metrics by outcome, and in the stats (a failure the miner is not
// to blame for, a refused invalid request, counts as refused).
func (g *Gateway) attempted(p parsedRequest, m Miner, outcome string, blame bool, dur time.Duration) {
	g.m.attempts.WithLabelValues(outcome).Inc()
	o := attemptOK
	switch {
	case outcome == "ok":
	case blame:
		o = attemptFailed
	default:
		o = attemptRefused
	}
	g.stats.attempt(p.model.Netuid, m, o, dur)
}

// unary runs a non-streamed request on the plan's miners in turn, each attempt bounded
// by AttemptTimeout and the request's deadline, and answers with the first answer.
func (g *Gateway) unary(ctx context.Context, w http.ResponseWriter, key *keyState, p parsedRequest, start time.Time) {
	plan := g.router.plan(p.model.Netuid, start)
	var f failures
	for m := range g.attempts(ctx, plan) {
		budget := g.cfg.AttemptTimeout
		if dl, ok := ctx.Deadline(); ok {
			budget = min(budget, time.Until(dl))
		}
		syn := textgen.NewChatCompletion(p.req, budget.Seconds())
		res := g.cfg.Dendrite.Call(ctx, m.Axon, syn)
		now := time.Now()
		if res.Err == nil {
			c := res.Synapse.(*textgen.ChatCompletion)
			g.router.observe(m.Axon.Hotkey, res.Latency, true, now)
			g.attempted(p, m, "ok", true, res.Latency)
			g.answer(ctx, w, key, p, m, c, start)
			return
		}
		blame, outcome := f.add(res.Err)
		if blame && (ctx.Err() == nil || errors.Is(context.Cause(ctx), context.DeadlineExceeded)) {
			g.router.observe(m.Axon.Hotkey, res.Latency, false, now)
		}
		g.attempted(p, m, outcome, blame, res.Latency)
		g.log.Debug("miner failed", "uid", m.UID, "hotkey", m.Axon.Hotkey, "err", res.Err)
	}
	g.fail(ctx, w, key, p.model.ID, "unary", g.noAnswer(ctx, p, len(plan), &f), start)
}

// answer writes a miner's completion as an OpenAI chat.completion and settles it.
func (g *Gateway) answer(ctx context.Context, w http.ResponseWriter, key *keyState, p parsedRequest, m Miner, c *textgen.ChatCompletion, start time.Time) {
	finish := c.FinishReason
	if finish == "" {
		finish = "stop"
	}
	fp, u := fmt.Sprintf("tessera-%d-%d", p.model.Netuid, m.UID), usageOf(c.Usage)
	var resp any = openai.ChatCompletion{ID: newID(p), Object: "chat.completion", Created: start.Unix(), Model: p.model.ID,
		Choices:           []openai.ChatChoice{{Message: openai.ChatMessage{Role: "assistant", Content: c.Completion}, FinishReason: finish}},
		Usage:             u,
		SystemFingerprint: fp}
	if p.legacy {
		resp = openai.TextCompletion{ID: newID(p), Object: "text_completion", Created: start.Unix(), Model: p.model.ID,
			Choices: []openai.TextChoice{{Text: c.Completion, FinishReason: &finish}}, Usage: &u, SystemFingerprint: fp}
	}
	body, err := json.Marshal(resp)
	if err != nil {
		g.fail(ctx, w, key, p.model.ID, "unary", openai.Errorf(http.StatusInternalServerError, openai.TypeServer, "", "", "encode the answer: %v", err), start)
		return
	}
	g.settle(ctx, key, p, "unary", c.Usage, start)
	w.Header()["X-Tessera-Miner"] = []string{m.Axon.Hotkey}
	recordOf(ctx).miner = int(m.UID)
	openai.WriteJSON(w, http.StatusOK, body)
}

// settle counts a served request and charges it to the key; the answer's last byte
// follows it.
func (g *Gateway) settle(ctx context.Context, key *keyState, p parsedRequest, mode string, u textgen.Usage, start time.Time) {
	g.m.requests.WithLabelValues(p.model.ID, mode, "200").Inc()
	g.m.duration.WithLabelValues(mode).Observe(time.Since(start).Seconds())
	g.m.tokens.WithLabelValues("prompt").Add(float64(u.PromptTokens))
	g.m.tokens.WithLabelValues("completion").Add(float64(u.CompletionTokens))
	g.charge(ctx, key, Usage{Requests: 1, PromptTokens: int64(u.PromptTokens), CompletionTokens: int64(u.CompletionTokens)}, start)
}

// newID returns a fresh completion id: "chatcmpl-" ("cmpl-" for a legacy completion)
// and 24 hex digits.
func newID(p parsedRequest) string {
	if p.legacy {
		return openai.NewID("cmpl-")
	}
	return openai.NewID("chatcmpl-")
}

// errFirstByte is the cause of an attempt cancelled for taking too long to its first byte.
var errFirstByte = errors.New("no first byte within the attempt timeout")

// stream runs a streamed request on the plan's miners in turn until one has sent its
// first event; from then on that miner's stream is the answer.
func (g *Gateway) stream(ctx context.Context, w http.ResponseWriter, key *keyState, p parsedRequest, start time.Time) {
	plan := g.router.plan(p.model.Netuid, start)
	var f failures
	for m := range g.attempts(ctx, plan) {
		attemptStart := time.Now()
		committed, err := g.streamFrom(ctx, w, key, p, m, start)
		if committed {
			return
		}
		blame, outcome := f.add(err)
		if blame && ctx.Err() == nil {
			g.router.observe(m.Axon.Hotkey, time.Since(start), false, time.Now())
		}
		g.attempted(p, m, outcome, blame, time.Since(attemptStart))
		g.log.Debug("miner failed before its first byte", "uid", m.UID, "hotkey", m.Axon.Hotkey, "err", err)
	}
	g.fail(ctx, w, key, p.model.ID, "stream", g.noAnswer(ctx, p, len(plan), &f), start)
}

// streamFrom streams one miner's answer to the caller. Until the miner's first event
// nothing is written and a failure returns committed=false, so the caller can fail
// over; after it the answer is the caller's, and a failure ends the stream with an
// error event.
func (g *Gateway) streamFrom(ctx context.Context, w http.ResponseWriter, key *keyState, p parsedRequest, m Miner, start time.Time) (committed bool, err error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(g.cfg.AttemptTimeout, func() { cancel(errFirstByte) })
	defer timer.Stop()
	budget := g.cfg.RequestTimeout
	if dl, ok := ctx.Deadline(); ok {
		budget = time.Until(dl)
	}
	syn := &textgen.ChatCompletionStream{ChatCompletion: *textgen.NewChatCompletion(p.req, budget.Seconds())}
	attemptStart := time.Now()
	// Once the stream is the caller's, the attempt counts in the stats when it ends: as
	// answered (to its first byte) unless it broke off.
	var firstByte time.Duration
	broke := false
	defer func() {
		if o := attemptOK; committed {
			if broke {
				o = attemptFailed
			}
			g.stats.attempt(p.model.Netuid, m, o, firstByte)
		}
	}()
	var events iter.Seq2[[]byte, error]
	st, err := g.cfg.Dendrite.Stream(actx, m.Axon, syn)
	var se *wire.StatusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		// The miner serves ChatCompletion only (a subnet binary whose definition has
		// no streaming route): ask for the whole answer and stream it as one chunk.
		res := g.cfg.Dendrite.Call(actx, m.Axon, textgen.NewChatCompletion(p.req, budget.Seconds()))
		if err = res.Err; err == nil {
			events = wholeAnswer(res.Synapse.(*textgen.ChatCompletion))
		}
	} else if err == nil {
		defer st.Close()
		events = st.Events()
	}
	if err != nil {
		if context.Cause(actx) == errFirstByte {
			return false, errFirstByte
		}
		return false, err
	}

	id, created := newID(p), start.Unix()
	fp := fmt.Sprintf("tessera-%d-%d", p.model.Netuid, m.UID)
	sse := openai.NewSSE(w)
	send := func(c openai.ChatChunk) error {
		c.ID, c.Object, c.Created, c.Model, c.SystemFingerprint = id, "chat.completion.chunk", created, p.model.ID, fp
		if c.Choices == nil {
			c.Choices = []openai.ChunkChoice{}
		}
		if p.legacy {
			lc := legacyChunk(c)
			if lc == nil {
				return nil
			}
			return sse.Send(lc)
		}
		return sse.Send(c)
	}
	var final textgen.StreamChunk
	for ev, err := range events {
		if err == nil && !committed {
			if !timer.Stop() { // the first byte came too late: the attempt is cancelled
				return false, errFirstByte
			}
		}
		if err != nil {
			if !committed {
				if context.Cause(actx) == errFirstByte {
					return false, errFirstByte
				}
				return false, err
			}
			broke = true
			g.streamBroken(ctx, sse, key, p, m, err, start)
			return true, nil
		}
		var ch textgen.StreamChunk
		if jerr := json.Unmarshal(ev, &ch); jerr != nil {
			if !committed {
				return false, fmt.Errorf("miner sent an event that is not a stream chunk: %w", jerr)
			}
			broke = true
			g.streamBroken(ctx, sse, key, p, m, jerr, start)
			return true, nil
		}
		if !committed {
			committed = true
			firstByte = time.Since(attemptStart)
			g.router.observe(m.Axon.Hotkey, firstByte, true, time.Now())
			g.m.attempts.WithLabelValues("ok").Inc()
			w.Header()["X-Tessera-Miner"] = []string{m.Axon.Hotkey}
			recordOf(ctx).miner = int(m.UID)
			sse.Start()
			if err := send(openai.ChatChunk{Choices: []openai.ChunkChoice{{Delta: openai.ChunkDelta{Role: "assistant", Content: new(string)}}}}); err != nil {
				return true, nil // the caller went away
			}
		}
		if ch.Delta != "" {
			d := ch.Delta
			if err := send(openai.ChatChunk{Choices: []openai.ChunkChoice{{Delta: openai.ChunkDelta{Content: &d}}}}); err != nil {
				return true, nil
			}
		}
		if ch.FinishReason != "" {
			final = ch
		}
	}
	if !committed {
		return false, errors.New("the miner's stream ended without a chunk")
	}
	if final.FinishReason == "" {
		broke = true
		g.streamBroken(ctx, sse, key, p, m, errors.New("the miner's stream ended without a finish reason"), start)
		return true, nil
	}
	fr := final.FinishReason
	if err := send(openai.ChatChunk{Choices: []openai.ChunkChoice{{Delta: openai.ChunkDelta{}, FinishReason: &fr}}}); err != nil {
		return true, nil
	}
	var u textgen.Usage
	if final.Usage != nil {
		u = *final.Usage
	}
	if p.includeUsage {
		ru := usageOf(u)
		if err := send(openai.ChatChunk{Usage: &ru}); err != nil {
			return true, nil
		}
	}
	g.settle(ctx, key, p, "stream", u, start)
	sse.Done()
	return true, nil
}

// wholeAnswer yields a complete answer as the events of a stream: the text, then the
// finish reason and usage.
func wholeAnswer(c *textgen.ChatCompletion) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		usage := c.Usage
		for _, ch := range []textgen.StreamChunk{{Delta: c.Completion}, {FinishReason: c.FinishReason, Usage: &usage, Model: c.BackendModel}} {
			if ch.FinishReason == "" && ch.Usage != nil {
				ch.FinishReason = "stop"
			}
			data, err := json.Marshal(ch)
			if !yield(data, err) || err != nil {
				return
			}
		}
	}
}

// streamBroken ends a stream already under way with an OpenAI-style error event.
func (g *Gateway) streamBroken(ctx context.Context, sse *openai.SSE, key *keyState, p parsedRequest, m Miner, err error, start time.Time) {
	e := openai.Errorf(http.StatusBadGateway, openai.TypeServer, "stream_interrupted", "", "The miner's stream broke off: %v", err)
	if ctx.Err() != nil {
		e = openai.Errorf(http.StatusGatewayTimeout, openai.TypeServer, "timeout", "", "The answer did not finish within the request's deadline of %s.", g.cfg.RequestTimeout)
	}
	g.router.observe(m.Axon.Hotkey, time.Since(start), false, time.Now())
	g.m.attempts.WithLabelValues("error").Inc()
	recordOf(ctx).broken = true
	g.charge(ctx, key, Usage{Requests: 1, Errors: 1}, start)
	sse.Error(e)
	g.m.requests.WithLabelValues(p.model.ID, "stream", strconv.Itoa(e.Status)).Inc()
}
