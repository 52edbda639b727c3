package wire

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Header names. Bittensor's Python dendrite reads response headers case-sensitively, so
// these are written in lower case, straight into the header map (http.Header.Set would
// turn them into "Bt_header_…", which a Python dendrite silently ignores). Incoming
// headers are canonicalised by net/http; the canon* names below are what to look up.
const (
	hdrName       = "name"
	hdrTimeout    = "timeout"
	hdrTotalSize  = "total_size"
	hdrHeaderSize = "header_size"
	hdrBodyHash   = "computed_body_hash"

	prefixAxon     = "bt_header_axon_"
	prefixDendrite = "bt_header_dendrite_"
	prefixInput    = "bt_header_input_obj_"

	hdrAxonIP            = prefixAxon + "ip"
	hdrAxonPort          = prefixAxon + "port"
	hdrAxonHotkey        = prefixAxon + "hotkey"
	hdrAxonVersion       = prefixAxon + "version"
	hdrAxonNonce         = prefixAxon + "nonce"
	hdrAxonUUID          = prefixAxon + "uuid"
	hdrAxonSignature     = prefixAxon + "signature"
	hdrAxonStatusCode    = prefixAxon + "status_code"
	hdrAxonStatusMessage = prefixAxon + "status_message"
	hdrAxonProcessTime   = prefixAxon + "process_time"

	hdrDendriteIP        = prefixDendrite + "ip"
	hdrDendritePort      = prefixDendrite + "port"
	hdrDendriteVersion   = prefixDendrite + "version"
	hdrDendriteNonce     = prefixDendrite + "nonce"
	hdrDendriteUUID      = prefixDendrite + "uuid"
	hdrDendriteHotkey    = prefixDendrite + "hotkey"
	hdrDendriteSignature = prefixDendrite + "signature"

	// Canonical (net/http) forms of the request headers an axon reads. Looking them up
	// directly in the map avoids canonicalising the key on every request.
	canonTimeout           = "Timeout"
	canonBodyHash          = "Computed_body_hash"
	canonAxonHotkey        = "Bt_header_axon_hotkey"
	canonDendriteIP        = "Bt_header_dendrite_ip"
	canonDendritePort      = "Bt_header_dendrite_port"
	canonDendriteVersion   = "Bt_header_dendrite_version"
	canonDendriteNonce     = "Bt_header_dendrite_nonce"
	canonDendriteUUID      = "Bt_header_dendrite_uuid"
	canonDendriteHotkey    = "Bt_header_dendrite_hotkey"
	canonDendriteSignature = "Bt_header_dendrite_signature"
)

// Limits on header values an axon accepts. They are generous for every value a Bittensor
// peer sends and keep hostile values from costing anything.
const (
	maxHotkeyLen = 64  // SS58 of a 32-byte key is 47–49 characters
	maxUUIDLen   = 64  // uuid1/uuid4 text is 36
	maxIPLen     = 64  // an IPv6 address with a zone fits
	maxNameLen   = 128 // a synapse class name
)

// HeaderError is a request header an axon cannot accept. Missing authentication headers
// answer 401, as in Bittensor; malformed values answer 400 (Bittensor answers 500).
type HeaderError struct {
	Header  string // the header, in its wire (lower-case) form
	Missing bool   // true: absent; false: present but malformed
	Reason  string // what is wrong, in words
}

// Error says which header is wrong and how.
func (e *HeaderError) Error() string {
	if e.Missing {
		return e.Reason
	}
	return fmt.Sprintf("malformed header %s: %s", e.Header, e.Reason)
}

// Status is the HTTP status the error answers with.
func (e *HeaderError) Status() int {
	if e.Missing {
		return http.StatusUnauthorized
	}
	return http.StatusBadRequest
}

// requestHeaders are the parsed request headers an axon authenticates.
type requestHeaders struct {
	hotkey      string
	nonce       int64
	uuid        string
	signature   [64]byte
	sigText     string // the header as sent
	bodyHash    string
	axonHotkey  string // "" when the request does not say
	timeout     float64
	version     int64 // 0 when absent
	hasVersion  bool
	dendriteIP  string
	dendritePrt int
	hasPort     bool
}

