package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

func sampleCard(id string, opened time.Time) bot.Card {
	ev := groupEvent(10, "7")
	ev.Text = "achetez <vite> sur scam.example"
	ev.Link = "https://t.me/c/1234567890/10"
	return bot.Card{ID: id, Opened: opened, Event: ev, Rule: "scam_links", Category: "spam", Reason: "a link to scam.example",
		Suggested: []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActTimeout, Duration: 10 * time.Minute}}}
}

// deskFixture runs a client with a desk chat, alice as the only CM, and a case book.
type deskFixture struct {
	f    *fakeBotAPI
	c    *Client
	desk *Desk
	book *caseBook
	logs *testsync.Buffer
}

func newDeskFixture(t *testing.T, cards ...bot.Card) *deskFixture {
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42", "discord:1234"}, Chats: fixtureChats})
	book := newCaseBook(cards...)
	desk := c.Desk(book)
	run(t, c, make(chan bot.Event, 100))
	f.waitFor("getUpdates", 1, nil)
	return &deskFixture{f: f, c: c, desk: desk, book: book, logs: logs}
}

// postCard posts a card and returns the message Telegram made of it.
func (x *deskFixture) postCard(t *testing.T, card bot.Card) map[string]any {
	t.Helper()
	n := x.f.count("sendMessage", inChat(deskChat.id))
	if err := x.desk.PostCard(context.Background(), card); err != nil {
		t.Fatalf("PostCard: %v", err)
	}
	sent := x.f.waitFor("sendMessage", n+1, inChat(deskChat.id))
	return map[string]any{"message_id": sent.MsgID, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0, "text": sent.Params.Get("text")}
}

func TestCardHasButtonsWithinTelegramLimits(t *testing.T) {
	x := newDeskFixture(t)
	x.postCard(t, sampleCard("1732190000000-0", at(t0)))
	sent := x.f.waitFor("sendMessage", 1, inChat(deskChat.id))
	if sent.Params.Get("parse_mode") != "HTML" {
		t.Errorf("parse_mode = %q", sent.Params.Get("parse_mode"))
	}
	text := sent.Params.Get("text")
	for _, want := range []string{"Case 1732190000000-0", "scam_links", "(spam)", "a link to scam.example", "Bob &lt;Martin&gt;",
		"achetez &lt;vite&gt; sur scam.example", "delete, timeout(10m)", `href="https://t.me/c/1234567890/10"`} {
		if !strings.Contains(text, want) {
			t.Errorf("card text lacks %q:\n%s", want, text)
		}
	}
	var kb tgbotapi.InlineKeyboardMarkup
	if err := json.Unmarshal([]byte(sent.Params.Get("reply_markup")), &kb); err != nil {
		t.Fatalf("reply_markup: %v", err)
	}
	var datas []string
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData == nil || len(*b.CallbackData) > 64 {
				t.Errorf("button %q: callback data %v", b.Text, b.CallbackData)
				continue
			}
			datas = append(datas, *b.CallbackData)
		}
	}
	// The rule's timeout can be undone: unmute.
	want := "v1:1732190000000-0:keep v1:1732190000000-0:delete v1:1732190000000-0:mute v1:1732190000000-0:ban v1:1732190000000-0:reply v1:1732190000000-0:unmute"
	if strings.Join(datas, " ") != want {
		t.Errorf("buttons %v\nwant %s", datas, want)
	}

	// A page comment is hidden rather than deleted.
	card := sampleCard("c2", at(t0))
	card.Event.Kind = bot.KindComment
	kb2, _ := keyboard(card)
	if got := *kb2.InlineKeyboard[0][1].CallbackData; got != "v1:c2:hide" {
		t.Errorf("comment card's second button = %q, want hide", got)
	}
	// What the rule hid or banned can be undone from the card.
	undo := sampleCard("c3", at(t0))
	undo.Event.Kind = bot.KindComment
	undo.Suggested = []bot.Action{{Kind: bot.ActHide}, {Kind: bot.ActBan}}
	kb3, _ := keyboard(undo)
	if len(kb3.InlineKeyboard) != 3 || *kb3.InlineKeyboard[2][0].CallbackData != "v1:c3:unhide" || *kb3.InlineKeyboard[2][1].CallbackData != "v1:c3:unban" {
		t.Errorf("undo buttons: %+v", kb3.InlineKeyboard)
	}
	// A hide that failed is offered to do again, not to undo; the ban that
	// was carried out keeps its undo, and the card says what was not done.
	failed := undo
	failed.ID, failed.NotDone = "c7", []bot.Action{{Kind: bot.ActHide}}
	kb7, _ := keyboard(failed)
	if len(kb7.InlineKeyboard) != 3 || len(kb7.InlineKeyboard[2]) != 1 || *kb7.InlineKeyboard[2][0].CallbackData != "v1:c7:unban" ||
		*kb7.InlineKeyboard[0][1].CallbackData != "v1:c7:hide" {
		t.Errorf("buttons after a failed hide: %+v", kb7.InlineKeyboard)
	}
	if text := renderCard(failed, "", ""); !strings.Contains(text, "Suggested: hide (not done), ban\n") {
		t.Errorf("the card after a failed hide:\n%s", text)
	}
	muted := sampleCard("c4", at(t0))
	muted.Suggested = []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActTimeout, Duration: 10 * time.Minute}}
	kb4, _ := keyboard(muted)
	if len(kb4.InlineKeyboard) != 3 || len(kb4.InlineKeyboard[2]) != 1 || *kb4.InlineKeyboard[2][0].CallbackData != "v1:c4:unmute" ||
		kb4.InlineKeyboard[2][0].Text != "🔊 Unmute" {
		t.Errorf("undo buttons after a timeout: %+v", kb4.InlineKeyboard)
	}
	deleted := sampleCard("c5", at(t0))
	deleted.Suggested = []bot.Action{{Kind: bot.ActDelete}}
	if kb5, _ := keyboard(deleted); len(kb5.InlineKeyboard) != 2 {
		t.Errorf("undo buttons on a card whose rule neither hid, muted nor banned: %+v", kb5.InlineKeyboard)
	}
	// An FAQ case's suggested answer is one button away.
	faqCard := sampleCard("c6", at(t0))
	faqCard.Rule, faqCard.Suggested = "faq:hours", []bot.Action{{Kind: bot.ActReply, Text: "9h-19h"}}
	if kb6, _ := keyboard(faqCard); len(kb6.InlineKeyboard) != 3 || *kb6.InlineKeyboard[2][0].CallbackData != "v1:c6:answer" {
		t.Errorf("faq card's buttons: %+v", kb6.InlineKeyboard)
	}
	// An id too long for Telegram's 64 bytes gives a card without buttons.
	if _, ok := keyboard(sampleCard(strings.Repeat("x", 60), at(t0))); ok {
		t.Errorf("a 60-character id got buttons")
	}
}

