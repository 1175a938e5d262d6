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
	// retryAfterMax bounds the wait a platform asks for before a restart
	// (a 429's retry_after, a proxy's Retry-After): a hint of hours, or a
	// wrong one, should not hold a source down longer than this.
	retryAfterMax = 15 * time.Minute
	// healthyAfter is how long a restarted source must run to be healthy again,
	// and to start its next failure from the first pause.
	healthyAfter = time.Minute
)

// supervise runs src until ctx is cancelled, restarting it after a growing pause
// when it fails. report marks the source degraded (a problem) or healthy ("");
// g logs and counts a panic.
func supervise(ctx context.Context, src bot.Source, out chan<- bot.Event, log *slog.Logger, g *guard.Guard, report func(what, problem string)) {
	superviseWaiting(ctx, src, out, log, g, report, bot.Sleep)
}

// superviseWaiting is supervise with the pause between two runs made by wait,
// which reports whether it waited the whole time (false: ctx ended).
func superviseWaiting(ctx context.Context, src bot.Source, out chan<- bot.Event, log *slog.Logger, g *guard.Guard,
	report func(what, problem string), wait func(context.Context, time.Duration) bool) {
	log = log.With("source", src.Name())
	pause := restartFirst
	for {
		// On the wall clock: a source's restart reconnects to its platform, whose Retry-After counts real seconds.
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
		// A platform that said when to come back (Telegram's 429 retry_after,
		// a proxy's Retry-After) refuses a restart before then.
		next := pause
		if asked := retryAfter(err); asked > next {
			next = min(asked, retryAfterMax)
			report(src.Name(), fmt.Sprintf("restarting after %s, the wait the platform asked for: %v", bot.FormatDuration(next), err))
			log.Error("source failed, restarting after the wait the platform asked for", "err", err, "in", bot.FormatDuration(next),
				"retry_after", bot.FormatDuration(asked))
		} else {
			report(src.Name(), fmt.Sprintf("restarting after %s: %v", bot.FormatDuration(next), err))
			log.Error("source failed, restarting", "err", err, "in", bot.FormatDuration(next))
		}
		if !wait(ctx, next) {
			return
		}
		pause = min(2*pause, restartMax)
	}
}

// retryAfter is the wait a platform asked for in err, 0 when it gave none.
func retryAfter(err error) time.Duration {
	var ae *bot.ActionError
	if errors.As(err, &ae) {
		return ae.RetryAfter
	}
	return 0
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
