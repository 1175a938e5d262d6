package telegram

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/memory"
)

// strangerWorld is a moderated group whose admins vigie knows (carol is one),
// with the desk's commands wired, and the events vigie hands to the rules.
type strangerWorld struct {
	f    *fakeBotAPI
	c    *Client
	cmds *moderatorCommands
	out  chan bot.Event
	stop func()
	msg  int
}

func newStrangerWorld(t *testing.T, limits limits) *strangerWorld {
	t.Helper()
	f := newFakeBotAPI(t)
	f.setMember(group.id, carol.id, "administrator", "can_restrict_members", "can_delete_messages")
	f.setAdmins(group.id, carol.id)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: []int64{group.id}})
	c.limiter = newLimiter(limits, time.Now)
	knowAdmins(t, c, group.id)
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	cmds := &moderatorCommands{desktest.Commands{Store: st}}
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"telegram": c}, Store: st,
		Retry: handlers.Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	cmds.Mod = mod
	c.Desk(cmds)
	out := make(chan bot.Event, 1000)
	return &strangerWorld{f: f, c: c, cmds: cmds, out: out, stop: run(t, c, out), msg: 100}
}

func (w *strangerWorld) say(chat tgChat, from tgUser, text string) int {
	w.msg++
	w.f.push(map[string]any{"message": message(chat, w.msg, from, t0, text)})
	return w.msg
}

// next is the next event handed to the rules.
func (w *strangerWorld) next(t *testing.T) bot.Event {
	t.Helper()
	select {
	case ev := <-w.out:
		return ev
	case <-time.After(60 * time.Second):
		t.Fatal("no event handed to the rules")
		return bot.Event{}
	}
}

// A member who starts a message with a moderators' command word is still a
// member writing in the group: the rules judge the message (a scam link
// behind "/note" is deleted like any other). An administrator's command is
// not judged.
func TestMembersCommandIsJudged(t *testing.T) {
	w := newStrangerWorld(t, limits{perChatGap: time.Millisecond, groupPerMinute: 1000, globalPerSecond: 1000})
	scam := w.say(group, mallory, "/note claim your free nitro at https://scam.example/gift")
	w.say(group, carol, "/warn 7 stop it")
	hello := w.say(group, bob, "hello")

	ev := w.next(t)
	if ev.ID != fmtID(group.id, scam) || !strings.Contains(ev.Text, "scam.example") || ev.Author.ID != itoa(mallory.id) {
		t.Fatalf("first event handed to the rules = %s %q by %s; want mallory's /note message %s",
			ev.ID, ev.Text, ev.Author.ID, fmtID(group.id, scam))
	}
	// the profile event of a first message may come along; the admin's command never does
	for {
		ev = w.next(t)
		if ev.Author.ID == itoa(carol.id) {
			t.Fatalf("the administrator's command was handed to the rules: %+v", ev)
		}
		if ev.ID == fmtID(group.id, hello) {
			break
		}
	}
	// mallory is still told that the command is not theirs
	refusal := w.f.waitFor("sendMessage", 1, inChat(mallory.id))
	if !strings.HasPrefix(refusal.Params.Get("text"), "Sorry, /note is for the administrators") {
		t.Errorf("refusal = %q", refusal.Params.Get("text"))
	}
}

