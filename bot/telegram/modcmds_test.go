package telegram

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// modWorld is a group with vigie, the handlers and a memory store wired as
// the daemon wires them, against the fake Bot API.
type modWorld struct {
	t    *testing.T
	f    *fakeBotAPI
	c    *Client
	st   *memory.Store
	logs *testsync.Buffer
	msg  int
}

func newModWorld(t *testing.T) *modWorld {
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	w := newModWorldOn(t, st)
	w.st = st
	return w
}

// newModWorldOn is newModWorld with the store st (its st field unset).
func newModWorldOn(t *testing.T, st store.Store) *modWorld {
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: []int64{group.id}})
	knowAdmins(t, c, group.id)
	cmds := &moderatorCommands{desktest.Commands{Store: st}}
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"telegram": c}, Store: st,
		Retry: handlers.Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	cmds.Mod = mod
	c.Desk(cmds)
	out := make(chan bot.Event, 100)
	run(t, c, out)
	return &modWorld{t: t, f: f, c: c, logs: logs, msg: 100}
}

// say posts a message in the group and returns its id.
func (w *modWorld) say(from tgUser, text string, kv ...any) int {
	w.msg++
	w.f.push(map[string]any{"message": with(message(group, w.msg, from, t0, text), kv...)})
	return w.msg
}

// command posts a command in the group, answering reply (0: none), and
// returns vigie's answer to it.
func (w *modWorld) command(from tgUser, text string, reply int, kv ...any) string {
	w.t.Helper()
	if reply != 0 {
		kv = append(kv, "reply_to_message", message(group, reply, bob, t0, "buy cheap followers"))
	}
	id := w.say(from, text, kv...)
	return w.f.waitFor("sendMessage", 1, func(c apiCall) bool {
		return strings.Contains(c.Params.Get("reply_parameters"), fmt.Sprintf(`"message_id":%d}`, id))
	}).Params.Get("text")
}

func userIs(id int64) func(apiCall) bool {
	return func(c apiCall) bool { return c.Params.Get("user_id") == strconv.FormatInt(id, 10) }
}

