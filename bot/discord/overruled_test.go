package discord

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
)

// TestKeepWhileActionsAreTried: a scam that a rule deletes, times out and
// forwards, while Discord holds its delete (answered once released), or
// answers 500 to it and holds the second try. Its card is posted with the
// actions being tried, and a CM presses keep on it while the delete is
// held. The CM's decision wins: no try is made after it, the timeout is
// never asked, and the case says what became of each action: the delete
// under way when the CM decided, carried out all the same (undo offered),
// or dropped with the timeout.
func TestKeepWhileActionsAreTried(t *testing.T) {
	for _, tt := range []struct {
		name string
		// fail: Discord answers 500 to every delete; the second try is
		// held, and answered 500 once released.
		fail bool
		// wantDeletes is how many deletes Discord was asked for in all.
		wantDeletes int
		wantReason  string
	}{
		{"answered late", false, 1, "decided keep by discord:" + cm.id + " while vigie was acting; carried out before the decision reached it: delete; dropped for the decision: timeout(10m)"},
		{"failing", true, 2, "decided keep by discord:" + cm.id + " while vigie was acting; dropped for the decision: delete, timeout(10m)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeDiscord(t)
			in := newInstances(t, f, 1)[0]
			ctx := in.runDelivering(t, f)

			const msgID = "1800"
			deletes := "/channels/" + general + "/messages/" + msgID
			timeouts := "/guilds/" + guildID + "/members/" + bob.id
			if tt.fail {
				f.FailWhen(func(c discordfake.Call) bool { return c.Method == "DELETE" && c.Path == deletes },
					http.StatusInternalServerError, `{"message": "500: Internal Server Error", "code": 0}`)
			}
			var tries atomic.Int64
			release := f.Hold(func(c discordfake.Call) bool {
				return c.Method == "DELETE" && c.Path == deletes && (!tt.fail || tries.Add(1) == 2)
			})

			handled := in.handleScam(msgID, time.Now(),
				bot.Action{Kind: bot.ActDelete},
				bot.Action{Kind: bot.ActTimeout, Duration: 10 * time.Minute},
				bot.Action{Kind: bot.ActForward, Text: "scam"},
			)

			f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 1, nil)
			id := caseIDOf(t, in.st)
			var card string
			testsync.Eventually(t, "the card recorded", func() bool {
				cards, _ := in.st.CaseCards(ctx, id)
				if len(cards) == 1 {
					card = cards[0].Message
				}
				return card != ""
			})
			// Held: the delete under way when the CM decides.
			f.WaitFor(t, "DELETE", deletes, tt.wantDeletes, nil)

			f.Dispatch("INTERACTION_CREATE", press("960000000000000051", cm, card, customID(id, "keep")))
			testsync.Eventually(t, "the case decided", func() bool {
				c, _ := in.st.Case(ctx, id)
				return c.Status == store.CaseDecided
			})
			select {
			case err := <-handled:
				t.Fatalf("the verdict's actions ended (%v) while Discord held the delete", err)
			default:
			}
			release()
			if err := <-handled; err != nil {
				t.Fatalf("Handle: %v", err)
			}

			if n := f.Count("DELETE", deletes); n != tt.wantDeletes {
				t.Errorf("delete asked %d times, want %d: no try after the decision", n, tt.wantDeletes)
			}
			if n := f.Count("PATCH", timeouts); n != 0 {
				t.Errorf("timeout asked %d times after the CM kept the message, want none", n)
			}
			c, err := in.st.Case(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if c.Outcome != "keep" || c.DecidedBy != "discord:"+cm.id {
				t.Errorf("decision = %s by %s, want keep by the CM", c.Outcome, c.DecidedBy)
			}
			if len(c.Trying) != 0 || !strings.HasSuffix(c.Reason, tt.wantReason) {
				t.Errorf("case reason %q, trying %v; want it to end %q, nothing being tried", c.Reason, c.Trying, tt.wantReason)
			}
			if c.CarriedOut(bot.ActDelete) == tt.fail || c.CarriedOut(bot.ActTimeout) {
				t.Errorf("case carried out: delete %v, timeout %v; want delete %v, no timeout",
					c.CarriedOut(bot.ActDelete), c.CarriedOut(bot.ActTimeout), !tt.fail)
			}
			if open, err := in.st.Cases(ctx, store.CaseOpen); err != nil || len(open) != 0 {
				t.Errorf("open cases = %+v, %v; want none: the CM decided the message's case", open, err)
			}
		})
	}
}

