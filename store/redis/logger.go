package redis

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Logger takes go-redis's own messages (a pool that cannot dial, a connection
// dropped) into slog, at most one line per kind of message per interval: while
// Redis is down go-redis repeats the same line several times a second, and the
// store's fallback already says, once, that Redis is away. A line that was held
// back is counted in the next one's "repeated" attribute: how many times the
// message came since the last line.
type Logger struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu    sync.Mutex
	kinds map[string]*logKind
}

type logKind struct {
	last time.Time
	held int
}

// NewLogger returns a Logger writing to log at most one line per kind of
// message every interval (a minute when 0).
func NewLogger(log *slog.Logger, every time.Duration) *Logger {
	if every <= 0 {
		every = time.Minute
	}
	return &Logger{log: log, every: every, now: time.Now, kinds: map[string]*logKind{}}
}

// UseLogger makes l the logger of go-redis, which has one for the whole
// process: the daemon calls it once as it opens the Redis store.
func UseLogger(l *Logger) { goredis.SetLogger(l) }

// maxKinds bounds the kinds remembered; past it, they start over.
const maxKinds = 256

// Printf is go-redis's logging interface. Messages of one kind share their
// format.
func (l *Logger) Printf(ctx context.Context, format string, v ...any) {
	now := l.now()
	l.mu.Lock()
	k := l.kinds[format]
	if k == nil {
		if len(l.kinds) >= maxKinds {
			clear(l.kinds)
		}
		k = &logKind{}
		l.kinds[format] = k
	}
	if !k.last.IsZero() && now.Sub(k.last) < l.every {
		k.held++
		l.mu.Unlock()
		return
	}
	held := k.held
	k.last, k.held = now, 0
	l.mu.Unlock()
	args := []any{"source", "go-redis"}
	if held > 0 {
		args = append(args, "repeated", held)
	}
	l.log.WarnContext(ctx, fmt.Sprintf(format, v...), args...)
}
