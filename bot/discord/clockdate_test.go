package discord

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
)

// dateProxy stands between vigie and Discord as a broken or hostile proxy
// would: it rewrites the Date header of every answer (date "" drops it).
type dateProxy struct {
	next http.RoundTripper
	date string
}

func (p dateProxy) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := p.next.RoundTrip(req)
	if err == nil {
		resp.Header.Del("Date")
		if p.date != "" {
			resp.Header.Set("Date", p.date)
		}
	}
	return resp, err
}

// TestDateFromAProxyDoesNotMoveTheClock: every answer of Discord comes
// through a proxy that rewrites its Date header, far in the past, far in
// the future, to garbage, or drops it. Discord's clock and the host's agree;
// a timeout of ten minutes still ends ten minutes after Discord's now, the
// catch-up's clock stays on the host's, and the Date not believed is said
// once and on /healthz. Before, a Date of 2001 set the timeout's end in
// 2001 (no timeout at all), and one of 2099 had vigie ask for a timeout
// ending in 2099, which Discord refuses.
func TestDateFromAProxyDoesNotMoveTheClock(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	for _, tc := range []struct {
		name, date string
		says       bool // the Date is said not believed
	}{
		{"far past", "Mon, 01 Jan 2001 00:00:00 GMT", true},
		{"far future", "Thu, 01 Jan 2099 00:00:00 GMT", true},
		{"a day ahead", now.Add(24 * time.Hour).Format(http.TimeFormat), true},
		{"garbage", "yesterday, about noon", false},
		{"missing", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := discordfake.New(t, discordfake.Options{Guilds: []string{guildID}, Now: clock})
			cfg := Config{Guilds: []string{guildID}, Now: clock}
			c, logs := newTestClientVia(t, f, cfg, func(next http.RoundTripper) http.RoundTripper {
				return dateProxy{next: next, date: tc.date}
			})
			run(t, f, c, make(chan bot.Event, 4), allPerms)
			msg := bot.Event{ID: "1001", Platform: Platform, Kind: bot.KindMessage, Space: guildID, Channel: general,
				Author: bot.Author{ID: bob.id, Name: "Bob"}}
			if err := c.Timeout(context.Background(), msg, 10*time.Minute); err != nil {
				t.Fatalf("Timeout(10m) = %v", err)
			}
			calls := f.Calls("PATCH", "/guilds/"+guildID+"/members/"+bob.id)
			if len(calls) != 1 {
				t.Fatalf("%d PATCHes of the member, want 1", len(calls))
			}
			until, _ := time.Parse(time.RFC3339Nano, calls[0].Body["communication_disabled_until"].(string))
			if want := now.Add(10 * time.Minute); !until.Equal(want) {
				t.Errorf("the timeout ends at %s, want %s (ten minutes on Discord's clock)", until, want)
			}
			if got := c.discordNow(); !got.Equal(now) {
				t.Errorf("Discord's clock reads %s, want the host's %s", got, now)
			}
			said := strings.Count(logs.String(), "not believed")
			troubled := strings.Contains(strings.Join(c.Troubles(), "\n"), "not believed")
			switch {
			case tc.says && said != 1:
				t.Errorf("the Date not believed said %d times, want once:\n%s", said, logs)
			case tc.says && !troubled:
				t.Errorf("troubles %q do not say the Date is not believed", c.Troubles())
			case !tc.says && (said != 0 || troubled):
				t.Errorf("a Date not read at all is said not believed:\n%s", logs)
			}
		})
	}
}
