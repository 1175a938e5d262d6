package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// A ban never due that waits for Redis (PutBanLater) is written by the loop
// that waits for it to come back, with no call of the book needed, so that
// another process reads it there; unless a ban given after it is kept by
// then, or the member was unbanned meanwhile.
func TestFallbackWritesBackABanGivenWhileAway(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	url := srv.URL() + "?max_retries=-1&dial_timeout=500ms"
	prefix := newPrefix()
	f := redistest.OpenFallback(t, url, redis.FallbackOptions{RetryEvery: 20 * time.Millisecond}, redis.WithPrefix(prefix))
	ctx := context.Background()
	at := time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	member := func(id string) bot.Event {
		return bot.Event{Platform: "discord", Space: "g1", Author: bot.Author{ID: id}}
	}
	timed := func(id string) store.TimedBan {
		return store.TimedBan{Event: member(id), Rule: "raid", Started: at, Until: at.Add(24 * time.Hour)}
	}
	forGood := func(id, by string, started time.Time) store.TimedBan {
		return store.TimedBan{Event: member(id), Rule: "manual", By: by, Started: started, Until: store.ForGoodUntil}
	}
	for _, id := range []string{"u1", "u2", "u3"} {
		if _, _, err := f.PutBan(ctx, timed(id)); err != nil {
			t.Fatal(err)
		}
	}
	other := otherProcess(t, srv.URL(), prefix)
	// u2's ban for good waits, and one given after it, by another process,
	// is in Redis: that one stays. u3 is unbanned while Redis is away.
	later := forGood("u2", "discord:44", at.Add(2*time.Hour))
	if _, _, err := other.PutBan(ctx, later); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	f.PutBanLater(forGood("u1", "discord:42", at.Add(time.Hour)))
	f.PutBanLater(forGood("u2", "discord:43", at.Add(time.Hour)))
	f.PutBanLater(forGood("u3", "discord:43", at.Add(time.Hour)))
	if _, err := f.RemoveBan(ctx, store.BanKey(member("u3")), time.Time{}); err == nil {
		t.Error("RemoveBan with Redis stopped: no error")
	}
	if due, err := f.DueBans(ctx, at.Add(25*time.Hour), 0); err == nil {
		t.Errorf("DueBans with bans waiting for a stopped Redis = %d bans; want an error, none to lift", len(due))
	}
	srv.Restart()
	redistest.Eventually(t, time.Minute, "the ban for good written back", func() bool {
		b, ok, err := other.KeptBan(ctx, store.BanKey(member("u1")))
		return err == nil && ok && b.ForGood()
	})
	if b, _, err := other.KeptBan(ctx, store.BanKey(member("u2"))); err != nil || !store.SameBan(b, later) {
		t.Errorf("u2's ban = %+v, %v; want the later ban for good, kept", b, err)
	}
	due, err := other.DueBans(ctx, at.Add(25*time.Hour), 0)
	if err != nil || len(due) != 1 || due[0].Event.Author.ID != "u3" {
		t.Errorf("due bans once Redis is back = %+v, %v; want u3's timed ban only (unbanned: its lift finds it lifted)", due, err)
	}
}

// A ban waiting for Redis that Redis answers with a refusal (here, the
// book's key holds something else) is dropped, logged, rather than tried
// again for ever: it would hold every call of the book.
func TestFallbackDropsABanRedisRefuses(t *testing.T) {
	url := redistest.URL(t)
	prefix := newPrefix()
	f := redistest.OpenFallback(t, url, redis.FallbackOptions{}, redis.WithPrefix(prefix))
	ctx := context.Background()
	raw := redistest.Client(t, url)
	book := prefix + ":{bans}:all"
	if err := raw.Set(ctx, book, "not a hash", 0).Err(); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	b := store.TimedBan{Event: bot.Event{Platform: "discord", Space: "g1", Author: bot.Author{ID: "u1"}},
		Rule: "manual", By: "discord:42", Started: at, Until: store.ForGoodUntil}
	f.PutBanLater(b)
	if _, _, err := f.KeptBan(ctx, b.Key()); err == nil {
		t.Error("KeptBan with the book's key holding a string: no error")
	}
	if err := raw.Del(ctx, book).Err(); err != nil {
		t.Fatal(err)
	}
	if kept, ok, err := f.KeptBan(ctx, b.Key()); ok || err != nil {
		t.Errorf("KeptBan once the key is free = %+v, %v, %v; want the refused ban dropped, not written", kept, ok, err)
	}
}

// A ban waiting for Redis (PutBanLater) is counted in vigie_store_buffered,
// the gauge watched for what Redis has not got yet, until it is written back.
func TestFallbackCountsBansWaitingInBuffered(t *testing.T) {
	srv := redistest.Start(t)
	f := redistest.OpenFallback(t, srv.URL()+"?max_retries=-1&dial_timeout=500ms", redis.FallbackOptions{RetryEvery: 20 * time.Millisecond}, redis.WithPrefix(newPrefix()))
	reg := prometheus.NewRegistry()
	if err := f.Register(reg); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	at := time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	b := store.TimedBan{Event: bot.Event{Platform: "discord", Space: "g1", Author: bot.Author{ID: "u1"}},
		Rule: "manual", By: "discord:42", Started: at, Until: store.ForGoodUntil}
	srv.Stop()
	f.PutBanLater(b)
	if got := gauge(t, reg, "vigie_store_buffered"); got != 1 {
		t.Errorf("vigie_store_buffered with a ban waiting for a stopped Redis = %v; want 1", got)
	}
	srv.Restart()
	redistest.Eventually(t, time.Minute, "the ban written back", func() bool {
		kept, ok, err := f.KeptBan(ctx, b.Key())
		return err == nil && ok && kept.ForGood()
	})
	redistest.Eventually(t, time.Minute, "vigie_store_buffered 0 once the ban is written", func() bool {
		return gauge(t, reg, "vigie_store_buffered") == 0
	})
}

