package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestWarningsShared: one warning per author and space every ten minutes
// holds across the instances on one Redis, and across a restart: an author
// warned by one instance is not warned again by another within the ten
// minutes, nor by one started after; once they are over, he is.
func TestWarningsShared(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.Prefix("warn-test")
	ctx := context.Background()
	now := at
	n := 0
	instance := func(name string) func(step string, want int) {
		st := redistest.Open(t, srv.URL(), redis.WithPrefix(prefix), redis.WithConsumer(name))
		p := &chat{recorder: recorder{name: "discord", errs: map[string][]error{}}}
		m, err := handlers.New(handlers.Options{
			Platforms: map[string]bot.Platform{"discord": p}, Store: st,
			Now: func() time.Time { return now }, Retry: handlers.Retry{Attempts: 1},
		})
		if err != nil {
			t.Fatal(err)
		}
		return func(step string, want int) {
			t.Helper()
			n++
			ev := event("discord")
			ev.ID, ev.At = fmt.Sprint("m-", n), now
			before := len(p.Calls())
			v := verdict("discord", bot.Match{Rule: "caps", Category: "spam", Actions: []bot.Action{{Kind: bot.ActWarn, Text: "Moins de majuscules"}}})
			if err := m.Handle(ctx, ev, v); err != nil {
				t.Fatal(err)
			}
			got := 0
			for _, c := range p.Calls()[before:] {
				if strings.HasPrefix(c, "reply") {
					got++
				}
			}
			if got != want {
				t.Errorf("%s: %d warnings, want %d", step, got, want)
			}
		}
	}
	a, b := instance("a"), instance("b")
	a("the first", 1)
	now = now.Add(time.Minute)
	b("on another instance a minute on", 0)
	a("on the first again", 0)
	now = now.Add(4 * time.Minute)
	instance("c")("on an instance started after", 0)
	now = now.Add(6 * time.Minute)
	b("eleven minutes on", 1)
}
