package discord

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
)

// TestInteractionPastDiscordsThreeSeconds: a moderator's press or command
// reaches vigie more than three seconds after it was made (a slow gateway,
// a resumed session's events), and Discord takes no answer for it any more
// (10062 Unknown interaction): the moderator saw "This interaction
// failed". The press is carried out all the same, and the moderator is
// told in the desk channel, once, naming them: what the press came to, or
// the command's answer. Before, the answers were only logged, and the press
// looked ignored.
func TestInteractionPastDiscordsThreeSeconds(t *testing.T) {
	f := newFakeDiscord(t)
	in := newInstances(t, f, 1)
	a := in[0]
	ctx := context.Background()
	run(t, f, a.c, make(chan bot.Event, 10), allPerms)
	// the gateway hands vigie the interactions after Discord's three seconds
	const age = discordfake.InitialResponseTime + 2*time.Second
	late := time.Now().Add(-age)
	inChannel := func() int { return f.Count("POST", "/channels/"+deskID+"/messages") }

	// toldOnce waits for the one message in the desk channel after before,
	// for the interaction id, and returns it.
	toldOnce := func(t *testing.T, before int, id string) string {
		t.Helper()
		m := f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", before+1, nil)
		testsync.Eventually(t, "the interaction's work over", func() bool { return a.c.work.Busy() == 0 })
		if n := inChannel(); n != before+1 {
			t.Errorf("%d messages in the channel for one interaction, want 1:\n%s", n-before, f.Summary())
		}
		if n := f.Count("POST", "/webhooks/"+appID+"/tok-"+id); n != 0 {
			t.Errorf("%d follow-ups on an interaction Discord took no answer for", n)
		}
		return fmt.Sprint(m.Body["content"])
	}

	t.Run("a press", func(t *testing.T) {
		ev := bot.Event{ID: "1601", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
			Author: bot.Author{ID: "1600", Name: "Bob"}, Text: "free nitro on https://scam.example/gift"}
		c, card := openCarded(t, a, a, ev, "lost-press")
		before := inChannel()
		id := snowflake(late, 80)
		f.DispatchAfter("INTERACTION_CREATE", press(id, mod, card, customID(c.ID, "keep")), age)
		got := toldOnce(t, before, id)
		for _, want := range []string{"Mo: ", "press of keep on case " + c.ID, "This interaction failed", "taken all the same", "The card shows how it stands."} {
			if !strings.Contains(got, want) {
				t.Errorf("told in the channel %q; want it to say %q", got, want)
			}
		}
		if cs, _ := a.st.Case(ctx, c.ID); cs.Status != store.CaseDecided || cs.Outcome != "keep" {
			t.Errorf("case = %+v", cs)
		}
	})
	t.Run("a press of a case decided", func(t *testing.T) {
		ev := bot.Event{ID: "1611", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
			Author: bot.Author{ID: "1610", Name: "Bob"}, Text: "free nitro on https://scam.example/gift"}
		c, card := openCarded(t, a, a, ev, "lost-decided")
		if _, err := a.mod.Decide(ctx, c.ID, "keep", "discord:"+cm.id); err != nil {
			t.Fatal(err)
		}
		before := inChannel()
		id := snowflake(late, 81)
		f.DispatchAfter("INTERACTION_CREATE", press(id, mod, card, customID(c.ID, "ban")), age)
		got := toldOnce(t, before, id)
		if !strings.HasPrefix(got, "Mo: ") || !strings.Contains(got, "already decided by discord:"+cm.id) {
			t.Errorf("told in the channel %q; want Mo told who decided", got)
		}
	})
	t.Run("a command", func(t *testing.T) {
		before := inChannel()
		id := snowflake(late, 82)
		f.DispatchAfter("INTERACTION_CREATE", slash(id, mod, "status"), age)
		got := toldOnce(t, before, id)
		for _, want := range []string{"Mo: ", "/vigie status", "The application did not respond", "done all the same", "\nmode: enforce"} {
			if !strings.Contains(got, want) {
				t.Errorf("told in the channel %q; want it to say %q", got, want)
			}
		}
	})
}
