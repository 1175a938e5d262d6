package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// hostile are the words a stranger writes and the console shows: a
// message's text, a name, a nickname, a channel, a link, a note. Each tries
// to run script in the CM's console, in text, in an attribute, in a link.
var hostile = []string{
	`<img src=x onerror="window.pwned=(window.pwned||[]).concat('img')">`,
	`"><script>window.pwned=(window.pwned||[]).concat('script')</script>`,
	`' onmouseover='window.pwned=1' x='`,
	`</textarea><svg onload="window.pwned=(window.pwned||[]).concat('svg')">`,
	`javascript:window.pwned=(window.pwned||[]).concat('href')`,
}

// TestHostileWordsRunNoScript: a case whose every field a stranger wrote
// is shown as text in Chromium, in the queue, its live refresh (which puts
// the list in place as HTML), the people search and the person's page: no
// script of theirs runs, no element of theirs is made, and the link is not
// theirs to point at a script.
func TestHostileWordsRunNoScript(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.WithCaseEpoch("tests"))
	at := time.Now().Truncate(time.Second)
	h := strings.Join(hostile, " ")
	ev := bot.Event{ID: "m1", Platform: "discord", Kind: bot.KindMessage, Space: hostile[1], Channel: hostile[2],
		Author: bot.Author{ID: "u1", Name: hostile[1]}, Text: h, Link: hostile[4], At: at}
	if _, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "scam", Category: hostile[0], Reason: h, Community: hostile[3],
		Suggested: []bot.Action{{Kind: bot.ActReply, Text: hostile[0]}}, Opened: at}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddNote(ctx, store.Note{Platform: "discord", Space: hostile[1], Author: "u1", Text: h, By: hostile[0], At: at}); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendAudit(ctx, store.AuditEntry{At: at, Event: ev, Verdict: bot.Verdict{Matches: []bot.Match{{Rule: hostile[0], Reason: h}}}}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutAccount(ctx, store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	con := console.New(console.Options{Store: st, Accounts: st,
		Decide: func(ctx context.Context, id, outcome, by string) (store.Case, string, error) {
			return noNote(st.DecideCase(ctx, id, outcome, by, "", at))
		},
		Outcomes: func(bot.Event) []bot.ActionKind {
			return []bot.ActionKind{handlers.OutcomeKeep, bot.ActDelete, bot.ActReply}
		},
	})
	t.Cleanup(con.Close)
	mux := http.NewServeMux()
	for p, h := range con.Routes() {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	bctx := browser(t, false)
	n := &raidNight{srv: srv}
	n.logIn(t, bctx)
	clean := func(where string) {
		t.Helper()
		got, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[
			...(window.pwned || []).map(String),
			...[...document.querySelectorAll('main script, main img[src="x"], main svg, [onerror], [onmouseover], [onload]')].map(e => e.outerHTML.slice(0, 60)),
			...[...document.querySelectorAll('a[href]')].filter(a => a.protocol === 'javascript:').map(a => a.href)]`))
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if len(got) > 0 {
			t.Errorf("%s: a stranger's words became the page's: %q", where, got)
		}
		shown, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if !strings.Contains(shown, "<script>window.pwned") && !strings.Contains(shown, "onerror=") {
			t.Errorf("%s: the stranger's words are not shown as they were written:\n%s", where, shown)
		}
		shot(t, bctx, "hostile-"+strings.ReplaceAll(where, " ", "-"), false)
	}
	clean("queue")

	// The live view puts the list fetched again in place as HTML.
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`(async () => {
		const r = await fetch('/queue?part=list', {credentials: 'same-origin'});
		document.getElementById('queue').innerHTML = await r.text();
		return true; })()`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	clean("queue refreshed")

	for where, path := range map[string]string{
		"people search": "/people?" + url.Values{"q": {"u1"}}.Encode(),
		"person":        "/people/discord/" + url.PathEscape(hostile[1]) + "/u1",
	} {
		if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+path)); err != nil {
			t.Fatal(err)
		}
		clean(where)
	}
}
