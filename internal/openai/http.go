package openai

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
)

// SSE writes a stream of server-sent events, OpenAI's way: each event one line
// "data: <JSON>" and a blank line, flushed at once; the stream ends with
// "data: [DONE]".
type SSE struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	buf []byte
}

// NewSSE returns a stream writing to w; nothing is written until Start.
func NewSSE(w http.ResponseWriter) *SSE { return &SSE{w: w, rc: http.NewResponseController(w)} }

// Start sends the stream's headers (text/event-stream, not cached, not buffered by
// proxies) with status 200; set any others on the ResponseWriter before.
func (s *SSE) Start() {
	h := s.w.Header()
	h["Content-Type"] = []string{"text/event-stream"}
	h["Cache-Control"] = []string{"no-cache"}
	h["X-Accel-Buffering"] = []string{"no"}
	s.w.WriteHeader(http.StatusOK)
}

// Send writes v as one event and flushes it; an error means the client is gone.
func (s *SSE) Send(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.data(data)
}

func (s *SSE) data(data []byte) error {
	s.buf = append(append(append(s.buf[:0], "data: "...), data...), "\n\n"...)
	if _, err := s.w.Write(s.buf); err != nil {
		return err
	}
	return s.rc.Flush()
}

// Error ends a stream already under way with an error event, {"error": e}.
func (s *SSE) Error(e *APIError) error { return s.data(ErrorBody(e)) }

// Done writes the last event, "data: [DONE]".
func (s *SSE) Done() error { return s.data([]byte("[DONE]")) }

// RequestID is the client's x-request-id when it is sane — 1 to 128 characters of
// letters, digits and -_.:/+= — else a fresh "req-" and 24 hex digits.
func RequestID(given string) string {
	if len(given) > 0 && len(given) <= 128 {
		ok := true
		for _, c := range []byte(given) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || slices.Contains([]byte("-_.:/+="), c)) {
				ok = false
				break
			}
		}
		if ok {
			return given
		}
	}
	var b [12]byte
	rand.Read(b[:])
	return "req-" + hex.EncodeToString(b[:])
}

// NewID is a fresh completion id: prefix ("chatcmpl-", "cmpl-") and 24 hex digits.
func NewID(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// StatusWriter is a ResponseWriter that remembers the status its answer was sent with
// (0 until then), for the request's log line.
type StatusWriter struct {
	http.ResponseWriter
	Status int
}

// WriteHeader records the first status and sends it.
func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records 200 if no status was sent, and writes b.
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController flush a stream through the wrapper.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
