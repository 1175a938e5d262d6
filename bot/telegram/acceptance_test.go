package telegram

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// This file runs the Telegram connector with the real rules engine, handlers and
// memory store, wired the way the daemon wires them, against the fake Bot API.

const acceptanceRules = `
counters:
  msgs: {key: author.id, window: 10s}
rules:
  - name: flood
    category: flood
    when: not author.staff and counters.msgs > 5
    do: [delete, timeout(10m), 'warn("Merci de ralentir, {{author.name}}")']
  - name: scam
    category: spam
    when: text contains "scam.example"
    do: ['forward("scam link")']
`

// moderatorCommands adds what only the Telegram desk asks for.
type moderatorCommands struct{ desktest.Commands }

func (m *moderatorCommands) Stats(context.Context, time.Duration, string) (string, error) {
	return "", nil
}
func (m *moderatorCommands) Rules(context.Context, string) (string, error)  { return "", nil }
func (m *moderatorCommands) Reload(context.Context, string) (string, error) { return "", nil }

func TestAcceptance(t *testing.T) {
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	knowAdmins(t, c, group.id)
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	rs, err := rules.Parse("rules.yaml", []byte(acceptanceRules), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	engine := rules.NewEngine(rs, st, rules.Options{})
	cmds := &moderatorCommands{desktest.Commands{Store: st}}
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"telegram": c}, Store: st, Desk: desktest.Desk{Poster: c.Desk(cmds)}})
	if err != nil {
		t.Fatal(err)
	}
	cmds.Mod = mod

	// The daemon's loops: events evaluated and acted on, cases posted to the desk.
	out := desktest.Serve(t, engine, mod)
	run(t, c, out)

	msg := 100
	say := func(from tgUser, text string, date int64) int {
		msg++
		f.push(map[string]any{"message": message(group, msg, from, date, text)})
		return msg
	}
	userIs := func(id int64) func(apiCall) bool {
		return func(c apiCall) bool { return c.Params.Get("user_id") == strconv.FormatInt(id, 10) }
	}
	command := func(text string) string {
		msg++
		id := msg
		f.push(map[string]any{"message": message(deskChat, id, alice, t0+500, text)})
		return f.waitFor("sendMessage", 1, func(c apiCall) bool {
			return strings.Contains(c.Params.Get("reply_parameters"), fmt.Sprintf(`"message_id":%d}`, id))
		}).Params.Get("text")
	}

	t.Run("a group flood is muted, through a 429", func(t *testing.T) {
		f.fail("restrictChatMember", 429, "Too Many Requests: retry after 1", 1)
		var last int
		for i := range 6 {
			last = say(bob, fmt.Sprintf("spam %d", i), t0+int64(i))
		}
		mute := f.waitFor("restrictChatMember", 2, userIs(bob.id))
		if mute.Params.Get("chat_id") != strconv.FormatInt(group.id, 10) {
			t.Errorf("muted in chat %s", mute.Params.Get("chat_id"))
		}
		until, _ := strconv.ParseInt(mute.Params.Get("until_date"), 10, 64)
		if d := time.Until(time.Unix(until, 0)); d < 9*time.Minute || d > 11*time.Minute {
			t.Errorf("muted for %s, want 10m", d)
		}
		f.waitFor("deleteMessage", 1, func(c apiCall) bool { return c.Params.Get("message_id") == strconv.Itoa(last) })
		// Muted: the mute says it, no warning on top.
		if n := f.count("sendMessage", inChat(group.id)); n != 0 {
			t.Errorf("%d warnings to a muted author", n)
		}
	})

	var caseID string
	var card map[string]any
	t.Run("a forwarded message becomes a card on the desk", func(t *testing.T) {
		scam := say(carol, "gagnez des cadeaux sur scam.example", t0+60)
		sent := f.waitFor("sendMessage", 1, func(c apiCall) bool {
			return c.Params.Get("chat_id") == strconv.FormatInt(deskChat.id, 10) && strings.Contains(c.Params.Get("text"), "scam link")
		})
		markup := sent.Params.Get("reply_markup")
		i := strings.Index(markup, `"callback_data":"v1:`)
		if i < 0 {
			t.Fatalf("card without buttons: %s", markup)
		}
		data := markup[i+len(`"callback_data":"`):]
		data = data[:strings.IndexByte(data, '"')]
		caseID, _, _ = parseCallback(data)
		card = map[string]any{"message_id": sent.MsgID, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0 + 60, "text": "card"}
		if cs, _ := st.Case(context.Background(), caseID); cs.Status != store.CaseOpen || cs.Event.ID != fmtID(group.id, scam) {
			t.Errorf("stored case = %+v", cs)
		}
		// The card is recorded once posted: a decision before that is shown
		// on it by the delivery, which does not know the CM's name.
		testsync.Eventually(t, "the card recorded", func() bool {
			refs, _ := st.CaseCards(context.Background(), caseID)
			return len(refs) == 1
		})
	})

	t.Run("the same button from a stranger is refused", func(t *testing.T) {
		f.push(callback("q-stranger", mallory, card, "v1:"+caseID+":delete"))
		answer := f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == "q-stranger" })
		if !strings.Contains(answer.Params.Get("text"), "Sorry") {
			t.Errorf("answer = %q", answer.Params.Get("text"))
		}
		if cs, _ := st.Case(context.Background(), caseID); cs.Status != store.CaseOpen {
			t.Errorf("case = %+v, want it still open", cs)
		}
		if !strings.Contains(logs.String(), "user=telegram:666") {
			t.Errorf("the refusal is not audited")
		}
	})

	t.Run("a listed CM decides the case and the card shows it", func(t *testing.T) {
		f.push(callback("q-cm", alice, card, "v1:"+caseID+":delete"))
		f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == "q-cm" })
		f.waitFor("deleteMessage", 1, func(c apiCall) bool { return c.Params.Get("message_id") == strconv.Itoa(msg) })
		edit := f.waitFor("editMessageText", 1, inChat(deskChat.id))
		if text := edit.Params.Get("text"); !strings.Contains(text, "Deleted") || !strings.Contains(text, "decided by Alice (@alice_cm)") {
			t.Errorf("card = %s", text)
		}
		if cs, _ := st.Case(context.Background(), caseID); cs.Status != store.CaseDecided || cs.Outcome != "delete" || cs.DecidedBy != "telegram:42" {
			t.Errorf("case = %+v", cs)
		}
	})

	t.Run("paused, a rule hit is only forwarded", func(t *testing.T) {
		if got := command("/pause"); !strings.Contains(got, "paused by telegram:42") {
			t.Fatalf("/pause answered %q", got)
		}
		for i := range 6 {
			say(bob, fmt.Sprintf("again %d", i), t0+100+int64(i))
		}
		held := f.waitFor("sendMessage", 1, func(c apiCall) bool {
			return c.Params.Get("chat_id") == strconv.FormatInt(deskChat.id, 10) && strings.Contains(c.Params.Get("text"), "paused: would")
		})
		if !strings.Contains(held.Params.Get("text"), "timeout(10m)") {
			t.Errorf("held case = %s", held.Params.Get("text"))
		}
		if n := f.count("restrictChatMember", nil); n != 2 {
			t.Errorf("%d restrictChatMember calls, want only the first flood's two", n)
		}
	})

	t.Run("status answers", func(t *testing.T) {
		if got := command("/status"); got != "mode: paused, open cases: 1" {
			t.Errorf("/status answered %q", got)
		}
		command("/resume")
		if got := command("/status"); got != "mode: enforce, open cases: 1" {
			t.Errorf("/status answered %q", got)
		}
	})
}