// An administrator with the right bans by reply; the case about the message
// is closed as decided by them, and the ban is audited under "manual".
func TestModBanByReply(t *testing.T) {
	w := newModWorld(t)
	w.f.setMember(group.id, carol.id, "administrator", "can_restrict_members")
	spam := w.say(bob, "buy cheap followers")
	ev := bot.Event{ID: fmtMsgID(group.id, spam), Platform: Platform, Space: itoa(group.id), Author: bot.Author{ID: "7"}}
	open, err := w.st.OpenCase(t.Context(), store.Case{Event: ev, Rule: "spam", Reason: "spam", Opened: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.command(carol, "/ban 1d spam", spam); got != "Banned Bob Martin for 1d. (1 case closed)" {
		t.Errorf("answer = %q", got)
	}
	ban := w.f.waitFor("banChatMember", 1, userIs(bob.id))
	until, _ := strconv.ParseInt(ban.Params.Get("until_date"), 10, 64)
	if ban.Params.Get("chat_id") != itoa(group.id) || until < time.Now().Add(23*time.Hour).Unix() {
		t.Errorf("banChatMember = %v", ban.Params)
	}
	c, _ := w.st.Case(t.Context(), open.ID)
	if c.Status != store.CaseDecided || c.Outcome != "ban(1d)" || c.DecidedBy != "telegram:8" {
		t.Errorf("case = %s %q by %q", c.Status, c.Outcome, c.DecidedBy)
	}
	audit, _ := w.st.Audit(t.Context(), time.Time{})
	if len(audit) != 1 || audit[0].By != "telegram:8" || audit[0].Verdict.Matches[0].Reason != "/ban by telegram:8: spam" {
		t.Errorf("audit = %+v", audit)
	}
}

// A member who is not an administrator, or one without the right the
// command needs, is refused in private and nothing is done.
func TestModRefused(t *testing.T) {
	w := newModWorld(t)
	w.f.setMember(group.id, carol.id, "administrator", "can_restrict_members") // no can_delete_messages
	spam := w.say(bob, "buy cheap followers")
	for _, tc := range []struct {
		from tgUser
		text string
	}{
		{mallory, "/ban"},
		{carol, "/del"},
	} {
		w.say(tc.from, tc.text, "reply_to_message", message(group, spam, bob, t0, "buy cheap followers"))
		refusal := w.f.waitFor("sendMessage", 1, inChat(tc.from.id))
		if !strings.HasPrefix(refusal.Params.Get("text"), "Sorry, "+tc.text+" is for the administrators") {
			t.Errorf("%s by %s: refusal = %q", tc.text, tc.from.first, refusal.Params.Get("text"))
		}
		testsync.Eventually(t, "the refusal logged: "+w.logs.String(), func() bool {
			return strings.Contains(w.logs.String(), "attempt="+tc.text+" ") && strings.Contains(w.logs.String(), "user=telegram:"+itoa(tc.from.id)+" ")
		})
	}
	if n := w.f.count("banChatMember", nil) + w.f.count("deleteMessage", nil); n != 0 {
		t.Errorf("%d bans or deletes after refusals", n)
	}
	if !strings.Contains(w.logs.String(), `msg="moderator's command refused" platform=telegram audit=true`) {
		t.Errorf("refusals not audited: %s", w.logs.String())
	}
}

// When Telegram refuses for want of a right, the moderator is told in the
// words of the cards, the group reading it too, and the command is audited
// as failed with Telegram's own error.
func TestModPlatformRefuses(t *testing.T) {
	for _, tc := range []struct {
		code  int
		desc  string
		words string
	}{
		{400, "Bad Request: not enough rights to restrict/unrestrict chat member", "vigie lacks the Ban users right in this group"},
		{403, "Forbidden: bot is not a member of the supergroup chat", "vigie is not in the group any more"},
	} {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			w := newModWorld(t)
			spam := w.say(bob, "buy cheap followers")
			w.f.fail("restrictChatMember", tc.code, tc.desc, 0)
			got := w.command(alice, "/mute 30m", spam) // alice is a CM
			if !strings.HasPrefix(got, "Could not mute Bob Martin: Telegram refused: "+tc.words) || strings.Contains(got, "restrictChatMember") {
				t.Errorf("answer = %q", got)
			}
			audit, _ := w.st.Audit(t.Context(), time.Time{})
			if len(audit) != 1 || !strings.Contains(audit[0].Failed, tc.desc) || audit[0].By != "telegram:42" {
				t.Errorf("audit = %+v", audit)
			}
		})
	}
}

