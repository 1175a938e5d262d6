package handlers_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// A CM's ban(1d) on Discord while Redis is stopped: the ban's end cannot be
// kept for the lift, so the member is not banned, and the CM is told so.
// That is the store's failure, not Discord's: the platforms' action watch
// (Acted, behind /-/ready?strict) is not told of it.
func TestTimedBanStoreFailureNotBlamedOnPlatform(t *testing.T) {
	srv := redistest.Start(t)
	st := redistest.Open(t, srv.URL())
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

// A ban never due given while Redis is away, over a timed ban vigie lifts:
// the platform bans, the store does not take it, and the retries give up.
// Once Redis is back (with the timed ban's entry, from its append-only
// file), the new ban is written before the book is read: the timed ban's
// end does not lift it. On Discord a ban for good; on Telegram a ban(30d),
// which Telegram ends, over a vigie ban(400d).
func TestBanDuringAnOutageNotLiftedByAnEarlierTimedBan(t *testing.T) {
	for _, tt := range []struct {
		platform      string
		first, second time.Duration
		calls         []string
	}{
		{"discord", 24 * time.Hour, 0, []string{"ban(1d)", "ban"}},
		{"telegram", 400 * 24 * time.Hour, 30 * 24 * time.Hour, []string{"ban(400d)", "ban(30d)"}},
	} {
		t.Run(tt.platform, func(t *testing.T) {
			srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
			rs, err := redis.Open(srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			st := redis.NewFallback(rs, redis.FallbackOptions{})
			t.Cleanup(func() { st.Close() })
			ctx := context.Background()
			clk := &clock{t: at}
			var p interface {
				bot.Platform
				bot.Banner
				Calls() []string
			} = &chat{recorder: recorder{name: tt.platform}}
			if tt.platform == "telegram" {
				p = &expiring{chat{recorder: recorder{name: tt.platform}}}
			}
			m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{tt.platform: p}, Store: st,
				Now: clk.Now, Retry: handlers.Retry{Attempts: 1}})
			if err != nil {
				t.Fatal(err)
			}
			ban := func(d time.Duration, by string) error {
				_, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: event(tt.platform), Duration: d, By: by})
				return err
			}
			if err := ban(tt.first, tt.platform+":42"); err != nil {
				t.Fatal(err)
			}
			srv.Stop()
			clk.Add(time.Hour)
			err = ban(tt.second, tt.platform+":43")
			if tt.second == 0 && (err == nil || !strings.Contains(err.Error(), "banned for good, but")) {
				t.Errorf("ban for good with Redis stopped = %v; want it given, the store's failure said", err)
			}
			srv.Restart()
			key := store.BanKey(event(tt.platform))
			var kept store.TimedBan
			redistest.Eventually(t, time.Minute, "Redis answering again", func() bool {
				var err error
				kept, _, err = st.KeptBan(ctx, key)
				return err == nil
			})
			if kept.Due() || kept.By != tt.platform+":43" {
				t.Errorf("ban kept once Redis is back = %+v; want %s:43's, never due", kept, tt.platform)
			}
			clk.Add(tt.first)
			if n, err := m.LiftBans(ctx); n != 0 || err != nil {
				t.Errorf("LiftBans past the timed ban's end = %d, %v; want none lifted", n, err)
			}
			if got := p.Calls(); !slices.Equal(got, tt.calls) {
				t.Errorf("platform calls = %q; want %q, no unban", got, tt.calls)
			}
		})
	}
}

// /warns while Redis is stopped: the moderator is told the warnings cannot
// be read right now, the store's error returned for the log, not in the
// answer the group reads. The answer was empty, which Telegram and Discord
// refuse to post: the moderator heard nothing.
func TestWarnsStoreFailureIsSaid(t *testing.T) {
	srv := redistest.Start(t)
	st := redistest.Open(t, srv.URL())
	srv.Stop()
	p := &chat{recorder: recorder{name: "discord"}}
	m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": p}, Store: st,
		Now: (&clock{t: at}).Now, Retry: handlers.Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	text, err := m.Moderate(context.Background(), bot.ModRequest{Command: bot.ModWarns, Target: event("discord"), By: "discord:42"})
	if err == nil || !strings.HasPrefix(text, "The warnings of ") || !strings.HasSuffix(text, "cannot be read right now: try again in a minute.") {
		t.Errorf("/warns with Redis stopped = %q, %v; want the failure said", text, err)
	}
}
