package wire

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tessera-net/tessera/keys"
)

// AxonInfo is where a dendrite sends a call: the axon's address and hotkey (SS58), as
// served on chain.
type AxonInfo struct {
	IP     string // IPv4 or IPv6 address (or a host name)
	Port   int    // TCP port
	Hotkey string // the axon's hotkey, SS58; calls are signed for it
}

// Addr returns host:port, with brackets around an IPv6 address (which Bittensor's
// dendrite leaves out, so it cannot reach IPv6 axons).
func (a AxonInfo) Addr() string { return net.JoinHostPort(a.IP, strconv.Itoa(a.Port)) }

// DendriteConfig configures a Dendrite. The zero value of every field means the default
// given beside it.
type DendriteConfig struct {
	// ExternalIP is sent as bt_header_dendrite_ip (informational); omitted when empty.
	ExternalIP string
	// Version is sent as bt_header_dendrite_version (default BittensorVersion).
	Version int64
	// IdleConnsPerAxon is how many idle connections are kept per axon (default 16).
	IdleConnsPerAxon int
	// MaxConcurrency bounds the calls one Fanout has in flight (default 1024).
	MaxConcurrency int
	// MaxResponseBytes bounds response bodies (default 64 MiB).
	MaxResponseBytes int64
	// DialTimeout bounds connecting to an axon (default 5 s; the call's deadline also
	// applies).
	DialTimeout time.Duration
	// VerifyAxonSignatures makes the dendrite check the axon's response signature
	// against the hotkey it called; a missing or wrong one fails the call (401). Only
	// axons that sign responses (Bittensor's do; Tessera's with SignResponses) pass.
	VerifyAxonSignatures bool
	// IdleTimeout is how long an idle pooled connection may be reused (default 60 s).
	// A connection the axon closed meanwhile is noticed and the call retried once.
	IdleTimeout time.Duration

	// Registerer receives the dendrite's metrics (none registered when nil).
	Registerer prometheus.Registerer
	// Logger receives the dendrite's logs (discarded when nil).
	Logger *slog.Logger
}

// Dendrite is the client side of the wire protocol: it signs calls with a hotkey and
// sends them to axons, one or many at once, over pooled connections. It is safe for
// concurrent use.
type Dendrite struct {
	terminal
	cfg       DendriteConfig
	pool      *connPool
	bufs      bufPool
	lastNonce atomic.Int64
	schemas   sync.Map // reflect.Type → *schema
	metrics   *dendriteMetrics
	log       *slog.Logger
}