// By @username of a member vigie saw, by numeric id; /warn, /warns,
// /resetwarns, /note, /unban, /kick and /purge.
func TestModCommands(t *testing.T) {
	w := newModWorld(t)
	w.f.setMember(group.id, carol.id, "creator")
	var bobs []int
	for i := range 3 {
		bobs = append(bobs, w.say(bob, fmt.Sprintf("spam %d", i)))
	}
	w.say(carol, "hello")
	testsync.Eventually(t, "bob's messages remembered", func() bool { return len(w.c.recent.last(group.id, bob.id, 5, 0)) == 3 })

	if got := w.command(carol, "/mute @BobM 30m", 0); got != "Muted Bob Martin for 30m." {
		t.Errorf("/mute @BobM = %q", got)
	}
	mute := w.f.waitFor("restrictChatMember", 1, userIs(bob.id))
	if !strings.Contains(mute.Params.Get("permissions"), `"can_send_messages":false`) {
		t.Errorf("restrictChatMember = %v", mute.Params)
	}
	if got := w.command(carol, "/warn 7 stop spamming", 0); got != "Warned Bob Martin (a strike)." {
		t.Errorf("/warn 7 = %q", got)
	}
	warn := w.f.waitFor("sendMessage", 1, func(c apiCall) bool {
		return strings.Contains(c.Params.Get("text"), "a warning from the moderators: stop spamming")
	})
	if !strings.Contains(warn.Params.Get("text"), `tg://user?id=7`) {
		t.Errorf("warning = %q", warn.Params.Get("text"))
	}
	if got := w.command(carol, "/note known reseller", bobs[0]); !strings.HasPrefix(got, "Note kept on Bob Martin") {
		t.Errorf("/note = %q", got)
	}
	// the note kept, its /note leaves the group
	if del := w.f.waitFor("deleteMessage", 1, nil); del.Params.Get("message_id") != strconv.Itoa(w.msg) {
		t.Errorf("delete 1 = %v, want the /note, message %d", del.Params, w.msg)
	}
	// The group reads the answer: the note is counted, not quoted.
	got := w.command(carol, "/warns", bobs[0])
	for _, want := range []string{"Bob Martin (telegram 7): 1 strike here", "\n0 cases, 1 note. The whole record is the CMs': on the desk"} {
		if !strings.Contains(got, want) {
			t.Errorf("/warns = %q, want %q in it", got, want)
		}
	}
	if strings.Contains(got, "known reseller") || strings.Contains(got, "telegram:8") {
		t.Errorf("/warns in the group = %q: it quotes the note", got)
	}
	if got := w.command(carol, "/resetwarns", bobs[0]); got != "1 strike lifted from Bob Martin." {
		t.Errorf("/resetwarns = %q", got)
	}
	if got := w.command(carol, "/purge 2", bobs[0]); got != "Deleted 2 messages of Bob Martin." {
		t.Errorf("/purge 2 = %q", got)
	}
	for i, want := range []int{bobs[2], bobs[1]} {
		del := w.f.waitFor("deleteMessage", i+2, nil)
		if del.Params.Get("message_id") != strconv.Itoa(want) || del.Params.Get("chat_id") != itoa(group.id) {
			t.Errorf("delete %d = %v, want message %d", i+1, del.Params, want)
		}
	}
	if got := w.command(carol, "/kick", bobs[0]); got != "Kicked Bob Martin." {
		t.Errorf("/kick = %q", got)
	}
	if got := w.command(carol, "/unban @bobm", 0); got != "Unbanned Bob Martin." {
		t.Errorf("/unban = %q", got)
	}
	if unban := w.f.waitFor("unbanChatMember", 2, userIs(bob.id)); unban.Params.Get("only_if_banned") != "true" {
		t.Errorf("unbanChatMember = %v", unban.Params)
	}
	if got := w.command(carol, "/ban @nobody", 0); !strings.HasPrefix(got, "Usage: reply to the member's message with /ban") {
		t.Errorf("/ban @nobody = %q", got)
	}
	if got := w.command(carol, "/purge lots", bobs[0]); !strings.Contains(got, "N from 1 to 100") {
		t.Errorf("/purge lots = %q", got)
	}
	// The menu lists the commands for the groups' administrators.
	w.f.waitFor("setMyCommands", 1, func(c apiCall) bool { return strings.Contains(c.Params.Get("scope"), "all_chat_administrators") })
}

