package replay

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"sync"

	"github.com/vigie-bot/vigie/bot"
)

// eachEvent gets every line of an input in order: a decoded event, or the line's
// problem. An error it returns stops the reading.
type eachEvent func(ev bot.Event, line int, err error) error

// decodeInline reads r with bot.Reader in the caller's goroutine. It is the
// reference the parallel decoder must agree with. A failure to read is returned
// as a *bot.LineError naming the line it stopped at.
func decodeInline(ctx context.Context, r io.Reader, each eachEvent) error {
	rd := bot.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ev, err := rd.Next()
		var le *bot.LineError
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.As(err, &le):
			err = each(ev, le.Line, le.Err)
		case err != nil:
			cause := errors.Unwrap(err)
			if cause == nil {
				cause = err
			}
			return &bot.LineError{Line: rd.Line() + 1, Err: cause}
		default:
			err = each(ev, rd.Line(), nil)
		}
		if err != nil {
			return err
		}
	}
}

// Lines are decoded in batches so that handing them between goroutines costs
// little next to decoding them.
const batchLines = 256

// maxLine is the longest line read, as for bot.Reader.
const maxLine = 16 << 20

// maxKeptBatch is the largest buffer of lines a batch keeps to be filled
// again: one that held a few huge lines is let go.
const maxKeptBatch = 1 << 20

// batch is a run of consecutive non-blank lines of one input.
type batch struct {
	buf    []byte // the lines, trimmed, end to end
	ends   []int  // where each line ends in buf
	lines  []int  // each line's number in the input
	events []bot.Event
	errs   []error
	// readErr is the read failure that ended the input after these lines, at
	// line readLine.
	readErr  error
	readLine int
	done     chan struct{}
}

func (b *batch) decode() {
	n := len(b.ends)
	b.events = slices.Grow(b.events[:0], n)[:n]
	b.errs = slices.Grow(b.errs[:0], n)[:n]
	start := 0
	for i, end := range b.ends {
		b.events[i], b.errs[i] = bot.DecodeEvent(b.buf[start:end])
		start = end
	}
	close(b.done)
}

// reset empties b for the next lines, keeping its buffers: once its events
// are handed on (by value, their strings their own), nothing refers to them.
func (b *batch) reset() {
	clear(b.events)
	clear(b.errs)
	b.buf, b.ends, b.lines = b.buf[:0], b.ends[:0], b.lines[:0]
	b.events, b.errs = b.events[:0], b.errs[:0]
	b.readErr, b.readLine = nil, 0
	b.done = make(chan struct{})
}

// decodeAhead gives each the same sequence as decodeInline, but decodes the JSON
// in workers goroutines while the caller evaluates the lines before. One goroutine
// reads lines in order and deals them out in batches; the caller takes the
// batches back in that same order, so nothing downstream sees a different order.
// At most about 3×workers batches are in memory at once, whatever the input size.
func decodeAhead(ctx context.Context, r io.Reader, workers int, each eachEvent) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()

	work := make(chan *batch)
	ordered := make(chan *batch, 2*workers)
	// free holds the batches the caller is through with, for the reader to
	// fill again: the same few batches go round instead of one per 256 lines.
	free := make(chan *batch, 3*workers+2)
	for range workers {
		wg.Go(func() {
			for b := range work {
				b.decode()
			}
		})
	}
	wg.Go(func() {
		defer close(work)
		defer close(ordered)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), maxLine)
		line := 0
		b := &batch{done: make(chan struct{})}
		send := func() bool {
			size := cap(b.buf) // b is not this goroutine's once sent
			select {
			case ordered <- b:
			case <-ctx.Done():
				return false
			}
			select {
			case work <- b:
			case <-ctx.Done():
				return false
			}
			select {
			case b = <-free:
			default:
				b = &batch{buf: make([]byte, 0, size), done: make(chan struct{})}
			}
			return true
		}
		for sc.Scan() {
			line++
			text := bytes.TrimSpace(sc.Bytes())
			if len(text) == 0 {
				continue
			}
			b.buf = append(b.buf, text...)
			b.ends = append(b.ends, len(b.buf))
			b.lines = append(b.lines, line)
			if len(b.ends) == batchLines && !send() {
				return
			}
		}
		if err := sc.Err(); err != nil {
			b.readErr, b.readLine = err, line+1
		}
		if len(b.ends) > 0 || b.readErr != nil {
			send()
		}
	})

	for b := range ordered {
		select {
		case <-b.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		for i := range b.events {
			if err := each(b.events[i], b.lines[i], b.errs[i]); err != nil {
				return err
			}
		}
		if b.readErr != nil {
			return &bot.LineError{Line: b.readLine, Err: b.readErr}
		}
		if cap(b.buf) <= maxKeptBatch {
			b.reset()
			select {
			case free <- b:
			default:
			}
		}
	}
	// The reader also stops, without an error, when the caller's ctx is done.
	return ctx.Err()
}
