package discord

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
)

// openCarded opens a case of ev on a, a scam by rule, and returns it and
// its card's message id, as b reads it.
func openCarded(t *testing.T, a, b *instance, ev bot.Event, rule string) (store.Case, string) {
	t.Helper()
	return desktest.OpenCarded(t, a.st, a.mod, b.st, store.Case{Event: ev, Rule: rule, Category: "spam", Reason: "scam link",
		Suggested: []bot.Action{{Kind: bot.ActDelete}}})
}

// refusedBan is two vigies on one Redis, b reading Discord's gateway, and
// a case of a scam by author opened on a, by rule, whose ban the moderator
// decided on a and Discord refused (403 Missing Permissions).
type refusedBan struct {
	f    *discordfake.Server
	a, b *instance
	ev   bot.Event
	c    store.Case
	card string // the card's message id
	by   string // who decided the ban
}

func newRefusedBan(t *testing.T, author, eventID, rule string) *refusedBan {
	t.Helper()
	r := &refusedBan{f: newFakeDiscord(t), by: "discord:" + mod.id}
	in := newInstances(t, r.f, 2)
	r.a, r.b = in[0], in[1]
	run(t, r.f, r.b.c, make(chan bot.Event, 10), allPerms)
	r.ev = bot.Event{ID: eventID, Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
		Author: bot.Author{ID: author, Name: "Bob"}, Text: "free nitro on https://scam.example/gift"}
	r.c, r.card = openCarded(t, r.a, r.b, r.ev, rule)
	r.f.Fail("PUT", "/guilds/"+guildID+"/bans/"+author, http.StatusForbidden, `{"message": "Missing Permissions", "code": 50013}`, nil, 1)
	if _, err := r.a.mod.Decide(context.Background(), r.c.ID, "ban", r.by); err == nil {
		t.Fatal("a ban Discord refused decided as done")
	}
	return r
}

// TestPressedCardGone: a moderator presses Ban on a case's card, posted by
// another vigie on the same Redis, and the card is gone by the time the
// decision is to show on it (a moderator deleted it: Discord answers the
// edit 10008 Unknown Message). The member is banned, the case says so, the
// card's edit is not tried again, and the moderator, who would look at the
// card for the outcome, is told how it stands and where to see it: by a
// follow-up only they see while the press's token lasts (15 minutes), in
// the desk channel after. Before, they were told nothing.
func TestPressedCardGone(t *testing.T) {
	f := newFakeDiscord(t)
	in := newInstances(t, f, 2)
	a, b := in[0], in[1]
	ctx := context.Background()
	run(t, f, b.c, make(chan bot.Event, 10), allPerms)

	for n, tc := range []struct {
		name    string
		pressed time.Time // the press's id says when it was made
	}{
		{"a press of now: a follow-up", time.Now()},
		{"a press past its token's 15 minutes: in the channel", time.Now().Add(-20 * time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			author := fmt.Sprint(1300 + n)
			ev := bot.Event{ID: fmt.Sprint(1400 + n), Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
				Author: bot.Author{ID: author, Name: "Bob"}, Text: "free nitro on https://scam.example/gift"}
			c, cardMsg := openCarded(t, a, b, ev, fmt.Sprint("gone", n))
			card := "/channels/" + deskID + "/messages/" + cardMsg
			f.Fail("PATCH", card, http.StatusNotFound, `{"message": "Unknown Message", "code": 10008}`, nil, 1)
			channelMsgs := f.Count("POST", "/channels/"+deskID+"/messages")

			id := snowflake(tc.pressed, 60+n)
			f.Dispatch("INTERACTION_CREATE", press(id, mod, cardMsg, customID(c.ID, "ban")))
			f.WaitFor(t, "PUT", "/guilds/"+guildID+"/bans/"+author, 1, nil)

			var got string
			if n == 0 {
				got = told(t, f, id)
			} else {
				m := f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", channelMsgs+1, nil)
				got = fmt.Sprint(m.Body["content"])
				if !strings.HasPrefix(got, "Mo: ") {
					t.Errorf("the message in the channel does not name the presser: %q", got)
				}
				if n := f.Count("POST", "/webhooks/"+appID+"/tok-"+id); n != 0 {
					t.Errorf("%d follow-ups on a token past its 15 minutes", n)
				}
			}
			for _, want := range []string{"Case " + c.ID, "Banned", "Unknown Message", "vigie cases show " + c.ID} {
				if !strings.Contains(got, want) {
					t.Errorf("told %q; want it to say %q", got, want)
				}
			}
			if cs, _ := b.st.Case(ctx, c.ID); cs.Status != store.CaseDecided || cs.Outcome != "ban" || cs.DecidedBy != "discord:"+mod.id {
				t.Errorf("case = %+v", cs)
			}
			if n := f.Count("PATCH", card); n != 1 {
				t.Errorf("%d edits of a card Discord said is gone, want 1 (no retry)", n)
			}
		})
	}
}

// TestLatePressKeepsTheCardsTruth: a moderator's ban, decided on one vigie,
// is refused by Discord (Missing Permissions), and the case's card says it
// was not carried out. Another moderator's press of Keep on the same card,
// made before the card changed on their phone, reaches the other vigie
// after: they are told who decided what, and the card still says the ban
// was not carried out. Before, the late press wrote the case on the card
// again without its note: "Banned", as if done.
func TestLatePressKeepsTheCardsTruth(t *testing.T) {
	r := newRefusedBan(t, "1500", "1501", "late")
	f, b, c, cardMsg := r.f, r.b, r.c, r.card
	ctx := context.Background()
	card := "/channels/" + deskID + "/messages/" + cardMsg
	if got := fmt.Sprint(f.WaitFor(t, "PATCH", card, 1, nil).Body["content"]); !strings.Contains(got, "Not carried out") {
		t.Fatalf("card after the refused ban:\n%s", got)
	}

	id := snowflake(time.Now(), 70)
	f.Dispatch("INTERACTION_CREATE", press(id, cm, cardMsg, customID(c.ID, "keep")))
	if got := told(t, f, id); !strings.Contains(got, "already decided by discord:"+mod.id) {
		t.Errorf("told the late moderator %q", got)
	}
	testsync.Eventually(t, "the late press's work over", func() bool { return b.c.work.Busy() == 0 })
	edits := f.Calls("PATCH", card)
	if got := fmt.Sprint(edits[len(edits)-1].Body["content"]); !strings.Contains(got, "Banned") || !strings.Contains(got, "Not carried out") {
		t.Errorf("card after the late press:\n%s", got)
	}
	if cs, _ := b.st.Case(ctx, c.ID); cs.Outcome != "ban" || cs.DecidedBy != "discord:"+mod.id {
		t.Errorf("case = %+v", cs)
	}
}