func TestCallbacks(t *testing.T) {
	x := newDeskFixture(t, sampleCard("c1", at(t0)), sampleCard("c2", at(t0+1)), sampleCard("c3", at(t0+2)))
	cards := map[string]map[string]any{}
	for _, id := range []string{"c1", "c2", "c3"} {
		cards[id] = x.postCard(t, sampleCard(id, at(t0)))
	}
	answers := func(id string) apiCall {
		return x.f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == id })
	}
	edits := func(n int) apiCall { return x.f.waitFor("editMessageText", n, inChat(deskChat.id)) }

	t.Run("a listed CM decides and the card shows it", func(t *testing.T) {
		x.f.push(callback("cb1", alice, cards["c1"], "v1:c1:delete"))
		// answered at once; the card shows the outcome
		if a := answers("cb1"); a.Params.Get("text") != pressWait {
			t.Errorf("answer = %q", a.Params.Get("text"))
		}
		edit := edits(1)
		if edit.Params.Get("message_id") != strconv.Itoa(int(cards["c1"]["message_id"].(int))) {
			t.Errorf("edited message %s, want the card", edit.Params.Get("message_id"))
		}
		text := edit.Params.Get("text")
		if !strings.Contains(text, "Deleted") || !strings.Contains(text, "decided by Alice (@alice_cm)") {
			t.Errorf("edited card does not show the outcome and who decided:\n%s", text)
		}
		if edit.Params.Get("reply_markup") != "" {
			t.Errorf("the decided card keeps its buttons: %s", edit.Params.Get("reply_markup"))
		}
		if got := x.book.get("c1"); got.Outcome != bot.OutcomeDelete || got.DecidedBy != "telegram:42" {
			t.Errorf("case = %+v", got)
		}
	})

	t.Run("a stranger is refused and audited", func(t *testing.T) {
		x.f.push(callback("cb2", mallory, cards["c2"], "v1:c2:ban"))
		a := answers("cb2")
		if !strings.Contains(a.Params.Get("text"), "Sorry") || a.Params.Get("show_alert") != "true" {
			t.Errorf("answer = %v", a.Params)
		}
		if got := x.book.get("c2"); got.Decided() {
			t.Errorf("a stranger decided the case: %+v", got)
		}
		if logs := x.logs.String(); !strings.Contains(logs, "refused a stranger") || !strings.Contains(logs, "user=telegram:666") {
			t.Errorf("no audit line for the stranger:\n%s", logs)
		}
	})

	t.Run("mute asks for an hour", func(t *testing.T) {
		x.f.push(callback("cb3", alice, cards["c2"], "v1:c2:mute"))
		answers("cb3")
		edits(2)
		if got := x.book.get("c2"); got.Outcome != bot.OutcomeTimeout {
			t.Errorf("case = %+v", got)
		}
	})

	t.Run("a second press shows the first decision", func(t *testing.T) {
		x.f.push(callback("cb4", alice, cards["c1"], "v1:c1:keep"))
		answers("cb4")
		if got := toldOn(x.f, cards["c1"], "case c1 was already decided by Alice (@alice_cm): 🗑 Deleted"); !strings.Contains(got, `<a href="tg://user?id=42">Alice</a>, `) {
			t.Errorf("told = %q", got)
		}
		if got := x.book.get("c1"); got.Outcome != bot.OutcomeDelete {
			t.Errorf("the second press changed the case: %+v", got)
		}
	})

	t.Run("a decision recorded but not carried out says so", func(t *testing.T) {
		off := sampleCard("c4", at(t0))
		off.Event.Platform = "off"
		x.book.mu.Lock()
		x.book.cards["c4"] = off
		x.book.mu.Unlock()
		msg := x.postCard(t, off)
		x.f.push(callback("cb7", alice, msg, "v1:c4:ban"))
		answers("cb7")
		toldOn(x.f, msg, `recorded, but not carried out: platform &#34;off&#34; is off`)
		edit := x.f.waitFor("editMessageText", 1, func(c apiCall) bool { return strings.Contains(c.Params.Get("text"), "Case c4") })
		if !strings.Contains(edit.Params.Get("text"), "Not carried out") || !strings.Contains(edit.Params.Get("text"), "Banned") {
			t.Errorf("card = %s", edit.Params.Get("text"))
		}
	})

	t.Run("unhide overturns the rule", func(t *testing.T) {
		hidden := sampleCard("c5", at(t0))
		hidden.Suggested = []bot.Action{{Kind: bot.ActHide}}
		x.book.mu.Lock()
		x.book.cards["c5"] = hidden
		x.book.mu.Unlock()
		msg := x.postCard(t, hidden)
		x.f.push(callback("cb8", alice, msg, "v1:c5:unhide"))
		answers("cb8")
		x.f.waitFor("editMessageText", 1, func(c apiCall) bool {
			return strings.Contains(c.Params.Get("text"), "Case c5") && strings.Contains(c.Params.Get("text"), "Shown again")
		})
		if got := x.book.get("c5"); got.Outcome != bot.OutcomeUnhide {
			t.Errorf("case = %+v", got)
		}
	})

	t.Run("unmute overturns the rule's timeout", func(t *testing.T) {
		muted := sampleCard("c6", at(t0))
		muted.Suggested = []bot.Action{{Kind: bot.ActTimeout, Duration: 10 * time.Minute}}
		x.book.mu.Lock()
		x.book.cards["c6"] = muted
		x.book.mu.Unlock()
		msg := x.postCard(t, muted)
		x.f.push(callback("cb9", alice, msg, "v1:c6:unmute"))
		answers("cb9")
		edit := x.f.waitFor("editMessageText", 1, func(c apiCall) bool { return strings.Contains(c.Params.Get("text"), "Case c6") })
		if text := edit.Params.Get("text"); !strings.Contains(text, "🔊 Unmuted") || !strings.Contains(text, "decided by Alice (@alice_cm)") {
			t.Errorf("edited card:\n%s", text)
		}
		if got := x.book.get("c6"); got.Outcome != bot.OutcomeUntimeout || got.DecidedBy != "telegram:42" {
			t.Errorf("case = %+v", got)
		}
	})

	t.Run("a stale button", func(t *testing.T) {
		x.f.push(callback("cb5", alice, cards["c3"], "v0:c3"))
		if a := answers("cb5"); !strings.Contains(a.Params.Get("text"), "no longer valid") {
			t.Errorf("answer = %q", a.Params.Get("text"))
		}
	})

	t.Run("reply asks for the text, then sends it", func(t *testing.T) {
		x.f.push(callback("cb6", alice, cards["c3"], "v1:c3:reply"))
		answers("cb6")
		prompt := x.f.waitFor("sendMessage", 1, func(c apiCall) bool { return strings.Contains(c.Params.Get("reply_markup"), "force_reply") })
		if !strings.Contains(prompt.Params.Get("text"), "Case: c3") {
			t.Fatalf("prompt = %q", prompt.Params.Get("text"))
		}
		promptMsg := map[string]any{"message_id": prompt.MsgID, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0,
			"text": "✍️ Alice, answer this message with the text to send.\nCase: c3"}
		x.f.push(map[string]any{"message": with(message(deskChat, 700, alice, t0+60, "Bonjour, votre message a été retiré."), "reply_to_message", promptMsg)})
		x.f.waitFor("sendMessage", 1, func(c apiCall) bool { return strings.Contains(c.Params.Get("text"), "Reply sent for case c3") })
		if got := x.book.reply("c3"); got != "Bonjour, votre message a été retiré." {
			t.Errorf("reply = %q", got)
		}
		// The card shows the outcome once the commands edit the case's
		// cards, wherever they are (bot.CardBook): the book here keeps none.
		// TestCardsAcrossInstances shows it with the store.
	})
}

