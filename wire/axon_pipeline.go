package wire

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/tessera-net/tessera/keys"
)

// This file is the axon's request pipeline: ServeHTTP and its steps, in the order they
// run. A step that refuses the request returns the refusal and writes nothing but
// headers of its own (Allow, Retry-After); ServeHTTP answers it.

// reject is a refusal: an HTTP status, the message sent to the dendrite, and the reason
// label for metrics.
type reject struct {
	status  int
	message string
	reason  string
}

// refuse answers rej and counts it under its reason.
func (a *Axon) refuse(w http.ResponseWriter, rt *route, name string, rej reject, start time.Time) {
	a.metrics.rejected.WithLabelValues(rej.reason).Inc()
	a.log.Debug("request refused", "synapse", name, "status", rej.status, "reason", rej.reason, "message", rej.message)
	a.writeError(w, rt, name, rej.status, rej.message, start)
}

// ServeHTTP runs the request pipeline. The order is the hardening: everything before
// the signature check is syntax and arithmetic (no state changes, nothing a forger can
// learn or spend), the signature is checked before any hook, state or body, and the
// handler runs only for an authenticated, fresh, unreplayed, allowed request whose body
// matches the hash it signed.
func (a *Axon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now() // deadlines and latency: the real clock
	name, rt := a.lookupRoute(r.URL.Path)
	if rt == nil {
		a.refuse(w, nil, "unknown", a.unknownSynapse(name), start)
		return
	}
	if rej := a.serveRoute(w, r, rt, name, start); rej != nil {
		a.refuse(w, rt, name, *rej, start)
	}
}

// serveRoute runs the steps for a request to rt, the handler last. It returns the
// refusal of the step that refused the request, or nil once the handler's answer is
// written.
func (a *Axon) serveRoute(w http.ResponseWriter, r *http.Request, rt *route, name string, start time.Time) *reject {
	if rej := checkMethod(w, r); rej != nil {
		return rej
	}
	hdr, rej := a.parseHeaders(r)
	if rej != nil {
		return rej
	}
	timeout := a.callTimeout(&hdr)
	now := a.cfg.Now().UnixNano() // nonce windows: the configurable clock
	if err := a.nonces.checkFresh(now, hdr.nonce, timeout); err != nil {
		return &reject{http.StatusUnauthorized, "Not Verified with error: " + err.Error(), "nonce"}
	}
	v, rej := a.verifySignature(&hdr)
	if rej != nil {
		return rej
	}

	deadline := start.Add(timeout)
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()
	call := &Call{
		Synapse: name, Hotkey: hdr.hotkey, PublicKey: v.PublicKey(), UUID: hdr.uuid, Nonce: hdr.nonce,
		Version: hdr.version, DendriteIP: hdr.dendriteIP, RemoteAddr: r.RemoteAddr, Timeout: timeout, Deadline: deadline,
	}
	if rej := a.admit(ctx, w, rt, call, &hdr, now, timeout); rej != nil {
		return rej
	}
	rc := http.NewResponseController(w)
	syn, rej := a.readSynapse(r, rc, rt, &hdr, deadline)
	if rej != nil {
		return rej
	}
	a.authenticate(syn.SynapseBase(), name, &hdr, timeout)
	if rt.opts.Verify != nil {
		if err := rt.opts.Verify(ctx, call, syn); err != nil {
			return &reject{http.StatusUnauthorized, "Not Verified with error: " + err.Error(), "verify_hook"}
		}
	}
	if rej := a.acquireSlot(ctx, rt, call, timeout); rej != nil {
		return rej
	}
	a.dispatch(ctx, w, rc, rt, call, syn, start)
	return nil
}

// lookupRoute returns the synapse name from the path (all of it after the leading
// slash) and its route, nil when none is attached. A path with more after the name
// (/Name/x, /Name/) names no route: attached names have no slash, so it answers 404,
// as Bittensor's router does, instead of serving Name.
func (a *Axon) lookupRoute(path string) (string, *route) {
	name := strings.TrimPrefix(path, "/")
	return name, (*a.routes.Load())[name]
}

// unknownSynapse is the 404 for a name no route serves, as Bittensor words it.
func (a *Axon) unknownSynapse(name string) reject {
	if len(name) > maxNameLen {
		name = name[:maxNameLen]
	}
	return reject{http.StatusNotFound,
		fmt.Sprintf("Synapse name '%s' not found. Available synapses %s", name, a.routeNames()), "unknown_synapse"}
}

