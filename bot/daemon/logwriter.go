package daemon

import (
	"bytes"
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
	// The lines out refused (a full disk, a closed pipe): counted, and said
	// in the log once out takes lines again, so that a gap in it is
	// explained. losing is the batches lost since the last write out took.
	losing    lossSpell
	lostTotal uint64
	tell      *slog.Logger

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

// lossSpell is a run of batches the destination refused.
type lossSpell struct {
	lines uint64
	since time.Time
	err   error // the last refusal
}

// TellLossesTo has w log, to log (which writes to w), the lines its
// destination refused, once it takes lines again: how many, since when, and
// why. Without it, they are only counted.
func (w *LogWriter) TellLossesTo(log *slog.Logger) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tell = log
}

// Losing reports whether the destination refuses the lines now: since when,
// how many were lost since, and its last refusal.
func (w *LogWriter) Losing() (since time.Time, lines uint64, err error, losing bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := w.losing
	return l.since, l.lines, l.err, l.lines > 0
}

// LinesLost is how many lines the destination refused since w started.
func (w *LogWriter) LinesLost() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lostTotal
}

// Flush writes what is buffered now. A batch that could not be written is
// dropped, and counted: the next one may be written, and says so first.
func (w *LogWriter) Flush() error {
	w.writing.Lock()
	w.mu.Lock()
	batch := w.buf
	w.buf = w.spare[:0]
	w.mu.Unlock()
	w.spare = batch
	if len(batch) == 0 {
		w.writing.Unlock()
		return nil
	}
	ended, tell, err := w.write(batch)
	w.writing.Unlock()
	w.tellLoss(ended, tell)
	return err
}

// write writes batch to out, under writing, and counts its lines if out
// refused them. When out takes a batch after refusing some, it returns the
// spell of refusals that ended and the logger to tell it to, for the caller
// to log once writing is released: the line comes back through w.
func (w *LogWriter) write(batch []byte) (ended lossSpell, tell *slog.Logger, err error) {
	_, err = w.out.Write(batch)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		if w.err == nil {
			w.err = err
		}
		n := uint64(bytes.Count(batch, []byte{'\n'}))
		if w.losing.lines == 0 {
			// On the wall clock: log lines lost, told with the log's own times.
			w.losing.since = time.Now()
		}
		w.losing.lines += n
		w.losing.err = err
		w.lostTotal += n
	} else if w.losing.lines > 0 {
		ended, w.losing = w.losing, lossSpell{}
		tell = w.tell
	}
	return ended, tell, err
}

func (w *LogWriter) tellLoss(ended lossSpell, tell *slog.Logger) {
	if tell != nil {
		tell.Error("log lines lost: the log's destination refused them for a while (a full disk, a closed pipe), and takes them again",
			"lines", ended.lines, "since", ended.since.UTC().Format(time.RFC3339), "err", ended.err)
	}
}

// run writes a batch logFlushEvery after its first line, or at once when it
// is large.
func (w *LogWriter) run() {
	defer close(w.done)
	// On the wall clock: how long a log line waits to be written out.
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
		w.mu.Lock()
		w.closed = true
		batch := w.buf
		w.buf = nil
		w.mu.Unlock()
		var ended lossSpell
		var tell *slog.Logger
		if len(batch) > 0 {
			ended, tell, _ = w.write(batch)
		}
		w.writing.Unlock()
		w.tellLoss(ended, tell) // written through, w being closed
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
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
		// On the wall clock: a log line's time, as slog stamps its own.
		_ = th.handleAttrs(ctx, time.Now(), level, msg, attrs)
		return
	}
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.AddAttrs(attrs...)
	_ = h.Handle(ctx, r) // a handler that fails has nowhere to say so
}
