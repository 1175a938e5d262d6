package meta_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/meta"
)

// When fb_visitor_post.json was sent, and the post it carries.
var visitorPostSent = time.Unix(1795733000, 0).UTC()

const visitorPostID = "104523749012345_555666777888999"

// A visitor's post on the Page is judged as a comment is: the insult is hidden
// through the Page Post node (POST /{page-post-id} is_hidden=true) and its
// author answered with a Private Reply to the post; Meta's retry does nothing
// more.
func TestVisitorPostHiddenAndAnsweredPrivately(t *testing.T) {
	p := newPipeline(t, visitorPostSent.Add(time.Minute))
	p.h.graph.visitorPost(visitorPostID)
	body := fixture(t, "fb_visitor_post.json")
	verdicts := p.deliver(t, body)
	if len(verdicts) != 1 || !verdicts[0].Flagged() || verdicts[0].Matches[0].Rule != "insult" {
		t.Fatalf("verdicts = %+v, want the insult rule", verdicts)
	}
	hides := p.callsTo("POST", "/"+visitorPostID)
	if len(hides) != 1 || hides[0].Params.Get("is_hidden") != "true" {
		t.Fatalf("hides = %+v, want one POST /%s is_hidden=true", hides, visitorPostID)
	}
	warns := p.callsTo("POST", "/"+pageID+"/messages")
	if len(warns) != 1 || jsonField(warns[0].JSON, "recipient.post_id") != visitorPostID ||
		jsonField(warns[0].JSON, "message.text") != "Merci de rester courtois." {
		t.Fatalf("private replies = %+v, want one to post_id %s", warns, visitorPostID)
	}
	before := len(p.h.graph.Calls())
	p.deliver(t, body)
	if n := len(p.h.graph.Calls()); n != before {
		t.Errorf("Meta's retry made %d more Graph calls, want none", n-before)
	}
}

// What a visitor's post becomes: a comment on the Page whose channel is the
// post itself, with the author Meta names, the shared link among the links the
// rules read, and no event for the Page's own posts.
func TestVisitorPostEvent(t *testing.T) {
	h := newHarness(t, func(c *meta.Config) { c.Now = func() time.Time { return visitorPostSent.Add(time.Minute) } })
	h.mustPost(fixture(t, "fb_visitor_post.json"))
	share := bytes.Replace(fixture(t, "fb_visitor_post.json"), []byte(`"item": "status"`),
		[]byte(`"item": "share", "link": "https://promo-cadeaux.example/iphone"`), 1)
	share = bytes.Replace(share, []byte("555666777888999"), []byte("555666777888000"), 1)
	h.mustPost(share)
	own := bytes.Replace(fixture(t, "fb_visitor_post.json"), []byte(`"id": "6021345987654321"`), []byte(`"id": "`+pageID+`"`), 1)
	own = bytes.Replace(own, []byte("555666777888999"), []byte("555666777888111"), 1)
	h.mustPost(own)
	evs := h.collect()
	if len(evs) != 2 {
		t.Fatalf("events = %+v, want the visitor's two posts and not the Page's", evs)
	}
	ev := evs[0]
	if ev.ID != visitorPostID || ev.Kind != bot.KindComment || ev.Channel != visitorPostID || ev.Space != pageID ||
		ev.Author.ID != "6021345987654321" || ev.Author.Name != "Jean Dupont" || !meta.IsPost(ev) {
		t.Errorf("event = %+v, want the post as a comment on its own channel", ev)
	}
	if got := evs[1].HiddenLinks; len(got) != 1 || got[0] != "https://promo-cadeaux.example/iphone" {
		t.Errorf("shared link = %v, want it among the links judged", got)
	}
}

