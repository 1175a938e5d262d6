//go:build unix

package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestFallbackFrozen freezes redis-server (SIGSTOP) under the Fallback, whose
// client would wait 60 s for an answer (read_timeout): an event's observation,
// and the case it opens, are each answered from memory while Redis is still
// frozen, and the outage is declared a second later. Once Redis runs again, the
// case is written there, once.
func TestFallbackFrozen(t *testing.T) {
	for _, tt := range []struct {
		name string
		// call answers the id of the case opened, and what is wrong with
		// the answer (reported once the test has it: the call may outlive
		// a test that gave up on it).
		call func(ctx context.Context, f *redis.Fallback) (id, wrong string, err error)
	}{
		{"observe", func(ctx context.Context, f *redis.Fallback) (string, string, error) {
			res, err := f.Observe(ctx, store.Observation{At: time.Unix(1_800_000_000, 0), Platform: "discord", Space: "g",
				Author: "u-2", EventID: "m-2", StrikeWindow: time.Hour,
				Counters: []store.CounterOp{{Name: "msgs", Key: "u-2", Window: time.Minute, Incr: true}}})
			if err == nil && (res.Duplicate || len(res.Counts) != 1 || res.Counts[0] != 1) {
				return "", fmt.Sprintf("observed %+v, want the event counted once, in memory", res), nil
			}
			return "", "", err
		}},
		{"open case", func(ctx context.Context, f *redis.Fallback) (string, string, error) {
			c, err := f.OpenCase(ctx, store.Case{Rule: "scam", Reason: "scam", Opened: time.Unix(1_800_000_000, 0),
				Event: newEvent("m-3", "u-3")})
			if err == nil && !strings.HasPrefix(c.ID, "l-") {
				return c.ID, "opened " + c.ID + ", want a case kept in memory (l-)", nil
			}
			return c.ID, "", err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, primary, f := frozenFallback(t, "60s")
			ctx := context.Background()
			// The connection made and the scripts loaded, as in a running vigie.
			if _, err := f.Observe(ctx, store.Observation{At: time.Unix(1_800_000_000, 0), Platform: "discord", Space: "g",
				Author: "u-1", EventID: "m-1", Counters: []store.CounterOp{{Name: "msgs", Key: "u-1", Window: time.Minute, Incr: true}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.OpenCase(ctx, store.Case{Rule: "warm", Reason: "warm", Opened: time.Unix(1_800_000_000, 0), Event: newEvent("m-1", "u-1")}); err != nil {
				t.Fatal(err)
			}

			srv.Freeze()
			defer srv.Thaw()
			type answer struct {
				id, wrong string
				err       error
			}
			got := make(chan answer, 1)
			go func() {
				id, wrong, err := tt.call(ctx, f)
				got <- answer{id, wrong, err}
			}()
			// Short of the read timeout the call would wait for (60 s),
			// and long enough for a loaded machine.
			var a answer
			select {
			case a = <-got:
			case <-time.After(45 * time.Second):
				t.Fatal("no answer with Redis frozen for 45 s, want one from memory")
			}
			if a.err != nil {
				t.Fatalf("with Redis frozen: %v, want an answer from memory", a.err)
			}
			if a.wrong != "" {
				t.Error(a.wrong)
			}
			// Taken for away once Redis answered nothing for a second more.
			waitFor(t, "the outage, with Redis frozen", f.Degraded)

			srv.Thaw()
			waitWrittenBack(t, f, "the write-back")
			if a.id == "" {
				return
			}
			cases, err := primary.Cases(ctx, store.CaseOpen)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, c := range cases {
				if c.Event.ID == "m-3" {
					n += c.Hits()
				}
			}
			if n != 1 {
				t.Errorf("the case opened during the freeze: %d hits in Redis, want 1", n)
			}
		})
	}
}

// frozenFallback starts a redis-server of its own and a Fallback over a
// pipelined store on it whose client waits readTimeout for an answer, as a
// test that freezes the server wants them.
func frozenFallback(t *testing.T, readTimeout string) (*redistest.Server, *redis.Store, *redis.Fallback) {
	t.Helper()
	srv := redistest.Start(t)
	primary, err := redis.Open(srv.URL()+"?read_timeout="+readTimeout, redis.WithPrefix(newPrefix()), redis.WithAutoPipeline())
	if err != nil {
		t.Fatal(err)
	}
	f := redis.NewFallback(primary, redis.FallbackOptions{RetryEvery: 50 * time.Millisecond})
	t.Cleanup(func() { f.Close() })
	return srv, primary, f
}

func newEvent(id, author string) bot.Event {
	return bot.Event{ID: id, Platform: "discord", Kind: bot.KindMessage, Space: "g", Channel: "general",
		Author: bot.Author{ID: author, Name: author}, Text: "free nitro", At: time.Unix(1_800_000_000, 0)}
}

// TestAuditOnceAfterFreeze freezes redis-server while an audit entry is on
// the wire: the shared pipeline gives up on it (read_timeout) and the
// Fallback keeps it for the write-back, but the frozen server still holds the
// command in its socket and runs it when it wakes. The entry is then in the
// stream twice (the write-back adds its copy); the audit shows it once.
func TestAuditOnceAfterFreeze(t *testing.T) {
	srv, _, f := frozenFallback(t, "300ms")
	ctx := context.Background()
	at := time.Unix(1_800_000_000, 0)
	before := store.AuditEntry{At: at, Event: newEvent("m-1", "u-1"), Verdict: bot.Verdict{EventID: "m-1", Platform: "discord", At: at, Matches: []bot.Match{{Rule: "scam"}}}, Mode: "enforce"}
	if err := f.AppendAudit(ctx, before); err != nil {
		t.Fatal(err)
	}
	// The connection made, as in a running vigie.
	if _, err := f.Audit(ctx, time.Time{}); err != nil {
		t.Fatal(err)
	}

	srv.Freeze()
	defer srv.Thaw()
	during := store.AuditEntry{At: at.Add(time.Second), Event: newEvent("m-2", "u-2"), Verdict: bot.Verdict{EventID: "m-2", Platform: "discord", At: at.Add(time.Second), Matches: []bot.Match{{Rule: "scam"}}}, Mode: "enforce"}
	if err := f.AppendAudit(ctx, during); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the entry kept for the write-back", func() bool { return f.Buffered() > 0 })
	srv.Thaw()
	waitWrittenBack(t, f, "the write-back")

	got, err := f.Audit(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range got {
		ids = append(ids, e.Event.ID)
	}
	if strings.Join(ids, " ") != "m-1 m-2" {
		t.Errorf("audit after the freeze: %q, want m-1 m-2, each once", ids)
	}
}
