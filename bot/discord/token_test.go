package discord

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestTokenRevokedWhileRunning: the token is reset in the Developer Portal
// while vigie runs. The gateway closes with 4004 and refuses every reconnection
// of discordgo's; vigie asks Discord who it is, hears 401, and says once what
// to do (DISCORD_TOKEN), its link down with that problem for /-/ready, however
// many reconnections and checks fail. The token taken again, the gateway is
// back: one info line, the link up, messages received again.
func TestTokenRevokedWhileRunning(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{TokenCheckAfter: 20 * time.Millisecond, Guilds: []string{guildID}})
	out := make(chan bot.Event, 10)
	run(t, f, c, out, allPerms)
	if !c.Link().Up {
		t.Fatalf("link down after READY: %+v", c.Link())
	}

	f.RevokeToken()
	testsync.Eventually(t, "the refusal told", func() bool {
		return strings.Contains(logs.String(), "DISCORD_TOKEN")
	})
	// Several reconnections refused, several checks answered 401: still told once.
	testsync.Eventually(t, "reconnections and checks refused", func() bool {
		gw, rest := f.TokenRefusals()
		return gw >= 2 && rest >= 2
	})
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d errors logged, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "Discord refused the token (check DISCORD_TOKEN, or reset it under Bot in the Developer Portal)") {
		t.Errorf("the error does not say what to do:\n%s", logs)
	}
	l := c.Link()
	if l.Up || !strings.Contains(l.Problem, "DISCORD_TOKEN") {
		t.Errorf("link while the token is refused = %+v; want down, naming DISCORD_TOKEN", l)
	}
	if strings.Contains(logs.String(), "gateway reconnected") {
		t.Errorf("reconnected while the token is refused:\n%s", logs)
	}

	f.RestoreToken()
	testsync.Eventually(t, "the gateway back", func() bool { return c.Link().Up })
	testsync.Eventually(t, "the return told", func() bool {
		return strings.Contains(logs.String(), "gateway reconnected: Discord takes the token again")
	})
	if n := strings.Count(logs.String(), "gateway reconnected"); n != 1 {
		t.Errorf("the return told %d times, want once:\n%s", n, logs)
	}
	if l := c.Link(); l.Problem != "" {
		t.Errorf("link back up = %+v; want no problem", l)
	}
	f.Dispatch("GUILD_CREATE", guildCreate(allPerms))
	id := snowflake(time.Now(), 901)
	f.Dispatch("MESSAGE_CREATE", message(id, general, bob, time.Now(), "back"))
	if ev := testsync.Next(t, out); ev.ID != id {
		t.Errorf("after the return got %s, want %s", ev.ID, id)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d errors logged in all, want 1:\n%s", n, logs)
	}
}

// TestGatewayDownTokenTaken: a gateway down for another reason (Discord's
// outage) is checked too, and the token Discord takes is not blamed.
func TestGatewayDownTokenTaken(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{TokenCheckAfter: 20 * time.Millisecond, Guilds: []string{guildID}})
	run(t, f, c, make(chan bot.Event, 10), allPerms)

	f.SetDown(true)
	testsync.Eventually(t, "two checks", func() bool { return f.Count("GET", "/users/@me") >= 2 })
	l := c.Link()
	if l.Up || strings.Contains(l.Problem, "DISCORD_TOKEN") || strings.Contains(logs.String(), "DISCORD_TOKEN") || strings.Contains(logs.String(), "Intent") {
		t.Errorf("the token blamed for an outage: link %+v\n%s", l, logs)
	}
	f.SetDown(false)
	testsync.Eventually(t, "the gateway back", func() bool { return c.Link().Up })
	testsync.Eventually(t, "the return told", func() bool { return strings.Contains(logs.String(), "gateway reconnected") })
	if strings.Contains(logs.String(), "takes the token again") {
		t.Errorf("a token never refused said taken again:\n%s", logs)
	}
}

// TestIntentsTurnedOffWhileRunning: Message Content Intent is turned off in
// the Developer Portal while vigie runs. The session is lost, and each
// IDENTIFY of discordgo's is closed with 4014, which only discordgo's own
// lines told. vigie, finding the token taken, asks Discord for its
// application's flags, and says once which switch to turn back on, the link
// down with that problem; turned on again, the gateway is back.
func TestIntentsTurnedOffWhileRunning(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{TokenCheckAfter: 20 * time.Millisecond, Guilds: []string{guildID}})
	out := make(chan bot.Event, 10)
	run(t, f, c, out, allPerms)

	f.SetDisallowedIntents(1 << 15)
	f.LoseSessions()
	testsync.Eventually(t, "the intents told", func() bool { return strings.Contains(logs.String(), "level=ERROR") })
	testsync.Eventually(t, "two checks", func() bool { return f.Count("GET", "/users/@me") >= 2 })
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d errors logged, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "Discord refuses the gateway intents vigie asks for: turn on Message Content Intent in the Developer Portal") ||
		strings.Contains(logs.String(), "DISCORD_TOKEN") {
		t.Errorf("the error does not say what to do:\n%s", logs)
	}
	if l := c.Link(); l.Up || !strings.Contains(l.Problem, "Message Content Intent") {
		t.Errorf("link while the intents are refused = %+v; want down, naming Message Content Intent", l)
	}

	f.SetDisallowedIntents(0)
	testsync.Eventually(t, "the gateway back", func() bool { return c.Link().Up })
	if l := c.Link(); l.Problem != "" {
		t.Errorf("link back up = %+v; want no problem", l)
	}
}