func TestCommands(t *testing.T) {
	x := newDeskFixture(t, sampleCard("c1", at(t0)), sampleCard("c2", at(t0+1)))
	private := tgChat{id: alice.id, kind: "private"}
	msgID := 100
	// send pushes a command and returns vigie's answer to it.
	send := func(t *testing.T, chat tgChat, from tgUser, text string) string {
		t.Helper()
		msgID++
		id := strconv.Itoa(msgID)
		x.f.push(map[string]any{"message": message(chat, msgID, from, t0+int64(msgID), text)})
		answer := x.f.waitFor("sendMessage", 1, func(c apiCall) bool {
			return strings.Contains(c.Params.Get("reply_parameters"), `"message_id":`+id+`}`)
		})
		return answer.Params.Get("text")
	}
	tests := []struct {
		name  string
		chat  tgChat
		from  tgUser
		text  string
		want  string
		check func(t *testing.T)
	}{
		{name: "status", chat: deskChat, from: alice, text: "/status", want: "mode: enforce, open cases: 2"},
		{name: "status addressed to vigie", chat: deskChat, from: alice, text: "/status@" + botName, want: "mode: enforce"},
		{name: "pause for two hours", chat: deskChat, from: alice, text: "/pause 2h", want: "paused for 2h0m0s by telegram:42",
			check: func(t *testing.T) {
				if p, d := x.book.isPaused(); !p || d != 2*time.Hour {
					t.Errorf("paused=%v for %s", p, d)
				}
			}},
		{name: "status while paused", chat: deskChat, from: alice, text: "/status", want: "mode: paused"},
		{name: "pause with a bad duration", chat: deskChat, from: alice, text: "/pause soon", want: "Usage: /pause [DURATION]"},
		{name: "resume", chat: deskChat, from: alice, text: "/resume", want: "enforcing again, resumed by telegram:42",
			check: func(t *testing.T) {
				if p, _ := x.book.isPaused(); p {
					t.Errorf("still paused")
				}
			}},
		{name: "resume twice says why not", chat: deskChat, from: alice, text: "/resume", want: "/resume failed: vigie is not paused"},
		{name: "resume takes no argument", chat: deskChat, from: alice, text: "/resume now", want: "Usage: /resume"},
		{name: "pause until resume, in private", chat: private, from: alice, text: "/pause", want: "paused until /resume"},
		{name: "stats over a week", chat: deskChat, from: alice, text: "/stats 7d", want: "stats over 168h0m0s"},
		{name: "stats default to a day", chat: deskChat, from: alice, text: "/stats", want: "stats over 24h0m0s"},
		{name: "rules", chat: deskChat, from: alice, text: "/rules", want: "flood: enforce"},
		{name: "reload", chat: deskChat, from: alice, text: "/reload", want: "rules reloaded"},
		{name: "reply needs a text", chat: deskChat, from: alice, text: "/reply c2", want: "Usage: /reply CASE TEXT"},
		{name: "reply", chat: deskChat, from: alice, text: "/reply c2 Merci, on regarde ça.", want: "Reply sent for case c2",
			check: func(t *testing.T) {
				if got := x.book.reply("c2"); got != "Merci, on regarde ça." {
					t.Errorf("reply = %q", got)
				}
			}},
		{name: "help", chat: deskChat, from: alice, text: "/help", want: "/pause [DURATION] — only flag and forward"},
		{name: "unknown command", chat: deskChat, from: alice, text: "/frobnicate", want: "Unknown command /frobnicate.\n"},
		{name: "a typo is shown what was meant", chat: deskChat, from: alice, text: "/stauts", want: "Unknown command /stauts: did you mean /status?\n"},
		{name: "a typo with its argument", chat: deskChat, from: alice, text: "/pasue 2h", want: "Unknown command /pasue: did you mean /pause 2h?\n"},
		{name: "a stranger in private is refused", chat: tgChat{id: mallory.id, kind: "private"}, from: mallory, text: "/status", want: "Sorry, only the community managers",
			check: func(t *testing.T) {
				if !strings.Contains(x.logs.String(), `attempt=/status`) {
					t.Errorf("no audit line")
				}
			}},
		{name: "a CM's /start shows the commands", chat: private, from: alice, text: "/start", want: "vigie's desk commands"},
		{name: "a stranger in the desk is refused", chat: deskChat, from: mallory, text: "/pause 1h", want: "Sorry",
			check: func(t *testing.T) {
				if p, d := x.book.isPaused(); p && d == time.Hour {
					t.Errorf("a stranger paused vigie")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := send(t, tt.chat, tt.from, tt.text); !strings.Contains(got, tt.want) {
				t.Errorf("answer %q, want it to contain %q", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t)
			}
		})
	}

	t.Run("queue posts the open cases with their buttons", func(t *testing.T) {
		x.book.mu.Lock()
		x.book.cards["c3"] = sampleCard("c3", at(t0-100))
		x.book.mu.Unlock()
		if got := send(t, deskChat, alice, "/queue"); got != "2 open case(s), oldest first:" {
			t.Fatalf("answer %q", got)
		}
		first := x.f.waitFor("sendMessage", 1, func(c apiCall) bool { return strings.Contains(c.Params.Get("reply_markup"), "v1:c3:keep") })
		x.f.waitFor("sendMessage", 1, func(c apiCall) bool { return strings.Contains(c.Params.Get("reply_markup"), "v1:c1:keep") })
		if !strings.Contains(first.Params.Get("text"), "Case c3") {
			t.Errorf("first card %q", first.Params.Get("text"))
		}
	})

	t.Run("commands are registered for the desk and each CM", func(t *testing.T) {
		desk := x.f.waitFor("setMyCommands", 1, func(c apiCall) bool {
			return strings.Contains(c.Params.Get("scope"), strconv.FormatInt(deskChat.id, 10))
		})
		x.f.waitFor("setMyCommands", 1, func(c apiCall) bool { return strings.Contains(c.Params.Get("scope"), `"chat_id":42`) })
		var list []tgbotapi.BotCommand
		if err := json.Unmarshal([]byte(desk.Params.Get("commands")), &list); err != nil || len(list) != len(deskCommands) {
			t.Errorf("commands = %s (%v)", desk.Params.Get("commands"), err)
		}
	})
}

func TestAlertAndNoDesk(t *testing.T) {
	x := newDeskFixture(t)
	if err := x.desk.Alert(context.Background(), "wave of angry comments on the page"); err != nil {
		t.Fatal(err)
	}
	got := x.f.waitFor("sendMessage", 1, inChat(deskChat.id))
	if !strings.Contains(got.Params.Get("text"), "wave of angry comments") {
		t.Errorf("alert sent as %+v", got)
	}

	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
	d := c.Desk(newCaseBook())
	if err := d.PostCard(context.Background(), sampleCard("c1", at(t0))); err == nil || !strings.Contains(err.Error(), "VIGIE_DESK_CHAT") {
		t.Errorf("PostCard without a desk chat: %v", err)
	}
}

// cardOnDesk is a client whose desk chat has Carol for an administrator,
// DeskAdmins as a test asks, with the card of case a1 posted on its desk:
// what the tests of presses on a card start from.
type cardOnDesk struct {
	f    *fakeBotAPI
	c    *Client
	logs *testsync.Buffer
	book *caseBook
	card map[string]any // the card's message, as a press carries it
}

func newCardOnDesk(t *testing.T, deskAdmins bool) *cardOnDesk {
	t.Helper()
	d := &cardOnDesk{f: newFakeBotAPI(t), book: newCaseBook(sampleCard("a1", at(t0)))}
	d.f.setAdmins(deskChat.id, carol.id)
	d.c, d.logs = newTestClient(t, d.f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, DeskAdmins: deskAdmins, Chats: fixtureChats})
	desk := d.c.Desk(d.book)
	run(t, d.c, make(chan bot.Event, 10))
	if err := desk.PostCard(context.Background(), sampleCard("a1", at(t0))); err != nil {
		t.Fatal(err)
	}
	sent := d.f.waitFor("sendMessage", 1, inChat(deskChat.id))
	d.card = map[string]any{"message_id": sent.MsgID, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0, "text": "card"}
	return d
}

