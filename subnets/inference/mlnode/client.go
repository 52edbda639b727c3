package mlnode

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/subnets/inference/signed"
)

// Client calls one MLNode as its API node: every request is signed (package signed) by
// Key, the account the MLNode was started with (--api-node).
type Client struct {
	Management string // the management listener's base URL, e.g. http://10.0.0.5:8080
	Inference  string // the inference listener's base URL
	Key        *keys.Pair
	HTTP       *http.Client     // nil: http.DefaultClient
	Now        func() time.Time // the signing clock (nil: time.Now)
}

// maxAnswer bounds a management answer the client reads.
const maxAnswer = 64 << 20

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// do sends a signed request to base+path (query appended, unsigned) and returns the
// answer, whatever its status.
func (c *Client) do(ctx context.Context, method, base, path, query string, body []byte) (*http.Response, error) {
	if c.Key == nil {
		return nil, fmt.Errorf("mlnode client: no signing key")
	}
	if base == "" {
		return nil, fmt.Errorf("mlnode client: no URL for %s", path)
	}
	u := strings.TrimRight(base, "/") + path
	if query != "" {
		u += "?" + query
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("mlnode client: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	signed.SignRequest(req, body, c.Key, c.now())
	return c.http().Do(req)
}

// call sends in (nil: no body) to a management route and decodes the 2xx answer into
// out (nil: discarded); another status is an *Error.
func (c *Client) call(ctx context.Context, method, path, query string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("mlnode client: %w", err)
		}
	}
	resp, err := c.do(ctx, method, c.Management, path, query, body)
	if err != nil {
		return fmt.Errorf("mlnode %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("mlnode %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return ErrorOf(resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("mlnode %s %s: the answer is not the expected JSON: %w", method, path, err)
	}
	return nil
}

// ErrorOf reads an OpenAI-style error body answered with status.
func ErrorOf(status int, body []byte) *Error {
	var eb struct {
		Error struct {
			Message string  `json:"message"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	e := &Error{Status: status}
	if json.Unmarshal(body, &eb) == nil && eb.Error.Message != "" {
		e.Message = eb.Error.Message
		if eb.Error.Code != nil {
			e.Code = *eb.Error.Code
		}
		return e
	}
	e.Message = strings.TrimSpace(string(body))
	if len(e.Message) > 200 {
		e.Message = e.Message[:200] + "…"
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// State is GET /api/v1/state.
func (c *Client) State(ctx context.Context) (State, error) {
	var s State
	err := c.call(ctx, http.MethodGet, PathState, "", nil, &s)
	return s, err
}

// Stop is POST /api/v1/stop: inference down and PoC stopped.
func (c *Client) Stop(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, PathStop, "", struct{}{}, nil)
}

// InferenceUp is POST /api/v1/inference/up: serve model with the epoch's args.
func (c *Client) InferenceUp(ctx context.Context, model string, args []string) error {
	return c.call(ctx, http.MethodPost, PathInferenceUp, "", InferenceUp{Model: model, Args: args}, nil)
}

// InferenceDown is POST /api/v1/inference/down.
func (c *Client) InferenceDown(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, PathInferenceDown, "", struct{}{}, nil)
}

// PoCGenerate is POST /api/v1/poc/generate: it returns once the MLNode has started
// mining (202); PoCStatus follows it.
func (c *Client) PoCGenerate(ctx context.Context, job PoCJob) error {
	return c.call(ctx, http.MethodPost, PathPoCGenerate, "", job, nil)
}

// PoCStatus is GET /api/v1/poc/status?epoch=N.
func (c *Client) PoCStatus(ctx context.Context, epoch uint64) (PoCStatus, error) {
	var s PoCStatus
	err := c.call(ctx, http.MethodGet, PathPoCStatus, "epoch="+strconv.FormatUint(epoch, 10), nil, &s)
	return s, err
}

// Proofs is POST /api/v1/poc/proofs: the proofs of leaves of epoch's tree, each in
// poc.Proof's binary form, nil where the node has none.
func (c *Client) Proofs(ctx context.Context, epoch uint64, leaves []uint64) ([][]byte, error) {
	var r ProofsResponse
	if err := c.call(ctx, http.MethodPost, PathPoCProofs, "", ProofsRequest{Epoch: epoch, Leaves: leaves}, &r); err != nil {
		return nil, err
	}
	if len(r.Proofs) != len(leaves) {
		return nil, fmt.Errorf("mlnode proofs: %d answered for %d leaves", len(r.Proofs), len(leaves))
	}
	return r.Proofs, nil
}

// PoCValidate is POST /api/v1/poc/validate: whether each of the nonces is valid.
func (c *Client) PoCValidate(ctx context.Context, nc NonceCheck) ([]bool, error) {
	var r NonceResults
	if err := c.call(ctx, http.MethodPost, PathPoCValidate, "", nc, &r); err != nil {
		return nil, err
	}
	if len(r.Valid) != len(nc.Nonces) {
		return nil, fmt.Errorf("mlnode poc validate: %d answered for %d nonces", len(r.Valid), len(nc.Nonces))
	}
	return r.Valid, nil
}

// Validate is POST /api/v1/inference/validate: re-check an executor's completion.
func (c *Client) Validate(ctx context.Context, ic InferenceCheck) (CheckResult, error) {
	var r CheckResult
	err := c.call(ctx, http.MethodPost, PathInferenceValidate, "", ic, &r)
	return r, err
}

// Forward POSTs body, signed, to the inference listener's path (/v1/chat/completions or
// /v1/completions) and returns the answer as it comes, whatever its status (a stream
// included); the caller closes its body.
func (c *Client) Forward(ctx context.Context, path string, body []byte) (*http.Response, error) {
	if body == nil {
		body = []byte{}
	}
	return c.do(ctx, http.MethodPost, c.Inference, path, "", body)
}
