package daemon_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

const discordFailingRules = `timezone: UTC
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [delete, timeout(10m), forward("scam")]
`

// TestFailingDiscordActionsAreShown: Discord answers 500 to every delete
// and timeout while the gateway keeps delivering (the real discordgo client
// on the fake Discord). One scam's delete and timeout fail: its case, and no
// outage yet. Then Discord answers them no more, and a second scam's fail
// too, four in a row: /-/ready (200) and
// /healthz name Discord's actions, vigie_source_up{part="actions",
// platform="discord"} is 0 while the gateway's own series stays 1, and one
// error is logged. The next scam's actions are tried once each, not four
// times, for its case to reach the desk without waiting for retries. The
// cards on the Discord desk offer the timeout, not its removal: nobody was
// timed out. Once Discord answers, the next scam's
// delete clears it all, says so once, and its card offers to remove the
// timeout it carried out.
func TestFailingDiscordActionsAreShown(t *testing.T) {
	guild := fmt.Sprint(uint64(190_000_000_000)<<22 | 1)
	channel := discordfake.Channel(guild)
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	acts := func(c discordfake.Call) bool {
		return c.Method == "DELETE" && strings.HasPrefix(c.Path, "/channels/"+channel+"/messages/") ||
			c.Method == "PATCH" && strings.HasPrefix(c.Path, "/guilds/"+guild+"/members/")
	}
	var failing atomic.Bool
	f.FailWhen(func(c discordfake.Call) bool { return failing.Load() && acts(c) },
		http.StatusInternalServerError, `{"message": "500: Internal Server Error", "code": 0}`)
	// A call Discord does not answer is given up after a second, not 20: the
	// retry stage tries each action four times.
	hc := f.Client()
	hc.Timeout = time.Second
	cl := discordClient(t, f, guild, func(c *discord.Config) { c.HTTPClient = hc })
	cmds := &desktest.Commands{}
	in := startOnly(t, discordFailingRules, nil, []daemon.Connector{{Name: "discord", Source: cl, Platforms: []bot.Platform{cl},
		Desk: desktest.Desk{Poster: cl.Desk(cmds)}}})
	testsync.Eventually(t, "ready", func() bool { return ready(t, in).code == http.StatusOK })
	const gauge = `vigie_source_up{part="actions",platform="discord"}`
	if v := metric(t, in, gauge); v != 1 {
		t.Errorf("%s = %v before any action, want 1", gauge, v)
	}
	failed := func() int { return strings.Count(in.logs.String(), `msg="action failed"`) }
	scam := func(id, text string) {
		t.Helper()
		testsync.Eventually(t, "the gateway taking "+text, func() bool { return f.Message(guild, channel, id, "600000000000000007", text) })
	}
	// card is the card of the scam text on the desk: its content and its
	// buttons' custom_ids.
	card := func(text string) (content, ids string) {
		t.Helper()
		testsync.Eventually(t, "the card of "+text, func() bool {
			for _, c := range f.Calls("POST", "/channels/"+deskChannel+"/messages") {
				if s, _ := c.Body["content"].(string); strings.Contains(s, text) {
					b, _ := json.Marshal(c.Body["components"])
					content, ids = s, string(b)
					return true
				}
			}
			return false
		})
		return content, ids
	}

	// settled is the open case of the scam text once its actions ended:
	// its reason and the actions not done.
	settled := func(text string) (reason string, notDone []string) {
		t.Helper()
		testsync.Eventually(t, "the case of "+text+" once its actions ended", func() bool {
			var r struct {
				Cases []struct {
					Event   struct{ Text string }
					Reason  string
					NotDone []bot.Action `json:"not_done"`
					Trying  []bot.Action
				}
			}
			in.do(t, "GET", "/v1/cases?status=open", nil, nil).json(t, &r)
			for _, c := range r.Cases {
				if c.Event.Text == text && len(c.Trying) == 0 {
					reason, notDone = c.Reason, nil
					for _, a := range c.NotDone {
						notDone = append(notDone, a.String())
					}
					return true
				}
			}
			return false
		})
		return reason, notDone
	}

	failing.Store(true)
	scam("700000000000000101", "FREE NITRO one")
	// The card reaches the desk while the actions are being tried.
	content, ids := card("FREE NITRO one")
	_, notDone := settled("FREE NITRO one")
	if n := failed(); n != 2 {
		t.Fatalf("%d actions failed for one scam, want its delete and its timeout", n)
	}
	if rd := readyAt(t, in, "/-/ready?strict"); rd.code != http.StatusOK || len(rd.Reasons) != 0 {
		t.Errorf("/-/ready?strict after one scam's failed actions = %d %q, want 200 and no reason", rd.code, rd.Reasons)
	}
	if !strings.Contains(content, `timeout(10m) (being tried)`) || strings.Contains(ids, ":unmute") || !strings.Contains(ids, ":mute") ||
		!slices.Contains(notDone, "timeout(10m)") {
		t.Errorf("the card of a timeout being tried:\n%s\nbuttons %s\nnot done once failed: %q\nwant the timeout offered, no removal of it, and not done", content, ids, notDone)
	}

	// Discord no longer answers at all.
	failing.Store(false)
	release := f.Hold(acts)
	scam("700000000000000102", "FREE NITRO two")
	card("FREE NITRO two")
	settled("FREE NITRO two")
	rd := ready(t, in)
	if rd.code != http.StatusOK || len(rd.Reasons) != 1 || !strings.HasPrefix(rd.Reasons[0], "discord actions: failing since ") ||
		!strings.Contains(rd.Reasons[0], ", 4 in a row: ") || !strings.Contains(rd.Reasons[0], "Timeout exceeded") && !strings.Contains(rd.Reasons[0], "deadline exceeded") {
		t.Fatalf("/-/ready after 4 failed actions = %d %q, want 200 naming Discord's actions, 4 in a row and the unanswered call", rd.code, rd.Reasons)
	}
	// For a monitor that alerts a CM, nothing removed on Discord is a 503.
	if st := readyAt(t, in, "/-/ready?strict"); st.code != http.StatusServiceUnavailable || st.Status != "not ready" ||
		!slices.Equal(st.Reasons, rd.Reasons) {
		t.Errorf("/-/ready?strict after 4 failed actions = %d %q %q, want 503 naming Discord's actions", st.code, st.Status, st.Reasons)
	}
	var h struct{ Degraded []string }
	in.do(t, "GET", "/healthz", nil, nil).json(t, &h)
	if len(h.Degraded) != 1 || h.Degraded[0] != rd.Reasons[0] {
		t.Errorf("/healthz degraded = %q, want %q", h.Degraded, rd.Reasons[0])
	}
	if v := metric(t, in, gauge); v != 0 {
		t.Errorf("%s = %v while Discord fails, want 0", gauge, v)
	}
	if v := metric(t, in, `vigie_source_up{part="events",platform="discord"}`); v != 1 {
		t.Errorf("the gateway's vigie_source_up = %v, want 1: messages still come", v)
	}
	if n := strings.Count(in.logs.String(), "actions keep failing"); n != 1 {
		t.Errorf("the failing actions are logged %d times, want once", n)
	}

	// While Discord's actions are failing, a scam's are tried once each,
	// not four times: its case reaches the desk without waiting for the
	// retries, and still says what failed.
	const between = "700000000000000110"
	scam(between, "FREE NITRO between")
	_, ids = card("FREE NITRO between")
	reason, notDone := settled("FREE NITRO between")
	if n := f.Count("DELETE", "/channels/"+channel+"/messages/"+between); n != 1 {
		t.Errorf("a scam's delete while Discord's actions are failing was tried %d times, want once", n)
	}
	if !strings.Contains(reason, "action failed: ") || !slices.Contains(notDone, "delete") || strings.Contains(ids, ":unmute") {
		t.Errorf("the case of a scam while Discord's actions are failing: %q, not done %q; card's buttons %s", reason, notDone, ids)
	}

	release()
	scam("700000000000000103", "FREE NITRO three")
	testsync.Eventually(t, "no reason left", func() bool { rd := ready(t, in); return rd.code == http.StatusOK && len(rd.Reasons) == 0 })
	if st := readyAt(t, in, "/-/ready?strict"); st.code != http.StatusOK || st.Status != "ready" {
		t.Errorf("/-/ready?strict once Discord answers = %d %q %q, want 200", st.code, st.Status, st.Reasons)
	}
	if n := f.Count("DELETE", "/channels/"+channel+"/messages/700000000000000103"); n != 1 {
		t.Errorf("the scam once Discord answers was deleted %d times, want once", n)
	}
	if v := metric(t, in, gauge); v != 1 {
		t.Errorf("%s = %v once a delete went through, want 1", gauge, v)
	}
	if n := strings.Count(in.logs.String(), "actions carried out again"); n != 1 {
		t.Errorf("the recovery is logged %d times, want once", n)
	}
	if _, ids := card("FREE NITRO three"); !strings.Contains(ids, ":unmute") {
		t.Errorf("the card of a timeout carried out: buttons %s, want its removal", ids)
	}
}
