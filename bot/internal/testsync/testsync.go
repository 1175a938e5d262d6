// Package testsync helps the connectors' tests watch what their goroutines do:
// a log buffer the test may read while they write, a wait for a condition, and
// the next event a source sends.
package testsync

import (
	"bytes"
	"log/slog"
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

// Logger writes every record, debug ones too, as text into buf.
func Logger(buf *Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Eventually polls cond until it holds, for what happens off the test's own
// goroutine, and fails t, naming what, when it still does not after 20 seconds.
// The wait is long because several packages' tests may share a slow machine.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Next returns the next event sent on out, failing the test after 10 seconds.
func Next(t testing.TB, out <-chan bot.Event) bot.Event {
	t.Helper()
	select {
	case ev := <-out:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event came within 10s")
		return bot.Event{}
	}
}