// A ban waiting for Redis is not dropped while Redis answers BUSY (a script
// of another client running past busy-reply-threshold): Redis refuses every
// command until the script ends or is killed, as it does while LOADING,
// and then takes the ban. Dropped, the member's earlier timed ban would
// lift the ban for good at its end.
func TestFallbackKeepsABanWhileRedisIsBusy(t *testing.T) {
	srv := redistest.Start(t, "--busy-reply-threshold", "100")
	prefix := newPrefix()
	f := redistest.OpenFallback(t, srv.URL()+"?max_retries=-1", redis.FallbackOptions{}, redis.WithPrefix(prefix))
	ctx := context.Background()
	at := time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	member := bot.Event{Platform: "discord", Space: "g1", Author: bot.Author{ID: "u1"}}
	timed := store.TimedBan{Event: member, Rule: "raid", Started: at, Until: at.Add(24 * time.Hour)}
	forGood := store.TimedBan{Event: member, Rule: "manual", By: "discord:42", Started: at.Add(time.Hour), Until: store.ForGoodUntil}
	if _, _, err := f.PutBan(ctx, timed); err != nil {
		t.Fatal(err)
	}

	busy := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { busy.Close() })
	looped := make(chan error, 1)
	go func() { looped <- busy.Eval(ctx, "while true do end", nil).Err() }()
	other := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { other.Close() })
	redistest.Eventually(t, time.Minute, "Redis answering BUSY", func() bool {
		err := other.Ping(ctx).Err()
		return err != nil && strings.HasPrefix(err.Error(), "BUSY")
	})
	f.PutBanLater(forGood)
	if _, _, err := f.KeptBan(ctx, forGood.Key()); err == nil {
		t.Error("KeptBan while Redis answers BUSY: no error")
	}
	if err := other.Do(ctx, "SCRIPT", "KILL").Err(); err != nil {
		t.Fatal(err)
	}
	<-looped
	kept, ok, err := f.KeptBan(ctx, forGood.Key())
	if err != nil || !ok || !store.SameBan(kept, forGood) {
		t.Errorf("KeptBan once the script was killed = %+v, %v, %v; want the ban for good, written", kept, ok, err)
	}
}

// A ban for good that waited for Redis is written back against the book as
// it is when written: a ban of the member given after it by another
// process, written between the write-back's read of the book and its
// write, stays. Written over, the later ban (here a timed ban a moderator
// gave after the ban for good) would be lost.
func TestFallbackWriteBackKeepsABanGivenWhileItWrites(t *testing.T) {
	url := redistest.URL(t)
	prefix := newPrefix()
	ctx := context.Background()
	at := time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	member := bot.Event{Platform: "discord", Space: "g1", Author: bot.Author{ID: "u1"}}
	waiting := store.TimedBan{Event: member, Rule: "manual", By: "discord:42", Started: at, Until: store.ForGoodUntil}
	later := store.TimedBan{Event: member, Rule: "manual", By: "discord:43", Started: at.Add(time.Hour), Until: at.Add(7 * 24 * time.Hour)}
	other := otherProcess(t, url, prefix)

	c, err := redis.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// The other process bans the member right after this one's first read
	// of the member's ban in the book.
	c.AddHook(&afterBanRead{key: waiting.Key(), then: func() {
		if _, _, err := other.PutBan(ctx, later); err != nil {
			t.Error(err)
		}
	}})
	primary, err := redis.New(c, redis.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	f := redis.NewFallback(primary, redis.FallbackOptions{})
	t.Cleanup(func() { f.Close() })
	f.PutBanLater(waiting)
	if _, err := f.DueBans(ctx, at, 0); err != nil {
		t.Fatal(err)
	}
	if kept, ok, err := other.KeptBan(ctx, waiting.Key()); err != nil || !ok || !store.SameBan(kept, later) {
		t.Errorf("the member's ban after the write-back = %+v, %v, %v; want the later one, given while it wrote", kept, ok, err)
	}
}

// afterBanRead is a go-redis hook that runs then once, after the first
// script call that reads the ban of key in the book (the book's three keys,
// its hash first, and key as the only argument).
type afterBanRead struct {
	key  string
	then func()
	done atomic.Bool
}

func (h *afterBanRead) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *afterBanRead) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

func (h *afterBanRead) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		args := cmd.Args()
		if name := cmd.Name(); (name == "evalsha" || name == "eval") && (err == nil || errors.Is(err, goredis.Nil)) && len(args) == 7 &&
			fmt.Sprint(args[2]) == "3" && strings.HasSuffix(fmt.Sprint(args[3]), ":{bans}:all") &&
			fmt.Sprint(args[6]) == h.key && h.done.CompareAndSwap(false, true) {
			h.then()
		}
		return err
	}
}
