package console_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// BenchmarkQueuePage is the queue's first page with 10,000 open cases: what
// a CM waits for at the end of a raid night.
func BenchmarkQueuePage(b *testing.B) {
	ctx := context.Background()
	st := memory.New()
	at := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	for i := range 10_000 {
		ev := bot.Event{ID: fmt.Sprintf("m%d", i), Platform: "discord", Kind: bot.KindMessage, Space: "g",
			Channel: fmt.Sprintf("c%d", i%40), Author: bot.Author{ID: fmt.Sprintf("u%d", i), Name: "Member"},
			Text: "free nitro, claim it at https://example.net/gift before midnight", At: at}
		c := store.Case{Event: ev, Rule: "scam", Reason: "scam link", Opened: at.Add(time.Duration(i) * time.Second),
			Suggested: []bot.Action{{Kind: bot.ActDelete}}}
		if i%7 == 0 {
			c.Priority = "high"
		}
		if _, err := st.OpenCase(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.PutAccount(ctx, store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
		b.Fatal(err)
	}
	con := console.New(console.Options{Store: st, Accounts: st,
		Outcomes: func(bot.Event) []bot.ActionKind { return []bot.ActionKind{"keep", bot.ActDelete, bot.ActTimeout} }})
	routes := con.Routes()
	session := login(b, routes, "ann", "correct horse")
	b.ResetTimer()
	for b.Loop() {
		w := get(routes, "GET /queue", "/queue", session)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "10000 open cases") {
			b.Fatalf("queue: %d", w.Code)
		}
	}
}
