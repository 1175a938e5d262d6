package discord

import (
	"context"
	"net/url"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestAuditLogReasons: what Discord's audit log shows says which rule acted,
// and for a decision which case and which CM.
func TestAuditLogReasons(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	out := make(chan bot.Event, 4)
	run(t, f, c, out, allPerms)
	ctx := context.Background()
	st := memory.New()
	m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": c}, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	reason := func(call discordfake.Call) string {
		t.Helper()
		r, err := url.PathUnescape(call.Header.Get("X-Audit-Log-Reason"))
		if err != nil {
			t.Fatalf("reason %q: %v", call.Header.Get("X-Audit-Log-Reason"), err)
		}
		return r
	}

	msg := bot.Event{ID: "1001", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
		Author: bot.Author{ID: bob.id, Name: "Bob"}}
	v := bot.Verdict{EventID: msg.ID, Platform: "discord", Matches: []bot.Match{{Rule: "scam-links",
		Actions: []bot.Action{{Kind: bot.ActDelete}}}}}
	path := "/channels/" + general + "/messages/1001"
	before := f.Count("DELETE", path)
	if err := m.Handle(ctx, msg, v); err != nil {
		t.Fatal(err)
	}
	if got := reason(f.WaitFor(t, "DELETE", path, before+1, nil)); got != "vigie: rule scam-links" {
		t.Errorf("delete's audit log reason %q", got)
	}

	cs, err := st.OpenCase(ctx, store.Case{Event: msg, Rule: "insult", Reason: "insult"})
	if err != nil {
		t.Fatal(err)
	}
	path = "/guilds/" + guildID + "/bans/" + bob.id
	before = f.Count("PUT", path)
	if _, err := m.Decide(ctx, cs.ID, "ban", "discord:42"); err != nil {
		t.Fatal(err)
	}
	want := "vigie: case " + cs.ID + " (rule insult), decided by discord:42"
	if got := reason(f.WaitFor(t, "PUT", path, before+1, nil)); got != want {
		t.Errorf("ban's audit log reason %q, want %q", got, want)
	}
}
