package meta_test

import (
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/discordfake"
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
	pressOnDesk(api, card, caseID, "hide")
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

// discordDeskCM is the CM of the Meta cases drawn on a Discord desk.
const discordDeskCM = "600000000000000042"

// TestRefusedHideOnTheDiscordDesk is TestRefusedHideOnTheDesk with the
// desk on Discord: the case's card, its Hide pressed, Meta refusing it for
// a permission, the card drawn again in a CM's words, Graph's code in
// brackets, Graph's raw answer left to the log.
func TestRefusedHideOnTheDiscordDesk(t *testing.T) {
	g := newFakeGraph(t)
	guild := fmt.Sprint(uint64(190_000_000_000)<<22 | 61)
	const deskChannel = "800000000000000020"
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	text := strings.Replace(strings.Replace(forwardRules, `telegram_chat: "-100500"`, `discord_channel: "`+deskChannel+`"`, 1),
		`cms: ["telegram:42"]`, `cms: ["discord:`+discordDeskCM+`"]`, 1)
	base, logs := startDaemonWith(t, text, map[string]string{
		"META_APP_SECRET":   appSecret,
		"META_PAGE_TOKEN":   g.token,
		"META_VERIFY_TOKEN": verifyToken,
		"META_GRAPH_URL":    g.URL(),
		"DISCORD_TOKEN":     discordfake.Token,
		"DISCORD_API_URL":   f.APIURL(),
		"DISCORD_GUILDS":    guild,
	})
	// the gateway takes the press once vigie is connected
	<-f.Ready()
	deliverSigned(t, base, restamp(fixture(t, "fb_comment_add.json"), time.Since(fbCommentAddSent)))
	var card discordfake.Call
	testsync.Eventually(t, "the case's card on the Discord desk", func() bool {
		for _, c := range f.Calls("POST", "/channels/"+deskChannel+"/messages") {
			if s, _ := c.Body["content"].(string); strings.Contains(s, "escrocs") {
				card = c
				return true
			}
		}
		return false
	})
	raw, _ := json.Marshal(card.Body["components"])
	var hide string
	for _, m := range regexp.MustCompile(`"custom_id":"([^"]+)"`).FindAllStringSubmatch(string(raw), -1) {
		if strings.HasSuffix(m[1], ":hide") {
			hide = m[1]
		}
	}
	if hide == "" {
		t.Fatalf("no Hide on the card: %s\nlogs:\n%s", raw, logs)
	}
	// Discord quotes a line that starts with "> ", and only such a line:
	// the comment is shown quoted, set apart from vigie's words
	if content, _ := card.Body["content"].(string); !regexp.MustCompile(`(?m)^> Vous êtes vraiment des escrocs`).MatchString(content) {
		t.Errorf("card:\n%s\nwant the comment quoted, on a line that starts with \"> \"", content)
	}

	const cid = "987654321098765_1122334455667788"
	g.failNext("POST", "/"+cid, 403, graphErrorJSON(200, 0, "OAuthException",
		"(#200) Requires pages_manage_engagement permission to manage the object"), nil)
	cm := map[string]any{"id": discordDeskCM, "username": "evelyn", "global_name": "Eve", "discriminator": "0", "avatar": nil}
	f.Dispatch("INTERACTION_CREATE", discordfake.ButtonPress(guild, deskChannel, card.Made, hide, cm, time.Now(), 1))
	edit := f.WaitFor(t, "PATCH", "/channels/"+deskChannel+"/messages/"+card.Made, 1, func(c discordfake.Call) bool {
		content, _ := c.Body["content"].(string)
		return strings.Contains(content, "Not carried out")
	})
	content, _ := edit.Body["content"].(string)
	// as Discord shows it: its markdown's escapes are not shown
	drawn := regexp.MustCompile(`\\([^A-Za-z0-9\s])`).ReplaceAllString(content, "$1")
	for _, want := range []string{"Not carried out: Meta refused: vigie's app lacks the permission to hide comments: grant it pages_manage_engagement (Facebook)", "[graph 200]"} {
		if !strings.Contains(drawn, want) {
			t.Errorf("card drawn again:\n%s\nwant %q in it", drawn, want)
		}
	}
	if strings.Contains(drawn, "Requires pages_manage_engagement permission to manage the object") {
		t.Errorf("card drawn again:\n%s\nwant Graph's raw answer left to the log", drawn)
	}
}

// TestRuleRefusedHideOnTheDesk: a rule's own hide of a comment, which
// Meta refuses for a permission the app lacks, opens a case whose card on
// the Telegram desk says why in a CM's words, Graph's code in brackets;
// Graph's raw answer is in the log, not on the card.
func TestRuleRefusedHideOnTheDesk(t *testing.T) {
	g := newFakeGraph(t)
	api := tgfake.New(t)
	base, logs := startDeskDaemonLogged(t, deskRules, g, api)
	const cid = "987654321098765_1122334455667788"
	const raw = "(#200) Requires pages_manage_engagement permission to manage the object"
	g.failNext("POST", "/"+cid, 403, graphErrorJSON(200, 0, "OAuthException", raw), nil)
	deliverSigned(t, base, restamp(fixture(t, "fb_comment_add.json"), time.Since(fbCommentAddSent)))
	var card string
	testsync.Eventually(t, "the case's card on the desk", func() bool {
		for _, c := range api.CallsOf("sendMessage") {
			if c.Params.Get("chat_id") == "-100500" && strings.Contains(c.Params.Get("text"), "escrocs") {
				card = html.UnescapeString(c.Params.Get("text")) // as Telegram shows it
				return true
			}
		}
		return false
	})
	const want = "action failed: hide: Meta refused: vigie's app lacks the permission to hide comments: grant it pages_manage_engagement (Facebook) " +
		"or instagram_manage_comments (Instagram), then renew META_PAGE_TOKEN [graph 200]"
	if !strings.Contains(card, want) {
		t.Errorf("card:\n%s\nwant %q in it", card, want)
	}
	if strings.Contains(card, raw) {
		t.Errorf("card:\n%s\nwant Graph's raw answer left to the log", card)
	}
	if !strings.Contains(logs.String(), `msg="action failed"`) || !strings.Contains(logs.String(), raw) {
		t.Errorf("log has no line of the failed hide with Graph's answer %q:\n%s", raw, logs)
	}
}