// checkMethod refuses methods other than POST and GET with 405.
func checkMethod(w http.ResponseWriter, r *http.Request) *reject {
	if r.Method == http.MethodPost || r.Method == http.MethodGet {
		return nil
	}
	w.Header()["Allow"] = []string{"POST, GET"}
	return &reject{http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed; use POST", r.Method), "method"}
}

// parseHeaders reads the signed headers and checks what needs no state: the declared
// body size and the axon hotkey the request is addressed to. Missing signature headers
// answer 401, malformed ones 400.
func (a *Axon) parseHeaders(r *http.Request) (requestHeaders, *reject) {
	hdr, err := parseRequestHeaders(r.Header)
	if err != nil {
		var he *HeaderError
		if errors.As(err, &he) && he.Missing {
			return hdr, &reject{http.StatusUnauthorized, "Not Verified with error: " + he.Reason, "unsigned"}
		}
		return hdr, &reject{http.StatusBadRequest, err.Error(), "bad_header"}
	}
	if r.ContentLength > a.cfg.MaxBodyBytes {
		return hdr, &reject{http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, a.cfg.MaxBodyBytes), "body_too_large"}
	}
	if hdr.axonHotkey != "" && hdr.axonHotkey != a.hotkey {
		return hdr, &reject{http.StatusUnauthorized,
			fmt.Sprintf("Not Verified with error: request is addressed to axon hotkey %s, this axon is %s", hdr.axonHotkey, a.hotkey), "wrong_axon"}
	}
	return hdr, nil
}

// callTimeout is the timeout the axon enforces: the request's, at most MaxTimeout.
func (a *Axon) callTimeout(hdr *requestHeaders) time.Duration {
	timeout := a.cfg.MaxTimeout // compared in float first: a huge header must not overflow
	if hdr.timeout < timeout.Seconds() {
		timeout = time.Duration(hdr.timeout * float64(time.Second))
	}
	return timeout
}

// verifySignature checks the dendrite's signature over our own hotkey (as Bittensor's
// default_verify builds the message) and the body hash the dendrite signed; the body is
// checked against that hash later. It returns the dendrite's key.
func (a *Axon) verifySignature(hdr *requestHeaders) (*keys.Verifier, *reject) {
	v, err := a.keys.get(hdr.hotkey)
	if err != nil {
		return nil, &reject{http.StatusBadRequest, fmt.Sprintf("malformed header %s: %v", hdrDendriteHotkey, err), "bad_header"}
	}
	var msgBuf [320]byte
	msg := appendSignedMessage(msgBuf[:0], hdr.nonce, hdr.hotkey, a.hotkey, hdr.uuid, hdr.bodyHash)
	if !v.VerifyAllowWrapped(msg, hdr.signature[:]) {
		return nil, &reject{http.StatusUnauthorized,
			fmt.Sprintf("Not Verified with error: Signature mismatch with %s and 0x%s", msg, hex.EncodeToString(hdr.signature[:])), "bad_signature"}
	}
	return v, nil
}

// admit runs the checks on an authenticated request that spend state: the blacklist
// hook, then, in one step (nonceTracker.record), the replay check, the hotkey's rate
// limit and the nonce recorded. A replay is refused (401) before it spends the hotkey's
// rate, and a request over the rate (429) is refused before it takes a place in the
// session table, so one hotkey's flood of fresh sessions cannot fill it.
func (a *Axon) admit(ctx context.Context, w http.ResponseWriter, rt *route, call *Call, hdr *requestHeaders, now int64, timeout time.Duration) *reject {
	if rt.opts.Blacklist != nil {
		if blocked, reason := rt.opts.Blacklist(ctx, call); blocked {
			return &reject{http.StatusForbidden, fmt.Sprintf("Forbidden. Key is blacklisted: %s.", reason), "blacklisted"}
		}
	}
	err := a.nonces.record(now, hdr.hotkey, hdr.uuid, hdr.nonce, timeout, a.limiter)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errRateLimited):
		w.Header()["Retry-After"] = []string{"1"}
		return &reject{http.StatusTooManyRequests,
			fmt.Sprintf("Too many requests from hotkey %s: the limit is %g a second", hdr.hotkey, a.cfg.RateLimit), "rate_limited"}
	case errors.Is(err, errNonceTableFull):
		return &reject{http.StatusServiceUnavailable, err.Error(), "nonce_table_full"}
	default:
		return &reject{http.StatusUnauthorized, "Not Verified with error: " + err.Error(), "nonce"}
	}
}

