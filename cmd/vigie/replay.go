package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/rules/classify"
	"github.com/vigie-bot/vigie/rules/replay"
)

// replay is `vigie replay`: a backtest of the rules over recorded events.
func (c *cli) replay(ctx context.Context, args []string) int {
	f := c.flags("replay")
	config := f.configFlag()
	format := f.String("format", "text", "print the summary as `text|json`")
	decisions := f.String("decisions", "", "write each event's verdict to `FILE`, one JSON line per event")
	models := map[string]*classify.Model{}
	f.Func("model", "replay with the model `NAME=FILE` in place of the file's model NAME, or NAME=off without it (score() reads 0); may be repeated", func(v string) error {
		name, file, ok := strings.Cut(v, "=")
		if !ok || name == "" || file == "" {
			return errors.New("want NAME=FILE or NAME=off")
		}
		if file == "off" {
			models[name] = nil
			return nil
		}
		m, err := classify.Load(file)
		if err != nil {
			return err
		}
		models[name] = m
		return nil
	})
	compare := f.Bool("compare", false, "replay twice and show the categories before and after: the file as written, then with --model; without --model, the file without its models, then with them")
	workers := f.Int("workers", 0, "`N` goroutines decoding the events, and evaluating them space by space; the results do not depend on N (0: one per CPU)")
	files, code, ok := f.parse(args)
	if !ok {
		return code
	}
	switch {
	case *format != "text" && *format != "json":
		return f.usageError("unknown format %q (want text or json)", *format)
	case len(files) == 0:
		return f.usageError("no events to replay: give one or more JSON Lines files, or - for stdin")
	case *decisions == "-":
		return f.usageError("--decisions needs a file: stdout holds the summary")
	case *workers < 0:
		return f.usageError("--workers must be 0 or more")
	}

	inputs := make([]replay.Input, 0, len(files))
	stdin := false
	for _, name := range files {
		if name == "-" {
			if stdin || *compare {
				return f.usageError("stdin (-) can be read only once")
			}
			stdin = true
			inputs = append(inputs, replay.Stream("-", c.stdin))
			continue
		}
		// Fail before a long replay rather than in the middle of it.
		if _, err := os.Stat(name); err != nil {
			return c.fail("replay", err)
		}
		inputs = append(inputs, replay.File(name))
	}

	// Before the rules load: their models and lists grow the heap too.
	growReplayHeap()
	rs, _, ok := c.loadRulesWith("replay", *config, rules.LoadOptions{Models: models})
	if !ok {
		return exitFail
	}
	for name := range models {
		if !hasModel(rs, name) {
			return f.usageError("--model %s: the rule file has no model %s in its models:", name, name)
		}
	}
	var before *rules.Ruleset
	if *compare {
		was := rules.LoadOptions{}
		if len(models) == 0 {
			was.Models = map[string]*classify.Model{}
			for _, m := range rs.Models {
				was.Models[m.Name] = nil
			}
		}
		if before, _, ok = c.loadRulesWith("replay", *config, was); !ok {
			return exitFail
		}
		if len(rs.Models) == 0 {
			return f.usageError("--compare: the rule file has no models: to compare")
		}
	}
	matcher, ok := c.compileFAQ("replay", rs)
	if !ok {
		return exitFail
	}

	var out io.Writer
	if *decisions != "" {
		fd, err := os.Create(*decisions)
		if err != nil {
			return c.fail("replay", err)
		}
		defer fd.Close()
		out = fd
	}

	msgs := &lineWriter{w: c.stderr}
	if c.stderrTerminal {
		p := startProgress(msgs, time.Second)
		defer p.stop()
		msgs.progress = p
	}
	opts := replay.Options{
		Decisions: out,
		Workers:   *workers,
		Skipped: func(file string, line int, err error) {
			msgs.printf("%s:%d: %v\n", file, line, err)
		},
	}
	if msgs.progress != nil {
		opts.Progress = msgs.progress.set
	}
	if len(rs.FAQ.Entries) > 0 {
		ask, closeFAQ, err := replayFAQ(matcher)
		if err != nil {
			return c.fail("replay", err)
		}
		defer closeFAQ()
		opts.FAQ = ask
	}
	defer c.replayCollector()()
	var was replay.Summary
	if before != nil {
		// the first run only scores: no decisions, no FAQ, its skipped
		// lines said by the second
		var err error
		was, err = replay.Run(ctx, before, inputs, replay.Options{Workers: *workers})
		if err != nil {
			return c.fail("replay", err)
		}
	}
	sum, err := replay.Run(ctx, rs, inputs, opts)
	if msgs.progress != nil {
		msgs.progress.stop()
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(c.stderr, "vigie replay: interrupted after %d events\n", sum.Events+sum.Skipped)
		} else {
			fmt.Fprintf(c.stderr, "vigie replay: %v\n", err)
		}
		return exitFail
	}
	if fd, ok := out.(*os.File); ok {
		if err := fd.Close(); err != nil {
			return c.fail("replay", err)
		}
	}

	if before != nil {
		return c.printComparison(was, sum, *format, models)
	}
	return c.printSummary(sum, *format)
}

// printSummary prints the replay's summary as format, text or json.
func (c *cli) printSummary(sum replay.Summary, format string) int {
	if format == "json" {
		b, err := sum.JSON()
		if err != nil {
			return c.fail("replay", err)
		}
		fmt.Fprintf(c.stdout, "%s\n", b)
		return exitOK
	}
	if err := sum.WriteText(c.stdout); err != nil {
		return c.fail("replay", err)
	}
	return exitOK
}

