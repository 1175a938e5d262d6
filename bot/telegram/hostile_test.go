package telegram

import (
	"context"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

var tags = regexp.MustCompile(`<[^>]*>`)

// shownText is what a CM reads of a text Telegram parsed as HTML.
func shownText(s string) string { return html.UnescapeString(tags.ReplaceAllString(s, "")) }

// nextMessage is the next message event out carries, past the profile
// events of new names; what names the test's step in its failure.
func nextMessage(t *testing.T, out <-chan bot.Event, what string) bot.Event {
	t.Helper()
	var ev bot.Event
	for ev.Kind != bot.KindMessage {
		select {
		case ev = <-out:
		case <-time.After(testsync.Patience):
			t.Fatalf("%s: no event", what)
		}
	}
	return ev
}

// cardShown posts on desk the card of the next message out carries, as the
// n-th case (c1, c2, ...) of the test, and returns what the CM reads of it:
// the n-th message sent to the desk chat.
func cardShown(t *testing.T, f *fakeBotAPI, desk *Desk, out <-chan bot.Event, n int, what string) string {
	t.Helper()
	ev := nextMessage(t, out, what)
	if err := desk.PostCard(context.Background(), bot.Card{ID: "c" + itoa(int64(n)), Event: ev, Rule: "r"}); err != nil {
		t.Fatalf("%s: the card was not posted: %v", what, err)
	}
	return shownText(f.waitFor("sendMessage", n, inChat(deskChat.id)).Params.Get("text"))
}

// watchedDesk is a client that moderates chats, with the desk chat and its
// CM 42, running: the fake Bot API, the client, its desk and the events it
// hands on.
func watchedDesk(t *testing.T, chats []int64) (*fakeBotAPI, *Client, *Desk, chan bot.Event) {
	t.Helper()
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: chats})
	knowAdmins(t, c, group.id)
	desk := c.Desk(newCaseBook())
	out := make(chan bot.Event, 10)
	run(t, c, out)
	return f, c, desk, out
}

// TestHostileMessagesReachTheDesk: what a member writes never breaks the
// card made of it: markup of either style, a lone &, right-to-left marks, a
// long message, a photo with a caption, a sticker, a poll. Each card reaches
// the desk (the fake refuses HTML Telegram cannot parse), and the CM reads
// there what the member sent.
func TestHostileMessagesReachTheDesk(t *testing.T) {
	f, _, desk, out := watchedDesk(t, []int64{group.id})
	bob := tgUser{id: 7, first: "<b>Bob</b> & *co_", last: "\u202eevil"}
	photo := []any{map[string]any{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}}
	sticker := map[string]any{"file_id": "s1", "file_unique_id": "u2", "type": "regular", "width": 512, "height": 512,
		"is_animated": false, "is_video": false, "emoji": "😈"}
	poll := map[string]any{"id": "9", "question": "<i>free</i> nitro?", "options": []any{
		map[string]any{"persistent_id": "a", "text": "yes & <b>yes</b>", "voter_count": 0},
		map[string]any{"persistent_id": "b", "text": "*no*", "voter_count": 0}},
		"total_voter_count": 0, "is_closed": false, "is_anonymous": true, "type": "regular", "allows_multiple_answers": false, "allows_revoting": false, "members_only": false}
	long := strings.Repeat("&<b>é", 1000)
	for i, tt := range []struct {
		name string
		msg  map[string]any
		want []string // what the card shows, as the CM reads it
	}{
		{"markup", message(group, 100, bob, t0, `<b>buy</b> &amp; <a href="x">now</a> *bold* _it_ [link](http://x) `+"`code`"),
			[]string{`<b>buy</b> &amp; <a href="x">now</a> *bold* _it_ [link](http://x) ` + "`code`", "<b>Bob</b> & *co_ \u202eevil"}},
		{"lone symbols", message(group, 101, bob, t0, "Tom & Jerry < 3 > 2 &nbsp; &#x;"), []string{"Tom & Jerry < 3 > 2 &nbsp; &#x;"}},
		{"right to left", message(group, 102, bob, t0, "\u202eموقع \u200fscam.example\u202c"), []string{"\u202eموقع \u200fscam.example\u202c"}},
		{"long", message(group, 103, bob, t0, long), []string{long[:300]}},
		{"photo with a caption", with(message(group, 104, bob, t0, ""), "photo", photo, "caption", "<u>look</u> & see"), []string{"<u>look</u> & see"}},
		{"poll", with(message(group, 106, bob, t0, ""), "poll", poll), []string{"<i>free</i> nitro?", "yes & <b>yes</b>", "*no*"}},
		{"sticker", with(message(group, 105, bob, t0, ""), "sticker", sticker), []string{"(no text: an attachment, such as a sticker or a photo)"}},
		// a right-to-left override in a name would turn the rest of the
		// line around: "(id 7)" would show as "(id 42)", a CM's id
		{"name turning the line", message(group, 107, tgUser{id: 7, first: "Bob\u202e)24 di(\u2069\u202e"}, t0, "hi"),
			[]string{"telegram · Fans · \u2068Bob\u202e)24 di(\u202e\u2069 (id 7)"}},
	} {
		f.push(map[string]any{"message": tt.msg})
		ev := nextMessage(t, out, tt.name)
		card := bot.Card{ID: "c" + itoa(int64(i)), Event: ev, Rule: "r<1>", Category: "spam & co", Reason: "why <not>"}
		if err := desk.PostCard(context.Background(), card); err != nil {
			t.Errorf("%s: the card was not posted: %v", tt.name, err)
			continue
		}
		sent := f.waitFor("sendMessage", i+1, inChat(deskChat.id))
		shown := shownText(sent.Params.Get("text"))
		for _, want := range append(tt.want, "rule r<1>", "(spam & co)", "why <not>") {
			if !strings.Contains(shown, want) {
				t.Errorf("%s: the card does not show %q:\n%s", tt.name, want, shown)
			}
		}
	}
}

