package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/memory"
)

// quiet is a chat platform that does each action at once and keeps nothing,
// so that the benchmark measures the moderator, not a recorder.
type quiet struct{}

func (quiet) Name() string                                            { return "discord" }
func (quiet) Delete(context.Context, bot.Event) error                 { return nil }
func (quiet) Reply(context.Context, bot.Event, string) error          { return nil }
func (quiet) Timeout(context.Context, bot.Event, time.Duration) error { return nil }
func (quiet) Kick(context.Context, bot.Event) error                   { return nil }
func (quiet) Ban(context.Context, bot.Event, time.Duration) error     { return nil }

// BenchmarkHandle carries out the verdict of a raid night's typical match
// (delete, strike, timeout, forward, from two rules, one of them shadow) on
// the memory store with no desk, logging at info level as vigie run does.
// Authors come back, so most forwards add a hit to a case already open.
func BenchmarkHandle(b *testing.B) {
	st := memory.New()
	defer st.Close()
	m, err := handlers.New(handlers.Options{
		Platforms:  map[string]bot.Platform{"discord": quiet{}},
		Store:      st,
		Registerer: prometheus.NewRegistry(),
		Logger:     slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Now:        func() time.Time { return at },
	})
	if err != nil {
		b.Fatal(err)
	}
	matches := []bot.Match{
		{Rule: "link-flood", Category: "spam", Reason: "4 links in 30s", Actions: []bot.Action{
			{Kind: bot.ActDelete}, {Kind: bot.ActStrike},
			{Kind: bot.ActTimeout, Duration: 10 * time.Minute}, {Kind: bot.ActForward},
		}},
		{Rule: "same-text", Category: "spam", Reason: "same text 5 times", Actions: []bot.Action{
			{Kind: bot.ActDelete}, {Kind: bot.ActTimeout, Duration: time.Hour},
		}},
		{Rule: "new-account-link", Category: "spam", Shadow: true, Reason: "account of 2h posts a link",
			Actions: []bot.Action{{Kind: bot.ActBan}}},
	}
	const authors = 512
	evs := make([]bot.Event, authors)
	for i := range evs {
		evs[i] = bot.Event{Platform: "discord", Kind: bot.KindMessage, Space: "guild-1", Channel: "general",
			Author: bot.Author{ID: "u-" + strconv.Itoa(i), Name: "Bob"}, Text: "free nitro https://x.example", At: at}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ev := evs[i%authors]
		ev.ID = strconv.Itoa(i)
		v := bot.Verdict{EventID: ev.ID, Platform: ev.Platform, At: at, Matches: matches}
		if err := m.Handle(ctx, ev, v); err != nil {
			b.Fatal(err)
		}
	}
}
