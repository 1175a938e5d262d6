package discord

import (
	"strings"
	"testing"
	"time"
)

// TestPressForACaseVigieDoesNotKnow: a moderator presses a button of a card
// whose case the store does not know (forgotten after 90 days, or from
// before the store was emptied, or another vigie's with a store of its
// own). Nothing is done, the moderator is told why in words, and the card's
// buttons are taken off, its text left, so that it is not pressed for
// nothing again. Before, they read "Could not decide case c-…: … not
// found" and the buttons stayed.
func TestPressForACaseVigieDoesNotKnow(t *testing.T) {
	w := newModWorld(t)
	const caseID = "c-zzzzz-000001"
	card := snowflake(time.Now(), 5)
	id := snowflake(time.Now(), 81)
	w.f.Dispatch("INTERACTION_CREATE", press(id, cm, card, customID(caseID, "ban")))
	if got := told(t, w.f, id); !strings.Contains(got, "Nothing was done: vigie does not know case "+caseID) || !strings.Contains(got, "/vigie queue lists the open cases. The card's buttons are taken off.") {
		t.Errorf("told %q", got)
	}
	drop := w.f.WaitFor(t, "PATCH", "/channels/"+deskID+"/messages/"+card, 1, nil)
	if comps, ok := drop.Body["components"].([]any); !ok || len(comps) != 0 {
		t.Errorf("buttons not taken off: %s", drop.Raw)
	}
	if _, ok := drop.Body["content"]; ok {
		t.Errorf("the card's text written again: %s", drop.Raw)
	}
	if n := w.f.Count("PUT", "/guilds/"+guildID+"/bans/"); n != 0 {
		t.Errorf("%d bans for a case vigie does not know", n)
	}
}
