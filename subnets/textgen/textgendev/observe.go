// This file is what the extension's parts tell an operator: their metrics, on the
// devnet's registry, and how loudly their logs speak.

package textgendev

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// AccountLabel is the label that tells apart the metrics of the parts sharing one
// registry: the development account a miner or validator runs as.
const AccountLabel = "account"

// partRegisterer is reg with the part's account as a constant label, so that miners (or
// validators) with the same metric names can share it; nil stays nil.
func partRegisterer(reg prometheus.Registerer, account string) prometheus.Registerer {
	if reg == nil {
		return nil
	}
	return prometheus.WrapRegistererWith(prometheus.Labels{AccountLabel: account}, reg)
}

// routineLogger is log with its info records demoted to debug: an in-process validator
// says "weights set" every few seconds, which on a devnet is noise beside the epochs.
// Warnings and errors keep their level.
func routineLogger(log *slog.Logger) *slog.Logger {
	return slog.New(demoted{log.Handler()})
}

// demoted is a slog.Handler that passes info records to h at debug level.
type demoted struct{ h slog.Handler }

func demote(l slog.Level) slog.Level {
	if l == slog.LevelInfo {
		return slog.LevelDebug
	}
	return l
}

// Enabled implements slog.Handler.
func (d demoted) Enabled(ctx context.Context, l slog.Level) bool { return d.h.Enabled(ctx, demote(l)) }

// Handle implements slog.Handler.
func (d demoted) Handle(ctx context.Context, r slog.Record) error {
	r.Level = demote(r.Level)
	return d.h.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (d demoted) WithAttrs(as []slog.Attr) slog.Handler { return demoted{d.h.WithAttrs(as)} }

// WithGroup implements slog.Handler.
func (d demoted) WithGroup(name string) slog.Handler { return demoted{d.h.WithGroup(name)} }