// TestDeskAdmins: with DeskAdmins, the desk chat's administrators may decide too;
// without it, only the listed CMs.
func TestDeskAdmins(t *testing.T) {
	for _, admins := range []bool{true, false} {
		t.Run(fmt.Sprintf("DeskAdmins=%v", admins), func(t *testing.T) {
			d := newCardOnDesk(t, admins)
			f, book, card := d.f, d.book, d.card
			for _, u := range []tgUser{mallory, carol} {
				f.push(callback("q-"+u.first, u, card, "v1:a1:keep"))
				f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == "q-"+u.first })
			}
			if admins {
				testsync.Eventually(t, "decided by the desk chat's admin", func() bool { return book.get("a1").DecidedBy == "telegram:8" })
				return
			}
			// without DeskAdmins, both are refused with the press's answer
			if got := book.get("a1"); got.DecidedBy != "" {
				t.Errorf("decided by %q, want nobody", got.DecidedBy)
			}
		})
	}
}

// TestDeskRefusals: a card Telegram refuses as it is (a 4xx other than 429) is
// not worth posting again; a 5xx or a 429 is.
func TestDeskRefusals(t *testing.T) {
	x := newDeskFixture(t)
	tests := []struct {
		code      int
		desc      string
		retryable bool
	}{
		{400, "Bad Request: can't parse entities: unsupported start tag", false},
		{400, "Bad Request: message is too long", false},
		{400, "Bad Request: chat not found", false},
		{403, "Forbidden: bot was kicked from the supergroup chat", false},
		{429, "Too Many Requests: retry after 1", true},
		{502, "Bad Gateway", true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			retryAfter := 0
			if tt.code == 429 {
				retryAfter = 1
			}
			x.f.fail("sendMessage", tt.code, tt.desc, retryAfter)
			err := x.desk.PostCard(context.Background(), sampleCard("c1", at(t0)))
			if err == nil || bot.Retryable(err) != tt.retryable || !strings.Contains(err.Error(), tt.desc) {
				t.Errorf("PostCard = %v; want retryable %v", err, tt.retryable)
			}
		})
	}
}

