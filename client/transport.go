package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// NotRPCError is an address that answers HTTP but not CometBFT's JSON-RPC: most often a
// node's JSON API port (26658) or a gateway given where its RPC port (26657) belongs.
type NotRPCError struct {
	URL         string
	Status      int    // the HTTP status of the answer
	ContentType string // its Content-Type
}

// Error says what answered and which port is which.
func (e *NotRPCError) Error() string {
	return fmt.Sprintf("%s answers HTTP (status %d, %s) but not CometBFT's JSON-RPC: give a node's RPC address "+
		"(port 26657 by default, a devnet's base port + 1), not its JSON API (26658, base + 2) or a gateway", e.URL, e.Status, orUnknown(e.ContentType))
}

func orUnknown(s string) string {
	if s == "" {
		return "no content type"
	}
	return s
}

// rpcShapeCheck is the RPC client's transport: it passes every answer on unchanged
// unless its body is not a JSON-RPC response (an object, or a batch of them, carrying
// "jsonrpc"), which it turns into a *NotRPCError instead of the decoding error the RPC
// client would report.
type rpcShapeCheck struct{ next http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t rpcShapeCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if !isJSONRPC(body) {
		return nil, &NotRPCError{URL: req.URL.Redacted(), Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// isJSONRPC reports whether body has the shape of a JSON-RPC 2.0 response or batch.
func isJSONRPC(body []byte) bool {
	type envelope struct {
		JSONRPC string `json:"jsonrpc"`
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var batch []envelope
		return json.Unmarshal(body, &batch) == nil && len(batch) > 0 && batch[0].JSONRPC == "2.0"
	}
	var one envelope
	return json.Unmarshal(body, &one) == nil && one.JSONRPC == "2.0"
}
