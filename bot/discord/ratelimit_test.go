package discord

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// TestLongRateLimits: a rate limit of minutes (a global one, or a bucket such
// as channel edits, two in ten minutes) must not put vigie's calls to sleep
// inside discordgo, out of reach of their context. The calls behind it are
// refused at once with the wait left, without reaching Discord, so that the
// retry stage turns them into cases instead of a stalled worker.
func TestLongRateLimits(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{Guilds: []string{guildID}})
	out := make(chan bot.Event, 4)
	run(t, f, c, out, allPerms)
	msg := bot.Event{ID: "1001", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general, Author: bot.Author{ID: bob.id}}
	ctx := context.Background()

	// returns runs do and fails the test if it is still blocked after a minute:
	// a bound on a stall, not a measure of speed.
	returns := func(t *testing.T, do func() error) error {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- do() }()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute):
			t.Fatal("the call is still blocked a minute later")
			return nil
		}
	}
	held := func(t *testing.T, err error, most time.Duration) {
		t.Helper()
		var ae *bot.ActionError
		if !errors.As(err, &ae) || !ae.Retryable || ae.RetryAfter <= 0 || ae.RetryAfter > most {
			t.Fatalf("error %v, want a retryable ActionError asking to wait at most %s", err, most)
		}
	}

	t.Run("a bucket limited for ten minutes", func(t *testing.T) {
		path := "/guilds/" + guildID + "/members/" + bob.id
		f.Fail("PATCH", path, 429, `{"message": "You are being rate limited.", "retry_after": 600, "global": false}`,
			http.Header{"X-Ratelimit-Limit": {"2"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset-After": {"600"},
				"X-Ratelimit-Bucket": {"members-b"}, "Retry-After": {"600"}}, 1)
		held(t, returns(t, func() error { return c.Timeout(ctx, msg, time.Minute) }), 10*time.Minute)
		before := f.Count("PATCH", path)
		held(t, returns(t, func() error { return c.Timeout(ctx, msg, time.Minute) }), 10*time.Minute)
		if n := f.Count("PATCH", path); n != before {
			t.Errorf("%d calls reached Discord while the bucket was held", n-before)
		}
		// other routes are not held
		if err := returns(t, func() error { return c.Delete(ctx, msg) }); err != nil {
			t.Errorf("Delete on another route = %v", err)
		}
	})

	t.Run("a global limit holds every route", func(t *testing.T) {
		f.Fail("DELETE", "/channels/"+general+"/messages/", 429, `{"message": "You are being rate limited.", "retry_after": 900, "global": true}`,
			http.Header{"X-Ratelimit-Global": {"true"}, "X-Ratelimit-Scope": {"global"}, "X-Ratelimit-Reset-After": {"900"}, "Retry-After": {"900"}}, 1)
		held(t, returns(t, func() error { return c.Delete(ctx, msg) }), 15*time.Minute)
		before := f.Count("POST", "/channels/")
		other := msg
		other.Channel = threadID
		held(t, returns(t, func() error { return c.Reply(ctx, other, "hello") }), 15*time.Minute)
		if n := f.Count("POST", "/channels/"); n != before {
			t.Errorf("%d calls reached Discord during a global limit", n-before)
		}
		if !strings.Contains(logs.String(), "rate limit") {
			t.Errorf("no log of the rate limit:\n%s", logs)
		}
	})
}

// TestRateLimitPage: a 429 that is not Discord's JSON (a proxy's or
// Cloudflare's page) still says how long to wait, from its Retry-After.
func TestRateLimitPage(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	out := make(chan bot.Event, 4)
	run(t, f, c, out, allPerms)
	msg := bot.Event{ID: "1001", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general, Author: bot.Author{ID: bob.id}}
	f.Fail("DELETE", "/channels/", 429, `<html><body>Error 1015: You are being rate limited</body></html>`,
		http.Header{"Content-Type": {"text/html"}, "Retry-After": {"20"}}, 1)
	err := c.Delete(context.Background(), msg)
	var ae *bot.ActionError
	if !errors.As(err, &ae) || !ae.Retryable || ae.RetryAfter != 20*time.Second {
		t.Fatalf("Delete = %v, want retryable after 20s", err)
	}
}

