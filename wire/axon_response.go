package wire

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// This file writes the axon's answers: the synapse a handler filled in, with the
// headers a Python dendrite reads, or an error; and counts each answer.

// writeError answers {"message": …} with the status, as Bittensor's create_error_response
// does, with the axon status headers a Python dendrite merges into its synapse.
func (a *Axon) writeError(w http.ResponseWriter, rt *route, name string, status int, message string, start time.Time) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	setRaw(h, hdrName, name)
	setRaw(h, hdrAxonStatusCode, strconv.Itoa(status))
	setRaw(h, hdrAxonStatusMessage, message)
	setRaw(h, hdrAxonHotkey, a.hotkey)
	setRaw(h, hdrAxonProcessTime, pyFloatString(time.Since(start).Seconds()))
	body, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{message})
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
	a.count(rt, name, status, start)
}

func (a *Axon) count(rt *route, name string, status int, start time.Time) {
	if rt == nil {
		a.metrics.requests.WithLabelValues(name, strconv.Itoa(status)).Inc()
		return
	}
	rt.reqMu.RLock()
	c := rt.reqs[status]
	rt.reqMu.RUnlock()
	if c == nil {
		c = a.metrics.requests.WithLabelValues(rt.name, strconv.Itoa(status))
		rt.reqMu.Lock()
		rt.reqs[status] = c
		rt.reqMu.Unlock()
	}
	c.Inc()
	rt.dur.Observe(time.Since(start).Seconds())
}

// runHandler runs fn in its own goroutine, turning a panic into an error, and returns a
// channel that yields its result. The slot is released when fn returns.
func (a *Axon) runHandler(fn func() error) <-chan error {
	done := make(chan error, 1)
	a.metrics.inflight.Inc()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("handler panicked: %v", p)
			}
			a.metrics.inflight.Dec()
			a.sched.release()
		}()
		done <- fn()
	}()
	return done
}

func (a *Axon) serveUnary(ctx context.Context, w http.ResponseWriter, rt *route, call *Call, syn Synapse, start time.Time) {
	done := a.runHandler(func() error { return rt.handler.unary(ctx, call, syn) })
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		// Cut off: answer now; the handler's context is cancelled and whatever it still
		// does to syn is never read.
		a.refuse(w, rt, call.Synapse, reject{http.StatusRequestTimeout,
			fmt.Sprintf("Request timeout after %s seconds: the handler did not finish", pyFloatString(call.Timeout.Seconds())), "timeout"}, start)
		return
	}
	if err != nil {
		a.handlerError(w, rt, call, err, start)
		return
	}
	a.writeSynapse(w, rt, call, syn, start)
}

func (a *Axon) handlerError(w http.ResponseWriter, rt *route, call *Call, err error, start time.Time) {
	var he *Error
	if errors.As(err, &he) && he.Code >= 400 && he.Code <= 599 {
		a.writeError(w, rt, call.Synapse, he.Code, he.Message, start)
		return
	}
	id := newUUID4()
	a.log.Error("handler failed", "synapse", call.Synapse, "hotkey", call.Hotkey, "error_id", id, "err", err)
	a.writeError(w, rt, call.Synapse, http.StatusInternalServerError, "Internal Server Error #"+id, start)
}

// responseHeaders sets the headers Bittensor's synapse_to_response sends: the synapse's
// to_headers() with the axon status filled in. Names are lower case on the wire.
func (a *Axon) responseHeaders(h http.Header, rt *route, b *Base, status int, message string, start time.Time, bodyHash string) {
	hs := newHeaderSetter(h, 16)
	hs.set(hdrName, rt.name)
	hs.set(hdrTimeout, pyFloatString(float64(b.Timeout)))
	hs.set(hdrAxonStatusCode, strconv.Itoa(status))
	hs.set(hdrAxonStatusMessage, message)
	hs.set(hdrAxonProcessTime, pyFloatString(time.Since(start).Seconds()))
	hs.set(hdrAxonHotkey, a.hotkey)
	hs.set(hdrAxonVersion, strconv.Itoa(BittensorVersion))
	if a.cfg.ExternalIP != "" {
		hs.set(hdrAxonIP, a.cfg.ExternalIP)
	}
	if a.cfg.ExternalPort != 0 {
		hs.set(hdrAxonPort, strconv.Itoa(a.cfg.ExternalPort))
	}
	// Bittensor also echoes the dendrite's own fields (bt_header_dendrite_*) back;
	// a Python dendrite merges them over the identical values it sent, so they are
	// left out: six fewer headers to write, clone and parse on every call.
	d := &b.Dendrite
	if a.cfg.SignResponses && d.Hotkey != nil {
		nonce := a.cfg.Now().UnixNano()
		var buf [256]byte
		sig := a.signer.Sign(appendAxonMessage(buf[:0], nonce, *d.Hotkey, a.hotkey, a.uuid))
		hs.set(hdrAxonNonce, strconv.FormatInt(nonce, 10))
		hs.set(hdrAxonUUID, a.uuid)
		hs.set(hdrAxonSignature, "0x"+hex.EncodeToString(sig))
	}
	// Bittensor's responses also repeat the bt_header_input_obj_* headers, which only
	// an axon reads; they are left out.
	hs.set(hdrHeaderSize, "0")
	hs.set(hdrTotalSize, "0")
	hs.set(hdrBodyHash, bodyHash)
}

func (a *Axon) writeSynapse(w http.ResponseWriter, rt *route, call *Call, syn Synapse, start time.Time) {
	b := syn.SynapseBase()
	status, message := http.StatusOK, "Success"
	if b.Axon.StatusCode != nil && *b.Axon.StatusCode >= 400 && *b.Axon.StatusCode <= 599 {
		// Bittensor lets forward_fn set axon.status_code to answer with another status.
		status = *b.Axon.StatusCode
		message = ""
		if b.Axon.StatusMessage != nil {
			message = *b.Axon.StatusMessage
		}
		a.writeError(w, rt, call.Synapse, status, message, start)
		return
	}
	pt := Float(time.Since(start).Seconds())
	b.Axon.StatusCode, b.Axon.StatusMessage, b.Axon.ProcessTime = &status, &message, &pt
	buf := bytes.NewBuffer(a.bufs.get(1024))
	if err := json.NewEncoder(buf).Encode(syn); err != nil {
		a.handlerError(w, rt, call, fmt.Errorf("encode response: %w", err), start)
		return
	}
	body := buf.Bytes()
	defer a.bufs.put(body) // written (copied into the connection's buffer) by then
	hash, err := rt.schema.bodyHash(body)
	if err != nil {
		a.handlerError(w, rt, call, fmt.Errorf("hash response: %w", err), start)
		return
	}
	h := w.Header()
	a.responseHeaders(h, rt, b, status, message, start, hash)
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
	a.count(rt, call.Synapse, status, start)
}
