package meta_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// deskRules are the page's rules with a Telegram desk, for the alerts.
const deskRules = `
timezone: Europe/Paris
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
lists:
  insults: [connard, connards, escroc, escrocs]
rules:
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [hide]
`

// startDeskDaemon runs vigie with deskRules on the fake Graph API g, its
// desk on the fake Bot API api, and returns its base URL.
func startDeskDaemon(t *testing.T, g *fakeGraph, api *tgfake.Server) string {
	t.Helper()
	return startDeskDaemonWith(t, deskRules, g, api)
}

// startDeskDaemonWith is startDeskDaemon on the rule file text.
func startDeskDaemonWith(t *testing.T, text string, g *fakeGraph, api *tgfake.Server) string {
	t.Helper()
	base, _ := startDeskDaemonLogged(t, text, g, api)
	return base
}

// startDeskDaemonLogged is startDeskDaemonWith that returns vigie's logs
// too.
func startDeskDaemonLogged(t *testing.T, text string, g *fakeGraph, api *tgfake.Server) (base string, logs *testsync.Buffer) {
	t.Helper()
	return startDaemonWith(t, text, map[string]string{
		"META_APP_SECRET":   appSecret,
		"META_PAGE_TOKEN":   g.token,
		"META_VERIFY_TOKEN": verifyToken,
		"META_GRAPH_URL":    g.URL(),
		"TELEGRAM_TOKEN":    tgfake.Token,
		"TELEGRAM_API_URL":  api.HTTP.URL,
	})
}

// TestDaemonTellsOfARefusedTokenBeforeAnyComment: vigie starts, in the
// evening, with a page token Meta refuses (expired, or pasted wrong), and no
// comment needs an action for hours. It is said at once, not at the first
// comment that would have been hidden: /-/ready answers 503 naming
// META_PAGE_TOKEN, and the desk gets one alert, however many comments fail
// after it. Once Meta takes the token again, vigie is ready again at once;
// the desk is told once it held.
func TestDaemonTellsOfARefusedTokenBeforeAnyComment(t *testing.T) {
	g := newFakeGraph(t)
	g.expire(true)
	api := tgfake.New(t)
	base := startDeskDaemon(t, g, api)
	var reasons []string
	testsync.Eventually(t, "/-/ready naming the page token, with no comment yet", func() bool {
		var code int
		code, reasons = daemonReadiness(t, base)
		return code == http.StatusServiceUnavailable && len(reasons) == 1 && strings.Contains(reasons[0], "META_PAGE_TOKEN")
	})
	if !strings.HasPrefix(reasons[0], "meta: ") {
		t.Errorf("/-/ready reasons = %q, want meta's", reasons)
	}
	refused := func(c tgfake.Call) bool {
		return c.Params.Get("chat_id") == "-100500" && strings.Contains(c.Params.Get("text"), "Meta refuses vigie's page token") &&
			strings.Contains(c.Params.Get("text"), "META_PAGE_TOKEN")
	}
	api.WaitFor("sendMessage", 1, refused)

	// Comments keep coming; their hides fail, each a case: still one alert.
	deliverComment(t, base, "987654321098765_1000000000000001")
	testsync.Eventually(t, "the hide tried", func() bool { return hidesOf(g, "987654321098765_1000000000000001") >= 1 })
	testsync.Eventually(t, "the case of the hide that failed", func() bool {
		return openCasesWith(t, base, "renew META_PAGE_TOKEN") == 1
	})

	// Meta takes it again: the comment's hide goes through. The desk is
	// told once no refusal came for ten minutes after it (a Graph that
	// refuses and takes by turns is one trouble, TestDeskAlertsStaySteady),
	// not at once.
	g.expire(false)
	const later = "987654321098765_1000000000000002"
	deliverComment(t, base, later)
	testsync.Eventually(t, "the hide once the token is taken", func() bool { return hidesOf(g, later) == 1 })
	testsync.Eventually(t, "ready again", func() bool { code, _ := daemonReadiness(t, base); return code == http.StatusOK })
	if n := api.Count("sendMessage", refused); n != 1 {
		t.Errorf("%d alerts of the refused token, want 1", n)
	}
	if n := api.Count("sendMessage", func(c tgfake.Call) bool {
		return strings.Contains(c.Params.Get("text"), "Meta takes vigie's page token again")
	}); n != 0 {
		t.Errorf("the desk told at once that Meta takes the token again (%d), before it held for ten minutes", n)
	}
}

// TestDaemonTellsOfAMissingPermission: the app lacks the permission to hide
// comments (pages_manage_engagement not granted, or lost). Each insult of the
// night is a case, and the desk is told once, with what to grant, not once
// for each.
func TestDaemonTellsOfAMissingPermission(t *testing.T) {
	g := newFakeGraph(t)
	api := tgfake.New(t)
	base := startDeskDaemon(t, g, api)
	refused := graphErrorJSON(200, 0, "OAuthException", "(#200) Requires pages_manage_engagement permission to manage the object")
	cids := []string{"987654321098765_1000000000000001", "987654321098765_1000000000000002"}
	for i, cid := range cids {
		g.failNext("POST", "/"+cid, http.StatusForbidden, refused, nil)
		deliverComment(t, base, cid)
		testsync.Eventually(t, "the case of the hide refused", func() bool {
			return openCasesWith(t, base, "lacks the permission to hide comments") == i+1
		})
	}
	alert := func(c tgfake.Call) bool {
		text := c.Params.Get("text")
		return c.Params.Get("chat_id") == "-100500" && strings.Contains(text, "Meta refuses vigie's hide") &&
			strings.Contains(text, "pages_manage_engagement")
	}
	api.WaitFor("sendMessage", 1, alert)
	// The second refusal is not said again: a comment whose hide goes
	// through comes after both, and its alert would have come before.
	const ok = "987654321098765_1000000000000003"
	deliverComment(t, base, ok)
	testsync.Eventually(t, "the hide carried out", func() bool { return hidesOf(g, ok) == 1 })
	if n := api.Count("sendMessage", alert); n != 1 {
		t.Errorf("%d alerts of the missing permission, want 1", n)
	}
}