// TestOwnRightsChanged: Telegram tells vigie when its own membership of a
// chat changes (my_chat_member). Removed from a moderated group or from the
// desk chat, made a plain member, or an administrator without a right its
// actions need: the log says what will fail, with audit=true, once per
// change.
func TestOwnRightsChanged(t *testing.T) {
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: []int64{group.id}})
	c.Desk(newCaseBook())
	run(t, c, make(chan bot.Event, 10))
	self := map[string]any{"id": botUserID, "is_bot": true, "first_name": "vigie", "username": botName}
	admin := func(rights ...string) map[string]any {
		m := map[string]any{"user": self, "status": "administrator", "can_be_edited": false, "is_anonymous": false,
			"can_manage_chat": true, "can_delete_messages": false, "can_manage_video_chats": false, "can_restrict_members": false,
			"can_promote_members": false, "can_change_info": false, "can_invite_users": false, "can_post_stories": false,
			"can_edit_stories": false, "can_delete_stories": false}
		for _, r := range rights {
			m[r] = true
		}
		return m
	}
	changed := func(chat tgChat, was, now map[string]any) {
		f.push(map[string]any{"my_chat_member": map[string]any{"chat": chat.json(), "from": alice.json(), "date": t0,
			"old_chat_member": was, "new_chat_member": now}})
	}
	full := admin("can_delete_messages", "can_restrict_members")
	steps := []struct {
		chat     tgChat
		was, now map[string]any
		want     string
	}{
		{group, full, admin("can_restrict_members"), "without Delete messages (delete will fail)"},
		{group, full, admin("can_delete_messages"), "without Ban users (timeout, ban, kick, lockdown and verification will fail)"},
		{group, full, map[string]any{"user": self, "status": "member"}, "vigie is not an admin of this chat"},
		{group, full, map[string]any{"user": self, "status": "kicked", "until_date": 0}, "vigie was removed from a group it moderates"},
		{deskChat, map[string]any{"user": self, "status": "member"}, map[string]any{"user": self, "status": "left"}, "vigie was removed from the desk chat"},
	}
	for i, s := range steps {
		changed(s.chat, s.was, s.now)
		testsync.Eventually(t, s.want, func() bool { return strings.Count(logs.String(), "level=WARN") > i })
		if !strings.Contains(logs.String(), s.want) {
			t.Errorf("after %v: the log does not say %q:\n%s", s.now["status"], s.want, logs.String())
		}
	}
	if n := strings.Count(logs.String(), "audit=true"); n != len(steps) {
		t.Errorf("%d audited warnings, want %d:\n%s", n, len(steps), logs.String())
	}
}

