package handlers

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/internal/clockwait"
)

// Retry is the one stage where a failed platform call is tried again. An error the
// platform marks as permanent (bot.ActionError with Retryable false) is not retried;
// a RetryAfter hint is honoured unless it asks to wait longer than MaxWait, in which
// case the stage gives up at once and the failure becomes a case. A try the
// platform put off with a RetryAfter (a rate limit: it said when to come back) is
// not counted among the Attempts while the waits it asked for add up to MaxWait at
// most, unless the stage tries once (Attempts 1: the platform is failing, or the
// caller tries again at its next round): under a raid, Discord's global limit puts off many calls for a second,
// again and again, and four of them are no reason to leave a scam up.
type Retry struct {
	// Attempts is how many times an action is tried in all (default 4).
	Attempts int
	// Base is the first pause, doubled after each attempt (default 500ms).
	Base time.Duration
	// Max caps the computed pause (default 10s).
	Max time.Duration
	// MaxWait is the longest RetryAfter honoured (default DefaultMaxWait).
	MaxWait time.Duration
	// AfterFunc is the timer the pauses are waited on, as Options.AfterFunc
	// says; nil is the Moderator's (Options.AfterFunc), or time.AfterFunc
	// for a stage used alone.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
}

// DefaultMaxWait is the longest wait a platform's rate limit may ask of the
// retry stage, by default: an action asked to wait longer becomes a case at once.
const DefaultMaxWait = 30 * time.Second

func (r Retry) withDefaults() Retry {
	if r.Attempts < 1 {
		r.Attempts = 4
	}
	if r.Base <= 0 {
		r.Base = 500 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 10 * time.Second
	}
	if r.MaxWait <= 0 {
		r.MaxWait = DefaultMaxWait
	}
	if r.AfterFunc == nil {
		// Without a clock given, the wall clock's: a platform's Retry-After counts real seconds.
		r.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	return r
}

// Do runs op until it succeeds, fails for good, runs out of attempts or ctx ends.
// The error it returns says how many attempts were made.
func (r Retry) Do(ctx context.Context, op func(context.Context) error) error {
	r = r.withDefaults()
	// putOff is how long the platform's rate limits asked to wait, in the
	// tries not counted as attempts.
	var putOff time.Duration
	attempts := 0
	for tries := 1; ; tries++ {
		err := op(ctx)
		if err == nil {
			return nil
		}
		if !bot.Retryable(err) {
			return err
		}
		// A wait longer than the stage accepts is said first: it is why the
		// action is left, however many attempts remained.
		wait, ok := r.pause(attempts+1, err)
		if !ok {
			return fmt.Errorf("%w (platform asks to wait %s, more than %s)", err,
				bot.FormatDuration(wait), bot.FormatDuration(r.MaxWait))
		}
		if r.Attempts > 1 && toldWhen(err) && putOff+wait <= r.MaxWait {
			putOff += wait
		} else if attempts++; attempts >= r.Attempts {
			if tries == 1 {
				return fmt.Errorf("%w (tried once)", err)
			}
			return fmt.Errorf("%w (gave up after %d attempts)", err, tries)
		}
		if !clockwait.Sleep(ctx, r.AfterFunc, wait) {
			return fmt.Errorf("%w (gave up after %d attempts: %w)", err, tries, context.Cause(ctx))
		}
	}
}

// toldWhen reports whether the platform said when to try err's action again
// (a rate limit's RetryAfter).
func toldWhen(err error) bool {
	var ae *bot.ActionError
	return errors.As(err, &ae) && ae.RetryAfter > 0
}

// pause is how long to wait after the given failed attempt. ok is false when the
// platform's own hint is longer than the stage accepts to wait.
func (r Retry) pause(attempt int, err error) (d time.Duration, ok bool) {
	var ae *bot.ActionError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return ae.RetryAfter, ae.RetryAfter <= r.MaxWait
	}
	d = r.Base << (attempt - 1)
	if d > r.Max || d <= 0 {
		d = r.Max
	}
	// Up to 20% less, so that many actions failing together do not retry together.
	return d - time.Duration(rand.Int64N(int64(d)/5+1)), true
}
