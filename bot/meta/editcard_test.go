package meta_test

import (
	"fmt"
	"html"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// editCaseDesk is desktest.EditCaseRules with the desk on the Telegram fake.
const editCaseDesk = `
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
` + desktest.EditCaseRules

// commentChange is the Page's webhook delivery of the change verb (add,
// edited, remove) of the comment cid under the post post, by Jean, reading
// text, sent at the Unix time at; created is when the comment was written.
func commentChange(verb, post, cid, text string, created, at int64) []byte {
	return []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":%d,"changes":[{"field":"feed","value":`+
		`{"item":"comment","verb":"%s","comment_id":"%s","post_id":"%s_%s","parent_id":"%s_%s",`+
		`"from":{"id":"6021345987654321","name":"Jean Dupont"},"message":%q,"created_time":%d}}]}]}`,
		pageID, at, verb, cid, pageID, post, pageID, post, text, created))
}

// startEditCaseDesk runs vigie with editCaseDesk on a new fake Graph API,
// its desk on a new fake Bot API, and returns them, vigie's address, and
// the Unix time now, which the deliveries are sent at.
func startEditCaseDesk(t *testing.T) (g *fakeGraph, api *tgfake.Server, base string, at int64) {
	t.Helper()
	g, api = newFakeGraph(t), tgfake.New(t)
	return g, api, startDeskDaemonWith(t, editCaseDesk, g, api), time.Now().Unix()
}

// pressOnDesk is Ann, a CM of the desk, pressing the button of outcome on
// the card of the case caseID.
func pressOnDesk(api *tgfake.Server, card tgfake.Call, caseID, outcome string) {
	api.Push(map[string]any{"callback_query": map[string]any{
		"id": "cb-" + outcome, "data": "v1:" + caseID + ":" + outcome, "chat_instance": "x",
		"from":    map[string]any{"id": 42, "is_bot": false, "first_name": "Ann", "username": "ann_cm"},
		"message": map[string]any{"message_id": card.MsgID, "date": time.Now().Unix(), "chat": map[string]any{"id": -100500, "type": "supergroup", "title": "CM desk"}},
	}})
}

// deskCard waits for the card on the desk of the fake Bot API whose text
// holds want, and returns it with its case's id.
func deskCard(t *testing.T, api *tgfake.Server, want string) (tgfake.Call, string) {
	t.Helper()
	var card tgfake.Call
	testsync.Eventually(t, "the case's card on the desk", func() bool {
		for _, c := range api.CallsOf("sendMessage") {
			if c.Params.Get("chat_id") == "-100500" && strings.Contains(c.Params.Get("text"), want) {
				card = c
				return true
			}
		}
		return false
	})
	text := card.Params.Get("text")
	return card, strings.TrimPrefix(text[:strings.Index(text, "</b>")], "<b>Case ")
}

// cardDrawn waits for the card's edit whose text, as Telegram shows it,
// holds want, and returns that text.
func cardDrawn(t *testing.T, api *tgfake.Server, card tgfake.Call, what, want string) string {
	t.Helper()
	var drawn string
	testsync.Eventually(t, what, func() bool {
		for _, c := range api.CallsOf("editMessageText") {
			if s := html.UnescapeString(c.Params.Get("text")); c.Params.Get("message_id") == strconv.Itoa(card.MsgID) && strings.Contains(s, want) {
				drawn = s
				return true
			}
		}
		return false
	})
	return drawn
}

// TestEditOfAnOpenCommentCaseShownOnItsCard: a Facebook comment with a
// link is on the desk, its case open, when its author edits it, first into
// a harmless text, then into a gift scam, as members do on Discord and
// Telegram (TestEditOfAnOpenCaseShownOnItsCard). The card is drawn again
// to show each edit with what the rules found in it; the scam rule's
// delete is carried out on the comment, and its forward joins the link's
// case rather than post a second card.
func TestEditOfAnOpenCommentCaseShownOnItsCard(t *testing.T) {
	const cid, post = "987654321098765_5500000000000001", "987654321098765"
	g, api, base, at := startEditCaseDesk(t)
	deliverSigned(t, base, commentChange("add", post, cid, "my stream tonight: https://twitch.tv/bob", at, at))
	card, _ := deskCard(t, api, "twitch.tv/bob")

	deliverSigned(t, base, commentChange("edited", post, cid, "my stream tonight, see you there", at, at+60))
	drawn := cardDrawn(t, api, card, "the card showing the harmless edit", "see you there")
	for _, want := range []string{"twitch.tv/bob", "✏️ Edited by its author", "The edit matches no rule"} {
		if !strings.Contains(drawn, want) {
			t.Errorf("card once the link was edited out lacks %q:\n%s", want, drawn)
		}
	}

	deliverSigned(t, base, commentChange("edited", post, cid, "free nitro gift: https://discord-gift.example/claim", at, at+120))
	drawn = cardDrawn(t, api, card, "the card showing the scam", "nitro")
	for _, want := range []string{"twitch.tv/bob", "✏️ Edited by its author (2 times)", "In the edit: links: a link to look at; scam: gift scam"} {
		if !strings.Contains(drawn, want) {
			t.Errorf("card once the link was edited into a scam lacks %q:\n%s", want, drawn)
		}
	}
	testsync.Eventually(t, "the scam's comment deleted", func() bool {
		for _, c := range g.Calls() {
			if c.Method == "DELETE" && c.Path == "/"+cid {
				return true
			}
		}
		return false
	})
	n := 0
	for _, c := range api.CallsOf("sendMessage") {
		if c.Params.Get("chat_id") == "-100500" && strings.Contains(c.Params.Get("text"), "Case ") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d cards posted for one comment, want 1", n)
	}
}

