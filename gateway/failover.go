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

// This file is the textgen subnet's Upstream: it runs a chat request on the miners,
// trying them in the router's plan one after another until one answers, unary or
// streamed, and says why when none did.

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
func (g *Gateway) noAnswer(ctx context.Context, md Model, tried int, f *failures) *openai.APIError {
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
			"No miner of subnet %d serves model '%s' right now. Please try again later.", md.Netuid, md.ID)
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
			"The miners refused the gateway's hotkey %s (%v); it must be registered on subnet %d.", g.cfg.Dendrite.Hotkey(), f.last, md.Netuid)
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

// textgenUpstream is the text-generation subnet as an Upstream: the models of
// Config.Models, each served by a subnet's miners through the gateway's router, signed
// as the gateway's dendrite.
type textgenUpstream struct {
	g      *Gateway
	models map[string]Model
	order  []Model
}

func newTextgenUpstream(g *Gateway, models []Model) (*textgenUpstream, error) {
	t := &textgenUpstream{g: g, models: map[string]Model{}}
	for _, md := range models {
		if md.ID == "" {
			return nil, errors.New("gateway: a model has an empty id")
		}
		if _, dup := t.models[md.ID]; dup {
			return nil, fmt.Errorf("gateway: model %q configured twice", md.ID)
		}
		if md.Created == 0 {
			md.Created = g.started.Unix()
		}
		md.ownedBy = fmt.Sprintf("tessera-subnet-%d", md.Netuid)
		t.models[md.ID] = md
		t.order = append(t.order, md)
	}
	return t, nil
}

// Name implements Upstream.
func (t *textgenUpstream) Name() string { return "textgen" }

// Models implements Upstream: the configured models.
func (t *textgenUpstream) Models() []ModelInfo {
	out := make([]ModelInfo, len(t.order))
	for i, md := range t.order {
		out[i] = ModelInfo{ID: md.ID, Created: md.Created, OwnedBy: md.ownedBy}
	}
	return out
}

// Executors implements Upstream: the model's subnet's miners in the order of the
// router's ranking, those cooling down after failures last.
func (t *textgenUpstream) Executors(model string) []Executor {
	md, ok := t.models[model]
	if !ok {
		return nil
	}
	now := time.Now()
	ranked := t.g.router.rankedMiners(md.Netuid, now)
	out := make([]Executor, len(ranked))
	for i, m := range ranked {
		out[i] = Executor{ID: m.Axon.Hotkey, UID: int(m.UID), Healthy: !t.g.router.cooling(m.Axon.Hotkey, now)}
	}
	return out
}

// Refresh implements Upstream: it reads the miners of every subnet behind a model from
// the Source, each read bounded by max(RefreshInterval, 5 s). A subnet that cannot be
// read keeps the miners it had; the errors are joined.
func (t *textgenUpstream) Refresh(ctx context.Context) error {
	g := t.g
	seen := map[uint16]bool{}
	var errs []error
	for _, md := range t.order {
		if seen[md.Netuid] {
			continue
		}
		seen[md.Netuid] = true
		// A node that does not answer must not hold the refresh (or Serve's start) up.
		sctx, cancel := context.WithTimeout(ctx, max(g.cfg.RefreshInterval, 5*time.Second))
		ms, err := g.cfg.Source.Miners(sctx, md.Netuid)
		cancel()
		if err != nil {
			g.m.refreshErrs.Inc()
			errs = append(errs, err)
			continue
		}
		g.router.setMiners(md.Netuid, ms)
		g.m.miners.WithLabelValues(strconv.Itoa(int(md.Netuid))).Set(float64(len(ms)))
	}
	return errors.Join(errs...)
}

