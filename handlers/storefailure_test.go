package handlers_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// A CM's ban(1d) on Discord while Redis is stopped: the ban's end cannot be
// kept for the lift, so the member is not banned, and the CM is told so.
// That is the store's failure, not Discord's: the platforms' action watch
// (Acted, behind /-/ready?strict) is not told of it.
func TestTimedBanStoreFailureNotBlamedOnPlatform(t *testing.T) {
	srv := redistest.Start(t)
	st, err := redis.Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv.Stop()

	var mu sync.Mutex
	var told []string
	p := &chat{recorder: recorder{name: "discord"}}
	m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": p}, Store: st,
		Now: (&clock{t: at}).Now, Retry: handlers.Retry{Attempts: 1},
		Acted: func(_ context.Context, platform string, err error) {
			mu.Lock()
			defer mu.Unlock()
			told = append(told, platform+": "+errText(err))
		}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Moderate(context.Background(), bot.ModRequest{Command: bot.ModBan, Target: event("discord"), Duration: 24 * time.Hour, By: "discord:42"})
	if err == nil || !strings.Contains(err.Error(), "not banned: the store could not keep the ban's end") {
		t.Errorf("ban(1d) with Redis stopped = %v, want it refused: its end could not be kept", err)
	}
	if calls := p.Calls(); len(calls) != 0 {
		t.Errorf("platform calls = %q, want none", calls)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(told) != 0 {
		t.Errorf("the action watch was told %q, want nothing: Discord did not fail", told)
	}
}

func errText(err error) string {
	if err == nil {
		return "done"
	}
	return err.Error()
}