func TestRouteOf(t *testing.T) {
	tests := []struct{ method, path, want string }{
		{"DELETE", "/api/v9/channels/111111111111111111/messages/222222222222222222", "DELETE /api/v9/channels/111111111111111111/messages/:id"},
		{"PATCH", "/api/v9/guilds/333333333333333333/members/444444444444444444", "PATCH /api/v9/guilds/333333333333333333/members/:id"},
		{"PATCH", "/api/v9/channels/111111111111111111", "PATCH /api/v9/channels/111111111111111111"},
		{"POST", "/api/v9/interactions/555555555555555555/tok/callback", "POST /api/v9/interactions/:id/tok/callback"},
	}
	for _, tt := range tests {
		if got := routeOf(tt.method, tt.path); got != tt.want {
			t.Errorf("routeOf(%s %s) = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
	if !exemptFromGlobal(routeOf("POST", "/api/v9/interactions/555555555555555555/tok/callback")) || exemptFromGlobal(routeOf("POST", "/api/v9/channels/1/messages")) {
		t.Error("only interactions and webhooks are exempt from the global limit")
	}
}

// TestRefusalsHeld: Discord bans for a while the address that makes 10,000
// invalid requests (401, 403, 429) in ten minutes. A raid in a channel where
// vigie lost Manage Messages would get there with one refused delete per
// message: after Discord's first refusal on a channel's route, the same calls
// fail here with the same error for a minute. A member's route is held for
// that member only (a role above vigie's refuses one member, not all).
func TestRefusalsHeld(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{Guilds: []string{guildID}})
	out := make(chan bot.Event, 4)
	run(t, f, c, out, allPerms)
	ctx := context.Background()
	msg := func(id, channel, author string) bot.Event {
		return bot.Event{ID: id, Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: channel, Author: bot.Author{ID: author}}
	}
	missing := `{"message": "Missing Permissions", "code": 50013}`
	refused := func(t *testing.T, err error) {
		t.Helper()
		var ae *bot.ActionError
		if !errors.As(err, &ae) || ae.Retryable || apiCode(err) != codeMissingPermissions {
			t.Fatalf("error %v, want Discord's missing permission, not retryable", err)
		}
	}

	f.Fail("DELETE", "/channels/"+general+"/messages/", 403, missing, nil, 1)
	refused(t, c.Delete(ctx, msg("2001", general, bob.id)))
	before := f.Count("DELETE", "/channels/"+general+"/messages/")
	for _, id := range []string{"2002", "2003", "2004"} {
		refused(t, c.Delete(ctx, msg(id, general, bob.id)))
	}
	if n := f.Count("DELETE", "/channels/"+general+"/messages/"); n != before {
		t.Errorf("%d deletes Discord had refused on this channel reached it again", n-before)
	}
	if err := c.Delete(ctx, msg("2005", threadID, bob.id)); err != nil {
		t.Errorf("a delete in another channel = %v", err)
	}
	if !strings.Contains(logs.String(), "refused") {
		t.Errorf("no log of the held refusals:\n%s", logs)
	}

	f.Fail("PATCH", "/guilds/"+guildID+"/members/"+bob.id, 403, missing, nil, 1)
	refused(t, c.Timeout(ctx, msg("2006", general, bob.id), time.Minute))
	if err := c.Timeout(ctx, msg("2007", general, "9"+bob.id[1:]), time.Minute); err != nil {
		t.Errorf("a timeout of another member = %v", err)
	}
}

// TestShortGlobalRateLimit: Discord's global limit (50 calls a second)
// answers 429 with X-RateLimit-Global and Retry-After, and no bucket
// headers, which discordgo reads its waits from: it would not hold the
// other routes, and each of the raid's calls in the other lanes would
// earn a 429 of its own, every one an invalid request towards the
// address's ban. vigie holds every route for the wait, however short.
func TestShortGlobalRateLimit(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	// The gate's clock stands still: the limit is still on whenever the
	// next call comes.
	at := time.Now()
	c.sess.Client.Transport.(*rateGate).now = func() time.Time { return at }
	run(t, f, c, make(chan bot.Event, 4), allPerms)
	ctx := context.Background()
	msg := bot.Event{ID: "1001", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general, Author: bot.Author{ID: bob.id}}
	f.Fail("DELETE", "/channels/"+general+"/messages/", 429, `{"message": "You are being rate limited.", "retry_after": 0.8, "global": true}`,
		http.Header{"X-Ratelimit-Global": {"true"}, "X-Ratelimit-Scope": {"global"}, "Retry-After": {"1"}}, 1)
	if err := c.Delete(ctx, msg); !bot.Retryable(err) {
		t.Fatalf("Delete = %v, want a rate limit", err)
	}
	before := f.Count("POST", "/channels/")
	other := msg
	other.Channel = threadID
	err := c.Reply(ctx, other, "hello")
	var ae *bot.ActionError
	if !errors.As(err, &ae) || !ae.Retryable || ae.RetryAfter <= 0 || ae.RetryAfter > time.Second {
		t.Errorf("Reply during the global limit = %v, want a retryable ActionError asking to wait at most 1s", err)
	}
	if n := f.Count("POST", "/channels/") - before; n != 0 {
		t.Errorf("%d calls reached Discord during a global limit", n)
	}
}
