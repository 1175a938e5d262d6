// Package testsync helps the connectors' tests watch what their goroutines do:
// a log buffer the test may read while they write, and a wait for a condition.
package testsync

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
	"time"
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