// A stranger who sends command after command (in the group, and to vigie in
// private) is refused once in each, not once per command: each refusal waits for
// Telegram's limits, and while the desk's workers waited, no message of any
// group was judged.
func TestStrangersRepeatedCommandsAnsweredOnce(t *testing.T) {
	w := newStrangerWorld(t, telegramLimits)
	private := tgChat{id: mallory.id, kind: "private"}
	const n = 20
	start := time.Now()
	for i := range n {
		if i%2 == 0 {
			w.say(group, mallory, "/ban")
		} else {
			w.say(private, mallory, "/status")
		}
	}
	hello := w.say(group, bob, "hello")
	for {
		if ev := w.next(t); ev.ID == fmtID(group.id, hello) {
			break
		}
	}
	t.Logf("bob's message handed to the rules %s after the stranger's commands", time.Since(start))
	to := func(c apiCall) bool {
		return c.Params.Get("chat_id") == itoa(mallory.id) || strings.Contains(c.Params.Get("text"), "Sorry")
	}
	// Both refusals go to mallory's private chat, the second a second after
	// the first (Telegram's pace in a chat): stopping vigie before then would
	// cut it short.
	w.f.waitFor("sendMessage", 2, to)
	w.stop() // waits for the desk's work
	if got := w.f.count("sendMessage", to); got != 2 {
		var texts []string
		for _, c := range w.f.callsOf("sendMessage") {
			texts = append(texts, fmt.Sprintf("%s: %q", c.Params.Get("chat_id"), c.Params.Get("text")))
		}
		t.Errorf("%d refusals sent for %d commands, want 2 (one for the group, one for the private chat):\n%s", got, n, strings.Join(texts, "\n"))
	}
}

// A forwarded message is someone else's words: a command in it is not the
// forwarder's command, whoever forwards it. A CM who forwards a stranger's
// "/pause 1h" to the desk or to vigie, or an administrator who forwards
// "/ban 7" into the group, makes vigie do nothing; in the group, the forward
// is a message like any other, for the rules. Nor is an edit that turns a
// message into a command.
func TestForwardedCommandsAreNotCommands(t *testing.T) {
	w := newStrangerWorld(t, limits{perChatGap: time.Millisecond, groupPerMinute: 1000, globalPerSecond: 1000})
	from := map[string]any{"type": "user", "date": t0 - 60, "sender_user": mallory.json()}
	forward := func(chat tgChat, by tgUser, text string) int {
		w.msg++
		w.f.push(map[string]any{"message": with(message(chat, w.msg, by, t0, text), "forward_origin", from)})
		return w.msg
	}
	forward(deskChat, alice, "/pause 1h")
	forward(tgChat{id: alice.id, kind: "private"}, alice, "/pause")
	// An edit that turns a message into a command is not one either.
	w.msg++
	w.f.push(map[string]any{"edited_message": with(message(deskChat, w.msg, alice, t0, "/pause 2h"), "edit_date", t0+5)})
	w.msg++
	w.f.push(map[string]any{"edited_message": with(message(group, w.msg, carol, t0, "/ban 7"), "edit_date", t0+5)})
	ban := forward(group, carol, "/ban 7")
	hello := w.say(group, bob, "hello")
	judged := false
	for ev := w.next(t); ev.ID != fmtID(group.id, hello); ev = w.next(t) {
		if ev.ID == fmtID(group.id, ban) {
			judged = ev.Forward != nil && ev.Author.ID == itoa(carol.id)
		}
	}
	if !judged {
		t.Error("the forwarded /ban was not handed to the rules as carol's forward")
	}
	w.stop() // waits for the desk's work
	if paused, _ := w.cmds.Mod.Paused(); paused {
		t.Error("a forwarded /pause paused vigie")
	}
	for _, m := range []string{"banChatMember", "restrictChatMember", "sendMessage"} {
		if calls := w.f.callsOf(m); len(calls) > 0 {
			t.Errorf("vigie called %s for forwarded commands: %+v", m, calls)
		}
	}
}

