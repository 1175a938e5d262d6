package discord

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestCatchUpWaitsOutARaidsRateLimits: a session lost mid-raid, the
// catch-up's reads of a channel's history meet Discord's global rate limit
// again and again, a short one each time: the raid's deletes and timeouts
// keep it busy. The catch-up waits each out and judges the gap's spam.
// Before, each rate limit counted as one of the three tries of a page
// troubled Discord: the channel was left unread, and its scams stood.
func TestCatchUpWaitsOutARaidsRateLimits(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{StaffRoles: []string{"Moderator"}, Guilds: []string{guildID}})
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	rs, err := rules.Parse("rules.yaml", []byte(catchupRules), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	moderator, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": c}, Store: st, Desk: desktest.Desk{}})
	if err != nil {
		t.Fatal(err)
	}
	out := desktest.Serve(t, rules.NewEngine(rs, st, rules.Options{}), moderator)
	run(t, f, c, out, allPerms)

	at := time.Now().UTC().Add(-time.Minute)
	msg := func(n int, text string) map[string]any {
		when := at.Add(time.Duration(n) * time.Second)
		return message(snowflake(when, n), general, bob, when, text)
	}
	before := msg(1, "hello")
	f.Post(before)
	f.Dispatch("MESSAGE_CREATE", before)
	testsync.Eventually(t, "the message before the gap seen", func() bool {
		c.cu.mu.Lock()
		defer c.cu.mu.Unlock()
		return c.cu.seen[general].last == before["id"]
	})

	// Five reads in a row refused for the global limit, 50ms each: more
	// than the three tries of a troubled Discord, a quarter of a second in all.
	history := "/channels/" + general + "/messages"
	f.Fail("GET", history, 429, `{"message": "You are being rate limited.", "retry_after": 0.05, "global": true}`,
		http.Header{"X-Ratelimit-Global": {"true"}, "X-Ratelimit-Scope": {"global"}}, 5)
	f.LoseSessions()
	spam := msg(2, "scam.example in the gap")
	f.Post(spam)
	select {
	case <-f.Ready():
	case <-time.After(time.Minute):
		t.Fatalf("no new session\n%s", logs)
	}
	f.Dispatch("GUILD_CREATE", guildCreate(allPerms))
	testsync.Eventually(t, "the end of the catch-up", func() bool { return strings.Contains(logs.String(), "caught up") })
	if strings.Contains(logs.String(), "caught up partly") {
		t.Errorf("the catch-up left a channel for short rate limits:\n%s", logs)
	}
	testsync.Eventually(t, "the gap's spam judged", func() bool {
		return f.Count("DELETE", "/channels/"+general+"/messages/"+spam["id"].(string)) == 1
	})
	if n := len(f.Calls("GET", history)); n < 6 {
		t.Errorf("the history read %d times, want the five refused and one more at least", n)
	}
}
