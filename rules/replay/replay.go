// Package replay runs a rule file over recorded events (JSON Lines), in order and
// on the events' own clock, and scores the verdicts against the events' labels.
// It is what `vigie replay` runs, kept apart from main so it can be tested and
// benchmarked.
package replay

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
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
	// Skipped is told about every line that was not replayed, with its position.
	Skipped func(file string, line int, err error)
	// Progress, when set, is called every ProgressEvery events with the number of
	// events read so far (skipped lines included).
	Progress func(done int)
	// Workers is how many goroutines decode JSON ahead of the evaluation, which
	// stays one goroutine in file order whatever Workers is, so the figures do not
	// depend on it. 1 reads and evaluates in one goroutine; 0 means one worker per
	// CPU.
	Workers int
	// FAQ, when set, is asked what the FAQ does with each event after its
	// verdict; the summary counts its answers (answer, suggest, forward, silent,
	// cooldown) under faq.
	FAQ func(ctx context.Context, ev bot.Event, v bot.Verdict) string
}

// replaySweep is how often, on the events' clock, the replay's store drops
// expired windows, ids and strikes.
const replaySweep = time.Hour

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

// Run replays the inputs, one after the other and each in file order, through one
// engine on a fresh memory store, and returns the summary. The inputs are one
// history: counters and dedupe carry from one file to the next, as they would
// have live. A line that is not a valid event is reported to opts.Skipped and
// skipped; an input that cannot be opened or read stops the replay.
func Run(ctx context.Context, rs *rules.Ruleset, inputs []Input, opts Options) (Summary, error) {
	// A replay crosses days of history in seconds; sweeping expired state every
	// minute of the events' clock, as live, made the store most of the replay's
	// time. Sweeping only frees memory (reads ignore what has expired), so the
	// verdicts are the same: an hour keeps memory bounded and the store cheap.
	st := memory.New(memory.WithSweepEvery(replaySweep))
	defer st.Close()
	return run(ctx, rs, st, inputs, opts)
}

// run replays on the store given.
func run(ctx context.Context, rs *rules.Ruleset, st store.Store, inputs []Input, opts Options) (Summary, error) {
	eng := rules.NewEngine(rs, st, rules.Options{})
	tally := NewTally(rs.Rules)
	waves := newWaves(rs)

	var dec *json.Encoder
	var bw *bufio.Writer
	if opts.Decisions != nil {
		bw = bufio.NewWriterSize(opts.Decisions, 64<<10)
		dec = json.NewEncoder(bw)
		dec.SetEscapeHTML(false)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	done := 0
	// after is what follows an event's evaluation: the tally, the FAQ and the
	// decisions file, in file order.
	after := func(o outcome) error {
		v := o.as.Verdict
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
		tally.Add(o.ev, v)
		tally.AddErrors(o.ev, o.as.Errors)
		waves.add(o.ev, o.as)
		var faq string
		if opts.FAQ != nil {
			faq = opts.FAQ(ctx, o.ev, v)
			tally.AddFAQ(faq)
		}
		if dec != nil {
			if err := dec.Encode(Decision{ID: o.ev.ID, Label: o.ev.Label, Verdict: v, FAQ: faq}); err != nil {
				return fmt.Errorf("write decisions: %w", err)
			}
		}
		return nil
	}
	var p *pipeline
	if workers > 1 {
		// with a second core, the rules evaluate the next events while the
		// previous ones are tallied, asked to the FAQ and written
		p = newPipeline(after)
	}
	var err error
	for _, in := range inputs {
		err = replayOne(ctx, eng, in, workers, func(ev bot.Event, line int, as rules.Assessment, err error) error {
			o := outcome{name: in.Name, ev: ev, line: line, as: as, err: err}
			if p != nil {
				return p.add(o)
			}
			return after(o)
		})
		if err != nil {
			break
		}
	}
	if p != nil {
		if perr := p.close(); perr != nil {
			err = perr // the decisions file failed: the cause of errStopped
		}
	}
	if err != nil {
		return waves.summary(tally), err
	}
	if opts.Progress != nil {
		opts.Progress(done)
	}
	if bw != nil {
		if err := bw.Flush(); err != nil {
			return waves.summary(tally), fmt.Errorf("write decisions: %w", err)
		}
	}
	return waves.summary(tally), nil
}

// outcome is one line's event and verdict, or its problem.
type outcome struct {
	name string
	ev   bot.Event
	line int
	as   rules.Assessment
	err  error
}

// pipeline hands outcomes, in batches and in order, to one goroutine that runs
// after on each.
type pipeline struct {
	batch   []outcome
	ch      chan []outcome
	stopped chan struct{} // closed when after failed
	done    chan struct{}
	err     error // after's error, read once done is closed
}

// pipeBatch is how many outcomes travel together: one hand-over per event would
// cost more than the tally.
const pipeBatch = 256

// errStopped stops the evaluation when after failed.
var errStopped = errors.New("replay stopped")

func newPipeline(after func(outcome) error) *pipeline {
	p := &pipeline{ch: make(chan []outcome, 4), stopped: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for b := range p.ch {
			if p.err != nil {
				continue // drain
			}
			for _, o := range b {
				if err := after(o); err != nil {
					p.err = err
					close(p.stopped)
					break
				}
			}
		}
	}()
	return p
}

func (p *pipeline) add(o outcome) error {
	if p.batch == nil {
		p.batch = make([]outcome, 0, pipeBatch)
	}
	p.batch = append(p.batch, o)
	if len(p.batch) < pipeBatch {
		return nil
	}
	return p.flush()
}

func (p *pipeline) flush() error {
	if len(p.batch) == 0 {
		return nil
	}
	select {
	case p.ch <- p.batch:
		p.batch = nil
		return nil
	case <-p.stopped:
		p.batch = nil
		return errStopped
	}
}

// close hands over what is left, waits for it and returns after's error.
func (p *pipeline) close() error {
	p.flush()
	close(p.ch)
	<-p.done
	return p.err
}

// replayOne reads one input and evaluates its events in order. each gets either an
// event and its verdict, or the line's problem; an error it returns stops the replay.
func replayOne(ctx context.Context, eng *rules.Engine, in Input, workers int,
	each func(ev bot.Event, line int, as rules.Assessment, err error) error) error {
	rc, err := in.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	perLine := func(ev bot.Event, line int, err error) error {
		if err != nil {
			return each(ev, line, rules.Assessment{}, err)
		}
		as, err := eng.Assess(ctx, ev)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			err = fmt.Errorf("evaluate %q: %w", ev.ID, err)
		}
		return each(ev, line, as, err)
	}
	if workers > 1 {
		err = decodeAhead(ctx, rc, workers, perLine)
	} else {
		err = decodeInline(ctx, rc, perLine)
	}
	var le *bot.LineError
	if errors.As(err, &le) {
		return fmt.Errorf("%s:%d: %w", in.Name, le.Line, le.Err)
	}
	return err
}
