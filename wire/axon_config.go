package wire

import (
	"log/slog"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// AxonConfig configures an Axon. The zero value of every field means the default given
// beside it.
type AxonConfig struct {
	// ListenAddr is where ServeContext listens (default ":8091", Bittensor's port).
	ListenAddr string
	// ExternalIP and ExternalPort are the address the axon tells peers in its response
	// headers (bt_header_axon_ip/port); optional.
	ExternalIP   string
	ExternalPort int // see ExternalIP

	// MaxBodyBytes bounds request bodies (default 8 MiB); larger ones get 413.
	MaxBodyBytes int64
	// MaxHeaderBytes bounds request headers (default 64 KiB).
	MaxHeaderBytes int
	// MaxTimeout caps the timeout a request asks for (default 60 s). The axon enforces
	// min(request timeout, MaxTimeout) on the handler.
	MaxTimeout time.Duration

	// NonceSessions bounds the (hotkey, uuid) sessions whose nonces are remembered
	// (default 100 000); NonceHistory the nonces remembered per session (default 1024).
	NonceSessions int
	NonceHistory  int // see NonceSessions
	// NonceSessionsPerHotkey bounds the sessions one hotkey may hold (default 256, at
	// most NonceSessions/16); a hotkey that opens one more has its oldest forgotten. A
	// session forgotten while live raises its hotkey's floor to the session's highest
	// nonce: new sessions of that hotkey must start above it until that nonce is older
	// than AllowedDelta + MaxTimeout.
	NonceSessionsPerHotkey int

	// RateLimit is the requests a second each hotkey may make (default 100), with
	// bursts of RateBurst (default 2×RateLimit). A negative RateLimit disables it.
	RateLimit float64
	RateBurst int // see RateLimit

	// Concurrency is how many handlers run at once (default 256); MaxQueue how many
	// requests may wait for a slot, in priority order (default 4096).
	Concurrency int
	MaxQueue    int // see Concurrency

	// SignResponses makes the axon sign "{axon_nonce}.{dendrite_hotkey}.{axon_hotkey}.
	// {axon_uuid}" on every response, as a Bittensor axon does, so a dendrite can check
	// who answered. It costs one signature per request.
	SignResponses bool

	// ShutdownTimeout bounds how long a graceful shutdown waits for requests in flight
	// (default 10 s).
	ShutdownTimeout time.Duration

	// Registerer receives the axon's metrics (none registered when nil).
	Registerer prometheus.Registerer
	// Logger receives the axon's logs (discarded when nil).
	Logger *slog.Logger
	// Now is the clock (time.Now when nil); tests move it.
	Now func() time.Time
}

// defaults fills in the default of every field left at its zero value.
func (c *AxonConfig) defaults() {
	if c.ListenAddr == "" {
		c.ListenAddr = ":8091"
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 8 << 20
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = 64 << 10
	}
	if c.MaxTimeout <= 0 {
		c.MaxTimeout = 60 * time.Second
	}
	if c.NonceSessions <= 0 {
		c.NonceSessions = 100_000
	}
	if c.NonceSessionsPerHotkey <= 0 {
		c.NonceSessionsPerHotkey = 256
	}
	if c.NonceHistory <= 0 {
		c.NonceHistory = 1024
	}
	if c.RateLimit == 0 {
		c.RateLimit = 100
	}
	if c.RateBurst <= 0 {
		c.RateBurst = int(math.Max(1, 2*c.RateLimit))
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 256
	}
	if c.MaxQueue <= 0 {
		c.MaxQueue = 4096
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}
