package replay

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"sync"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
)

// eachEvent gets every line of an input in order: a decoded event, or the line's
// problem. ev is only read during the call. An error it returns stops the
// reading.
type eachEvent func(ev *bot.Event, line int, err error) error

// decodeInline reads r with bot.Reader in the caller's goroutine. It is the
// reference the parallel decoder must agree with. A failure to read is returned
// as a *bot.LineError naming the line it stopped at.
func decodeInline(ctx context.Context, r io.Reader, each eachEvent) error {
	rd := bot.NewReader(r)
	// Declared once: handed to each and to errors.As, which the compiler
	// cannot follow, they would be moved to the heap at every line.
	ev := new(bot.Event)
	var le *bot.LineError
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		*ev, err = rd.Next()
		switch {
		case err == nil:
			err = each(ev, rd.Line(), nil)
		case errors.Is(err, io.EOF):
			return nil
		case errors.As(err, &le):
			err = each(ev, le.Line, le.Err)
		default:
			cause := errors.Unwrap(err)
			if cause == nil {
				cause = err
			}
			return &bot.LineError{Line: rd.Line() + 1, Err: cause}
		}
		if err != nil {
			return err
		}
	}
}

// Lines are decoded in rounds (see lanes.go) so that handing them between
// goroutines costs little next to decoding them: each event is decoded
// straight into the round that the lanes then evaluate and the tally reads,
// not into a batch of its own copied from.

// maxLine is the longest line read, as for bot.Reader.
const maxLine = 16 << 20

// maxKeptLines is the largest buffer of lines a round keeps to be filled
// again: one that held a few huge lines is let go.
const maxKeptLines = 1 << 20

// decode decodes the round's lines (buf, cut at ends) into its outcomes:
// each outcome is written once, whole, here, its event decoded in place
// (an outcome is some 600 bytes, ten cache lines: the reader does not touch
// them first, and an event returned was copied twice more).
func (r *round) decode() {
	r.outs = r.outs[:len(r.ends)]
	start := 0
	for i, end := range r.ends {
		o := &r.outs[i]
		err := bot.DecodeEventInto(&o.ev, r.buf[start:end])
		o.name, o.line, o.dup, o.as, o.err = r.name, r.lines[i], false, rules.Assessment{}, err
		start = end
	}
	close(r.decoded)
}

// decodeAhead reads r, the input name, into rounds of up to roundSize
// consecutive non-blank lines (rounds gives an empty one), decodes their JSON
// in workers goroutines while the caller evaluates the rounds before, and
// hands each round to each once decoded, in order: each gets the events
// decodeInline would give, in the same order. A round is each's once handed
// over. One goroutine reads lines in order and deals them out; at most about
// 3×workers rounds are being read or decoded at once, whatever the input
// size. A failure to read is returned as a *bot.LineError naming the line it
// stopped at, after the rounds before it.
func decodeAhead(ctx context.Context, name string, r io.Reader, workers int, rounds func() *round, each func(*round) error) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()

	work := make(chan *round)
	ordered := make(chan *round, 2*workers)
	for range workers {
		wg.Go(func() {
			for rd := range work {
				rd.decode()
			}
		})
	}
	wg.Go(func() {
		defer close(work)
		defer close(ordered)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), maxLine)
		line := 0
		rd := rounds()
		rd.name = name
		send := func() bool {
			rd.decoded = make(chan struct{})
			select {
			case ordered <- rd:
			case <-ctx.Done():
				return false
			}
			select {
			case work <- rd:
			case <-ctx.Done():
				return false
			}
			rd = rounds()
			rd.name = name
			return true
		}
		for sc.Scan() {
			line++
			text := bytes.TrimSpace(sc.Bytes())
			if len(text) == 0 {
				continue
			}
			rd.buf = append(rd.buf, text...)
			rd.ends = append(rd.ends, len(rd.buf))
			rd.lines = append(rd.lines, line)
			if len(rd.ends) == roundSize && !send() {
				return
			}
		}
		if err := sc.Err(); err != nil {
			rd.readErr, rd.readLine = err, line+1
		}
		if len(rd.ends) > 0 || rd.readErr != nil {
			send()
		}
	})

	for rd := range ordered {
		select {
		case <-rd.decoded:
		case <-ctx.Done():
			return ctx.Err()
		}
		// the round is each's once handed over: its read failure is kept
		readErr, readLine := rd.readErr, rd.readLine
		if len(rd.outs) > 0 {
			if err := each(rd); err != nil {
				return err
			}
		}
		if readErr != nil {
			return &bot.LineError{Line: readLine, Err: readErr}
		}
	}
	// The reader also stops, without an error, when the caller's ctx is done.
	return ctx.Err()
}