// A visitor's post edited into an insult is judged again, once per new text,
// as an edited comment is.
func TestEditedVisitorPostJudgedAgain(t *testing.T) {
	now := visitorPostSent.Add(time.Hour)
	p := newPipeline(t, now)
	p.h.graph.visitorPost(visitorPostID)
	clean := bytes.Replace(fixture(t, "fb_visitor_post.json"), []byte("Boulangerie de connards, vous m'avez vendu du pain rassis"),
		[]byte("Super boulangerie"), 1)
	if v := p.deliver(t, clean); len(v) != 1 || v[0].Flagged() {
		t.Fatalf("verdicts = %+v, want the clean post judged and let be", v)
	}
	edited := bytes.Replace(fixture(t, "fb_visitor_post.json"), []byte(`"verb": "add"`), []byte(`"verb": "edited"`), 1)
	edited = bytes.Replace(edited, []byte(`"time": 1795733000`), []byte(`"time": 1795736000`), 1)
	v := p.deliver(t, edited)
	if len(v) != 1 || !v[0].Flagged() {
		t.Fatalf("verdicts = %+v, want the edit judged an insult", v)
	}
	hides := p.callsTo("POST", "/"+visitorPostID)
	if len(hides) != 1 || hides[0].Params.Get("is_hidden") != "true" {
		t.Fatalf("hides = %+v, want the edited post hidden", hides)
	}
	before := len(p.h.graph.Calls())
	if v := p.deliver(t, edited); len(v) > 1 || len(v) == 1 && !v[0].Duplicate {
		t.Errorf("Meta's retry of the edit: %+v, want it dropped", v)
	}
	if n := len(p.h.graph.Calls()); n != before {
		t.Errorf("Meta's retry of the edit made %d more Graph calls, want none", n-before)
	}
}

// A Messenger message edited into an insult is judged again as an edit: the
// author is answered in the conversation (a message cannot be hidden), Meta's
// retry of the edit is dropped, and a later edit to another text is judged.
func TestMessengerEditJudged(t *testing.T) {
	sent := time.UnixMilli(1795732100123).UTC()
	p := newPipeline(t, sent.Add(time.Minute))
	body := fixture(t, "messenger_edit.json")
	h := newHarness(t, func(c *meta.Config) { c.Now = func() time.Time { return sent.Add(time.Minute) } })
	h.mustPost(body)
	evs := h.collect()
	if len(evs) != 1 {
		t.Fatalf("events = %+v, want the edit", evs)
	}
	if ev := evs[0]; ev.Kind != bot.KindEdit || ev.Author.ID != "7654321098765432" || ev.Channel != "7654321098765432" ||
		!meta.InConversation(ev) || meta.IsPost(ev) || !ev.At.Equal(time.UnixMilli(1795732099876).UTC()) {
		t.Fatalf("event = %+v, want an edit in the conversation, at the edit's time", ev)
	}

	verdicts := p.deliver(t, body)
	if len(verdicts) != 1 || !verdicts[0].Flagged() || verdicts[0].Matches[0].Rule != "insult" {
		t.Fatalf("verdicts = %+v, want the insult rule", verdicts)
	}
	warns := p.callsTo("POST", "/"+pageID+"/messages")
	if len(warns) != 1 || jsonField(warns[0].JSON, "recipient.id") != "7654321098765432" ||
		jsonField(warns[0].JSON, "message.text") != "Merci de rester courtois." {
		t.Fatalf("answers = %+v, want one in the conversation", warns)
	}
	for _, c := range p.h.graph.Calls() {
		if c.Method == "POST" && c.Params.Get("is_hidden") != "" {
			t.Errorf("a message was asked hidden: %+v", c)
		}
	}
	before := len(p.h.graph.Calls())
	if v := p.deliver(t, body); len(v) > 1 || len(v) == 1 && !v[0].Duplicate {
		t.Errorf("Meta's retry of the edit: %+v, want it dropped", v)
	}
	if n := len(p.h.graph.Calls()); n != before {
		t.Errorf("Meta's retry of the edit made %d more Graph calls, want none", n-before)
	}
	again := bytes.Replace(body, []byte("Bande d'escrocs, vous êtes jamais ouverts"), []byte("Vous êtes nuls"), 1)
	if v := p.deliver(t, again); len(v) != 1 || v[0].Duplicate || !v[0].Flagged() {
		t.Errorf("a second edit to another text: %+v, want it judged", v)
	}
}

