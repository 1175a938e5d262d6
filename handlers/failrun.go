package handlers

import (
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// failureRun is a run of rounds of a periodic job (the escalation's check,
// the desk's round of cards) that failed in a row, for the log: a desk down
// all night would otherwise have the same warning written at every round.
// The first failure of a run is said, the next ones at debug level, and one
// line sums the run up once a round passes again.
type failureRun struct {
	n     int
	since time.Time
	last  error
}

// fail counts a round that failed at now with err, and reports whether it
// is the first of its run.
func (f *failureRun) fail(now time.Time, err error) (first bool) {
	if f.n == 0 {
		f.since = now
	}
	f.n++
	f.last = err
	return f.n == 1
}

// pass ends the run when a round passed, and returns it; ok is false when
// no round had failed.
func (f *failureRun) pass() (run failureRun, ok bool) {
	run, *f = *f, failureRun{}
	return run, run.n > 0
}

// attrs are the run's, for its summing-up line.
func (f failureRun) attrs(now time.Time, rounds string) []any {
	return []any{rounds, f.n, "since", f.since, "for", bot.FormatDuration(now.Sub(f.since).Round(time.Second)), "last_err", f.last}
}
