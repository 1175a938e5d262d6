package meta_test

import (
	"html"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// forwardRules are deskRules sending an insult on the page to the desk,
// for a CM to decide.
var forwardRules = strings.Replace(deskRules, "do: [hide]", `do: [forward("insult")]`, 1)

// TestRefusedHideOnTheDesk: a Facebook comment's case is drawn on the
// Telegram desk; the CM presses Hide, and Meta refuses it for a permission
// the app lacks. The card, drawn again, says it was not carried out in a
// CM's words, Graph's code in brackets, and not Graph's raw answer. Only
// the Decide error's words were pinned (TestRefusedHideInPlainWords): no
// test drew a Meta case on a desk.
func TestRefusedHideOnTheDesk(t *testing.T) {
	g := newFakeGraph(t)
	api := tgfake.New(t)
	base := startDeskDaemonWith(t, forwardRules, g, api)
	deliverSigned(t, base, restamp(fixture(t, "fb_comment_add.json"), time.Since(fbCommentAddSent)))
	var card tgfake.Call
	testsync.Eventually(t, "the case's card on the desk", func() bool {
		for _, c := range api.CallsOf("sendMessage") {
			if c.Params.Get("chat_id") == "-100500" && strings.Contains(c.Params.Get("text"), "escrocs") {
				card = c
				return true
			}
		}
		return false
	})
	text := card.Params.Get("text")
	caseID := strings.TrimPrefix(text[:strings.Index(text, "</b>")], "<b>Case ")
	if !strings.Contains(card.Params.Get("reply_markup"), caseID+":hide") {
		t.Fatalf("no Hide on the card: %s", card.Params.Get("reply_markup"))
	}

	const cid = "987654321098765_1122334455667788"
	g.failNext("POST", "/"+cid, 403, graphErrorJSON(200, 0, "OAuthException",
		"(#200) Requires pages_manage_engagement permission to manage the object"), nil)
	api.Push(map[string]any{"callback_query": map[string]any{
		"id": "cb-hide", "data": "v1:" + caseID + ":hide", "chat_instance": "x",
		"from":    map[string]any{"id": 42, "is_bot": false, "first_name": "Ann", "username": "ann_cm"},
		"message": map[string]any{"message_id": card.MsgID, "date": time.Now().Unix(), "chat": map[string]any{"id": -100500, "type": "supergroup", "title": "CM desk"}},
	}})
	var drawn string
	testsync.Eventually(t, "the card drawn again, saying the hide was not carried out", func() bool {
		for _, c := range api.CallsOf("editMessageText") {
			if c.Params.Get("message_id") == strconv.Itoa(card.MsgID) && strings.Contains(c.Params.Get("text"), "Not carried out") {
				drawn = html.UnescapeString(c.Params.Get("text")) // as Telegram shows it
				return true
			}
		}
		return false
	})
	for _, want := range []string{"⚠️ Not carried out: Meta refused: vigie's app lacks the permission to hide comments: grant it pages_manage_engagement (Facebook)", "[graph 200]"} {
		if !strings.Contains(drawn, want) {
			t.Errorf("card drawn again:\n%s\nwant %q in it", drawn, want)
		}
	}
	if strings.Contains(drawn, "Requires pages_manage_engagement permission to manage the object") {
		t.Errorf("card drawn again:\n%s\nwant Graph's raw answer left to the log", drawn)
	}
}
