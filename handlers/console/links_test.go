package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// The queue links each author to their page, whatever their id and place
// hold: an event posted to /v1/events may name a shop's customer
// "shop/42", in a place "eu?x#1"; the link must lead to that author's page,
// as the people page's links and the mod-log's do, not cut their id at a
// slash. (An id that is only dots, "..", cannot have a path of its own:
// browsers read "%2E%2E" as ".." too.)
func TestQueueLinksEachAuthorToTheirPage(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.WithCaseEpoch("tests"))
	at := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	authors := []struct{ space, id, name string }{
		{"guild-1", "shop/42", "Slash"},
		{"eu?x#1", "7", "Query"},
		{"", "a b%20c", "Space"},
	}
	caseOf := map[string]string{} // by the author's name
	for i, a := range authors {
		ev := bot.Event{ID: "m" + a.name, Platform: "shop", Space: a.space, Author: bot.Author{ID: a.id, Name: a.name}, Text: "x", At: at}
		cs, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "r", Reason: "r", Opened: at.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		caseOf[a.name] = cs.ID
	}
	addViewer(t, st)
	routes := console.New(console.Options{Store: st, Accounts: st}).Routes()
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.Handle(pattern, h)
	}
	session := login(t, routes, "vic", "battery staple")
	queue := get(routes, "GET /queue", "/queue", session).Body.String()
	links := regexp.MustCompile(`<a class="author" href="([^"]*)">([^<]*)</a>`).FindAllStringSubmatch(queue, -1)
	if len(links) != len(authors) {
		t.Fatalf("%d author links, want %d:\n%s", len(links), len(authors), queue)
	}
	base, _ := url.Parse("http://127.0.0.1:8080/queue")
	for _, l := range links {
		href, name := html.UnescapeString(l[1]), l[2]
		// As a browser follows it.
		u, err := base.Parse(href)
		if err != nil {
			t.Errorf("%s: link %q: %v", name, href, err)
			continue
		}
		rec := get(map[string]http.Handler{"": mux}, "", u.RequestURI(), session)
		// Their page lists their case, and only theirs.
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.Contains(body, `id="case-`+caseOf[name]+`"`) || strings.Count(body, `<li data-case=`) != 1 {
			t.Errorf("%s: the link %q leads to %s: %d, not their page:\n%.300s", name, href, u.RequestURI(), rec.Code, body)
		}
	}
}