// readSynapse reads the body, bounded and before the deadline, checks it against the
// signed hash, and decodes it into a new synapse of the route's type.
func (a *Axon) readSynapse(r *http.Request, rc *http.ResponseController, rt *route, hdr *requestHeaders, deadline time.Time) (Synapse, *reject) {
	_ = rc.SetReadDeadline(deadline)
	body, err := readBody(r.Body, r.ContentLength, a.cfg.MaxBodyBytes, &a.bufs)
	if err != nil {
		return nil, a.bodyReadError(err)
	}
	got, body, err := rt.schema.bodyHashAndWipe(body)
	if err != nil {
		return nil, &reject{http.StatusBadRequest, fmt.Sprintf("body is not a valid %s synapse: %v", rt.name, err), "bad_body"}
	}
	if got != hdr.bodyHash {
		return nil, &reject{http.StatusBadRequest,
			fmt.Sprintf("body hash mismatch: the signed computed_body_hash is %s but the body hashes to %s", hdr.bodyHash, got), "body_hash"}
	}
	syn := reflect.New(rt.schema.typ).Interface().(Synapse)
	err = json.Unmarshal(body, syn)
	a.bufs.put(body) // the decoder copies what it keeps
	if err != nil {
		return nil, &reject{http.StatusBadRequest, fmt.Sprintf("body is not a valid %s synapse: %v", rt.name, err), "bad_body"}
	}
	return syn, nil
}

// bodyReadError is the refusal for a body that could not be read: too large (413),
// not in time (408), or broken off (400).
func (a *Axon) bodyReadError(err error) *reject {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || errors.Is(err, errBodyTooLarge):
		return &reject{http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body exceeds the limit of %d bytes", a.cfg.MaxBodyBytes), "body_too_large"}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ioTimeout):
		return &reject{http.StatusRequestTimeout, "timed out reading the request body", "timeout"}
	default:
		return &reject{http.StatusBadRequest, "reading the request body: " + err.Error(), "bad_body"}
	}
}

// acquireSlot waits, in the order of the route's priority hook, for a handler slot.
// A full queue answers 503; the deadline passing first, 408.
func (a *Axon) acquireSlot(ctx context.Context, rt *route, call *Call, timeout time.Duration) *reject {
	prio := 0.0
	if rt.opts.Priority != nil {
		prio = rt.opts.Priority(ctx, call)
	}
	if err := a.sched.acquire(ctx, prio); err != nil {
		if errors.Is(err, errQueueFull) {
			return &reject{http.StatusServiceUnavailable, err.Error(), "queue_full"}
		}
		return &reject{http.StatusRequestTimeout,
			fmt.Sprintf("Request timeout after %s seconds: no handler slot came free", pyFloatString(timeout.Seconds())), "timeout"}
	}
	return nil
}

// dispatch runs the route's handler in the slot acquireSlot took and writes its answer.
// The slot is released when the handler really returns, not when the axon stops
// waiting for it, so Concurrency bounds running handlers even when some overrun.
func (a *Axon) dispatch(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, rt *route, call *Call, syn Synapse, start time.Time) {
	if rt.handler.stream != nil {
		a.serveStream(ctx, w, rc, rt, call, syn, start)
		return
	}
	a.serveUnary(ctx, w, rt, call, syn, start)
}

// authenticate replaces what the body says about the two ends with what the signed
// headers and the axon itself say. (In Bittensor the handler sees the body's copy,
// whose dendrite.hotkey nothing checks.)
func (a *Axon) authenticate(b *Base, name string, hdr *requestHeaders, timeout time.Duration) {
	b.Name = name
	b.Timeout = Float(timeout.Seconds())
	b.ComputedBodyHash = hdr.bodyHash
	b.Dendrite = TerminalInfo{Hotkey: &hdr.hotkey, Nonce: &hdr.nonce, UUID: &hdr.uuid, Signature: &hdr.sigText}
	if hdr.hasVersion {
		b.Dendrite.Version = &hdr.version
	}
	if hdr.dendriteIP != "" {
		b.Dendrite.IP = &hdr.dendriteIP
	}
	if hdr.hasPort {
		b.Dendrite.Port = &hdr.dendritePrt
	}
	hk := a.hotkey
	b.Axon = TerminalInfo{Hotkey: &hk}
	if a.cfg.ExternalIP != "" {
		ip := a.cfg.ExternalIP
		b.Axon.IP = &ip
	}
	if a.cfg.ExternalPort != 0 {
		p := a.cfg.ExternalPort
		b.Axon.Port = &p
	}
}