// TestVerifyPromptIsolatesTheName: a new member whose name holds a
// right-to-left override does not turn the verification prompt around: the
// name is set apart, in the mention and in the prompt's text.
func TestVerifyPromptIsolatesTheName(t *testing.T) {
	f, _, _, _, out, _ := newVerifyClient(t)
	f.push(joins(tgUser{id: 7, first: "Bob\u202e"}, t0))
	<-out
	prompt := f.waitFor("sendMessage", 1, inChat(group.id)).Params.Get("text")
	if want := "Welcome \u2068Bob\u202e\u2069, press within 5m."; !strings.Contains(prompt, want) || strings.Count(prompt, "\u2068Bob\u202e\u2069") != 2 {
		t.Errorf("prompt = %q, want the name isolated in the mention and in %q", prompt, want)
	}
}

// TestWarnIsolatesTheName: a warning names its author first; a name holding
// a right-to-left override does not turn the warning's words around.
func TestWarnIsolatesTheName(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
	ev := groupEvent(10, "7")
	ev.Author.Name = "Bob\u202e"
	if err := c.Warn(context.Background(), ev, "no links here, please."); err != nil {
		t.Fatal(err)
	}
	text := f.waitFor("sendMessage", 1, inChat(group.id)).Params.Get("text")
	if want := "\u2068Bob\u202e\u2069</a>, no links here, please."; !strings.Contains(text, want) {
		t.Errorf("warning = %q, want it holding %q", text, want)
	}
}

// TestMembersLinksShowNoPreviewOnTheDesk: a card quoting a member's link,
// and an alert, ask Telegram for no link preview: the title and picture a
// scam site chose would show under vigie's card, and Telegram would fetch
// the page as the case reaches the desk. vigie's replies in the groups, the
// rule file's and the CMs' words, keep theirs.
func TestMembersLinksShowNoPreviewOnTheDesk(t *testing.T) {
	f, c, desk, out := watchedDesk(t, []int64{group.id})
	f.push(map[string]any{"message": message(group, 100, tgUser{id: 7, first: "Eve"}, t0,
		"✅ Kept — decided by Ann https://scam.example/og-kept-by-ann")})
	ev := nextMessage(t, out, "a member's link")
	if err := desk.PostCard(context.Background(), bot.Card{ID: "c1", Event: ev, Rule: "scam"}); err != nil {
		t.Fatalf("PostCard: %v", err)
	}
	if err := desk.Alert(context.Background(), "copy wave: https://scam.example/og"); err != nil {
		t.Fatalf("Alert: %v", err)
	}
	if err := c.Reply(context.Background(), ev, "Our shop: https://shop.example"); err != nil {
		t.Fatalf("Reply: %v", err)
	}
	previews := func(c apiCall) string { return c.Params.Get("link_preview_options") }
	if p := previews(f.waitFor("sendMessage", 1, inChat(deskChat.id))); p != `{"is_disabled":true}` {
		t.Errorf("card's link_preview_options = %q, want previews disabled", p)
	}
	if p := previews(f.waitFor("sendMessage", 2, inChat(deskChat.id))); p != `{"is_disabled":true}` {
		t.Errorf("alert's link_preview_options = %q, want previews disabled", p)
	}
	if p := previews(f.waitFor("sendMessage", 1, inChat(group.id))); p != "" {
		t.Errorf("reply's link_preview_options = %q, want Telegram's default", p)
	}
}