// Only vigie's own prompt ("answer this message with the text to send")
// takes a CM's answer as a case's reply. A card ends with the member's
// message when it has no suggested action and no link: a member who writes
// "Case: c3" at the end of theirs must not make the CM's answer to that
// card (a remark among CMs) go out to the author of case c3.
func TestReplyToACardIsNotAPrompt(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	c3 := sampleCard("c3", at(t0))
	bait := sampleCard("c9", at(t0+1))
	bait.Suggested, bait.Event.Link = nil, ""
	bait.Event.Author = bot.Author{ID: itoa(mallory.id), Name: "Mallory"}
	bait.Event.Text = "please call me back\nCase: c3"
	book := newCaseBook(c3, bait)
	desk := c.Desk(book)
	stop := run(t, c, make(chan bot.Event, 100))
	f.waitFor("getUpdates", 1, nil)
	if err := desk.PostCard(context.Background(), bait); err != nil {
		t.Fatal(err)
	}
	sent := f.waitFor("sendMessage", 1, inChat(deskChat.id))
	// What Telegram gives back of it: the text, without its HTML.
	text := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(sent.Params.Get("text"), ""))
	if !strings.HasSuffix(strings.TrimSpace(text), "\nCase: c3") {
		t.Fatalf("the card does not end with the member's text:\n%s", text)
	}
	card := map[string]any{"message_id": sent.MsgID, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0, "text": text}
	f.push(map[string]any{"message": with(message(deskChat, 700, alice, t0+60, "again this one, ignore"), "reply_to_message", card)})
	f.push(map[string]any{"message": message(deskChat, 701, alice, t0+61, "/status")})
	f.waitFor("sendMessage", 1, func(c apiCall) bool { return strings.Contains(c.Params.Get("reply_parameters"), `"message_id":701}`) })
	stop() // waits for the desk's work
	if got := book.reply("c3"); got != "" {
		t.Errorf("a CM's remark on case c9's card was sent as the reply of case c3: %q", got)
	}
}

// A desk admin demoted, or gone, is refused at their next press even when
// no chat_member update tells vigie (it gets none in a desk chat where it is
// not an administrator itself), and while Telegram's list cannot be had:
// whether they are an admin of the desk chat is asked at each press.
func TestDeskAdminDemotedWithoutUpdate(t *testing.T) {
	f := newFakeBotAPI(t)
	f.setAdmins(deskChat.id, carol.id)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, DeskAdmins: true, Chats: fixtureChats})
	book := newCaseBook(sampleCard("a1", at(t0)), sampleCard("a2", at(t0)))
	desk := c.Desk(book)
	stop := run(t, c, make(chan bot.Event, 10))
	for _, id := range []string{"a1", "a2"} {
		if err := desk.PostCard(context.Background(), sampleCard(id, at(t0))); err != nil {
			t.Fatal(err)
		}
	}
	sent := f.waitFor("sendMessage", 2, inChat(deskChat.id))
	card := map[string]any{"message_id": sent.MsgID, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0, "text": "card"}
	f.push(callback("q1", carol, card, "v1:a1:keep"))
	testsync.Eventually(t, "the desk admin's press decided", func() bool { return book.get("a1").DecidedBy == "telegram:8" })

	f.setAdmins(deskChat.id) // demoted, and no update says so
	f.adminsFail(deskChat.id, true)
	f.push(callback("q2", carol, card, "v1:a2:keep"))
	f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == "q2" })
	stop() // waits for the desk's work
	if got := book.get("a2"); got.DecidedBy != "" {
		t.Errorf("case decided by %q after the demotion", got.DecidedBy)
	}
}