// NewDendrite makes a dendrite that signs with the hotkey pair.
func NewDendrite(pair *keys.Pair, cfg DendriteConfig) (*Dendrite, error) {
	if cfg.Version == 0 {
		cfg.Version = BittensorVersion
	}
	if cfg.IdleConnsPerAxon <= 0 {
		cfg.IdleConnsPerAxon = 16
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = 1024
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = 64 << 20
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ExternalIP != "" && (!headerSafe(cfg.ExternalIP) || len(cfg.ExternalIP) > maxIPLen) {
		return nil, fmt.Errorf("external IP %.60q is not an address", cfg.ExternalIP)
	}
	t, err := newTerminal(pair, "dendrite")
	if err != nil {
		return nil, err
	}
	m, err := newDendriteMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	d := &Dendrite{
		terminal: t,
		cfg:      cfg,
		metrics:  m,
		log:      cfg.Logger.With("component", "dendrite"),
	}
	// One pool for every axon: a few idle connections per axon (a fan-out to a
	// thousand axons keeps a thousand warm), HTTP/1.1 as Bittensor's uvicorn axons
	// speak, no compression (JSON bodies are small; gzip costs more CPU than the bytes
	// it saves on a LAN).
	d.pool = newConnPool(cfg.DialTimeout, cfg.IdleConnsPerAxon, cfg.IdleTimeout)
	return d, nil
}

// Hotkey returns the dendrite's hotkey as SS58.
func (d *Dendrite) Hotkey() string { return d.hotkey }

// UUID returns the dendrite's session id, sent with every call.
func (d *Dendrite) UUID() string { return d.uuid }

// Close closes idle pooled connections.
func (d *Dendrite) Close() {
	d.pool.closeIdle()
}

// ResponseInfo is what the axon said about its answer, from the response headers.
type ResponseInfo struct {
	StatusCode    int     // bt_header_axon_status_code, else the HTTP status
	StatusMessage string  // bt_header_axon_status_message
	ProcessTime   float64 // the axon's own measure, seconds (0 if not sent)
	AxonHotkey    string  // the hotkey the axon answered as
}

// Result is the outcome of a call to one axon.
type Result struct {
	Axon AxonInfo // the axon called
	// Synapse is the decoded response (a new value of the request's type), or nil.
	Synapse Synapse
	// StatusCode is the HTTP status, or Bittensor's client-side code when there was no
	// answer: 408 timeout, 503 unreachable, 422 unreadable response.
	StatusCode    int
	StatusMessage string // the axon's message, or the dendrite's
	// Latency is from just before signing to the end of reading the response.
	Latency time.Duration
	// ProcessTime is the axon's own measure of its work, seconds (0 if not sent).
	ProcessTime float64
	// Err is nil exactly when StatusCode is 200.
	Err error
}

// StatusError is a call that did not succeed: the status and message.
type StatusError struct {
	Code    int    // HTTP status or client-side code
	Message string // the axon's or the dendrite's message
}

// Error returns the status and message.
func (e *StatusError) Error() string {
	return fmt.Sprintf("status %d: %s", e.Code, e.Message)
}

// maxCallTimeout bounds a synapse's timeout (a larger float would overflow a Duration).
const maxCallTimeout = 24 * time.Hour

// prepared is a synapse encoded once for any number of axons: the JSON members other
// than the per-axon ones, its body hash and timeout.
type prepared struct {
	schema  *schema
	body    []byte
	members []member
	hash    string
	timeout time.Duration
}

func (d *Dendrite) schemaFor(syn Synapse) (*schema, error) {
	t := reflect.TypeOf(syn)
	if s, ok := d.schemas.Load(t); ok {
		return s.(*schema), nil
	}
	s, err := schemaOf(syn)
	if err != nil {
		return nil, err
	}
	d.schemas.Store(t, s)
	return s, nil
}

// prepare encodes syn once. The body hash covers only the synapse's own fields, so it
// is the same for every axon; the per-axon members (dendrite, axon) are spliced in by
// appendBody.
func (d *Dendrite) prepare(ctx context.Context, syn Synapse) (*prepared, error) {
	s, err := d.schemaFor(syn)
	if err != nil {
		return nil, err
	}
	timeout := float64(syn.SynapseBase().Timeout)
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	to := time.Duration(min(timeout, maxCallTimeout.Seconds()) * float64(time.Second))
	if dl, ok := ctx.Deadline(); ok {
		to = min(to, time.Until(dl))
	}
	body, err := json.Marshal(syn)
	if err != nil {
		return nil, fmt.Errorf("encode synapse %s: %w", s.name, err)
	}
	p := pyParser{src: body}
	p.skipSpace()
	if p.pos >= len(body) || body[p.pos] != '{' {
		return nil, fmt.Errorf("synapse %s does not encode as a JSON object", s.name)
	}
	ms, err := p.members(0)
	if err != nil {
		return nil, fmt.Errorf("encode synapse %s: %w", s.name, err)
	}
	hash, err := s.bodyHash(body)
	if err != nil {
		return nil, fmt.Errorf("hash synapse %s: %w", s.name, err)
	}
	return &prepared{schema: s, body: body, members: ms, hash: hash, timeout: to}, nil
}

// nextNonce returns time.Now in ns, bumped past the last nonce so that every call of
// this dendrite has a distinct, increasing nonce (Python axons want them increasing).
func (d *Dendrite) nextNonce() int64 {
	n := time.Now().UnixNano()
	for {
		last := d.lastNonce.Load()
		if n <= last {
			n = last + 1
		}
		if d.lastNonce.CompareAndSwap(last, n) {
			return n
		}
	}
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', lowerHex[c>>4], lowerHex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// appendBody builds the request body for one axon: the prepared members with name, timeout
// and the two terminals set as Bittensor's dendrite sets them, and computed_body_hash
// empty as a Python dendrite sends it.
func (p *prepared) appendBody(b []byte, d *Dendrite, axon AxonInfo, nonce int64, sig string) []byte {
	b = append(b, '{')
	for i, m := range p.members {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p.body[m.keyStart:m.keyEnd]...)
		b = append(b, ':')
		switch m.key {
		case "name":
			b = appendJSONString(b, p.schema.name)
		case "timeout":
			b = AppendPyFloat(b, p.timeout.Seconds())
		case "computed_body_hash":
			b = append(b, `""`...)
		case "dendrite":
			b = append(b, `{"status_code":null,"status_message":null,"process_time":null,"ip":`...)
			if d.cfg.ExternalIP != "" {
				b = appendJSONString(b, d.cfg.ExternalIP)
			} else {
				b = append(b, "null"...)
			}
			b = append(b, `,"port":null,"version":`...)
			b = strconv.AppendInt(b, d.cfg.Version, 10)
			b = append(b, `,"nonce":`...)
			b = strconv.AppendInt(b, nonce, 10)
			b = append(b, `,"uuid":`...)
			b = appendJSONString(b, d.uuid)
			b = append(b, `,"hotkey":`...)
			b = appendJSONString(b, d.hotkey)
			b = append(b, `,"signature":`...)
			b = appendJSONString(b, sig)
			b = append(b, '}')
		case "axon":
			b = append(b, `{"status_code":null,"status_message":null,"process_time":null,"ip":`...)
			b = appendJSONString(b, axon.IP)
			b = append(b, `,"port":`...)
			b = strconv.AppendInt(b, int64(axon.Port), 10)
			b = append(b, `,"version":null,"nonce":null,"uuid":null,"hotkey":`...)
			b = appendJSONString(b, axon.Hotkey)
			b = append(b, `,"signature":null}`...)
		default:
			b = append(b, p.body[m.start:m.end]...)
		}
	}
	return append(b, '}')
}

// Call sends syn to one axon and waits for the answer, within syn's timeout (default
// 12 s) and ctx. syn is not modified; the response is a new synapse in Result.Synapse.
func (d *Dendrite) Call(ctx context.Context, axon AxonInfo, syn Synapse) Result {
	p, err := d.prepare(ctx, syn)
	if err != nil {
		return Result{Axon: axon, StatusCode: http.StatusUnprocessableEntity, StatusMessage: err.Error(), Err: err}
	}
	return d.call(ctx, p, axon)
}

// Fanout sends syn to every axon at once (at most MaxConcurrency in flight) and returns
// one Result per axon, in the order given, when all have answered or timed out. Every
// call gets the same deadline: syn's timeout from now, or ctx's deadline if sooner.
func (d *Dendrite) Fanout(ctx context.Context, axons []AxonInfo, syn Synapse) []Result {
	results := make([]Result, len(axons))
	p, err := d.prepare(ctx, syn)
	if err != nil {
		for i, a := range axons {
			results[i] = Result{Axon: a, StatusCode: http.StatusUnprocessableEntity, StatusMessage: err.Error(), Err: err}
		}
		return results
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	sem := make(chan struct{}, d.cfg.MaxConcurrency)
	var wg sync.WaitGroup
	for i := range axons {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			results[i] = d.fail(axons[i], p, time.Now(), ctx.Err())
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = d.call(ctx, p, axons[i])
		}()
	}
	wg.Wait()
	return results
}

// sent is what a dendrite put in a request that the response does not need to repeat.
type sent struct {
	nonce int64
	sig   string
}

// headerSafe reports whether s can go into a header value as it is: printable ASCII
// without spaces. Axon addresses and hotkeys come from chain data, which anyone can
// write; this keeps them from injecting headers.
func headerSafe(s string) bool { return s != "" && printableASCII(s) }

func appendHeader(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ':', ' ')
	b = append(b, value...)
	return append(b, '\r', '\n')
}