// TestDaemonJudgesVisitorPostAndMessengerEdit runs vigie as `vigie run` does:
// a visitor's insulting post, then a Messenger message edited into an insult,
// posted signed to /webhooks/meta, end as the post hidden and its author
// answered privately, and the edit's author answered in the conversation.
func TestDaemonJudgesVisitorPostAndMessengerEdit(t *testing.T) {
	g := newFakeGraph(t)
	g.visitorPost(visitorPostID)
	base, logs := startDaemon(t, metaEnv(g))
	// The daemon's clock is the real one: the deliveries are dated now.
	deliverSigned(t, base, restamp(fixture(t, "fb_visitor_post.json"), time.Since(visitorPostSent)))
	deliverSigned(t, base, restamp(fixture(t, "messenger_edit.json"), time.Since(time.UnixMilli(1795732100123))))

	deadline := time.Now().Add(testsync.Patience)
	for {
		var hidden, toPost, toSender int
		for _, c := range g.Calls() {
			switch {
			case c.Method == "POST" && c.Path == "/"+visitorPostID && c.Params.Get("is_hidden") == "true":
				hidden++
			case c.Method == "POST" && c.Path == "/"+pageID+"/messages" && jsonField(c.JSON, "recipient.post_id") == visitorPostID:
				toPost++
			case c.Method == "POST" && c.Path == "/"+pageID+"/messages" && jsonField(c.JSON, "recipient.id") == "7654321098765432":
				toSender++
			}
		}
		if hidden == 1 && toPost == 1 && toSender == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("hides %d, private replies %d, answers %d, want 1 each; calls %+v\nlogs:\n%s",
				hidden, toPost, toSender, g.Calls(), logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The fake Graph API takes on a visitor's post only what Meta documents for the
// Page Post node and Private Replies, so that the tests above would catch a
// comment's or Instagram's call made on a post.
func TestFakeGraphVisitorPostCalls(t *testing.T) {
	g := newFakeGraph(t)
	g.visitorPost(visitorPostID)
	do := func(method, path, form, jsonBody string) int {
		t.Helper()
		var req *http.Request
		switch {
		case jsonBody != "":
			req, _ = http.NewRequest(method, g.URL()+path, strings.NewReader(jsonBody))
			req.Header.Set("Content-Type", "application/json")
		default:
			req, _ = http.NewRequest(method, g.URL()+path, strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Authorization", "Bearer "+g.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	post := "/" + visitorPostID
	for _, c := range []struct {
		name                   string
		method, path, form, js string
		want                   int
	}{
		{"hide", "POST", post, "is_hidden=true", "", 200},
		{"unhide", "POST", post, "is_hidden=false", "", 200},
		{"comment under it", "POST", post + "/comments", "message=Bonjour", "", 200},
		{"private reply to the post", "POST", "/" + pageID + "/messages", "", `{"recipient":{"post_id":"` + visitorPostID + `"},"message":{"text":"x"}}`, 200},
		{"Instagram's hide", "POST", post, "hide=true", "", 400},
		{"rewrite the visitor's text", "POST", post, "is_hidden=true&message=x", "", 400},
		{"Instagram's replies", "POST", post + "/replies", "message=x", "", 400},
		{"private reply naming the post a comment", "POST", "/" + pageID + "/messages", "", `{"recipient":{"comment_id":"` + visitorPostID + `"},"message":{"text":"x"}}`, 400},
		{"private reply to an unknown post", "POST", "/" + pageID + "/messages", "", `{"recipient":{"post_id":"1_2"},"message":{"text":"x"}}`, 400},
		{"delete", "DELETE", post, "", "", 200},
		{"hide once deleted", "POST", post, "is_hidden=true", "", 400},
		{"delete again", "DELETE", post, "", "", 400},
	} {
		if got := do(c.method, c.path, c.form, c.js); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}