// TestPromptAnsweredAfterLeavingTheCMs: a CM presses Reply, then a reload
// takes her out of desk.cms before she answers vigie's prompt. Her answer is
// not sent to the author, and she is told so, rather than left to think it
// went out.
func TestPromptAnsweredAfterLeavingTheCMs(t *testing.T) {
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	c3 := sampleCard("c3", at(t0))
	book := newCaseBook(c3)
	desk := c.Desk(book)
	stop := run(t, c, make(chan bot.Event, 100))
	f.waitFor("getUpdates", 1, nil)
	if err := desk.PostCard(context.Background(), c3); err != nil {
		t.Fatal(err)
	}
	sent := f.waitFor("sendMessage", 1, inChat(deskChat.id))
	card := map[string]any{"message_id": sent.MsgID, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0, "text": "Case c3"}
	f.push(callback("cb-1", alice, card, "v1:c3:reply"))
	prompt := f.waitFor("sendMessage", 2, inChat(deskChat.id))
	if _, ok := promptCase(prompt.Params.Get("text")); !ok {
		t.Fatalf("the second message is no reply prompt: %q", prompt.Params.Get("text"))
	}
	// The reload: another CM now.
	if err := c.SetDesk(deskChat.id, []string{"telegram:43"}, nil); err != nil {
		t.Fatal(err)
	}
	text := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(prompt.Params.Get("text"), ""))
	asked := map[string]any{"message_id": prompt.MsgID, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0, "text": text}
	f.push(map[string]any{"message": with(message(deskChat, 702, alice, t0+60, "we are open at 9"), "reply_to_message", asked)})
	told := f.waitFor("sendMessage", 1, func(c apiCall) bool {
		return strings.Contains(c.Params.Get("reply_parameters"), `"message_id":702`) || c.Params.Get("chat_id") == itoa(alice.id)
	})
	stop()
	if got := book.reply("c3"); got != "" {
		t.Errorf("the answer of someone no longer a CM was sent: %q", got)
	}
	if !strings.Contains(told.Params.Get("text"), "not sent") {
		t.Errorf("she was told %q, want that her reply was not sent", told.Params.Get("text"))
	}
	if !strings.Contains(logs.String(), "desk: refused a stranger") {
		t.Errorf("the refusal is not logged:\n%s", logs.String())
	}
}

// TestPromptAnsweredWithAPhoto: a CM answers vigie's reply prompt with a
// photo and a caption (or a sticker). Nothing is sent to the author, and she
// is told that only text is sent, not that her reply was empty.
func TestPromptAnsweredWithAPhoto(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	c3 := sampleCard("c3", at(t0))
	book := newCaseBook(c3)
	c.Desk(book)
	stop := run(t, c, make(chan bot.Event, 100))
	f.waitFor("getUpdates", 1, nil)
	asked := map[string]any{"message_id": 900, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0,
		"text": promptStart + "Alice" + promptAsk + "\n" + promptMarker + "c3"}
	photo := []any{map[string]any{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}}
	f.push(map[string]any{"message": with(message(deskChat, 702, alice, t0+60, ""), "reply_to_message", asked,
		"photo", photo, "caption", "Here is the fixed price list")})
	told := f.waitFor("sendMessage", 1, func(c apiCall) bool { return strings.Contains(c.Params.Get("reply_parameters"), `"message_id":702`) })
	stop()
	if got := book.reply("c3"); got != "" {
		t.Errorf("a reply was sent: %q", got)
	}
	if text := told.Params.Get("text"); !strings.Contains(text, "only text") {
		t.Errorf("she was told %q, want that only text is sent", text)
	}
}

// TestPromptAnswerEdited: a CM edits her answer to a reply prompt, to fix a
// typo. The edit is not sent to the author again, and she is told so, with
// the command that sends a correction.
func TestPromptAnswerEdited(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	book := newCaseBook(sampleCard("c3", at(t0)))
	c.Desk(book)
	stop := run(t, c, make(chan bot.Event, 100))
	f.waitFor("getUpdates", 1, nil)
	asked := map[string]any{"message_id": 900, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0,
		"text": promptStart + "Alice" + promptAsk + "\n" + promptMarker + "c3"}
	f.push(map[string]any{"message": with(message(deskChat, 702, alice, t0+60, "We open at 9"), "reply_to_message", asked)})
	testsync.Eventually(t, "the reply", func() bool { return book.reply("c3") != "" })
	f.push(map[string]any{"edited_message": with(message(deskChat, 702, alice, t0+60, "We open at 10"), "reply_to_message", asked,
		"edit_date", t0+90)})
	told := f.waitFor("sendMessage", 1, func(c apiCall) bool {
		return strings.Contains(c.Params.Get("reply_parameters"), `"message_id":702`) && strings.Contains(c.Params.Get("text"), "edit")
	})
	stop()
	if got := book.reply("c3"); got != "We open at 9" {
		t.Errorf("reply = %q, want the first text only", got)
	}
	if text := told.Params.Get("text"); !strings.Contains(text, "/reply c3 TEXT") {
		t.Errorf("she was told %q, want how to send a correction", text)
	}
}