// replayCollector sets the collector for a replay, unless the environment
// sets GOGC or GOMEMLIMIT, and returns what restores it. The replay's live
// heap is small (the store's windows and ids, some 15 MB) but it allocates
// for every event, so the collector runs often. Letting the heap grow to
// 3x the live data (GOGC=200) halves its collections; more headroom cost
// more than it saved: each page of heap first touched is a page fault
// (some 10 µs of system time on a virtual machine), and a larger heap
// caches worse. GOGC=400, held to 96 MB, took 4-7% more CPU time than 200,
// alternated on 100,000 and 1,000,000 events, for a third more memory
// (docs/speed.md#the-replays-collector-gogc200).
func (c *cli) replayCollector() (restore func()) {
	if c.getenv("GOGC") != "" || c.getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	was := debug.SetGCPercent(replayGCPercent)
	return func() { debug.SetGCPercent(was) }
}

// lineWriter writes whole lines to stderr, clearing the progress line first so
// that a message never lands in the middle of it.
type lineWriter struct {
	w        io.Writer
	progress *progress
}

func (l *lineWriter) printf(format string, a ...any) {
	if l.progress != nil {
		l.progress.mu.Lock()
		defer l.progress.mu.Unlock()
		l.progress.clearLocked()
	}
	fmt.Fprintf(l.w, format, a...)
}

// progress shows "N events, R events/s" on one terminal line, redrawn in place,
// once the replay has taken longer than a delay, and clears it when stopped.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	done  int
	shown bool

	quit     chan struct{}
	wg       sync.WaitGroup
	stopOnce sync.Once
}

func startProgress(l *lineWriter, delay time.Duration) *progress {
	// On the wall clock: the progress shown is a speed, measured.
	p := &progress{w: l.w, start: time.Now(), quit: make(chan struct{})}
	p.wg.Go(func() {
		select {
		case <-time.After(delay):
		case <-p.quit:
			return
		}
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			p.draw()
			select {
			case <-tick.C:
			case <-p.quit:
				return
			}
		}
	})
	return p
}

func (p *progress) set(done int) {
	p.mu.Lock()
	p.done = done
	p.mu.Unlock()
}

func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	secs := time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r\x1b[Kreplay: %d events, %.0f events/s", p.done, float64(p.done)/secs)
	p.shown = true
}

func (p *progress) clearLocked() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// stop ends the redrawing and clears the line; it may be called more than once.
func (p *progress) stop() {
	p.stopOnce.Do(func() {
		close(p.quit)
		p.wg.Wait()
		p.mu.Lock()
		p.clearLocked()
		p.mu.Unlock()
	})
}

// replayGCPercent is vigie replay's GOGC when the environment sets none.
const replayGCPercent = 200

// replayHugeHeap is how much of the heap vigie replay maps in huge pages
// before it loads the rules (growHeapHuge): its heap's goal, three times a
// live heap of 15 to 20 MB, and more.
const replayHugeHeap = 64 << 20

// printComparison prints the replay's summary after the change, then its
// categories before and after.
func (c *cli) printComparison(was, sum replay.Summary, format string, models map[string]*classify.Model) int {
	if format == "json" {
		b, err := json.MarshalIndent(map[string]any{"before": rawJSON(was), "after": rawJSON(sum)}, "", "  ")
		if err != nil {
			return c.fail("replay", err)
		}
		fmt.Fprintf(c.stdout, "%s\n", b)
		return exitOK
	}
	if err := sum.WriteText(c.stdout); err != nil {
		return c.fail("replay", err)
	}
	change := "before: without the file's models; after: with them"
	if len(models) > 0 {
		var parts []string
		for name, m := range models {
			if m == nil {
				parts = append(parts, name+" off")
			} else {
				parts = append(parts, name+" from --model")
			}
		}
		slices.Sort(parts)
		change = "before: the file as written; after: " + strings.Join(parts, ", ")
	}
	fmt.Fprintf(c.stdout, "\n%s\n", change)
	rows := [][]string{{"category", "tp", "fp", "fn", "precision", "recall", "fp rate"}}
	arrow := func(a, b string) string {
		if a == b {
			return a
		}
		return a + " → " + b
	}
	cats := sum.Categories()
	if sum.Overall != nil {
		cats = append(cats, "(overall)")
	}
	for _, name := range cats {
		a, b := was.ByCategory[name], sum.ByCategory[name]
		if name == "(overall)" {
			a, b = was.Overall, sum.Overall
		}
		if b == nil || b.TP+b.FN == 0 && (a == nil || a.TP+a.FN == 0) && name != "(overall)" {
			continue // a category no event is labelled with
		}
		if a == nil {
			a = &replay.Score{}
		}
		rows = append(rows, []string{name,
			arrow(fmt.Sprint(a.TP), fmt.Sprint(b.TP)), arrow(fmt.Sprint(a.FP), fmt.Sprint(b.FP)), arrow(fmt.Sprint(a.FN), fmt.Sprint(b.FN)),
			arrow(fmt.Sprintf("%.3f", a.Precision), fmt.Sprintf("%.3f", b.Precision)),
			arrow(fmt.Sprintf("%.3f", a.Recall), fmt.Sprintf("%.3f", b.Recall)),
			arrow(fmt.Sprintf("%.3f", a.FalsePositiveRate), fmt.Sprintf("%.3f", b.FalsePositiveRate))})
	}
	c.table(rows)
	return exitOK
}

// rawJSON is a summary as its own JSON.
func rawJSON(s replay.Summary) json.RawMessage {
	b, err := s.JSON()
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}
