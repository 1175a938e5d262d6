package redis_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// slowPipes holds the shared pipelines that leave while it is armed, as a
// flusher that the CPU serves late, or a Redis busy with a large pipeline,
// would: for hold, and until a ping went through on another connection
// (Redis answers), if one comes within hold.
type slowPipes struct {
	mu    sync.Mutex
	armed bool
	hold  time.Duration
	// until, when set, holds the pings as well until then: Redis answers
	// nothing.
	until  time.Time
	pinged chan struct{} // closed by the first ping while armed
	held   chan struct{} // closed when a held pipeline leaves
}

func (h *slowPipes) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *slowPipes) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.mu.Lock()
		until := h.until
		h.mu.Unlock()
		if cmd.Name() == "ping" {
			time.Sleep(time.Until(until))
		}
		err := next(ctx, cmd)
		if cmd.Name() == "ping" && err == nil {
			h.mu.Lock()
			if h.armed {
				select {
				case <-h.pinged:
				default:
					close(h.pinged)
				}
			}
			h.mu.Unlock()
		}
		return err
	}
}

func (h *slowPipes) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		shared := false // the store's shared pipeline, not another
		for _, c := range cmds {
			switch c.Name() {
			case "evalsha", "eval", "xadd":
				shared = true
			}
		}
		h.mu.Lock()
		armed, hold, pinged, held := h.armed && shared, h.hold, h.pinged, h.held
		if armed {
			h.armed = false
		}
		h.mu.Unlock()
		if armed {
			close(held)
			left := time.Now()
			h.mu.Lock()
			stall := !h.until.IsZero()
			if stall {
				h.until = left.Add(hold)
			}
			h.mu.Unlock()
			select {
			case <-pinged:
			case <-time.After(hold):
			}
			time.Sleep(time.Until(left.Add(hold)))
		}
		return next(ctx, cmds)
	}
}

func (h *slowPipes) arm(hold time.Duration, stall bool) (held <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed, h.hold = true, hold
	if stall {
		h.until = time.Now().Add(time.Hour) // set when the pipeline leaves
	}
	h.pinged, h.held = make(chan struct{}), make(chan struct{})
	return h.held
}

// TestFallbackSlowNotFrozen: an event's observation whose shared pipeline
// Redis answers late, or that waits in the queue behind such a pipeline,
// while Redis answers a ping on another connection, is answered by Redis:
// the store does not switch to memory, and the event is counted with the
// author's earlier one. This is what CPU load did (docs/store.md, "When
// Redis freezes"): the flusher read the pipeline's answer late, and the
// events queued behind it waited more than a second. Before, each such
// event was cut at EventTimeout, counted from when it queued, and vigie
// switched to memory (counters from zero, /-/ready 503).
func TestFallbackSlowNotFrozen(t *testing.T) {
	// A second: the ping on another connection (a dial, a handshake) must
	// be answered within three quarters of it, which 400 ms did not always
	// give under the race detector on a loaded machine ("counted [1]").
	const patience = time.Second
	for _, tt := range []struct {
		name string
		// behind: the observation is queued behind a held pipeline
		// (an audit entry's), rather than in it.
		behind bool
	}{
		{"its pipeline slow", false},
		{"queued behind a slow pipeline", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := redistest.Start(t)
			hook := &slowPipes{}
			c := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true,
				ReadTimeout: 5 * time.Second, Dialer: (&net.Dialer{}).DialContext})
			c.AddHook(hook)
			primary, err := redis.New(c, redis.WithPrefix(newPrefix()), redis.WithAutoPipeline())
			if err != nil {
				t.Fatal(err)
			}
			f := redis.NewFallback(primary, redis.FallbackOptions{EventTimeout: patience, RetryEvery: 50 * time.Millisecond})
			t.Cleanup(func() { f.Close(); c.Close() })
			ctx := context.Background()
			obs := func(id string, at time.Time) (store.Result, error) {
				return f.Observe(ctx, store.Observation{At: at, Platform: "discord", Space: "g", Author: "u-1", EventID: id,
					Counters: []store.CounterOp{{Name: "msgs", Key: "u-1", Window: time.Hour, Incr: true}}})
			}
			at := time.Unix(1_800_000_000, 0)
			if _, err := obs("m-1", at); err != nil {
				t.Fatal(err)
			}

			// Held for twice the patience, and answered then.
			held := hook.arm(2*patience, false)
			if tt.behind {
				e := newEvent("m-0", "u-0")
				if err := f.AppendAudit(ctx, store.AuditEntry{At: at, Event: e, Mode: "enforce"}); err != nil {
					t.Fatal(err)
				}
				<-held
			}
			res, err := obs("m-2", at.Add(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if f.Degraded() {
				t.Errorf("degraded, with Redis answering: %s", f.Problem())
			}
			if len(res.Counts) != 1 || res.Counts[0] != 2 {
				t.Errorf("the second event counted %v, want [2]: counted in Redis with the first", res.Counts)
			}
		})
	}
}

