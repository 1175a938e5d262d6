package redis

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLoggerRateLimitsEachKindOfMessage(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogger(slog.New(slog.NewTextHandler(&buf, nil)), time.Minute)
	now := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	const dial = "redis: connection pool: failed to dial after %d attempts: %v"
	// Twice a second for three minutes, as go-redis does while Redis is down.
	for range 360 {
		l.Printf(context.Background(), dial, 5, "connection refused")
		l.Printf(context.Background(), "redis: %s: connection closed", "10.0.0.1:6379")
		now = now.Add(500 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want 3 of each kind:\n%s", len(lines), buf.String())
	}
	for i, want := range []string{
		`level=WARN msg="redis: connection pool: failed to dial after 5 attempts: connection refused" source=go-redis`,
		`msg="redis: 10.0.0.1:6379: connection closed" source=go-redis`,
		`msg="redis: connection pool: failed to dial after 5 attempts: connection refused" source=go-redis repeated=119`,
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %s\nwant %s", i, lines[i], want)
		}
	}
}