// /warns in a group is read by its members: it counts the member's cases and
// the CMs' notes, written on the desk as in the group, and quotes none, nor
// says who decided; the desk has the whole record.
func TestModWarnsInAGroupQuotesNoNote(t *testing.T) {
	w := newModWorld(t)
	w.f.setMember(group.id, carol.id, "creator")
	spam := w.say(bob, "buy cheap followers")
	ctx := t.Context()
	ev := bot.Event{ID: fmtMsgID(group.id, spam), Platform: Platform, Space: itoa(group.id), Author: bot.Author{ID: "7", Name: "Bob Martin"}}
	c, err := w.st.OpenCase(ctx, store.Case{Event: ev, Rule: "reseller", Reason: "sells accounts", Opened: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.st.DecideCase(ctx, c.ID, "keep", "telegram:42", "Alice", time.Now()); err != nil {
		t.Fatal(err)
	}
	// A CM's note from the desk's card or the console, and an admin's /note.
	if err := w.st.AddNote(ctx, store.Note{Platform: Platform, Space: itoa(group.id), Author: "7",
		Text: "his brother runs the scam shop, keep an eye", By: "telegram:42", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	w.command(carol, "/note paid twice for the ads", spam)
	got := w.command(carol, "/warns", spam)
	if want := "Bob Martin (telegram 7): 0 strikes here.\n1 case, 2 notes. The whole record is the CMs': on the desk (the member's cards, the console)."; got != want {
		t.Errorf("/warns in the group = %q, want %q", got, want)
	}
	for _, leak := range []string{"scam shop", "paid twice", "telegram:42", "telegram:8", "Alice", "keep", "reseller", c.ID} {
		if strings.Contains(got, leak) {
			t.Errorf("/warns in the group = %q: %q in it", got, leak)
		}
	}
}

// A /note leaves the group once kept: the members would read the CMs' words
// on the member under it. When Telegram refuses the delete, the moderator is
// told to delete it, Telegram's refusal in the words of the cards.
func TestModNoteLeavesTheGroup(t *testing.T) {
	w := newModWorld(t)
	w.f.setMember(group.id, carol.id, "creator")
	spam := w.say(bob, "buy cheap followers")
	if got := w.command(carol, "/note his brother runs the scam shop", spam); got != "Note kept on Bob Martin; the moderators see it on their cases." {
		t.Errorf("/note = %q", got)
	}
	note := w.msg
	w.f.waitFor("deleteMessage", 1, func(c apiCall) bool {
		return c.Params.Get("message_id") == strconv.Itoa(note) && c.Params.Get("chat_id") == itoa(group.id)
	})
	w.f.fail("deleteMessage", 400, "Bad Request: message can't be deleted", 0)
	got := w.command(carol, "/note paid twice", spam)
	if !strings.HasPrefix(got, "Note kept on Bob Martin; the moderators see it on their cases. vigie could not delete your /note from the group (") ||
		!strings.Contains(got, "(Telegram refused: vigie cannot delete this message: it lacks the Delete messages right, or the message is older than 48 hours [telegram 400: message can't be deleted]): delete it") ||
		strings.Contains(got, "deleteMessage") {
		t.Errorf("/note, Telegram refusing the delete = %q", got)
	}
	if notes, _ := w.st.Notes(t.Context(), Platform, itoa(group.id), "7"); len(notes) != 2 {
		t.Errorf("notes kept = %+v", notes)
	}
}

// A card shows the newest moderators' notes on the author, escaped.
func TestCardNotes(t *testing.T) {
	card := bot.Card{ID: "c-1", Event: bot.Event{Platform: Platform, Author: bot.Author{ID: "7"}},
		Notes: []string{"telegram:8, 2026-11-01: first", "telegram:8, 2026-11-02: b", "telegram:8, 2026-11-03: c", "telegram:8, 2026-12-01: sells <accounts>"}}
	got := renderCard(card, "", "")
	if !strings.Contains(got, "📝 telegram:8, 2026-12-01: sells &lt;accounts&gt;\n") || strings.Contains(got, "first") {
		t.Errorf("card = %s", got)
	}
}

// A mod-log line is a message without preview, escaped, edited in place.
func TestModLogPoster(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
	id, err := c.PostLog(t.Context(), "-100777", "🗑 delete — rule <flood> · https://t.me/c/1/2")
	if err != nil || id == "" {
		t.Fatalf("PostLog = %q, %v", id, err)
	}
	sent := f.waitFor("sendMessage", 1, inChat(-100777))
	if sent.Params.Get("text") != "🗑 delete — rule &lt;flood&gt; · https://t.me/c/1/2" || sent.Params.Get("parse_mode") != "HTML" ||
		!strings.Contains(sent.Params.Get("link_preview_options"), `"is_disabled":true`) {
		t.Errorf("sendMessage = %v", sent.Params)
	}
	if err := c.EditLog(t.Context(), "-100777", id, "🗑 2× delete"); err != nil {
		t.Fatal(err)
	}
	edit := f.waitFor("editMessageText", 1, nil)
	if edit.Params.Get("message_id") != id || edit.Params.Get("text") != "🗑 2× delete" {
		t.Errorf("editMessageText = %v", edit.Params)
	}
	f.fail("sendMessage", 403, "Forbidden: bot is not a member of the supergroup chat", 0)
	if _, err := c.PostLog(t.Context(), "-100777", "x"); err == nil || bot.Retryable(err) {
		t.Errorf("PostLog in a chat vigie left = %v, want an error not worth retrying", err)
	}
}

// An unban by hand in Telegram's app (a chat_member update from "kicked")
// forgets the ban vigie keeps, audited under the moderator who gave it: a
// ban for good leaves the book, rather than stay in it until vigie unbans.
func TestUnbanByHandForgetsTheBan(t *testing.T) {
	w := newModWorld(t)
	w.f.setMember(group.id, carol.id, "administrator", "can_restrict_members")
	spam := w.say(bob, "buy cheap followers")
	if got := w.command(carol, "/ban spam", spam); !strings.HasPrefix(got, "Banned Bob Martin") {
		t.Fatalf("/ban: answer = %q", got)
	}
	key := store.BanKey(bot.Event{Platform: Platform, Space: itoa(group.id), Author: bot.Author{ID: itoa(bob.id)}})
	if b, ok, _ := w.st.KeptBan(t.Context(), key); !ok || !b.ForGood() {
		t.Fatalf("the ban for good not in the book: %+v, %v", b, ok)
	}
	w.f.push(map[string]any{"chat_member": map[string]any{
		"chat": group.json(), "from": carol.json(), "date": time.Now().Add(time.Minute).Unix(),
		"old_chat_member": map[string]any{"user": bob.json(), "status": "kicked", "until_date": 0},
		"new_chat_member": map[string]any{"user": bob.json(), "status": "left"},
	}})
	testsync.Eventually(t, "the unban by hand learned", func() bool {
		_, ok, err := w.st.KeptBan(t.Context(), key)
		return err == nil && !ok
	})
	audit, _ := w.st.Audit(t.Context(), time.Time{})
	var got []string
	for _, e := range audit {
		got = append(got, e.By+" "+e.Verdict.Matches[0].Reason)
	}
	if want := "telegram:8 unbanned on telegram by hand: the ban for good is forgotten"; !slices.Contains(got, want) {
		t.Errorf("audit = %q, want %q among them", got, want)
	}

	// vigie's own unban (a lift, /unban, a kick) is no unban by hand: the
	// handlers saw to the book themselves.
	if got := w.command(carol, "/ban spam", spam); !strings.HasPrefix(got, "Banned Bob Martin") {
		t.Fatalf("/ban again: answer = %q", got)
	}
	w.f.push(map[string]any{"chat_member": map[string]any{
		"chat": group.json(), "from": map[string]any{"id": botUserID, "is_bot": true, "first_name": "vigie"},
		"date":            time.Now().Add(time.Minute).Unix(),
		"old_chat_member": map[string]any{"user": bob.json(), "status": "kicked", "until_date": 0},
		"new_chat_member": map[string]any{"user": bob.json(), "status": "left"},
	}})
	testsync.Eventually(t, "the update taken", func() bool { return w.f.UpdatesLeft() == 0 && w.c.work.Busy() == 0 })
	if _, ok, _ := w.st.KeptBan(t.Context(), key); !ok {
		t.Error("vigie's own unban taken for one by hand: the ban kept was forgotten")
	}
}