// TestTokenRefusedCallsHeld: a token reset during a raid (a leaked one)
// makes every REST call a 401, and Discord bans for a while the address
// that makes 10,000 invalid requests in ten minutes, long after the new
// token is in. After the first 401, vigie answers the calls itself, with
// Discord's refusal, for a minute, without asking Discord: each still
// fails, not to be retried, and only the token checks reach Discord.
func TestTokenRefusedCallsHeld(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{Guilds: []string{guildID}})
	run(t, f, c, make(chan bot.Event, 10), allPerms)
	// The start's own calls taken by Discord first: sent while the token
	// is refused, at the same moment as the first delete, they would be
	// refused as well, before any 401 is heard.
	f.WaitFor(t, "PUT", "/applications/"+appID+"/guilds/"+guildID+"/commands", 1, nil)
	f.WaitFor(t, "PUT", "/applications/"+appID+"/commands", 1, nil)
	f.RevokeToken()
	for i := range 30 {
		ev := bot.Event{ID: snowflake(t0, 100+i), Platform: Platform, Kind: bot.KindMessage, Space: guildID, Channel: general,
			Author: bot.Author{ID: bob.id, Name: "Bob"}}
		err := c.Delete(context.Background(), ev)
		if !strings.Contains(fmt.Sprint(err), "401") || bot.Retryable(err) {
			t.Fatalf("Delete %d with the token refused = %v (retryable %v), want Discord's 401, not retryable", i, err, bot.Retryable(err))
		}
	}
	if _, rest := f.TokenRefusals(); rest != 1 {
		t.Errorf("%d calls reached Discord with the token refused, want 1", rest)
	}
	if n := strings.Count(logs.String(), "calls are refused without asking Discord"); n != 1 {
		t.Errorf("the hold logged %d times, want once:\n%s", n, logs)
	}
}

// TestTokenRefusedNotLiftedByACallUnderWay: a timeout sent just before the
// token is reset, which Discord takes but is slow to answer, is answered
// after the first 401: its success says nothing of the token now, and the
// calls after it are still answered by vigie, without asking Discord.
// Before, that answer lifted the hold, and the next call earned another 401.
func TestTokenRefusedNotLiftedByACallUnderWay(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{Guilds: []string{guildID}})
	run(t, f, c, make(chan bot.Event, 10), allPerms)
	f.WaitFor(t, "PUT", "/applications/"+appID+"/guilds/"+guildID+"/commands", 1, nil)
	f.WaitFor(t, "PUT", "/applications/"+appID+"/commands", 1, nil)
	msg := func(i int) bot.Event {
		return bot.Event{ID: snowflake(t0, 200+i), Platform: Platform, Kind: bot.KindMessage, Space: guildID, Channel: general,
			Author: bot.Author{ID: bob.id, Name: "Bob"}}
	}
	member := "/guilds/" + guildID + "/members/" + bob.id
	release := f.Hold(func(call discordfake.Call) bool { return call.Method == "PATCH" && call.Path == member })
	done := make(chan error, 1)
	go func() { done <- c.Timeout(context.Background(), msg(0), 10*time.Minute) }()
	f.WaitFor(t, "PATCH", member, 1, nil)

	f.RevokeToken()
	if err := c.Delete(context.Background(), msg(1)); !strings.Contains(fmt.Sprint(err), "401") {
		t.Fatalf("Delete with the token refused = %v, want Discord's 401", err)
	}
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the timeout Discord took before the reset = %v", err)
		}
	case <-time.After(testsync.Patience):
		t.Fatal("the timeout Discord took before the reset never returned")
	}
	for i := 2; i < 5; i++ {
		if err := c.Delete(context.Background(), msg(i)); !strings.Contains(fmt.Sprint(err), "401") || bot.Retryable(err) {
			t.Fatalf("Delete %d after the slow answer = %v, want the 401 held, not retryable", i, err)
		}
	}
	if _, rest := f.TokenRefusals(); rest != 1 {
		t.Errorf("%d calls reached Discord with the token refused, want 1", rest)
	}
	if n := strings.Count(logs.String(), "calls are refused without asking Discord"); n != 1 {
		t.Errorf("the hold logged %d times, want once:\n%s", n, logs)
	}
}