// single returns the one value of header h, "" if absent, and an error if it is given
// more than once (a proxy or a client that appends rather than sets is not guessed at).
func single(h http.Header, canon, wireName string) (string, error) {
	vs := h[canon]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	default:
		return "", &HeaderError{Header: wireName, Reason: fmt.Sprintf("given %d times", len(vs))}
	}
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// parseRequestHeaders reads and checks the authentication headers. The order of the
// checks gives Bittensor's messages for missing values: hotkey, then nonce, then
// signature.
func parseRequestHeaders(h http.Header) (requestHeaders, error) {
	var r requestHeaders
	var err error
	if r.hotkey, err = single(h, canonDendriteHotkey, hdrDendriteHotkey); err != nil {
		return r, err
	}
	if r.hotkey == "" {
		return r, &HeaderError{Header: hdrDendriteHotkey, Missing: true, Reason: "No SS58 formatted address or public key provided."}
	}
	if len(r.hotkey) > maxHotkeyLen || !printableASCII(r.hotkey) {
		return r, &HeaderError{Header: hdrDendriteHotkey, Reason: "not an SS58 address"}
	}

	nonce, err := single(h, canonDendriteNonce, hdrDendriteNonce)
	if err != nil {
		return r, err
	}
	if nonce == "" {
		return r, &HeaderError{Header: hdrDendriteNonce, Missing: true, Reason: "Missing Nonce"}
	}
	if r.nonce, err = strconv.ParseInt(nonce, 10, 64); err != nil || r.nonce <= 0 {
		return r, &HeaderError{Header: hdrDendriteNonce, Reason: fmt.Sprintf("%.40q is not a positive integer of nanoseconds", nonce)}
	}

	sig, err := single(h, canonDendriteSignature, hdrDendriteSignature)
	if err != nil {
		return r, err
	}
	if sig == "" {
		return r, &HeaderError{Header: hdrDendriteSignature, Missing: true, Reason: "Missing signature"}
	}
	hexSig := strings.TrimPrefix(sig, "0x")
	if len(hexSig) != 128 {
		return r, &HeaderError{Header: hdrDendriteSignature, Reason: fmt.Sprintf("want 0x and 128 hex digits, got %d characters", len(sig))}
	}
	r.sigText = sig
	if _, err := hex.Decode(r.signature[:], []byte(hexSig)); err != nil {
		return r, &HeaderError{Header: hdrDendriteSignature, Reason: "not hex"}
	}

	if r.uuid, err = single(h, canonDendriteUUID, hdrDendriteUUID); err != nil {
		return r, err
	}
	if r.uuid == "" {
		return r, &HeaderError{Header: hdrDendriteUUID, Missing: true, Reason: "Missing uuid"}
	}
	if len(r.uuid) > maxUUIDLen || !printableASCII(r.uuid) || strings.Contains(r.uuid, ".") {
		return r, &HeaderError{Header: hdrDendriteUUID, Reason: "want a UUID of at most 64 printable characters without dots"}
	}

	if r.bodyHash, err = single(h, canonBodyHash, hdrBodyHash); err != nil {
		return r, err
	}
	if r.bodyHash == "" {
		return r, &HeaderError{Header: hdrBodyHash, Missing: true, Reason: "Missing computed_body_hash"}
	}
	if len(r.bodyHash) != 64 || !isLowerHex(r.bodyHash) {
		return r, &HeaderError{Header: hdrBodyHash, Reason: "want 64 lower-case hex digits (SHA3-256)"}
	}

	if r.axonHotkey, err = single(h, canonAxonHotkey, hdrAxonHotkey); err != nil {
		return r, err
	}
	if len(r.axonHotkey) > maxHotkeyLen || !printableASCII(r.axonHotkey) {
		return r, &HeaderError{Header: hdrAxonHotkey, Reason: "not an SS58 address"}
	}

	r.timeout = DefaultTimeout
	t, err := single(h, canonTimeout, hdrTimeout)
	if err != nil {
		return r, err
	}
	if t != "" {
		if r.timeout, err = strconv.ParseFloat(t, 64); err != nil || !(r.timeout > 0) || math.IsInf(r.timeout, 0) {
			return r, &HeaderError{Header: hdrTimeout, Reason: fmt.Sprintf("%.40q is not a positive number of seconds", t)}
		}
	}

	v, err := single(h, canonDendriteVersion, hdrDendriteVersion)
	if err != nil {
		return r, err
	}
	if v != "" {
		if r.version, err = strconv.ParseInt(v, 10, 64); err != nil || r.version < 0 {
			return r, &HeaderError{Header: hdrDendriteVersion, Reason: fmt.Sprintf("%.40q is not a version integer", v)}
		}
		r.hasVersion = true
	}

	if r.dendriteIP, err = single(h, canonDendriteIP, hdrDendriteIP); err != nil {
		return r, err
	}
	if len(r.dendriteIP) > maxIPLen || !printableASCII(r.dendriteIP) {
		r.dendriteIP = "" // informational only; never trusted, never fatal
	}
	if p, _ := single(h, canonDendritePort, hdrDendritePort); p != "" {
		if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 65535 {
			r.dendritePrt, r.hasPort = n, true
		}
	}
	return r, nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// appendSignedMessage appends the message a dendrite signs:
// "{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}".
func appendSignedMessage(b []byte, nonce int64, dendriteHotkey, axonHotkey, uuid, bodyHash string) []byte {
	b = strconv.AppendInt(b, nonce, 10)
	b = append(b, '.')
	b = append(b, dendriteHotkey...)
	b = append(b, '.')
	b = append(b, axonHotkey...)
	b = append(b, '.')
	b = append(b, uuid...)
	b = append(b, '.')
	return append(b, bodyHash...)
}

// appendAxonMessage appends the message a Bittensor axon signs on its copy of the synapse:
// "{axon_nonce}.{dendrite_hotkey}.{axon_hotkey}.{axon_uuid}".
func appendAxonMessage(b []byte, nonce int64, dendriteHotkey, axonHotkey, uuid string) []byte {
	b = strconv.AppendInt(b, nonce, 10)
	b = append(b, '.')
	b = append(b, dendriteHotkey...)
	b = append(b, '.')
	b = append(b, axonHotkey...)
	b = append(b, '.')
	return append(b, uuid...)
}

// pyFloatString is Python's str(float(x)), the rendering of timeout and process_time
// in headers.
func pyFloatString(x float64) string {
	var b [32]byte
	return string(AppendPyFloat(b[:0], x))
}

// setRaw sets a header without canonicalising its name.
func setRaw(h http.Header, name, value string) {
	h[name] = []string{value}
}

// headerSetter sets headers without canonicalising their names, taking the one-value
// slices from a shared backing array: a call sets some twenty headers, and this makes
// that one allocation instead of twenty. Each slice is capped at its one element, so
// an append by anyone else copies instead of overwriting a neighbour.
type headerSetter struct {
	h    http.Header
	vals []string
}

func newHeaderSetter(h http.Header, n int) headerSetter {
	return headerSetter{h: h, vals: make([]string, 0, n)}
}

func (s *headerSetter) set(name, value string) {
	if len(s.vals) == cap(s.vals) {
		s.vals = make([]string, 0, 8)
	}
	s.vals = append(s.vals, value)
	n := len(s.vals)
	s.h[name] = s.vals[n-1 : n : n]
}

// HeaderInputs does what Bittensor's Synapse.parse_headers_to_inputs does: it gathers
// the bt_header_axon_* and bt_header_dendrite_* headers into "axon" and "dendrite" maps
// (values as strings), decodes each bt_header_input_obj_* header (base64 of JSON) into
// its field, and copies timeout, name, header_size, total_size and computed_body_hash
// when present. Header names are matched in any case. It is for inspecting requests
// and for tools; the axon itself reads only what it authenticates.
func HeaderInputs(h http.Header) (map[string]any, error) {
	axon, dendrite := map[string]any{}, map[string]any{}
	out := map[string]any{"axon": axon, "dendrite": dendrite}
	for k, vs := range h {
		if len(vs) == 0 {
			continue
		}
		key, v := strings.ToLower(k), vs[0]
		switch {
		case strings.HasPrefix(key, prefixAxon):
			axon[key[len(prefixAxon):]] = v
		case strings.HasPrefix(key, prefixDendrite):
			dendrite[key[len(prefixDendrite):]] = v
		case strings.HasPrefix(key, prefixInput):
			raw, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return nil, &HeaderError{Header: key, Reason: "not base64: " + err.Error()}
			}
			var val any
			if err := json.Unmarshal(raw, &val); err != nil {
				return nil, &HeaderError{Header: key, Reason: "not base64 of JSON: " + err.Error()}
			}
			out[key[len(prefixInput):]] = val
		case key == hdrTimeout || key == hdrName || key == hdrHeaderSize || key == hdrTotalSize || key == hdrBodyHash:
			out[key] = v
		}
	}
	return out, nil
}

// bufPool recycles the byte buffers of request and response bodies, which are the bulk
// of what a call allocates; fewer bytes allocated means fewer garbage collections on a
// busy axon or dendrite. Buffers that grew past 64 KiB are dropped, not kept.
type bufPool struct{ p sync.Pool }

const maxPooledBuf = 64 << 10

func (bp *bufPool) get(n int) []byte {
	if v, ok := bp.p.Get().(*[]byte); ok && cap(*v) >= n {
		return (*v)[:0]
	}
	return make([]byte, 0, max(n, 1024))
}

func (bp *bufPool) put(b []byte) {
	if cap(b) > maxPooledBuf || cap(b) == 0 {
		return
	}
	b = b[:0]
	bp.p.Put(&b)
}
