package meta_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/store"
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
	// load balancer: vigie is ready (once its Telegram desk is up).
	testsync.Eventually(t, "ready with the Page unsubscribed", func() bool {
		code, _ := daemonReadiness(t, base)
		return code == http.StatusOK
	})
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
// again is told once too, by a check, with no comment coming to show it;
// and a loss after that, again.
func TestPageUnsubscribedMidNight(t *testing.T) {
	g := newFakeGraph(t)
	c := meta.New(meta.Config{AppSecret: appSecret, VerifyToken: verifyToken, PageToken: g.token, GraphURL: g.URL(), PageID: pageID,
		TokenCheckEvery: 20 * time.Millisecond, Answers: &store.CallBook{}, Logger: testsync.Logger(&testsync.Buffer{})})
	var desk alertList
	c.AlertWith(desk.alert)
	runConnector(t, c, 0)

	testsync.Eventually(t, "a first read of the subscription", func() bool { return g.subscriptionChecks() >= 1 })
	if tr := c.Facebook().Troubles(); len(tr) != 0 {
		t.Fatalf("the Page's troubles = %q while it is subscribed, want none", tr)
	}
	g.unsubscribe(true)
	testsync.Eventually(t, "the desk told of the lost subscription", func() bool { return desk.told("not subscribed to the Page") == 1 })
	if tr := c.Facebook().Troubles(); len(tr) != 1 || !strings.Contains(tr[0], "subscribed_apps") {
		t.Errorf("the Page's troubles = %q, want its subscription", tr)
	}
	at := g.subscriptionChecks()
	testsync.Eventually(t, "more reads of the subscription", func() bool { return g.subscriptionChecks() >= at+3 })
	g.unsubscribe(false)
	testsync.Eventually(t, "the desk told of the subscription back", func() bool { return desk.told("subscribed to the Page again") == 1 })
	if tr := c.Facebook().Troubles(); len(tr) != 0 {
		t.Errorf("the Page's troubles = %q once subscribed again, want none", tr)
	}
	if n := desk.told("not subscribed to the Page"); n != 1 {
		t.Errorf("%d alerts of the lost subscription, want 1", n)
	}
	// Lost again after its return: told again, though the store holds
	// the first loss's alert.
	g.unsubscribe(true)
	testsync.Eventually(t, "the desk told of the second loss", func() bool { return desk.told("not subscribed to the Page") == 2 })
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

// TestPageUnsubscribedToldOnce: three instances on one store (Answers)
// check the Page's subscription each. The desk hears of it lost once, from
// the first to find it, and of its return once.
func TestPageUnsubscribedToldOnce(t *testing.T) {
	g := newFakeGraph(t)
	g.unsubscribe(true)
	var book store.CallBook
	var desk alertList
	type instance struct {
		c *meta.Connector
		h http.Handler
	}
	var instances []instance
	for range 3 {
		// Checked as they start, then at each delivery about the Page
		// while it is found unsubscribed: an hour is past the test.
		c := meta.New(meta.Config{AppSecret: appSecret, VerifyToken: verifyToken, PageToken: g.token, GraphURL: g.URL(), PageID: pageID,
			TokenCheckEvery: time.Hour, Answers: &book, Logger: testsync.Logger(&testsync.Buffer{})})
		c.AlertWith(desk.alert)
		runConnector(t, c, 100)
		// One after the other, each finding the loss told already
		// (TestPageUnsubscribedToldOnceInARace has them at once).
		testsync.Eventually(t, "the instance's first check", func() bool { return len(c.Facebook().Troubles()) == 1 })
		instances = append(instances, instance{c, c.Handler()})
	}
	// A comment delivered to one instance makes it read the subscription
	// again at once.
	comment := 0
	deliverTo := func(in instance) {
		t.Helper()
		comment++
		_, body := sentinel(comment, time.Now())
		req := httptest.NewRequest(http.MethodPost, "/webhooks/meta", bytes.NewReader(body))
		req.Header.Set("X-Hub-Signature-256", meta.Sign(appSecret, body))
		rec := httptest.NewRecorder()
		in.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("delivery answered %d", rec.Code)
		}
	}
	back := func(want int) {
		t.Helper()
		for _, in := range instances {
			deliverTo(in)
			testsync.Eventually(t, "the instance finding the Page subscribed", func() bool { return len(in.c.Facebook().Troubles()) == 0 })
		}
		testsync.Eventually(t, "the desk told of the return", func() bool { return desk.told("subscribed to the Page again") == want })
	}
	g.unsubscribe(false)
	back(1)

	if n := desk.told("not subscribed to the Page"); n != 1 {
		t.Errorf("%d alerts of the lost subscription from 3 instances, want 1", n)
	}
	if n := desk.told("subscribed to the Page again"); n != 1 {
		t.Errorf("%d alerts of the return from 3 instances, want 1", n)
	}
}
