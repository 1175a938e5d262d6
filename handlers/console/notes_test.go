package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// The moderators' notes on a member show on their cases in the queue and on
// their page, newest first, escaped; the page's cases can be linked to.
func TestNotesShown(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	at := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	ev := bot.Event{ID: "m1", Platform: "telegram", Space: "-100", Author: bot.Author{ID: "7", Name: "Bob"}, Text: "x", At: at}
	c, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "r", Reason: "r", Opened: at})
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"sells <accounts>", "second warning"} {
		if err := st.AddNote(ctx, store.Note{Platform: "telegram", Space: "-100", Author: "7", Text: text, By: "telegram:42", At: at.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	addViewer(t, st)
	routes := console.New(console.Options{Store: st, Accounts: st}).Routes()
	session := login(t, routes, "vic", "battery staple")
	queue := get(routes, "GET /queue", "/queue", session).Body.String()
	if !strings.Contains(queue, `<p class="note">📝 telegram:42, `) || !strings.Contains(queue, "sells &lt;accounts&gt;") {
		t.Errorf("the queue shows no note:\n%s", queue)
	}
	// Through a mux, which reads the path's values.
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.Handle(pattern, h)
	}
	page := get(map[string]http.Handler{"": mux}, "", "/people/telegram/-100/7", session).Body.String()
	second, first := strings.Index(page, "second warning"), strings.Index(page, "sells &lt;accounts&gt;")
	if second < 0 || first < 0 || second > first {
		t.Errorf("the person page shows the notes out of order or not at all:\n%s", page)
	}
	if !strings.Contains(page, `id="case-`+c.ID+`"`) {
		t.Errorf("the person page's case has no anchor:\n%s", page)
	}
}
