package discord

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// oneShotTransport sends each request to the fake on a connection of its
// own, closed after: no connection outlives its request inside a synctest
// bubble.
type oneShotTransport struct {
	target *url.URL
	t      *http.Transport
}

func (o oneShotTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = o.target.Scheme, o.target.Host
	return o.t.RoundTrip(req)
}

// TestCatchUpWaitsOnceForAllGuilds: after a gap, the catch-up reads channels
// of three guilds that the gateway has not described again (a Discord
// outage leaves them unavailable). It waits for them together, guildWait in
// all, then reads the channels with roles unknown, and says so for each
// guild. Before, it waited guildWait for each guild in turn: three minutes
// here, and hours with many guilds, the later channels waiting behind.
func TestCatchUpWaitsOnceForAllGuilds(t *testing.T) {
	f := newFakeDiscord(t)
	target, _ := url.Parse(f.HTTP.URL)
	synctest.Test(t, func(t *testing.T) {
		logs := &testsync.Buffer{}
		c, err := New(Config{Token: "test-token", APIURL: testAPIURL, Logger: testsync.Logger(logs),
			StaffRoles: []string{"Moderator"}, Guilds: []string{guildID},
			HTTPClient: &http.Client{Transport: oneShotTransport{target: target, t: &http.Transport{DisableKeepAlives: true}}}})
		if err != nil {
			t.Fatal(err)
		}
		guilds := []string{guildID, "800000000000000002", "800000000000000003"}
		var channels []channelCursor
		for i, g := range guilds {
			channels = append(channels, channelCursor{channel: general[:len(general)-1] + string(rune('0'+i)), channelSeen: channelSeen{guild: g}})
		}
		start := time.Now()
		c.catchUp(context.Background(), start, time.Time{}, "after a test gap", channels)
		if took := time.Since(start); took != guildWait {
			t.Errorf("the catch-up waited %s for %d guilds not described, want %s in all", took, len(guilds), guildWait)
		}
		for _, g := range guilds {
			if !strings.Contains(logs.String(), "guild "+g+": not described again") {
				t.Errorf("the catch-up does not say guild %s was not described\n%s", g, logs)
			}
		}
	})
}
