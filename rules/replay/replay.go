// Package replay runs a rule file over recorded events (JSON Lines), in order and
// on the events' own clock, and scores the verdicts against the events' labels.
// It is what `vigie replay` runs, kept apart from main so it can be tested and
// benchmarked.
package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// Input is one JSON Lines stream of events.
type Input struct {
	// Name is how messages name the stream: a file name, or "-" for stdin.
	Name string
	// Open is called when the stream's turn comes, so that only one file is open
	// at a time.
	Open func() (io.ReadCloser, error)
}

// File is the input read from the file at path.
func File(path string) Input {
	return Input{Name: path, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}

// Stream is an input read from r, which the replay does not close.
func Stream(name string, r io.Reader) Input {
	return Input{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(r), nil }}
}

// Options tune a replay. The zero value replays and only counts.
type Options struct {
	// Decisions, when set, receives one JSON line per event evaluated (see Decision).
	Decisions io.Writer
	// Verdict, when set, is told each event's verdict, in file order: what
	// Decisions writes, for a program that would only decode it again.
	Verdict func(ev bot.Event, v bot.Verdict)
	// Skipped is told about every line that was not replayed, with its position.
	Skipped func(file string, line int, err error)
	// Progress, when set, is called every ProgressEvery events with the number of
	// events read so far (skipped lines included).
	Progress func(done int)
	// Workers is how many goroutines decode JSON, and how many evaluate the
	// events, each goroutine the events of its own spaces in file order: the
	// rules' state (counters, strikes, alert hits) is kept per space, so the
	// figures and the decisions do not depend on Workers. 1 reads and evaluates
	// in one goroutine; 0 means one per CPU.
	Workers int
	// FAQ, when set, is asked what the FAQ does with each event after its
	// verdict; the summary counts its answers (answer, suggest, forward, silent,
	// cooldown) under faq. ev is only read, and not kept after the call (a
	// pointer: an event is some 400 bytes, copied at each call otherwise).
	FAQ func(ctx context.Context, ev *bot.Event, v bot.Verdict) string
}

// ProgressEvery is how many events pass between two calls of Options.Progress.
const ProgressEvery = 1024

// Decision is one line of the decisions file.
type Decision struct {
	ID      string      `json:"id"`
	Label   string      `json:"label,omitempty"`
	Verdict bot.Verdict `json:"verdict"`
	// FAQ is what the FAQ did, when the replay asked it (Options.FAQ).
	FAQ string `json:"faq,omitempty"`
}

// Run replays the inputs, one after the other and each in file order, through the
// rules on fresh memory stores, and returns the summary. The inputs are one
// history: counters and dedupe carry from one file to the next, as they would
// have live. A line that is not a valid event is reported to opts.Skipped and
// skipped; an input that cannot be opened or read stops the replay.
//
// Nothing grows with the length of the history: events stream through, the
// summary is counts, decisions are written as they come, and the stores drop
// what has expired as the events' clock goes on.
func Run(ctx context.Context, rs *rules.Ruleset, inputs []Input, opts Options) (Summary, error) {
	return run(ctx, rs, newStore, inputs, opts)
}

// replaySweep is how often, on the events' clock, the replay's stores drop
// expired windows, ids and strikes.
const replaySweep = 6 * time.Hour

// newStore is the store of one lane, and the dedupe's. A replay crosses days of
// history in seconds; sweeping expired state every minute of the events'
// clock, as live, made the store most of the replay's time. Sweeping only
// frees memory (reads ignore what has expired), so the verdicts are the same.
// A sweep visits every window and, once strikes expire, every author with
// strikes, so its cost per event falls as sweeps are rarer, while memory grows
// with what expires between two of them. Sweeping every hour took a tenth of
// the CPU time of 100,000 events, every 6 hours a twentieth, for a few MB more.
// The stores insert at every event (ids, counters of new texts) and hold a
// few MB: with roomier tables the replay does some 2% fewer instructions
// (docs/speed.md#the-replays-stores).
func newStore() *memory.Store {
	return memory.New(memory.WithSweepEvery(replaySweep), memory.WithRoomyTables())
}

// run replays with stores made by newStore.
func run(ctx context.Context, rs *rules.Ruleset, newStore func() *memory.Store, inputs []Input, opts Options) (Summary, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	tally := NewTally(rs.Rules)
	waves := newWaves(rs)
	var dec *decisionWriter
	if opts.Decisions != nil {
		dec = newDecisionWriter(opts.Decisions)
	}
	done := 0
	// after is what follows an event's evaluation: the tally, the FAQ and the
	// decisions file, in file order.
	after := func(o *outcome) error {
		done++
		if opts.Progress != nil && done%ProgressEvery == 0 {
			opts.Progress(done)
		}
		if o.err != nil {
			tally.Skip()
			if opts.Skipped != nil {
				opts.Skipped(o.name, o.line, o.err)
			}
			return nil
		}
		v := &o.as.Verdict
		tally.add(o.ev.Label, v)
		if len(o.as.Errors) > 0 {
			tally.AddErrors(o.ev, o.as.Errors)
		}
		waves.add(&o.ev, &o.as)
		var faq string
		if opts.FAQ != nil {
			faq = opts.FAQ(ctx, &o.ev, *v)
			tally.AddFAQ(faq)
		}
		if opts.Verdict != nil {
			opts.Verdict(o.ev, *v)
		}
		if dec != nil {
			if err := dec.write(o.ev.ID, o.ev.Label, v, faq); err != nil {
				return fmt.Errorf("write decisions: %w", err)
			}
		}
		return nil
	}

	// The alerts' messages are read by nothing here, the verdict's counter
	// values and the matches' reasons by the decisions file and the Verdict
	// hook alone: the engine does not build them for every event when
	// nobody reads them.
	unread := opts.Decisions == nil && opts.Verdict == nil
	engineOpts := rules.Options{NoAlertMessages: true, NoCounterValues: unread, NoReasons: unread}
	ev, err := newEvaluation(ctx, rs, newStore, workers, engineOpts, after)
	if err != nil {
		return waves.summary(tally), err
	}
	for _, in := range inputs {
		if err = replayOne(ctx, in, workers, ev); err != nil {
			break
		}
	}
	if cerr := ev.close(); cerr != nil && (err == nil || errors.Is(err, errStopped)) {
		err = cerr // the decisions file failed, or the replay was cancelled
	}
	if err != nil {
		return waves.summary(tally), err
	}
	if opts.Progress != nil {
		opts.Progress(done)
	}
	if dec != nil {
		if err := dec.w.Flush(); err != nil {
			return waves.summary(tally), fmt.Errorf("write decisions: %w", err)
		}
	}
	return waves.summary(tally), nil
}

// replayOne reads one input and hands its lines, in order, to the evaluation:
// an event, or the line's problem. An error the evaluation returns stops the
// replay.
func replayOne(ctx context.Context, in Input, workers int, e *evaluation) error {
	rc, err := in.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	if workers > 1 {
		err = decodeAhead(ctx, in.Name, rc, workers, e.newRound, e.addRound)
	} else {
		err = decodeInline(ctx, rc, func(ev *bot.Event, line int, err error) error { return e.add(in.Name, ev, line, err) })
	}
	var le *bot.LineError
	if errors.As(err, &le) {
		return fmt.Errorf("%s:%d: %w", in.Name, le.Line, le.Err)
	}
	return err
}