// TestFallbackStallNotOutage: a Redis that answers nothing, neither the
// pipeline nor a ping, for one and a half times the patience, then answers
// (a fork, an fsync on a busy disk, a redis-server the machine serves late),
// is not taken for away: the event cut at the patience is judged from
// memory, and the store stays on Redis, logging that it answered late.
// Before, the cut switched vigie to memory at once, /-/ready 503, until
// the next ping and the write-back (one to seven seconds each time in a
// long run under load).
func TestFallbackStallNotOutage(t *testing.T) {
	const patience = 400 * time.Millisecond
	srv := redistest.Start(t)
	hook := &slowPipes{}
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true,
		ReadTimeout: 5 * time.Second, Dialer: (&net.Dialer{}).DialContext})
	c.AddHook(hook)
	primary, err := redis.New(c, redis.WithPrefix(newPrefix()), redis.WithAutoPipeline())
	if err != nil {
		t.Fatal(err)
	}
	logged := make(chan struct{}, 1)
	log := slog.New(handlerFunc(func(r slog.Record) {
		if strings.HasPrefix(r.Message, "redis answered late") {
			select {
			case logged <- struct{}{}:
			default:
			}
		}
	}))
	f := redis.NewFallback(primary, redis.FallbackOptions{EventTimeout: patience, RetryEvery: 50 * time.Millisecond, Logger: log})
	t.Cleanup(func() { f.Close(); c.Close() })
	ctx := context.Background()
	at := time.Unix(1_800_000_000, 0)
	if _, err := f.Observe(ctx, store.Observation{At: at, Platform: "discord", Space: "g", Author: "u-1", EventID: "m-1"}); err != nil {
		t.Fatal(err)
	}
	hook.arm(patience+patience/2, true)
	if _, err := f.Observe(ctx, store.Observation{At: at, Platform: "discord", Space: "g", Author: "u-1", EventID: "m-2",
		Counters: []store.CounterOp{{Name: "msgs", Key: "u-1", Window: time.Hour, Incr: true}}}); err != nil {
		t.Fatalf("with Redis stalled: %v, want an answer from memory", err)
	}
	waitFor(t, "the stall's end, or the outage", func() bool {
		select {
		case <-logged:
			return true
		default:
			return f.Degraded()
		}
	})
	if f.Degraded() {
		t.Errorf("degraded after a stall of %s that ended: %s", patience+patience/2, f.Problem())
	}
}

// handlerFunc is a slog.Handler that hands each record to a function.
type handlerFunc func(slog.Record)

func (h handlerFunc) Enabled(context.Context, slog.Level) bool      { return true }
func (h handlerFunc) Handle(_ context.Context, r slog.Record) error { h(r); return nil }
func (h handlerFunc) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h handlerFunc) WithGroup(string) slog.Handler                 { return h }

// heldCalls holds the commands sent on their own (not in a pipeline) whose
// name is held, until release is closed.
type heldCalls struct {
	held    string
	release chan struct{}
	seen    chan struct{}
	once    sync.Once
}

func (h *heldCalls) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *heldCalls) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if cmd.Name() == h.held {
			h.once.Do(func() { close(h.seen) })
			<-h.release
		}
		return next(ctx, cmd)
	}
}

func (h *heldCalls) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// TestFallbackReadLate: a call sent on a connection of its own, /-/ready's
// ping or the Telegram poller's offset, that is not answered within the
// patience while Redis answers the shared pipelines meanwhile, was read
// late (a process under CPU load), and is not taken for an outage. Before,
// it switched vigie to memory, /-/ready 503.
func TestFallbackReadLate(t *testing.T) {
	const patience = 300 * time.Millisecond
	for _, tt := range []struct {
		name string
		held string
		call func(ctx context.Context, f *redis.Fallback, l store.Lease) error
	}{
		{"ready's ping", "ping", func(ctx context.Context, f *redis.Fallback, _ store.Lease) error { return f.Probe(ctx) }},
		{"the poller's offset", "evalsha", func(ctx context.Context, f *redis.Fallback, l store.Lease) error {
			_, err := f.AdvanceFenced(ctx, l, "offset", 7)
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := redistest.Start(t)
			hook := &heldCalls{held: tt.held, release: make(chan struct{}), seen: make(chan struct{})}
			c := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true,
				Dialer: (&net.Dialer{}).DialContext})
			primary, err := redis.New(c, redis.WithPrefix(newPrefix()), redis.WithAutoPipeline())
			if err != nil {
				t.Fatal(err)
			}
			f := redis.NewFallback(primary, redis.FallbackOptions{EventTimeout: patience, RetryEvery: time.Hour})
			t.Cleanup(func() { f.Close(); c.Close() })
			ctx := context.Background()
			// The poller's lease, and the fence's script loaded, as in a
			// running vigie.
			l, ok, err := f.AcquireLease(ctx, "telegram-poller", "me", time.Minute)
			if err != nil || !ok {
				t.Fatalf("lease: %v %v", ok, err)
			}
			if _, err := f.AdvanceFenced(ctx, l, "offset", 1); err != nil {
				t.Fatal(err)
			}
			c.AddHook(hook)
			done := make(chan error, 1)
			go func() { done <- tt.call(ctx, f, l) }()
			<-hook.seen
			// Redis answers an event's observation meanwhile.
			if _, err := f.Observe(ctx, store.Observation{At: time.Unix(1_800_000_000, 0), Platform: "discord", Space: "g", Author: "u-1", EventID: "m-1"}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(patience + patience/2)
			close(hook.release)
			<-done
			if f.Degraded() {
				t.Errorf("degraded after %s read late while Redis answered: %s", tt.name, f.Problem())
			}
		})
	}
}