// TestOwnRightsToldOnTheDesk: the CMs do not read the log. When vigie is
// made a plain member of a group it moderates, or removed from it, the desk
// chat is told where, by whom and what no longer works; when its rights are
// given back, that it works again. A change in the desk chat itself, or in a
// group vigie does not moderate, is for the log only.
func TestOwnRightsToldOnTheDesk(t *testing.T) {
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: []int64{group.id}})
	c.Desk(newCaseBook())
	run(t, c, make(chan bot.Event, 10))
	self := map[string]any{"id": botUserID, "is_bot": true, "first_name": "vigie", "username": botName}
	full := map[string]any{"user": self, "status": "administrator", "can_be_edited": false, "is_anonymous": false,
		"can_manage_chat": true, "can_delete_messages": true, "can_manage_video_chats": false, "can_restrict_members": true,
		"can_promote_members": false, "can_change_info": false, "can_invite_users": false, "can_post_stories": false,
		"can_edit_stories": false, "can_delete_stories": false}
	member := map[string]any{"user": self, "status": "member"}
	owner := tgUser{id: 77, first: "Brand", last: "Owner"}
	changed := func(chat tgChat, was, now map[string]any) {
		f.push(map[string]any{"my_chat_member": map[string]any{"chat": chat.json(), "from": owner.json(), "date": t0,
			"old_chat_member": was, "new_chat_member": now}})
	}
	toDesk := func(want string) {
		t.Helper()
		text := f.waitFor("sendMessage", 1, func(c apiCall) bool {
			return inChat(deskChat.id)(c) && strings.Contains(c.Params.Get("text"), want)
		}).Params.Get("text")
		if !strings.Contains(text, "Fans") || !strings.Contains(text, "Brand Owner") {
			t.Errorf("the desk was told %q: it does not say where nor who", text)
		}
	}
	other := tgChat{id: -1009999999999, kind: "supergroup", title: "Not ours"}
	changed(other, full, member)
	changed(deskChat, full, member)
	changed(group, full, member)
	toDesk("vigie is not an admin of this chat")
	changed(group, member, full)
	toDesk("vigie is an administrator with the rights it needs again")
	changed(group, full, map[string]any{"user": self, "status": "kicked", "until_date": 0})
	toDesk("vigie was removed from a group it moderates")
	changed(group, map[string]any{"user": self, "status": "kicked", "until_date": 0}, full)
	toDesk("vigie was added as an administrator with the rights it needs")
	if n := f.count("sendMessage", nil); n != 4 {
		t.Errorf("%d messages sent, want the 4 to the desk:\n%s", n, logs.String())
	}
}

