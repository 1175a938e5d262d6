package discord

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestCauseCardSharedOnTheDesk: Discord refuses vigie's deletes in a
// channel (Missing Permissions); the refusals handled by two instances on
// one Redis, and by a third started after, share one card in the desk
// channel, edited to count them all.
func TestCauseCardSharedOnTheDesk(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.Prefix("discord-cause")
	f := newFakeDiscord(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 21, 0, 0, 0, time.UTC)
	n := 0
	instance := func(name string) func() {
		st := redistest.Open(t, srv.URL(), redis.WithPrefix(prefix), redis.WithConsumer(name))
		c, _ := newTestClient(t, f, Config{DeskChannel: deskID})
		cmds := &desktest.Commands{Store: st}
		mod, err := handlers.New(handlers.Options{
			Platforms: map[string]bot.Platform{"discord": c}, Store: st,
			Desk: desktest.Desk{Poster: c.Desk(cmds), Cmds: cmds},
			Now:  func() time.Time { return now }, Retry: handlers.Retry{Attempts: 1},
			FailureCause: func(err error) string {
				var de *APIError
				if errors.As(err, &de) && de.Code == 50013 {
					return "discord 403 50013"
				}
				return ""
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		cmds.Mod = mod
		return func() {
			t.Helper()
			n++
			id := fmt.Sprint(900000000000000000 + n)
			f.Fail("DELETE", "/channels/"+general+"/messages/"+id, 403, `{"message": "Missing Permissions", "code": 50013}`, nil, 1)
			ev := bot.Event{ID: id, Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general, At: now,
				Author: bot.Author{ID: fmt.Sprint(700000000000000000 + n), Name: fmt.Sprint("Raider", n)}, Text: "scam"}
			v := bot.Verdict{EventID: id, Platform: "discord", At: now, Matches: []bot.Match{{Rule: "scam", Category: "spam", Actions: []bot.Action{{Kind: bot.ActDelete}}}}}
			if err := mod.Handle(ctx, ev, v); err != nil {
				t.Fatal(err)
			}
			mod.FlushCases(ctx)
		}
	}
	a, b := instance("a"), instance("b")
	a()
	b()
	a()
	instance("c")()
	if n := f.Count("POST", "/channels/"+deskID+"/messages"); n != 1 {
		t.Errorf("%d cards posted in the desk channel, want one for the cause", n)
	}
	edits := f.Calls("PATCH", "/channels/"+deskID+"/messages/")
	last := ""
	if len(edits) > 0 {
		last = fmt.Sprint(edits[len(edits)-1].Body["content"])
	}
	if !strings.Contains(last, "delete failed 4 times") {
		t.Errorf("the card's edits: %d, the last %q; want it to count the four", len(edits), last)
	}
}
