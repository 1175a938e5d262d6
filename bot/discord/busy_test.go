package discord

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// Discord shows "This interaction failed" unless an interaction is answered
// within three seconds. With every desk worker busy (bans Discord is slow to
// carry out), a command and a card's button are still acknowledged at once:
// before any of the busy work is done, as the fake sees it, with no clock.
// Their work is done once a worker is free, and answered then.
func TestInteractionsAcknowledgedWhileWorkersBusy(t *testing.T) {
	w := newModWorld(t)
	busy, release := busyWorkers(t, w)

	w.f.Dispatch("INTERACTION_CREATE", slash("972000000000000001", cm, "status"))
	w.f.Dispatch("INTERACTION_CREATE", press("972000000000000002", cm, "990000000000000001", customID("c-404", "keep")))
	for _, id := range []string{"972000000000000001", "972000000000000002"} {
		w.f.WaitFor(t, "POST", "/interactions/"+id+"/", 1, nil)
	}
	for _, id := range busy {
		if n := w.f.Count("PATCH", "/webhooks/"+appID+"/tok-"+id); n != 0 {
			t.Errorf("command %s answered before the acknowledgements: the busy work was not busy", id)
		}
	}
	if n := w.f.Count("PATCH", "/webhooks/"+appID+"/tok-972000000000000001") + w.f.Count("POST", "/webhooks/"+appID+"/tok-972000000000000002"); n != 0 {
		t.Errorf("%d answers while every worker was busy", n)
	}

	release()
	for n, id := range busy {
		if got := told(t, w.f, id); got != fmt.Sprintf("Banned Raider%d.", n) {
			t.Errorf("/ban %s = %q", id, got)
		}
	}
	if got := told(t, w.f, "972000000000000001"); !strings.HasPrefix(got, "mode: enforce") {
		t.Errorf("/vigie status = %q", got)
	}
	if got := told(t, w.f, "972000000000000002"); !strings.Contains(got, "c-404") {
		t.Errorf("press on an unknown case = %q", got)
	}
}

// A press acknowledged while every worker is busy, when vigie stops before a
// worker is free: its author is told nothing was done, rather than left with
// an acknowledgement and no outcome. The work under way is carried out.
func TestInteractionAcknowledgedThenStopped(t *testing.T) {
	w := newModWorld(t)
	busy, release := busyWorkers(t, w)
	w.f.Dispatch("INTERACTION_CREATE", slash("972000000000000003", cm, "pause"))
	w.f.WaitFor(t, "POST", "/interactions/972000000000000003/", 1, nil)
	w.stop()
	if got := told(t, w.f, "972000000000000003"); !strings.Contains(got, "nothing was done") {
		t.Errorf("/vigie pause after the stop = %q", got)
	}
	release()
	for n, id := range busy {
		if got := told(t, w.f, id); got != fmt.Sprintf("Banned Raider%d.", n) {
			t.Errorf("/ban %s = %q", id, got)
		}
	}
}

// busyWorkers makes every desk worker of w busy: moderators' bans that the
// fake Discord holds until release. busy are their interactions.
func busyWorkers(t *testing.T, w *modWorld) (busy []string, release func()) {
	t.Helper()
	release = w.f.Hold(func(c discordfake.Call) bool {
		return c.Method == "PUT" && strings.HasPrefix(c.Path, "/guilds/"+guildID+"/bans/")
	})
	for n := range maxDeskWork {
		id := fmt.Sprintf("97100000000000%04d", n)
		raider := user{id: snowflake(t0.AddDate(-1, 0, 0), 200+n), name: fmt.Sprintf("Raider%d", n)}
		w.f.Dispatch("INTERACTION_CREATE", modSlash(id, mod, permBan, "ban", &raider))
		busy = append(busy, id)
	}
	// One ban waits on Discord, the others on discordgo's bucket of the
	// guild's bans behind it.
	w.f.WaitFor(t, "PUT", "/guilds/"+guildID+"/bans/", 1, nil)
	testsync.Eventually(t, "every desk worker busy", func() bool { return w.c.work.Busy() == maxDeskWork })
	return busy, release
}