// TestMilderDecisionWhileActionsAreTried: a scam that a rule bans and
// forwards, while Discord fails the ban (500 to the first two tries, the
// second held until the CM decided; it would take a third), or holds the
// delete the rule asks before the ban. A CM presses mute (timeout 1h) on
// its card: a decision on the author replaces every action of the verdict
// on the author still being tried (docs/operations.md's table), the milder
// one the CM chose too. The ban is not tried after the decision, the
// author is timed out once (the decision's), the delete, on the message,
// goes on, and the case says the ban was dropped for the decision.
func TestMilderDecisionWhileActionsAreTried(t *testing.T) {
	for _, tt := range []struct {
		name string
		// deleteFirst: the rule deletes before it bans, and Discord holds
		// the delete; otherwise it fails the first two bans, holding the
		// second.
		deleteFirst bool
		wantBans    int
	}{
		{"timeout replaces the ban being retried", false, 2},
		{"timeout replaces the ban after a held delete", true, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeDiscord(t)
			in := newInstances(t, f, 1)[0]
			ctx := in.runDelivering(t, f)

			const msgID = "1801"
			deletes := "/channels/" + general + "/messages/" + msgID
			bans := "/guilds/" + guildID + "/bans/" + bob.id
			timeouts := "/guilds/" + guildID + "/members/" + bob.id
			acts := []bot.Action{{Kind: bot.ActBan}, {Kind: bot.ActForward, Text: "scam"}}
			var release func()
			heldMethod, held, heldCount := "PUT", bans, 2
			if tt.deleteFirst {
				acts = append([]bot.Action{{Kind: bot.ActDelete}}, acts...)
				release = f.Hold(func(c discordfake.Call) bool { return c.Method == "DELETE" && c.Path == deletes })
				heldMethod, held, heldCount = "DELETE", deletes, 1
			} else {
				f.Fail("PUT", bans, http.StatusInternalServerError, `{"message": "500: Internal Server Error", "code": 0}`, nil, 2)
				var tries atomic.Int64
				release = f.Hold(func(c discordfake.Call) bool {
					return c.Method == "PUT" && c.Path == bans && tries.Add(1) == 2
				})
			}

			handled := in.handleScam(msgID, time.Now(), acts...)

			f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 1, nil)
			id := caseIDOf(t, in.st)
			var card string
			testsync.Eventually(t, "the card recorded", func() bool {
				cards, _ := in.st.CaseCards(ctx, id)
				if len(cards) == 1 {
					card = cards[0].Message
				}
				return card != ""
			})
			f.WaitFor(t, heldMethod, held, heldCount, nil)

			f.Dispatch("INTERACTION_CREATE", press("960000000000000061", cm, card, customID(id, "mute")))
			testsync.Eventually(t, "the case decided", func() bool {
				c, _ := in.st.Case(ctx, id)
				return c.Status == store.CaseDecided
			})
			release()
			if err := <-handled; err != nil {
				t.Fatalf("Handle: %v", err)
			}

			if n := f.Count("PUT", bans); n != tt.wantBans {
				t.Errorf("ban asked %d times, want %d: none after the CM chose a timeout", n, tt.wantBans)
			}
			// The CM's timeout waits for the ban's try under way (one
			// action of a member at a time), then is given.
			f.WaitFor(t, "PATCH", timeouts, 1, nil)
			if n := f.Count("PATCH", timeouts); n != 1 {
				t.Errorf("timeout asked %d times, want once: the CM's", n)
			}
			c, err := in.st.Case(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want := "decided timeout(1h) by discord:" + cm.id + " while vigie was acting; dropped for the decision: ban"
			if c.Outcome != "timeout(1h)" || len(c.Trying) != 0 || !strings.HasSuffix(c.Reason, want) {
				t.Errorf("case: outcome %s, reason %q, trying %v; want timeout(1h), the reason ending %q, nothing being tried",
					c.Outcome, c.Reason, c.Trying, want)
			}
			if c.CarriedOut(bot.ActBan) || c.CarriedOut(bot.ActDelete) != tt.deleteFirst {
				t.Errorf("case carried out: ban %v, delete %v; want no ban, the delete %v",
					c.CarriedOut(bot.ActBan), c.CarriedOut(bot.ActDelete), tt.deleteFirst)
			}
		})
	}
}
