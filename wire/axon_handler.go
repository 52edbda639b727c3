package wire

import (
	"context"
	"fmt"
	"time"

	"github.com/tessera-net/tessera/keys"
)

// Call is what an axon knows about a request once it is authenticated: the hooks and
// the handler get it. Hotkey, UUID and Nonce are covered by the dendrite's signature;
// Version and DendriteIP are what the dendrite claims.
type Call struct {
	Synapse    string         // the route (synapse name)
	Hotkey     string         // the dendrite's hotkey, SS58, verified
	PublicKey  keys.PublicKey // the dendrite's public key
	UUID       string         // the dendrite session
	Nonce      int64          // the request nonce (ns)
	Version    int64          // the dendrite's version integer (0 if not sent)
	DendriteIP string         // the IP the dendrite claims (informational)
	RemoteAddr string         // the TCP peer
	Timeout    time.Duration  // the timeout the axon enforces
	Deadline   time.Time      // when the handler is cut off
}

// AttachOptions are the per-route hooks. All are optional.
type AttachOptions struct {
	// Blacklist runs after the signature is verified and before the body is read;
	// returning true refuses the request with 403 "Forbidden. Key is blacklisted:
	// {reason}.". (Bittensor runs it before verification, on an unverified hotkey.)
	Blacklist func(ctx context.Context, c *Call) (blocked bool, reason string)
	// Verify runs after the body is decoded and checked against its hash; an error
	// refuses the request with 401 "Not Verified with error: {err}".
	Verify func(ctx context.Context, c *Call, syn Synapse) error
	// Priority orders requests that wait for a handler slot: higher runs first.
	Priority func(ctx context.Context, c *Call) float64
}

// Handler is a route's handler, made by Handle or HandleStream.
type Handler struct {
	proto  Synapse
	unary  func(ctx context.Context, c *Call, syn Synapse) error
	stream func(ctx context.Context, c *Call, syn Synapse, w *StreamWriter) error
}

// Handle makes a Handler from a function that answers a synapse of type *S in place:
// it reads the request fields and fills in the response fields. The function should
// return when ctx ends (the axon has answered 408 by then). An *Error it returns sets
// the status; any other error answers 500.
func Handle[S any, P interface {
	*S
	Synapse
}](fn func(ctx context.Context, c *Call, syn P) error) Handler {
	return Handler{
		proto: P(new(S)),
		unary: func(ctx context.Context, c *Call, syn Synapse) error { return fn(ctx, c, syn.(P)) },
	}
}

// Error is a handler error with the HTTP status to answer with, like Bittensor's
// RunException with axon.status_code set.
type Error struct {
	Code    int    // HTTP status, 400–599
	Message string // sent as {"message": …}
}

// Error returns the status and message.
func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Message) }

// Errorf returns an *Error with the given status and formatted message.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
