package handlers

import (
	"context"
	"log/slog"
	"time"
)

// logAttrs is log.LogAttrs without the caller's program counter: slog takes
// it with runtime.Callers on every line, for a source that vigie's handlers
// never print (no AddSource), on lines that most matching events of a raid
// night write (a case opened, a hit added to one).
func logAttrs(ctx context.Context, log *slog.Logger, level slog.Level, msg string, attrs ...slog.Attr) {
	h := log.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	// On the wall clock: a log line's time, as slog stamps its own.
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.AddAttrs(attrs...)
	_ = h.Handle(ctx, r) // a handler that fails has nowhere to say so
}
