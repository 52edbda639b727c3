package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// newLogger builds the structured logger of long-running commands.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lvl = slog.LevelDebug
	case "info", "":
		lvl = slog.LevelInfo
	case "warn":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	default:
		return nil, usagef("--log-level must be debug, info, warn or error, not %q", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format must be text or json, not %q", format)
}

// logFlags are the logging flags of long-running commands.
type logFlags struct{ level, format string }

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	lg, err := newLogger(w, l.level, l.format)
	if err != nil {
		return nil, err
	}
	return lg, nil
}

func (l *logFlags) String() string { return fmt.Sprintf("%s/%s", l.level, l.format) }
