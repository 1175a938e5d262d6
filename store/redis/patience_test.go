package redis_test

import (
	"context"
	"net"
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
	mu     sync.Mutex
	armed  bool
	hold   time.Duration
	pinged chan struct{} // closed by the first ping while armed
	held   chan struct{} // closed when a held pipeline leaves
}

func (h *slowPipes) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *slowPipes) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
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
			select {
			case <-pinged:
			case <-time.After(hold):
			}
			time.Sleep(time.Until(left.Add(hold)))
		}
		return next(ctx, cmds)
	}
}

func (h *slowPipes) arm(hold time.Duration) (held <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed, h.hold = true, hold
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
	const patience = 400 * time.Millisecond
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
			held := hook.arm(2 * patience)
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