// TestTroublesFollowTheChatList: a group where vigie lost its rights is one
// of its troubles (for the health page) while it moderates it; once a reload
// takes the group out of the chat list, it is no longer listed.
func TestTroublesFollowTheChatList(t *testing.T) {
	f := newFakeBotAPI(t)
	// What getChatMember answers at start agrees with the update.
	f.setMember(group.id, botUserID, "member")
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: []int64{group.id}})
	c.Desk(newCaseBook())
	run(t, c, make(chan bot.Event, 10))
	self := map[string]any{"id": botUserID, "is_bot": true, "first_name": "vigie", "username": botName}
	f.push(map[string]any{"my_chat_member": map[string]any{"chat": group.json(), "from": alice.json(), "date": t0,
		"old_chat_member": map[string]any{"user": self, "status": "left"}, "new_chat_member": map[string]any{"user": self, "status": "member"}}})
	// The start's own check (getChatMember, no title) may list the group
	// first: the update names it.
	testsync.Eventually(t, "the group among the troubles, by its title", func() bool {
		got := c.Troubles()
		return len(got) == 1 && strings.HasPrefix(got[0], `telegram chat "Fans" (-1001234567890): vigie is not an admin of this chat`)
	})
	if err := c.SetDesk(deskChat.id, []string{"telegram:42"}, []int64{-1009999}); err != nil {
		t.Fatal(err)
	}
	if got := c.Troubles(); len(got) != 0 {
		t.Errorf("troubles after the group left the chat list = %q", got)
	}
}