// Complete implements Upstream. The subnet's synapse carries no log-probabilities, so a
// request asking for them is refused (400).
func (t *textgenUpstream) Complete(ctx context.Context, req *Request) (*Answer, error) {
	md, ok := t.models[req.Model]
	if !ok {
		return nil, openai.ModelNotFound(req.Model)
	}
	if req.Logprobs {
		return nil, openai.Errorf(http.StatusBadRequest, openai.TypeInvalidRequest, "unsupported_parameter", "logprobs",
			"Unsupported parameter: 'logprobs'. Model '%s' is served by the text-generation subnet %d, whose miners return no log-probabilities; the models of the inference network return them.", md.ID, md.Netuid)
	}
	if req.ReturnTokenIDs {
		return nil, openai.Errorf(http.StatusBadRequest, openai.TypeInvalidRequest, "unsupported_parameter", "return_token_ids",
			"Unsupported parameter: 'return_token_ids'. Model '%s' is served by the text-generation subnet %d, whose miners return no token ids.", md.ID, md.Netuid)
	}
	p := parsedRequest{model: md, Request: *req}
	if req.Stream {
		return t.stream(ctx, p)
	}
	return t.unary(ctx, p)
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
// by AttemptTimeout and the request's deadline, and returns the first answer.
func (t *textgenUpstream) unary(ctx context.Context, p parsedRequest) (*Answer, error) {
	g := t.g
	plan := g.router.plan(p.model.Netuid, p.Start)
	var f failures
	for m := range g.attempts(ctx, plan) {
		budget := g.cfg.AttemptTimeout
		if dl, ok := ctx.Deadline(); ok {
			budget = min(budget, time.Until(dl))
		}
		syn := textgen.NewChatCompletion(p.Chat, budget.Seconds())
		res := g.cfg.Dendrite.Call(ctx, m.Axon, syn)
		now := time.Now()
		if res.Err == nil {
			c := res.Synapse.(*textgen.ChatCompletion)
			g.router.observe(m.Axon.Hotkey, res.Latency, true, now)
			g.attempted(p, m, "ok", true, res.Latency)
			return t.answer(p, m, c), nil
		}
		blame, outcome := f.add(res.Err)
		if blame && (ctx.Err() == nil || errors.Is(context.Cause(ctx), context.DeadlineExceeded)) {
			g.router.observe(m.Axon.Hotkey, res.Latency, false, now)
		}
		g.attempted(p, m, outcome, blame, res.Latency)
		g.log.Debug("miner failed", "uid", m.UID, "hotkey", m.Axon.Hotkey, "err", res.Err)
	}
	return nil, g.noAnswer(ctx, p.model, len(plan), &f)
}

// answer is a miner's completion as an OpenAI chat.completion (text_completion for a
// legacy request).
func (t *textgenUpstream) answer(p parsedRequest, m Miner, c *textgen.ChatCompletion) *Answer {
	finish := c.FinishReason
	if finish == "" {
		finish = "stop"
	}
	fp, u := fmt.Sprintf("tessera-%d-%d", p.model.Netuid, m.UID), usageOf(c.Usage)
	var resp any = openai.ChatCompletion{ID: newID(p), Object: "chat.completion", Created: p.Start.Unix(), Model: p.model.ID,
		Choices:           []openai.ChatChoice{{Message: openai.ChatMessage{Role: "assistant", Content: c.Completion}, FinishReason: finish}},
		Usage:             u,
		SystemFingerprint: fp}
	if p.Legacy {
		resp = openai.TextCompletion{ID: newID(p), Object: "text_completion", Created: p.Start.Unix(), Model: p.model.ID,
			Choices: []openai.TextChoice{{Text: c.Completion, FinishReason: &finish}}, Usage: &u, SystemFingerprint: fp}
	}
	return &Answer{By: "miner", Executor: m.Axon.Hotkey, UID: int(m.UID), Header: http.Header{"X-Tessera-Miner": {m.Axon.Hotkey}},
		Body: resp, Usage: u}
}

// newID returns a fresh completion id: "chatcmpl-" ("cmpl-" for a legacy completion)
// and 24 hex digits.
func newID(p parsedRequest) string {
	if p.Legacy {
		return openai.NewID("cmpl-")
	}
	return openai.NewID("chatcmpl-")
}

// errFirstByte is the cause of an attempt cancelled for taking too long to its first byte.
var errFirstByte = errors.New("no first byte within the attempt timeout")

// stream runs a streamed request on the plan's miners in turn until one has sent its
// first event; from then on that miner's stream is the answer.
func (t *textgenUpstream) stream(ctx context.Context, p parsedRequest) (*Answer, error) {
	g := t.g
	plan := g.router.plan(p.model.Netuid, p.Start)
	var f failures
	for m := range g.attempts(ctx, plan) {
		attemptStart := time.Now()
		a, err := t.streamFrom(ctx, p, m)
		if err == nil {
			return a, nil
		}
		blame, outcome := f.add(err)
		if blame && ctx.Err() == nil {
			g.router.observe(m.Axon.Hotkey, time.Since(p.Start), false, time.Now())
		}
		g.attempted(p, m, outcome, blame, time.Since(attemptStart))
		g.log.Debug("miner failed before its first byte", "uid", m.UID, "hotkey", m.Axon.Hotkey, "err", err)
	}
	return nil, g.noAnswer(ctx, p.model, len(plan), &f)
}

// streamFrom opens one miner's stream and waits for its first event. Until then a
// failure is returned, so the caller can fail over; after it the answer is committed,
// and its Stream sends the events, ending with an error if the miner's stream breaks.
func (t *textgenUpstream) streamFrom(ctx context.Context, p parsedRequest, m Miner) (a *Answer, err error) {
	g := t.g
	actx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(g.cfg.AttemptTimeout, func() { cancel(errFirstByte) })
	var closers []func()
	release := func() {
		timer.Stop()
		for _, c := range closers {
			c()
		}
		cancel(nil)
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	budget := g.cfg.RequestTimeout
	if dl, ok := ctx.Deadline(); ok {
		budget = time.Until(dl)
	}
	syn := &textgen.ChatCompletionStream{ChatCompletion: *textgen.NewChatCompletion(p.Chat, budget.Seconds())}
	attemptStart := time.Now()
	var events iter.Seq2[[]byte, error]
	st, err := g.cfg.Dendrite.Stream(actx, m.Axon, syn)
	var se *wire.StatusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		// The miner serves ChatCompletion only (a subnet binary whose definition has
		// no streaming route): ask for the whole answer and stream it as one chunk.
		res := g.cfg.Dendrite.Call(actx, m.Axon, textgen.NewChatCompletion(p.Chat, budget.Seconds()))
		if err = res.Err; err == nil {
			events = wholeAnswer(res.Synapse.(*textgen.ChatCompletion))
		}
	} else if err == nil {
		closers = append(closers, func() { st.Close() })
		events = st.Events()
	}
	if err != nil {
		if context.Cause(actx) == errFirstByte {
			return nil, errFirstByte
		}
		return nil, err
	}
	next, stop := iter.Pull2(events)
	closers = append([]func(){stop}, closers...)
	ev, err, ok := next()
	if !ok {
		return nil, errors.New("the miner's stream ended without a chunk")
	}
	if err == nil && !timer.Stop() { // the first byte came too late: the attempt is cancelled
		return nil, errFirstByte
	}
	if err != nil {
		if context.Cause(actx) == errFirstByte {
			return nil, errFirstByte
		}
		return nil, err
	}
	var first textgen.StreamChunk
	if jerr := json.Unmarshal(ev, &first); jerr != nil {
		return nil, fmt.Errorf("miner sent an event that is not a stream chunk: %w", jerr)
	}
	firstByte := time.Since(attemptStart)
	g.router.observe(m.Axon.Hotkey, firstByte, true, time.Now())
	g.m.attempts.WithLabelValues("ok").Inc()

	id, created := newID(p), p.Start.Unix()
	fp := fmt.Sprintf("tessera-%d-%d", p.model.Netuid, m.UID)
	run := func(sendEvent func(any) bool) (u openai.Usage, err error) {
		defer release()
		// The attempt counts in the stats when the stream ends: as answered (to its
		// first byte) unless it broke off.
		defer func() {
			o := attemptOK
			if err != nil {
				o = attemptFailed
				g.router.observe(m.Axon.Hotkey, time.Since(p.Start), false, time.Now())
				g.m.attempts.WithLabelValues("error").Inc()
			}
			g.stats.attempt(p.model.Netuid, m, o, firstByte)
		}()
		send := func(c openai.ChatChunk) bool {
			c.ID, c.Object, c.Created, c.Model, c.SystemFingerprint = id, "chat.completion.chunk", created, p.model.ID, fp
			if c.Choices == nil {
				c.Choices = []openai.ChunkChoice{}
			}
			if p.Legacy {
				lc := legacyChunk(c)
				if lc == nil {
					return true
				}
				return sendEvent(lc)
			}
			return sendEvent(c)
		}
		if !send(openai.ChatChunk{Choices: []openai.ChunkChoice{{Delta: openai.ChunkDelta{Role: "assistant", Content: new(string)}}}}) {
			return u, nil // the caller went away
		}
		var final textgen.StreamChunk
		ch := first
		for {
			if ch.Delta != "" {
				d := ch.Delta
				if !send(openai.ChatChunk{Choices: []openai.ChunkChoice{{Delta: openai.ChunkDelta{Content: &d}}}}) {
					return u, nil
				}
			}
			if ch.FinishReason != "" {
				final = ch
			}
			ev, err, ok := next()
			if !ok {
				break
			}
			if err != nil {
				return u, err
			}
			ch = textgen.StreamChunk{}
			if jerr := json.Unmarshal(ev, &ch); jerr != nil {
				return u, jerr
			}
		}
		if final.FinishReason == "" {
			return u, errors.New("the miner's stream ended without a finish reason")
		}
		fr := final.FinishReason
		if final.Usage != nil {
			u = usageOf(*final.Usage)
		}
		if !send(openai.ChatChunk{Choices: []openai.ChunkChoice{{Delta: openai.ChunkDelta{}, FinishReason: &fr}}}) {
			return u, nil
		}
		if p.IncludeUsage {
			ru := u
			if !send(openai.ChatChunk{Usage: &ru}) {
				return u, nil
			}
		}
		return u, nil
	}
	return &Answer{By: "miner", Executor: m.Axon.Hotkey, UID: int(m.UID), Header: http.Header{"X-Tessera-Miner": {m.Axon.Hotkey}}, Stream: run}, nil
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
