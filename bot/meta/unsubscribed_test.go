package meta_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/bot/meta"
)

// TestDaemonTellsOfAPageUnsubscribed: the app is no longer subscribed to
// the Page's webhooks (a CM removed it in the Page's settings, or Meta
// turned it off), so Meta sends vigie nothing, and a night passes with the
// Page's comments unjudged while every call vigie makes still succeeds. It
// is said as vigie starts: /healthz names the subscription,
// vigie_meta_page_subscribed is 0, and the desk gets one alert saying how to
// subscribe it again. Once the Page is subscribed again, its first comment
// is judged, /healthz is clear and the desk is told, once.
func TestDaemonTellsOfAPageUnsubscribed(t *testing.T) {
	g := newFakeGraph(t)
	g.unsubscribe(true)
	api := tgfake.New(t)
	base := startDeskDaemon(t, g, api)
	testsync.Eventually(t, "/healthz naming the Page's subscription", func() bool {
		return strings.Contains(degraded(t, base), "subscribed_apps")
	})
	if !strings.Contains(degraded(t, base), "facebook: Meta sends no webhook for the Page") {
		t.Errorf("/healthz degraded = %s, want the Page's", degraded(t, base))
	}
	if v := subscribedGauge(t, base); v != "0" {
		t.Errorf("vigie_meta_page_subscribed = %q, want 0", v)
	}
	// Instagram's deliveries, subscribed apart, still come through the
	// load balancer: vigie stays ready.
	if code, reasons := daemonReadiness(t, base); code != http.StatusOK {
		t.Errorf("/-/ready = %d %q with the Page unsubscribed, want 200", code, reasons)
	}
	lost := func(c tgfake.Call) bool {
		text := c.Params.Get("text")
		return c.Params.Get("chat_id") == "-100500" && strings.Contains(text, "not subscribed to the Page") &&
			strings.Contains(text, "subscribed_fields=feed,messages,message_edits")
	}
	api.WaitFor("sendMessage", 1, lost)

	// A CM subscribes it again: Meta's first delivery is judged, and vigie
	// reads the subscription again at once rather than at its next check.
	g.unsubscribe(false)
	const cid = "987654321098765_1000000000000001"
	deliverComment(t, base, cid)
	testsync.Eventually(t, "the comment hidden", func() bool { return hidesOf(g, cid) == 1 })
	testsync.Eventually(t, "/healthz clear again", func() bool { return !strings.Contains(degraded(t, base), "subscribed_apps") })
	if v := subscribedGauge(t, base); v != "1" {
		t.Errorf("vigie_meta_page_subscribed = %q once subscribed again, want 1", v)
	}
	back := func(c tgfake.Call) bool {
		return c.Params.Get("chat_id") == "-100500" && strings.Contains(c.Params.Get("text"), "subscribed to the Page again")
	}
	api.WaitFor("sendMessage", 1, back)

	// More comments do not make more reads nor more messages.
	checks := g.subscriptionChecks()
	const next = "987654321098765_1000000000000002"
	deliverComment(t, base, next)
	testsync.Eventually(t, "the next comment hidden", func() bool { return hidesOf(g, next) == 1 })
	if n := g.subscriptionChecks(); n != checks {
		t.Errorf("%d reads of the subscription after a comment of a subscribed Page, want none", n-checks)
	}
	if n, m := api.Count("sendMessage", lost), api.Count("sendMessage", back); n != 1 || m != 1 {
		t.Errorf("%d alerts of the lost subscription and %d of its return, want 1 and 1", n, m)
	}
}

// TestPageUnsubscribedMidNight: the Page is unsubscribed while vigie runs.
// The next check of the page token reads the subscription too and tells the
// desk, once however many checks find it still missing; the Page subscribed
// again is told once too, by a check, with no comment coming to show it.
func TestPageUnsubscribedMidNight(t *testing.T) {
	g := newFakeGraph(t)
	c := meta.New(meta.Config{AppSecret: appSecret, VerifyToken: verifyToken, PageToken: g.token, GraphURL: g.URL(), PageID: pageID,
		TokenCheckEvery: 20 * time.Millisecond, Logger: testsync.Logger(&testsync.Buffer{})})
	var mu sync.Mutex
	var alerts []string
	c.AlertWith(func(_ context.Context, text string) error {
		mu.Lock()
		alerts = append(alerts, text)
		mu.Unlock()
		return nil
	})
	told := func(part string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, a := range alerts {
			if strings.Contains(a, part) {
				n++
			}
		}
		return n
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, make(chan bot.Event)) }()
	t.Cleanup(func() { cancel(); <-done })

	testsync.Eventually(t, "a first read of the subscription", func() bool { return g.subscriptionChecks() >= 1 })
	if tr := c.Facebook().Troubles(); len(tr) != 0 {
		t.Fatalf("the Page's troubles = %q while it is subscribed, want none", tr)
	}
	g.unsubscribe(true)
	testsync.Eventually(t, "the desk told of the lost subscription", func() bool { return told("not subscribed to the Page") == 1 })
	if tr := c.Facebook().Troubles(); len(tr) != 1 || !strings.Contains(tr[0], "subscribed_apps") {
		t.Errorf("the Page's troubles = %q, want its subscription", tr)
	}
	at := g.subscriptionChecks()
	testsync.Eventually(t, "more reads of the subscription", func() bool { return g.subscriptionChecks() >= at+3 })
	g.unsubscribe(false)
	testsync.Eventually(t, "the desk told of the subscription back", func() bool { return told("subscribed to the Page again") == 1 })
	if tr := c.Facebook().Troubles(); len(tr) != 0 {
		t.Errorf("the Page's troubles = %q once subscribed again, want none", tr)
	}
	if n := told("not subscribed to the Page"); n != 1 {
		t.Errorf("%d alerts of the lost subscription, want 1", n)
	}
	for _, call := range g.Calls() {
		if strings.HasSuffix(call.Path, "/subscribed_apps") && call.Path != "/"+pageID+"/subscribed_apps" {
			t.Errorf("subscription read at %s, want the Page's, META_PAGE_ID", call.Path)
		}
	}
}

// degraded is /healthz's degraded list, joined.
func degraded(t *testing.T, base string) string {
	t.Helper()
	_, b := daemonGet(t, base+"/healthz")
	var h struct{ Degraded []string }
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("/healthz: %v: %s", err, b)
	}
	return strings.Join(h.Degraded, "\n")
}

// subscribedGauge is vigie_meta_page_subscribed's value on /metrics.
func subscribedGauge(t *testing.T, base string) string {
	t.Helper()
	_, b := daemonGet(t, base+"/metrics")
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "vigie_meta_page_subscribed "); ok {
			return v
		}
	}
	return ""
}
