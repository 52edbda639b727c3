// Package signed is the inference network's signed HTTP requests: a user's request to
// an API node, an API node's forward to an executor, and an API node's management call
// to its MLNodes all carry an account, a timestamp and an sr25519 signature over
// inference.RequestPayload (the method, the path, the timestamp and the body's SHA-256).
//
// A Verifier refuses, each with its own Code: a request without the headers, a
// malformed account or signature, a signature that does not verify, a timestamp older
// than the window (60 s by default) or further ahead than the advance (30 s), a
// signature seen before within the window (replay), and a signer the caller does not
// allow. The replay cache holds each accepted signature's id until its timestamp leaves
// the window, so its size is bounded by the request rate times the window. The clock is
// injected.
package signed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/inference"
)

// The headers of a signed request.
const (
	HeaderAccount   = "X-Tessera-Account"   // the signer, SS58
	HeaderTimestamp = "X-Tessera-Timestamp" // Unix nanoseconds, decimal
	HeaderSignature = "X-Tessera-Signature" // 64 bytes, hex
)

// Code says why a request was refused.
type Code string

// The refusals.
const (
	CodeMissing      Code = "missing_signature"   // a header is absent
	CodeMalformed    Code = "malformed_signature" // an account, timestamp or signature that does not parse
	CodeBadSignature Code = "bad_signature"       // the signature does not verify
	CodeStale        Code = "stale_timestamp"     // older than the window
	CodeFuture       Code = "future_timestamp"    // further ahead than the advance
	CodeReplayed     Code = "replayed_request"    // the same signature was accepted before
	CodeForbidden    Code = "forbidden_signer"    // a valid signature by an account not allowed here
)

// Error is a refusal: its Code and what was wrong.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Msg }

func errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Msg: fmt.Sprintf(format, args...)}
}

// Request is a verified (or freshly signed) request's signature data.
type Request struct {
	Account   keys.PublicKey
	Timestamp int64
	Signature []byte
	BodyHash  inference.Hash
}

// ID is the request's id: inference.RequestID of its signature.
func (r Request) ID() inference.Hash { return inference.RequestID(r.Signature) }

// Headers sets r's three headers on h.
func (r Request) Headers(h http.Header) {
	h.Set(HeaderAccount, r.Account.String())
	h.Set(HeaderTimestamp, strconv.FormatInt(r.Timestamp, 10))
	h.Set(HeaderSignature, hex.EncodeToString(r.Signature))
}

// Sign signs a request of method to path with body, at now, by k.
func Sign(k *keys.Pair, method, path string, body []byte, now time.Time) Request {
	ts := now.UnixNano()
	bh := inference.Hash(sha256.Sum256(body))
	return Request{Account: k.Public(), Timestamp: ts, BodyHash: bh,
		Signature: k.Sign(inference.RequestPayload(method, path, ts, bh))}
}

// SignRequest signs req (whose body is body) by k at now and sets its headers. The path
// signed is req.URL.Path.
func SignRequest(req *http.Request, body []byte, k *keys.Pair, now time.Time) Request {
	s := Sign(k, req.Method, req.URL.Path, body, now)
	s.Headers(req.Header)
	return s
}

// NewPost returns a JSON POST of body to url, signed by k at now: how a user, the
// devnet's load and the CLI send a request to an API node.
func NewPost(ctx context.Context, url string, body []byte, k *keys.Pair, now time.Time) (*http.Request, Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, Request{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, SignRequest(req, body, k, now), nil
}

// Parse reads the three headers without checking the signature.
func Parse(h http.Header) (Request, *Error) {
	acc, ts, sig := h.Get(HeaderAccount), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	switch {
	case acc == "":
		return Request{}, errorf(CodeMissing, "the request is not signed: no %s header", HeaderAccount)
	case ts == "":
		return Request{}, errorf(CodeMissing, "the request is not signed: no %s header", HeaderTimestamp)
	case sig == "":
		return Request{}, errorf(CodeMissing, "the request is not signed: no %s header", HeaderSignature)
	}
	var r Request
	pub, err := keys.ParsePublicKey(acc)
	if err != nil {
		return Request{}, errorf(CodeMalformed, "%s is not an account: %v", HeaderAccount, err)
	}
	r.Account = pub
	if r.Timestamp, err = strconv.ParseInt(ts, 10, 64); err != nil {
		return Request{}, errorf(CodeMalformed, "%s %q is not Unix nanoseconds", HeaderTimestamp, clip(ts))
	}
	if r.Signature, err = hex.DecodeString(sig); err != nil || len(r.Signature) != keys.SignatureSize {
		return Request{}, errorf(CodeMalformed, "%s is not %d bytes of hex", HeaderSignature, keys.SignatureSize)
	}
	return r, nil
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// Verifier checks signed requests. Its zero value is not usable: use NewVerifier.
type Verifier struct {
	// Window is how old a timestamp may be, and how long a signature is remembered.
	Window time.Duration
	// Advance is how far ahead of the verifier's clock a timestamp may be.
	Advance time.Duration

	now  func() time.Time
	mu   sync.Mutex
	seen map[inference.Hash]int64 // request id → the timestamp after which it may be forgotten
	next int64                    // when the cache is next swept
}

// NewVerifier returns a verifier with Gonka's window (60 s back, 30 s ahead) on the
// clock now (nil: time.Now).
func NewVerifier(now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{Window: 60 * time.Second, Advance: 30 * time.Second, now: now, seen: map[inference.Hash]int64{}}
}

// Verify checks the signature of a request of method to path with body and headers h,
// then whether allow (nil: anyone) accepts its signer, then the timestamp, then that it
// was not seen before, and remembers it. Nothing is remembered for a refused request.
func (v *Verifier) Verify(method, path string, h http.Header, body []byte, allow func(keys.PublicKey) bool) (Request, *Error) {
	r, e := Parse(h)
	if e != nil {
		return Request{}, e
	}
	return r, v.Check(method, path, r, body, allow)
}

// Check is Verify for a request already parsed.
func (v *Verifier) Check(method, path string, r Request, body []byte, allow func(keys.PublicKey) bool) *Error {
	r.BodyHash = sha256.Sum256(body)
	if !r.Account.Verify(inference.RequestPayload(method, path, r.Timestamp, r.BodyHash), r.Signature) {
		return errorf(CodeBadSignature, "the signature by %s does not verify for %s %s and this body", r.Account, method, path)
	}
	if allow != nil && !allow(r.Account) {
		return errorf(CodeForbidden, "%s may not make this request", r.Account)
	}
	now := v.now().UnixNano()
	switch {
	case r.Timestamp < now-int64(v.Window):
		return errorf(CodeStale, "the timestamp is %s old, more than the %s window", time.Duration(now-r.Timestamp).Round(time.Millisecond), v.Window)
	case r.Timestamp > now+int64(v.Advance):
		return errorf(CodeFuture, "the timestamp is %s ahead, more than the %s allowed", time.Duration(r.Timestamp-now).Round(time.Millisecond), v.Advance)
	}
	id := r.ID()
	v.mu.Lock()
	defer v.mu.Unlock()
	if now >= v.next {
		for k, exp := range v.seen {
			if exp < now {
				delete(v.seen, k)
			}
		}
		v.next = now + int64(v.Window)/4
	}
	if _, dup := v.seen[id]; dup {
		return errorf(CodeReplayed, "this signature was used before (request %x)", id[:8])
	}
	v.seen[id] = r.Timestamp + int64(v.Window) + int64(v.Advance)
	return nil
}