// TestCommentRemovedByItsAuthorShownOnItsCard: a Facebook comment's case
// is on the desk when its author removes it (a feed change with verb
// remove). The card says it is gone, as on Discord; the CM's Delete,
// pressed after, has nothing left to do and is done, not a refusal.
func TestCommentRemovedByItsAuthorShownOnItsCard(t *testing.T) {
	const cid, post = "987654321098765_5500000000000002", "987654321098765"
	_, api, base, at := startEditCaseDesk(t)
	deliverSigned(t, base, commentChange("add", post, cid, "my stream tonight: https://twitch.tv/bob", at, at))
	card, caseID := deskCard(t, api, "twitch.tv/bob")

	deliverSigned(t, base, commentChange("remove", post, cid, "", at, at+60))
	cardDrawn(t, api, card, "the card saying the comment is gone", "🗑 The message was deleted at")

	pressOnDesk(api, card, caseID, "delete")
	drawn := cardDrawn(t, api, card, "the card decided", "Delete")
	if strings.Contains(drawn, "Not carried out") {
		t.Errorf("card once the CM deleted the removed comment:\n%s\nwant it done", drawn)
	}
}

// TestCommentRemovedInItsOwnDeliveryShownOnItsCard: Meta delivers a
// Facebook comment and its removal by its author in one webhook delivery
// (two changes of one entry, as it batches them). The comment is judged,
// its case goes to the desk, and its card says it is gone, as it does for
// a removal that comes later. Before, the removal was told to the desk
// before the comment's case was open, found no case to show it on, and
// the card showed the comment as if it were there.
func TestCommentRemovedInItsOwnDeliveryShownOnItsCard(t *testing.T) {
	const cid, post = "987654321098765_5500000000000003", "987654321098765"
	_, api, base, at := startEditCaseDesk(t)
	add := commentChange("add", post, cid, "my stream tonight: https://twitch.tv/bob", at, at)
	remove := commentChange("remove", post, cid, "", at, at)
	// the remove's change after the add's, in the add's entry
	changes := func(body []byte) string {
		s := string(body)
		return s[strings.Index(s, `"changes":[`)+len(`"changes":[`) : strings.LastIndex(s, "]}]}")]
	}
	both := strings.Replace(string(add), changes(add), changes(add)+","+changes(remove), 1)
	deliverSigned(t, base, []byte(both))

	card, _ := deskCard(t, api, "twitch.tv/bob")
	const gone = "🗑 The message was deleted at"
	testsync.Eventually(t, "the card saying the comment is gone", func() bool {
		if strings.Contains(html.UnescapeString(card.Params.Get("text")), gone) {
			return true
		}
		for _, c := range api.CallsOf("editMessageText") {
			if c.Params.Get("message_id") == strconv.Itoa(card.MsgID) && strings.Contains(html.UnescapeString(c.Params.Get("text")), gone) {
				return true
			}
		}
		return false
	})
}

// hideCaseDesk hides an insult and sends it to the desk, on the Telegram
// fake.
const hideCaseDesk = `
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
rules:
  - name: insult
    category: abuse
    when: text contains "idiot"
    do: [hide, 'forward("insult")']
`

// TestCommentUnhiddenByHandShownOnItsCard: vigie hid a Facebook comment
// and its case is on the desk, when a CM shows it again in Meta's tools
// (or Meta does, on an appeal): Meta sends a feed change with verb unhide.
// The card says the comment is shown again, and when, rather than show it
// hidden as vigie left it. Before, the change was dropped as a verb not
// moderated, and the card still said the comment was hidden.
func TestCommentUnhiddenByHandShownOnItsCard(t *testing.T) {
	const cid, post = "987654321098765_5500000000000004", "987654321098765"
	g, api := newFakeGraph(t), tgfake.New(t)
	base, at := startDeskDaemonWith(t, hideCaseDesk, g, api), time.Now().Unix()
	deliverSigned(t, base, commentChange("add", post, cid, "you idiot", at, at))
	card, _ := deskCard(t, api, "you idiot")
	testsync.Eventually(t, "the comment hidden", func() bool {
		for _, c := range g.Calls() {
			if c.Method == "POST" && c.Path == "/"+cid {
				return true
			}
		}
		return false
	})

	deliverSigned(t, base, commentChange("unhide", post, cid, "", at, at+60))
	drawn := cardDrawn(t, api, card, "the card saying the comment is shown again", "👁 The comment was shown again at")
	if !strings.Contains(drawn, "you idiot") {
		t.Errorf("card once the comment was shown again:\n%s\nwant the comment still on it", drawn)
	}

	// A CM hides it again in Meta's tools: the card no longer says it is
	// shown.
	deliverSigned(t, base, commentChange("hide", post, cid, "", at, at+120))
	testsync.Eventually(t, "the card no longer saying the comment is shown", func() bool {
		var last string
		for _, c := range api.CallsOf("editMessageText") {
			if c.Params.Get("message_id") == strconv.Itoa(card.MsgID) {
				last = html.UnescapeString(c.Params.Get("text"))
			}
		}
		return last != "" && !strings.Contains(last, "👁") && strings.Contains(last, "you idiot")
	})
}
