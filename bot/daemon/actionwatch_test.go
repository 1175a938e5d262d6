package daemon_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

const failingRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [delete]
`

// TestFailingTelegramActionsAreShown: Telegram's Bot API answers 500 to
// deleteMessage while updates keep coming (getUpdates works). After three
// deletes in a row failed, /-/ready names Telegram's actions (and stays 200),
// vigie_source_up{part="actions",platform="telegram"} is 0 while the
// poller's own series stays 1, one error is logged, and /status tells the
// CM; the first delete carried out clears it.
func TestFailingTelegramActionsAreShown(t *testing.T) {
	const group = -100700
	api := tgfake.New(t)
	in := start(t, failingRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	testsync.Eventually(t, "ready", func() bool { return ready(t, in).code == http.StatusOK })
	const gauge = `vigie_source_up{part="actions",platform="telegram"}`
	if v := metric(t, in, gauge); v != 1 {
		t.Errorf("%s = %v before any action, want 1", gauge, v)
	}

	api.SetTrouble(func(method string, p url.Values) (int, string, bool) {
		if method == "deleteMessage" {
			return 500, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`, false
		}
		return 0, "", false
	})
	cases := func() int { return strings.Count(in.logs.String(), `msg="case opened"`) }
	for i := range 3 {
		api.Push(groupMessage(group, int64(10+i), "Scammer"+strconv.Itoa(i), "FREE NITRO here "+strconv.Itoa(i)))
		testsync.Eventually(t, "the failed delete's case", func() bool { return cases() == i+1 })
		rd := ready(t, in)
		if i < 2 {
			if rd.code != http.StatusOK || len(rd.Reasons) != 0 {
				t.Errorf("/-/ready after %d failed deletes = %d %q, want 200 and no reason", i+1, rd.code, rd.Reasons)
			}
			continue
		}
		if rd.code != http.StatusOK || len(rd.Reasons) != 1 || !strings.HasPrefix(rd.Reasons[0], "telegram actions: failing since ") ||
			!strings.Contains(rd.Reasons[0], ", 3 in a row: ") || !strings.Contains(rd.Reasons[0], "Internal Server Error") {
			t.Fatalf("/-/ready after 3 failed deletes = %d %q, want 200 naming Telegram's actions", rd.code, rd.Reasons)
		}
	}
	if v := metric(t, in, gauge); v != 0 {
		t.Errorf("%s = %v while deletes fail, want 0", gauge, v)
	}
	if v := metric(t, in, `vigie_source_up{part="events",platform="telegram"}`); v != 1 {
		t.Errorf("the poller's vigie_source_up = %v, want 1: updates still come", v)
	}
	if n := strings.Count(in.logs.String(), "actions keep failing"); n != 1 {
		t.Errorf("the failing actions are logged %d times, want once", n)
	}
	// A CM asks from the phone.
	api.Push(groupMessage(tgDesk, 42, "Ann", "/status"))
	testsync.Eventually(t, "/status naming Telegram's actions", func() bool {
		return len(find(api, "sendMessage", "text", "Degraded: telegram actions: failing since ")) == 1
	})

	api.SetTrouble(nil)
	api.Push(groupMessage(group, 20, "Scammer", "FREE NITRO again"))
	testsync.Eventually(t, "no reason left", func() bool { rd := ready(t, in); return rd.code == http.StatusOK && len(rd.Reasons) == 0 })
	if v := metric(t, in, gauge); v != 1 {
		t.Errorf("%s = %v once a delete went through, want 1", gauge, v)
	}
	if n := strings.Count(in.logs.String(), "actions carried out again"); n != 1 {
		t.Errorf("the recovery is logged %d times, want once", n)
	}
}

// TestLongTelegramRateLimitIsShown: Telegram answers deleteMessage with a 429
// asking to wait ten minutes, longer than the retry stage waits, so each
// delete becomes a case at once. /-/ready names the limit and how many
// actions were left as cases (and stays 200), the actions' vigie_source_up is
// 0, /status tells the CM; the first delete carried out clears it.
func TestLongTelegramRateLimitIsShown(t *testing.T) {
	const group = -100700
	api := tgfake.New(t)
	in := start(t, failingRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	testsync.Eventually(t, "ready", func() bool { return ready(t, in).code == http.StatusOK })
	const gauge = `vigie_source_up{part="actions",platform="telegram"}`

	api.SetTrouble(func(method string, p url.Values) (int, string, bool) {
		if method == "deleteMessage" {
			return http.StatusTooManyRequests, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 600","parameters":{"retry_after":600}}`, false
		}
		return 0, "", false
	})
	cases := func() int { return strings.Count(in.logs.String(), `msg="case opened"`) }
	for i := range 2 {
		api.Push(groupMessage(group, int64(10+i), "Scammer"+strconv.Itoa(i), "FREE NITRO here "+strconv.Itoa(i)))
		testsync.Eventually(t, "the limited delete's case", func() bool { return cases() == i+1 })
	}
	rd := ready(t, in)
	want := "actions left as cases"
	if rd.code != http.StatusOK || len(rd.Reasons) != 1 || !strings.HasPrefix(rd.Reasons[0], "telegram actions: rate limited until ") ||
		!strings.HasSuffix(rd.Reasons[0], " UTC, 2 "+want) {
		t.Fatalf("/-/ready while Telegram asks to wait 10 minutes = %d %q, want 200 naming the limit and 2 %s", rd.code, rd.Reasons, want)
	}
	var h struct{ Degraded []string }
	in.do(t, "GET", "/healthz", nil, nil).json(t, &h)
	if len(h.Degraded) != 1 || h.Degraded[0] != rd.Reasons[0] {
		t.Errorf("/healthz degraded = %q, want %q", h.Degraded, rd.Reasons)
	}
	if v := metric(t, in, gauge); v != 0 {
		t.Errorf("%s = %v while actions are left as cases, want 0", gauge, v)
	}
	api.Push(groupMessage(tgDesk, 42, "Ann", "/status"))
	testsync.Eventually(t, "/status naming the rate limit", func() bool {
		return len(find(api, "sendMessage", "text", "telegram actions: rate limited until ")) == 1
	})

	api.SetTrouble(nil)
	api.Push(groupMessage(group, 20, "Scammer", "FREE NITRO again"))
	testsync.Eventually(t, "no reason left", func() bool { rd := ready(t, in); return rd.code == http.StatusOK && len(rd.Reasons) == 0 })
	if v := metric(t, in, gauge); v != 1 {
		t.Errorf("%s = %v once a delete went through, want 1", gauge, v)
	}
}
