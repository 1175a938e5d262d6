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
// catch-up's reads of a channel's history, and of the gap's raider as a
// member, meet Discord's global rate limit again and again, a short one
// each time: the raid's deletes and timeouts keep it busy. The catch-up
// waits each out and judges the gap's spam: deleted. Before, each rate
// limit of the history counted as one of the three tries of a page
// troubled Discord: the channel was left unread, and its scams stood; and
// the first of the member's left the raider's roles unknown: a case, and
// the scam stood.
func TestCatchUpWaitsOutARaidsRateLimits(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{StaffRoles: []string{"Moderator"}, Guilds: []string{guildID}, DeskChannel: deskID})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	rs, err := rules.Parse("rules.yaml", []byte(catchupRules), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A desk for the cases: one made of the gap's spam would say it was
	// not acted on.
	cmds := &desktest.Commands{Store: st}
	moderator, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": c}, Store: st, Desk: desktest.Desk{Poster: c.Desk(cmds)}})
	if err != nil {
		t.Fatal(err)
	}
	cmds.Mod = moderator
	out := desktest.Serve(t, rules.NewEngine(rs, st, rules.Options{}), moderator)
	run(t, f, c, out, allPerms)

	at := time.Now().UTC().Add(-time.Minute)
	msg := func(n int, from user, text string) map[string]any {
		when := at.Add(time.Duration(n) * time.Second)
		return message(snowflake(when, n), general, from, when, text)
	}
	before := msg(1, bob, "hello")
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
	members := "/guilds/" + guildID + "/members/"
	f.Fail("GET", members, 429, `{"message": "You are being rate limited.", "retry_after": 0.05, "global": true}`,
		http.Header{"X-Ratelimit-Global": {"true"}, "X-Ratelimit-Scope": {"global"}}, 4)
	f.LoseSessions()
	raider := user{id: snowflake(t0.Add(-time.Minute), 7), name: "Raider"}
	f.SetMember(guildID, memberObject(raider, nil, at))
	spam := msg(2, raider, "scam.example in the gap")
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
	if asked := len(f.Calls("GET", members+raider.id)); asked != 5 {
		t.Errorf("the raider asked of Discord %d times, want the four refused and one more", asked)
	}
}
