package discord

import (
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

// TestCatchUpOutlivesABriefOutage: the first reads of a channel's history
// after a lost session meet Discord's brief trouble (a 502 from its proxy,
// then a 503), as during the incident that cost the session. The catch-up
// tries the page again and judges the gap's spam. When the trouble lasts
// longer than its tries, the channel keeps its mark before the gap, though
// the new session delivers messages after it: the next catch-up reads the
// gap. Before, the first 5xx left the channel unread, and the mark moved
// past the gap: its messages were never judged.
func TestCatchUpOutlivesABriefOutage(t *testing.T) {
	t.Run("brief", func(t *testing.T) { testCatchUpOutage(t, 2) })
	t.Run("longer than the tries", func(t *testing.T) { testCatchUpOutage(t, 3) })
}

func testCatchUpOutage(t *testing.T, failures int) {
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
	deleted := func(m map[string]any) int {
		return f.Count("DELETE", "/channels/"+general+"/messages/"+m["id"].(string))
	}

	before := msg(1, "hello")
	f.Post(before)
	f.Dispatch("MESSAGE_CREATE", before)
	testsync.Eventually(t, "the message before the gap seen", func() bool {
		c.cu.mu.Lock()
		defer c.cu.mu.Unlock()
		return c.cu.seen[general].last == before["id"]
	})

	history := "/channels/" + general + "/messages"
	f.Fail("GET", history, 502, "<html>502 Bad Gateway</html>", nil, 1)
	f.Fail("GET", history, 503, `{"message": "upstream connect error", "code": 0}`, nil, failures-1)
	newSession := func() {
		t.Helper()
		f.LoseSessions()
		select {
		case <-f.Ready():
		case <-time.After(time.Minute):
			t.Fatalf("no new session\n%s", logs)
		}
		f.Dispatch("GUILD_CREATE", guildCreate(allPerms))
	}
	f.LoseSessions()
	spam := msg(2, "scam.example in the gap")
	f.Post(spam)
	newSession()
	testsync.Eventually(t, "the end of the catch-up", func() bool { return strings.Contains(logs.String(), "caught up") })
	if failures < 3 {
		testsync.Eventually(t, "the gap's spam judged", func() bool { return deleted(spam) == 1 })
		if strings.Contains(logs.String(), "caught up partly") {
			t.Errorf("the catch-up left some:\n%s", logs)
		}
		return
	}
	if !strings.Contains(logs.String(), "caught up partly") {
		t.Fatalf("the catch-up did not say what it left:\n%s", logs)
	}
	after := msg(3, "good morning")
	f.Post(after)
	f.Dispatch("MESSAGE_CREATE", after)
	testsync.Eventually(t, "the message after the gap seen", func() bool {
		c.cu.mu.Lock()
		defer c.cu.mu.Unlock()
		return c.cu.seen[general].last == after["id"]
	})
	c.cu.mu.Lock()
	mark := c.cu.seen[general].mark()
	c.cu.mu.Unlock()
	if snowflakeAfter(mark, before["id"].(string)) {
		t.Errorf("the channel's mark %s is past the gap's unread spam %s", mark, spam["id"])
	}
	newSession()
	testsync.Eventually(t, "the gap's spam judged by the next catch-up", func() bool { return deleted(spam) == 1 })
}
