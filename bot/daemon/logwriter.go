package daemon

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// A busy vigie logs a line or two per event (verdicts, cases, actions
// withheld): written one by one, that is a system call per line, made by the
// goroutine that judges the event while its caller waits. LogWriter gathers
// the lines and writes them from a goroutine of its own, a few times a second
// or as soon as a batch is large, so that logging costs a copy per line.

const (
	// logFlushEvery is how long a line may wait in the buffer: about what a
	// person tailing the log notices.
	logFlushEvery = 100 * time.Millisecond
	// logFlushAt is the size past which a batch is written without waiting.
	logFlushAt = 64 << 10
	// logBlockAt is the size past which a writer waits for the batch to be
	// written: a log that cannot keep up (a full disk, a stalled pipe) slows
	// vigie down rather than grow its memory without bound or drop lines.
	logBlockAt = 4 << 20
)

// LogWriter buffers what is written to it and writes it to its destination
// in batches, in order, from a goroutine of its own. Close writes what is left:
// vigie run closes it after the daemon has stopped, so no line of a shutdown
// is lost. Lines written in the last logFlushEvery before a crash of the
// process may be (the runtime's own panic message is not buffered).
type LogWriter struct {
	out io.Writer

	// writing is held while a batch is written, so that batches go out in
	// order; mu guards buf and is never held during a write.
	writing sync.Mutex
	spare   []byte // the batch written last, for reuse; under writing
	mu      sync.Mutex
	buf     []byte
	err     error // the first write to out that failed, for Close
	closed  bool

	closeOnce sync.Once

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

// NewLogWriter starts a LogWriter that writes to out.
func NewLogWriter(out io.Writer) *LogWriter {
	w := &LogWriter{
		out:  out,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go w.run()
	return w
}

// Write buffers p. It does not fail: a failed write to the destination is
// reported by Close. Once w is closed, p is written through at once.
func (w *LogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		w.writing.Lock()
		defer w.writing.Unlock()
		return w.out.Write(p)
	}
	first := len(w.buf) == 0
	w.buf = append(w.buf, p...)
	n := len(w.buf)
	w.mu.Unlock()
	switch {
	case n >= logBlockAt:
		_ = w.Flush() // reported by Close
	case first || n >= logFlushAt:
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// Flush writes what is buffered now. A batch that could not be written is
// dropped: the next one may be.
func (w *LogWriter) Flush() error {
	w.writing.Lock()
	defer w.writing.Unlock()
	w.mu.Lock()
	batch := w.buf
	w.buf = w.spare[:0]
	w.mu.Unlock()
	w.spare = batch
	if len(batch) == 0 {
		return nil
	}
	_, err := w.out.Write(batch)
	if err != nil {
		w.failed(err)
	}
	return err
}

// run writes a batch logFlushEvery after its first line, or at once when it
// is large.
func (w *LogWriter) run() {
	defer close(w.done)
	timer := time.NewTimer(logFlushEvery)
	timer.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-w.wake:
		}
		w.mu.Lock()
		large := len(w.buf) >= logFlushAt
		w.mu.Unlock()
		if !large {
			timer.Reset(logFlushEvery)
			select {
			case <-w.stop:
				timer.Stop()
				return
			case <-timer.C:
			case <-w.wake: // grown large meanwhile
				timer.Stop()
			}
		}
		_ = w.Flush() // kept in w.err for Close
	}
}

// Close writes what is buffered and stops w's goroutine; later writes go
// through unbuffered. It returns the first write to the destination that
// failed, if any.
func (w *LogWriter) Close() error {
	w.closeOnce.Do(func() {
		close(w.stop)
		<-w.done
		// Held until the last batch is out, so that a line written through
		// meanwhile comes after it.
		w.writing.Lock()
		defer w.writing.Unlock()
		w.mu.Lock()
		w.closed = true
		batch := w.buf
		w.buf = nil
		w.mu.Unlock()
		if len(batch) > 0 {
			if _, err := w.out.Write(batch); err != nil {
				w.failed(err)
			}
		}
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *LogWriter) failed(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

// logAttrs is log.LogAttrs without the caller's program counter: slog takes
// it with runtime.Callers on every line, for a source that vigie's handlers
// never print (no AddSource), and that was nearly half of what the verdict
// line, written for most events of a raid night, cost the request.
func logAttrs(ctx context.Context, log *slog.Logger, level slog.Level, msg string, attrs ...slog.Attr) {
	h := log.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	if th, ok := h.(*TextHandler); ok {
		_ = th.handleAttrs(ctx, time.Now(), level, msg, attrs)
		return
	}
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.AddAttrs(attrs...)
	_ = h.Handle(ctx, r) // a handler that fails has nowhere to say so
}
