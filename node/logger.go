package node

import (
	"context"
	"log/slog"

	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// cometLogger adapts slog to CometBFT's logger interface. CometBFT is chatty at info
// level, so its info lines go to slog's debug level unless verbose is set.
type cometLogger struct {
	l       *slog.Logger
	verbose bool
}

var _ cmtlog.Logger = cometLogger{}

func (c cometLogger) Debug(msg string, kv ...any) {
	c.l.Log(context.Background(), slog.LevelDebug-4, msg, kv...)
}

func (c cometLogger) Info(msg string, kv ...any) {
	lvl := slog.LevelDebug
	if c.verbose {
		lvl = slog.LevelInfo
	}
	c.l.Log(context.Background(), lvl, msg, kv...)
}

func (c cometLogger) Error(msg string, kv ...any) {
	lvl := slog.LevelError
	if _, harmless := shutdownNoise[msg]; harmless {
		lvl = slog.LevelDebug
	}
	c.l.Log(context.Background(), lvl, msg, kv...)
}

// shutdownNoise are error lines CometBFT logs on every clean shutdown.
var shutdownNoise = map[string]struct{}{
	"Error serving server":                           {},
	"Stopped accept routine, as transport is closed": {},
	"Failed to save AddrBook to file":                {},
}

func (c cometLogger) With(kv ...any) cmtlog.Logger {
	return cometLogger{l: c.l.With(kv...), verbose: c.verbose}
}
