// Package testsync helps the connectors' tests watch what their goroutines do:
// a log buffer the test may read while they write, a wait for a condition,
// the next event a source sends, and the errors a fake reports.
package testsync

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// Buffer is a bytes.Buffer that several goroutines may write while a test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Reports is a testing.TB that keeps the errors reported to it with Errorf
// instead of failing the test: a fake's refusals, for the fake's own tests.
type Reports struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *Reports) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// Errors are the errors reported so far.
func (r *Reports) Errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

// Expect fails t unless one error holding want was reported, or none when
// want is "".
func (r *Reports) Expect(t testing.TB, want string) {
	t.Helper()
	got := r.Errors()
	switch {
	case want == "" && len(got) > 0:
		t.Errorf("reported %q, want nothing", got)
	case want != "" && (len(got) != 1 || !strings.Contains(got[0], want)):
		t.Errorf("reported %q, want one report of %q", got, want)
	}
}

// Logger writes every record, debug ones too, as text into buf.
func Logger(buf *Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Patience is how long a test waits for what happens off its own goroutine
// before it gives up: Eventually, Next, the fakes' waits and the tests' own
// selects. It is long because several packages' tests share a machine that
// may be slow: make test on two busy cores, with the race detector, saw waits
// of seconds that take milliseconds on an idle one. Only a failing test waits
// it out.
const Patience = time.Minute

// Deadline is Patience from now, for a connection's read or write deadline
// (net.Conn's SetDeadline and the like): a wait, not a date.
func Deadline() time.Time { return time.Now().Add(Patience) }

// Eventually polls cond until it holds, for what happens off the test's own
// goroutine, and fails t, naming what, when it still does not after Patience.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Next returns the next event sent on out, failing the test after Patience.
func Next(t testing.TB, out <-chan bot.Event) bot.Event {
	t.Helper()
	select {
	case ev := <-out:
		return ev
	case <-time.After(Patience):
		t.Fatalf("no event came within %s", Patience)
		return bot.Event{}
	}
}
