package telegram

import (
	"context"
	"fmt"
	"html"
	"strconv"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
)

// openCarded opens a case of ev on a, a scam by rule, and returns it and
// its card's message id, as b reads it.
func openCarded(t *testing.T, a, b *instance, ev bot.Event, rule string) (store.Case, string) {
	t.Helper()
	return desktest.OpenCarded(t, a.st, a.mod, b.st, store.Case{Event: ev, Rule: rule, Category: "spam", Reason: "a link to scam.example",
		Suggested: []bot.Action{{Kind: bot.ActDelete}}})
}

// refusedBan is two vigies on one Redis, b reading Telegram's updates, and
// a case of a scam by author opened on a, by rule, whose ban a CM decided on
// a and Telegram refused (vigie lacks the right).
type refusedBan struct {
	f    *fakeBotAPI
	a, b *instance
	ev   bot.Event
	c    store.Case
	card string // the card's message id
}

// refusedBanBy is who decides the ban of a refusedBan.
const refusedBanBy = "telegram:43"

func newRefusedBan(t *testing.T, event int, author, rule string) *refusedBan {
	t.Helper()
	r := &refusedBan{f: newFakeBotAPI(t)}
	in := newInstances(t, r.f, 2)
	r.a, r.b = in[0], in[1]
	run(t, r.b.c, make(chan bot.Event, 10))
	r.f.waitFor("getUpdates", 1, nil)
	r.ev = groupEvent(event, author)
	r.ev.Text = "achetez sur scam.example"
	r.c, r.card = openCarded(t, r.a, r.b, r.ev, rule)
	r.f.fail("banChatMember", 400, "Bad Request: not enough rights to restrict/ban chat member", 0)
	if _, err := r.a.mod.Decide(context.Background(), r.c.ID, "ban", refusedBanBy); err == nil {
		t.Fatal("a ban Telegram refused decided as done")
	}
	return r
}

// TestPressedCardGone: a CM presses Ban on a case's card, posted by another
// vigie on the same Redis, and the card cannot show the decision: a CM
// deleted it meanwhile ("message to edit not found"), or Telegram will not
// edit it any more ("message can't be edited"). The member is banned, the
// case says so, the card's edit is not tried again, and the CM, who would
// look at the card for the outcome, is told in the chat how it stands and
// where to see it. Before, they were told nothing.
func TestPressedCardGone(t *testing.T) {
	f := newFakeBotAPI(t)
	in := newInstances(t, f, 2)
	a, b := in[0], in[1]
	ctx := context.Background()
	run(t, b.c, make(chan bot.Event, 10))
	f.waitFor("getUpdates", 1, nil)

	for n, refusal := range []string{"Bad Request: message to edit not found", "Bad Request: message can't be edited"} {
		t.Run(refusal, func(t *testing.T) {
			author := strconv.Itoa(80 + n)
			ev := groupEvent(30+n, author)
			ev.Text = fmt.Sprintf("achetez sur scam.example (%d)", n)
			c, cardMsg := openCarded(t, a, b, ev, fmt.Sprint("gone", n))
			msg, _ := strconv.Atoi(cardMsg)
			onCard := func(c apiCall) bool { return c.Params.Get("message_id") == cardMsg }
			f.fail("editMessageText", 400, refusal, 0)
			card := map[string]any{"message_id": msg, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0, "text": "Case " + c.ID}
			f.push(callback(fmt.Sprint("cb-gone-", n), alice, card, "v1:"+c.ID+":ban"))
			f.waitFor("banChatMember", 1, func(c apiCall) bool { return c.Params.Get("user_id") == author })

			told := f.waitFor("sendMessage", 1, func(m apiCall) bool {
				return inChat(deskChat.id)(m) && strings.Contains(m.Params.Get("text"), "case "+c.ID+":")
			})
			for _, want := range []string{"Alice", "Banned", refusal, "vigie cases show " + c.ID} {
				if !strings.Contains(html.UnescapeString(told.Params.Get("text")), want) {
					t.Errorf("told %q; want it to say %q", told.Params.Get("text"), want)
				}
			}
			if cs, _ := b.st.Case(ctx, c.ID); cs.Status != store.CaseDecided || cs.Outcome != "ban" || cs.DecidedBy != "telegram:42" {
				t.Errorf("case = %+v", cs)
			}
			if n := f.count("editMessageText", onCard); n != 1 {
				t.Errorf("%d edits of a card Telegram refused, want 1 (no retry)", n)
			}
		})
	}
}

// TestLatePressKeepsTheCardsTruth: a CM's ban, decided on one vigie, is
// refused by Telegram (vigie lacks the right), and the case's card says it
// was not carried out. Another CM's press of Keep on the same card, made
// before the card changed on their phone, reaches the other vigie after:
// they are told who decided what, and the card still says the ban was not
// carried out. Before, the late press wrote the case on the card again
// without its note: "Banned", as if done.
func TestLatePressKeepsTheCardsTruth(t *testing.T) {
	r := newRefusedBan(t, 40, "90", "late")
	f, b, c, cardMsg := r.f, r.b, r.c, r.card
	ctx := context.Background()
	onCard := func(c apiCall) bool { return c.Params.Get("message_id") == cardMsg }
	// what Telegram refused in a CM's words, its answer kept in brackets
	const refused = "Not carried out: Telegram refused: vigie lacks the Ban users right in this group: make it an administrator with it " +
		"[telegram 400: not enough rights to restrict/ban chat member]"
	if got := f.waitFor("editMessageText", 1, onCard).Params.Get("text"); !strings.Contains(got, refused) {
		t.Fatalf("card after the refused ban:\n%s\nwant %q in it", got, refused)
	}

	msg, _ := strconv.Atoi(cardMsg)
	card := map[string]any{"message_id": msg, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0, "text": "Case " + c.ID}
	f.push(callback("cb-late", alice, card, "v1:"+c.ID+":keep"))
	f.waitFor("sendMessage", 1, func(m apiCall) bool {
		return inChat(deskChat.id)(m) && strings.Contains(m.Params.Get("text"), "already decided by")
	})
	testsync.Eventually(t, "the late press's work over", func() bool { return b.c.work.Busy() == 0 })
	edits := f.CallsOf("editMessageText")
	var last string
	for _, e := range edits {
		if onCard(e) {
			last = e.Params.Get("text")
		}
	}
	if !strings.Contains(last, "Banned") || !strings.Contains(last, refused) {
		t.Errorf("card after the late press:\n%s", last)
	}
	if cs, _ := b.st.Case(ctx, c.ID); cs.Outcome != "ban" || cs.DecidedBy != refusedBanBy {
		t.Errorf("case = %+v", cs)
	}
}
