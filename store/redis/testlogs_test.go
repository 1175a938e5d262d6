package redis_test

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// testLogs is a store's log, read while it grows.
type testLogs struct {
	mu   sync.Mutex
	text strings.Builder
}

func (l *testLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text.Write(p)
}

// logger writes into l, as text.
func (l *testLogs) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func (l *testLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text.String()
}

// waitFor waits for a line with want in the log, for a minute, far past the
// renewals' pace and what a loaded machine takes: the test fails if it never
// comes.
func (l *testLogs) waitFor(t *testing.T, want string) string {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		for _, line := range strings.Split(l.String(), "\n") {
			if strings.Contains(line, want) {
				return line
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line with %q; the log:\n%s", want, l.String())
	return ""
}
