package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/guard"
)

const (
	restartFirst = time.Second
	restartMax   = time.Minute
	// healthyAfter is how long a restarted source must run to be healthy again,
	// and to start its next failure from the first pause.
	healthyAfter = time.Minute
)

// supervise runs src until ctx is cancelled, restarting it after a growing pause
// when it fails. report marks the source degraded (a problem) or healthy ("");
// g logs and counts a panic.
func supervise(ctx context.Context, src bot.Source, out chan<- bot.Event, log *slog.Logger, g *guard.Guard, report func(what, problem string)) {
	log = log.With("source", src.Name())
	pause := restartFirst
	for {
		started := time.Now()
		healthy := time.AfterFunc(healthyAfter, func() { report(src.Name(), "") })
		err := runSource(ctx, src, out, g)
		healthy.Stop()
		if ctx.Err() != nil {
			if err != nil {
				log.Debug("source stopped", "err", err)
			}
			return
		}
		if err == nil {
			err = errors.New("returned before shutdown")
		}
		if time.Since(started) >= healthyAfter {
			pause = restartFirst
		}
		report(src.Name(), fmt.Sprintf("restarting after %s: %v", bot.FormatDuration(pause), err))
		log.Error("source failed, restarting", "err", err, "in", bot.FormatDuration(pause))
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		pause = min(2*pause, restartMax)
	}
}

// runSource runs src once; a panic is a failure like any other, not the end of
// vigie, and is logged with its stack.
func runSource(ctx context.Context, src bot.Source, out chan<- bot.Event, g *guard.Guard) (err error) {
	defer func() {
		if r := recover(); r != nil {
			g.Report("source "+src.Name(), r, debug.Stack())
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return src.Run(ctx, out)
}