// buildRequest signs the call for one axon and writes the whole HTTP/1.1 request, head
// and body, into one buffer (one write on the connection). Header names are lower case,
// as Bittensor's dendrite sends them.
func (d *Dendrite) buildRequest(p *prepared, axon AxonInfo) ([]byte, sent, error) {
	if axon.Hotkey == "" {
		return nil, sent{}, errors.New("axon has no hotkey to address the call to")
	}
	if !headerSafe(axon.Hotkey) || len(axon.Hotkey) > maxHotkeyLen {
		return nil, sent{}, fmt.Errorf("axon hotkey %.60q is not an SS58 address", axon.Hotkey)
	}
	if !headerSafe(axon.IP) || len(axon.IP) > maxIPLen || axon.Port <= 0 || axon.Port > 65535 {
		return nil, sent{}, fmt.Errorf("axon address %.60q port %d is not usable", axon.IP, axon.Port)
	}
	nonce := d.nextNonce()
	var msgBuf [320]byte
	msg := appendSignedMessage(msgBuf[:0], nonce, d.hotkey, axon.Hotkey, d.uuid, p.hash)
	sig := "0x" + hex.EncodeToString(d.signer.Sign(msg))
	body := p.appendBody(d.bufs.get(len(p.body)+512), d, axon, nonce, sig)
	defer d.bufs.put(body)

	b := d.bufs.get(1024 + len(body)) // given back by send once written
	b = append(b, "POST /"...)
	b = append(b, p.schema.name...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, axon.Addr()...)
	b = append(b, "\r\nUser-Agent: tessera-wire\r\nContent-Type: application/json\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, '\r', '\n')
	b = appendHeader(b, hdrName, p.schema.name)
	b = appendHeader(b, hdrTimeout, pyFloatString(p.timeout.Seconds()))
	b = appendHeader(b, hdrAxonIP, axon.IP)
	b = appendHeader(b, hdrAxonPort, strconv.Itoa(axon.Port))
	b = appendHeader(b, hdrAxonHotkey, axon.Hotkey)
	if d.cfg.ExternalIP != "" {
		b = appendHeader(b, hdrDendriteIP, d.cfg.ExternalIP)
	}
	b = appendHeader(b, hdrDendriteVersion, strconv.FormatInt(d.cfg.Version, 10))
	b = appendHeader(b, hdrDendriteNonce, strconv.FormatInt(nonce, 10))
	b = appendHeader(b, hdrDendriteUUID, d.uuid)
	b = appendHeader(b, hdrDendriteHotkey, d.hotkey)
	b = appendHeader(b, hdrDendriteSignature, sig)
	for _, kv := range p.schema.inputObj {
		b = appendHeader(b, kv[0], kv[1])
	}
	b = appendHeader(b, hdrHeaderSize, "0")
	b = appendHeader(b, hdrTotalSize, "0")
	b = appendHeader(b, hdrBodyHash, p.hash)
	b = append(b, '\r', '\n')
	b = append(b, body...)
	return b, sent{nonce: nonce, sig: sig}, nil
}

// send makes the HTTP exchange for one axon, under the prepared timeout. On success
// the caller owns the exchange and must release it; cancel ends the call's context.
func (d *Dendrite) send(ctx context.Context, p *prepared, axon AxonInfo) (*exchange, sent, context.CancelFunc, error) {
	req, s, err := d.buildRequest(p, axon)
	if err != nil {
		return nil, s, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	x, err := d.pool.roundTrip(ctx, axon.Addr(), req)
	d.bufs.put(req)
	if err != nil {
		cancel()
		return nil, s, nil, err
	}
	return x, s, cancel, nil
}

func (d *Dendrite) call(ctx context.Context, p *prepared, axon AxonInfo) Result {
	start := time.Now()
	d.metrics.inflight.Inc()
	defer d.metrics.inflight.Dec()
	x, s, cancel, err := d.send(ctx, p, axon)
	if err != nil {
		return d.fail(axon, p, start, err)
	}
	defer cancel()
	resp := x.resp
	info := responseInfo(resp)
	r := Result{Axon: axon, StatusCode: resp.StatusCode, ProcessTime: info.ProcessTime}
	if resp.StatusCode != http.StatusOK {
		r.StatusMessage = errorMessage(resp.Body)
		r.Err = &StatusError{Code: resp.StatusCode, Message: r.StatusMessage}
		x.release(drain(resp.Body))
		return d.finish(r, p, start)
	}
	if err := d.checkAxon(resp, axon); err != nil {
		x.release(false)
		r.StatusCode, r.StatusMessage, r.Err = http.StatusUnauthorized, err.Error(), err
		return d.finish(r, p, start)
	}
	body, err := readBody(resp.Body, resp.ContentLength, d.cfg.MaxResponseBytes, &d.bufs)
	if err != nil {
		x.release(false)
		return d.fail(axon, p, start, err)
	}
	x.release(drain(resp.Body))
	// The response's "dendrite" member repeats what this dendrite sent; it is wiped
	// in place and filled from the request instead of decoded.
	if body, err = wipeMembers(body, dendriteOnly); err != nil {
		r.StatusCode, r.StatusMessage = http.StatusUnprocessableEntity, "Failed to parse response: "+err.Error()
		r.Err = &StatusError{Code: r.StatusCode, Message: r.StatusMessage}
		return d.finish(r, p, start)
	}
	out := reflect.New(p.schema.typ).Interface().(Synapse)
	err = json.Unmarshal(body, out)
	d.bufs.put(body) // the decoder copies what it keeps
	if err != nil {
		r.StatusCode, r.StatusMessage = http.StatusUnprocessableEntity, "Failed to parse response: "+err.Error()
		r.Err = &StatusError{Code: r.StatusCode, Message: r.StatusMessage}
		return d.finish(r, p, start)
	}
	ob := out.SynapseBase()
	ob.Dendrite = TerminalInfo{Hotkey: &d.hotkey, Nonce: &s.nonce, UUID: &d.uuid, Version: &d.cfg.Version, Signature: &s.sig}
	if d.cfg.ExternalIP != "" {
		ob.Dendrite.IP = &d.cfg.ExternalIP
	}
	mergeAxonHeaders(ob, info)
	r.Synapse = out
	r.StatusMessage = info.StatusMessage
	if r.StatusMessage == "" {
		r.StatusMessage = "Success"
	}
	return d.finish(r, p, start)
}

// drain reads what is left of a response body (a little at most) and reports whether
// it reached the end, which is what makes the connection reusable.
func drain(body io.Reader) bool {
	n, err := io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	return err == nil && n < 64<<10
}

// Stream sends syn to one axon and returns its streaming response for reading. A
// non-200 answer is returned as a *StatusError. The stream must be closed.
func (d *Dendrite) Stream(ctx context.Context, axon AxonInfo, syn Synapse) (*Stream, error) {
	p, err := d.prepare(ctx, syn)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	x, _, cancel, err := d.send(ctx, p, axon)
	if err != nil {
		r := d.fail(axon, p, start, err)
		return nil, r.Err
	}
	resp := x.resp
	if resp.StatusCode != http.StatusOK {
		msg := errorMessage(resp.Body)
		x.release(drain(resp.Body))
		cancel()
		d.finish(Result{StatusCode: resp.StatusCode}, p, start)
		return nil, &StatusError{Code: resp.StatusCode, Message: msg}
	}
	if err := d.checkAxon(resp, axon); err != nil {
		x.release(false)
		cancel()
		return nil, &StatusError{Code: http.StatusUnauthorized, Message: err.Error()}
	}
	d.finish(Result{StatusCode: resp.StatusCode}, p, start)
	return &Stream{Header: responseInfo(resp), body: resp.Body, x: x, cancel: cancel, max: d.cfg.MaxResponseBytes}, nil
}

// checkAxon verifies the axon's response signature when the dendrite is configured to.
func (d *Dendrite) checkAxon(resp *http.Response, axon AxonInfo) error {
	if !d.cfg.VerifyAxonSignatures {
		return nil
	}
	h := resp.Header
	sigHex, nonceS, uuid := h.Get(hdrAxonSignature), h.Get(hdrAxonNonce), h.Get(hdrAxonUUID)
	if sigHex == "" || nonceS == "" || uuid == "" {
		return fmt.Errorf("axon %s did not sign its response", axon.Addr())
	}
	nonce, err := strconv.ParseInt(nonceS, 10, 64)
	if err != nil {
		return fmt.Errorf("axon %s sent a malformed response nonce %.40q", axon.Addr(), nonceS)
	}
	sig, err := hex.DecodeString(trim0x(sigHex))
	if err != nil {
		return fmt.Errorf("axon %s sent a malformed response signature", axon.Addr())
	}
	v, err := d.keys.get(axon.Hotkey)
	if err != nil {
		return fmt.Errorf("axon hotkey %q: %w", axon.Hotkey, err)
	}
	var buf [256]byte
	if !v.VerifyAllowWrapped(appendAxonMessage(buf[:0], nonce, d.hotkey, axon.Hotkey, uuid), sig) {
		return fmt.Errorf("axon %s answered with a signature that is not from hotkey %s", axon.Addr(), axon.Hotkey)
	}
	return nil
}

func trim0x(s string) string {
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return s[2:]
	}
	return s
}

func responseInfo(resp *http.Response) ResponseInfo {
	h := resp.Header
	info := ResponseInfo{StatusCode: resp.StatusCode, StatusMessage: h.Get(hdrAxonStatusMessage), AxonHotkey: h.Get(hdrAxonHotkey)}
	if c, err := strconv.Atoi(h.Get(hdrAxonStatusCode)); err == nil {
		info.StatusCode = c
	}
	if pt, err := strconv.ParseFloat(h.Get(hdrAxonProcessTime), 64); err == nil {
		info.ProcessTime = pt
	}
	return info
}

// mergeAxonHeaders fills the response synapse's axon terminal from the headers where
// the body left it empty, as Bittensor's process_server_response merges them.
func mergeAxonHeaders(b *Base, info ResponseInfo) {
	if b.Axon.StatusCode == nil {
		c := info.StatusCode
		b.Axon.StatusCode = &c
	}
	if b.Axon.StatusMessage == nil && info.StatusMessage != "" {
		m := info.StatusMessage
		b.Axon.StatusMessage = &m
	}
	if b.Axon.ProcessTime == nil && info.ProcessTime != 0 {
		pt := Float(info.ProcessTime)
		b.Axon.ProcessTime = &pt
	}
	if b.Axon.Hotkey == nil && info.AxonHotkey != "" {
		hk := info.AxonHotkey
		b.Axon.Hotkey = &hk
	}
}

// errorMessage reads an error body: {"message": …} from Bittensor and Tessera axons,
// {"detail": …} from FastAPI's validation errors, else the text itself (bounded).
func errorMessage(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 64<<10))
	var m struct {
		Message *string         `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(b, &m) == nil {
		if m.Message != nil {
			return *m.Message
		}
		if len(m.Detail) > 0 {
			return string(m.Detail)
		}
	}
	return string(bytes.TrimSpace(b))
}

// fail maps a transport error to Bittensor's client-side codes (DENDRITE_ERROR_MAPPING).
func (d *Dendrite) fail(axon AxonInfo, p *prepared, start time.Time, err error) Result {
	r := Result{Axon: axon}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		r.StatusCode = http.StatusRequestTimeout
		r.StatusMessage = fmt.Sprintf("Request timeout after %s seconds", pyFloatString(p.timeout.Seconds()))
	case errors.Is(err, context.Canceled):
		r.StatusCode = http.StatusRequestTimeout
		r.StatusMessage = "Request cancelled"
	case errors.Is(err, syscall.ECONNREFUSED) || isDialError(err):
		r.StatusCode = http.StatusServiceUnavailable
		r.StatusMessage = fmt.Sprintf("Service unavailable at %s/%s", axon.Addr(), p.schema.name)
	case errors.Is(err, errBodyTooLarge):
		r.StatusCode = http.StatusBadRequest
		r.StatusMessage = fmt.Sprintf("Payload error: response exceeds %d bytes", d.cfg.MaxResponseBytes)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
		r.StatusCode = http.StatusServiceUnavailable
		r.StatusMessage = "Service disconnected"
	default:
		r.StatusCode = http.StatusInternalServerError
		r.StatusMessage = "Client error: " + err.Error()
	}
	r.Err = &StatusError{Code: r.StatusCode, Message: r.StatusMessage + " (" + err.Error() + ")"}
	return d.finish(r, p, start)
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func (d *Dendrite) finish(r Result, p *prepared, start time.Time) Result {
	r.Latency = time.Since(start)
	d.metrics.requests.WithLabelValues(p.schema.name, strconv.Itoa(r.StatusCode)).Inc()
	d.metrics.duration.WithLabelValues(p.schema.name).Observe(r.Latency.Seconds())
	if r.Err != nil {
		d.log.Debug("call failed", "synapse", p.schema.name, "axon", r.Axon.Addr(), "status", r.StatusCode, "err", r.Err)
	}
	return r
}