// TestOwnRightsCheckedAtStart: as Run starts, vigie asks Telegram what it
// may do in each group of the chat list and warns of what will fail, as
// Discord's connector does for its servers: here an administrator without
// Delete messages in one group, and a group Telegram does not know (a typo
// in TELEGRAM_CHATS, or vigie not in it). A group set up as the
// documentation asks is not warned about.
func TestOwnRightsCheckedAtStart(t *testing.T) {
	noDelete := tgChat{id: -1001000000777, kind: "supergroup", title: "Fans 2"}
	unknown := int64(-1001000000888)
	f := newFakeBotAPI(t)
	f.setMember(noDelete.id, botUserID, "administrator", "can_manage_chat", "can_restrict_members")
	f.SetTrouble(func(method string, p url.Values) (int, string, bool) {
		if method == "getChatMember" && p.Get("chat_id") == itoa(unknown) {
			return 400, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, false
		}
		return 0, "", false
	})
	// A CM, so that the only warnings are about the groups.
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: []int64{group.id, noDelete.id, unknown}})
	run(t, c, make(chan bot.Event, 10))
	f.waitFor("getChatMember", 3, nil)
	testsync.Eventually(t, "two warnings", func() bool { return strings.Count(logs.String(), "level=WARN") >= 2 })
	for _, want := range []string{
		"without Delete messages (delete will fail)",
		"cannot tell what vigie may do in a group of the chat list",
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "chat="+itoa(group.id)) {
		t.Errorf("a group set up as asked was warned about:\n%s", logs.String())
	}
}

// TestQueueSaysWhenACardFails: /queue says how many cases are open, then
// posts their cards; when Telegram will not take one, the CM is told which,
// and that the rest were not posted, rather than left with fewer cards than
// she was promised.
func TestQueueSaysWhenACardFails(t *testing.T) {
	first, second, third := sampleCard("c1", at(t0)), sampleCard("c2", at(t0+1)), sampleCard("c3", at(t0+2))
	x := newDeskFixture(t, first, second, third)
	x.f.SetTrouble(func(method string, p url.Values) (int, string, bool) {
		if method == "sendMessage" && strings.Contains(p.Get("text"), "Case c2") {
			return 502, `{"ok":false,"error_code":502,"description":"Bad Gateway"}`, false
		}
		return 0, "", false
	})
	x.f.push(map[string]any{"message": message(deskChat, 800, alice, t0+60, "/queue")})
	told := x.f.waitFor("sendMessage", 1, func(c apiCall) bool { return strings.Contains(c.Params.Get("text"), "could not be posted") })
	if text := told.Params.Get("text"); !strings.Contains(text, "case c2") || !strings.Contains(text, "nor the 1 after it") {
		t.Errorf("told %q", text)
	}
	if n := x.f.count("sendMessage", func(c apiCall) bool { return strings.Contains(c.Params.Get("text"), "Case c3") }); n != 0 {
		t.Errorf("the card after the failed one was posted %d times", n)
	}
}
