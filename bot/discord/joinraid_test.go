package discord

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// verifyingWorld is newModWorld verifying new members in #general, with every
// desk worker busy (busyWorkers).
func verifyingWorld(t *testing.T) (w *modWorld, busy []string, release func()) {
	t.Helper()
	w = newModWorld(t)
	w.c.SetVerify(&Verify{Timeout: 5 * time.Minute, Kick: true, Button: "I'm not a robot", Channel: general, Pending: w.st,
		Now: func() time.Time { return t0 }, Prompt: func(name string) string { return "Welcome " + name }})
	busy, release = busyWorkers(t, w)
	return w, busy, release
}

// raider is the nth account of a raid.
func raider(n int) user {
	return user{id: snowflake(t0.AddDate(0, 0, -1), 1000+n), name: fmt.Sprintf("Raider%d", n)}
}

// nextText is the next event handed to the rules that carries text,
// passing the raid's joins and profiles; joined gathers those.
func nextText(t *testing.T, out chan bot.Event, joined map[string]bot.Event) bot.Event {
	t.Helper()
	for {
		ev := testsync.Next(t, out)
		if ev.Kind == bot.KindJoin {
			joined[ev.Author.ID] = ev
		}
		if ev.Kind == bot.KindMessage {
			return ev
		}
	}
}

// busyDone counts the busy work done: the bans answered.
func busyDone(w *modWorld, busy []string) int {
	n := 0
	for _, id := range busy {
		n += w.f.Count("PATCH", "/webhooks/"+appID+"/tok-"+id)
	}
	return n
}

// A new member's verification waits for a desk worker apart from the
// gateway's reading loop, which runs the handlers (SyncEvents): with every
// worker busy, the join still reaches the rules, unverified, and a message
// after it too, before any of the busy work is done, as the fake sees it,
// with no clock. The member is asked once a worker is free.
func TestVerifyWhileWorkersBusy(t *testing.T) {
	w, busy, release := verifyingWorld(t)
	w.f.Dispatch("GUILD_MEMBER_ADD", memberObject(raider(0), nil, t0))
	w.f.Dispatch("MESSAGE_CREATE", message("900000000000000901", general, bob, t0, "hello after the join"))

	joined := map[string]bot.Event{}
	if ev := nextText(t, w.out, joined); ev.Text != "hello after the join" {
		t.Fatalf("event %q, want the message", ev.Text)
	}
	if ev, ok := joined[raider(0).id]; !ok || !ev.Author.Unverified {
		t.Errorf("the join reached the rules as %+v, want unverified", ev)
	}
	if n, held := busyDone(w, busy), w.f.Count("PATCH", "/guilds/"+guildID+"/members/"); n != 0 || held != 0 || w.c.work.Busy() != maxDeskWork {
		t.Fatalf("the message reached the rules only once busy work was done: %d bans answered, %d members held, %d workers busy", n, held, w.c.work.Busy())
	}

	release()
	if held := w.f.WaitFor(t, "PATCH", "/guilds/"+guildID+"/members/"+raider(0).id, 1, nil); held.Body["communication_disabled_until"] == nil {
		t.Errorf("hold = %s", held.Raw)
	}
	pendingIs(t, w.st, raider(0).id, true)
}

// A join raid is bounded: maxAsksWaiting members wait to be asked, and the
// next are let in without being asked: their joins still reach the rules
// (unverified), each is audited and counted, and the desk is told once as
// the wave begins and once, with the count, when the line has drained. The
// members waiting are all asked.
func TestVerifyAsksWaitingAreBounded(t *testing.T) {
	w, busy, release := verifyingWorld(t)
	for n := range maxAsksWaiting + 2 {
		w.f.Dispatch("GUILD_MEMBER_ADD", memberObject(raider(n), nil, t0))
	}
	w.f.Dispatch("MESSAGE_CREATE", message("900000000000000902", general, bob, t0, "hello during the raid"))

	joined := map[string]bot.Event{}
	if ev := nextText(t, w.out, joined); ev.Text != "hello during the raid" {
		t.Fatalf("event %q, want the message", ev.Text)
	}
	if len(joined) != maxAsksWaiting+2 {
		t.Errorf("%d joins reached the rules, want %d", len(joined), maxAsksWaiting+2)
	}
	for id, ev := range joined {
		if !ev.Author.Unverified {
			t.Errorf("the join of %s reached the rules verified", id)
		}
	}
	for i, n := range []int{maxAsksWaiting, maxAsksWaiting + 1} {
		want := fmt.Sprintf(`msg="verify: new member not asked, too many waiting" platform=discord audit=true guild=%s user=%s name=Raider%d waiting=%d not_asked=%d`,
			guildID, raider(n).id, n, maxAsksWaiting, i+1)
		if !strings.Contains(w.logs.String(), want) {
			t.Errorf("the member not asked is not audited: want\n%s\nin\n%s", want, w.logs)
		}
	}
	toDesk := func(prefix string) func(discordfake.Call) bool {
		return func(c discordfake.Call) bool { s, _ := c.Body["content"].(string); return strings.HasPrefix(s, prefix) }
	}
	begun := w.f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 1, toDesk("Verification: over 256 new members are waiting"))
	if !strings.Contains(fmt.Sprint(begun.Body["content"]), guildID) {
		t.Errorf("the desk told %s, without the server", begun.Raw)
	}
	if n, held := busyDone(w, busy), w.f.Count("PATCH", "/guilds/"+guildID+"/members/"); n != 0 || held != 0 || w.c.work.Busy() != maxDeskWork {
		t.Fatalf("the raid reached the rules only once busy work was done: %d bans answered, %d members held, %d workers busy", n, held, w.c.work.Busy())
	}

	release()
	over := fmt.Sprint(w.f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 1, toDesk("Verification: the wave is over")).Body["content"])
	if want := fmt.Sprintf("2 new members were let in without being asked (server %s: 2)", guildID); !strings.Contains(over, want) {
		t.Errorf("the desk told %q, want %q", over, want)
	}
	w.f.WaitFor(t, "PATCH", "/guilds/"+guildID+"/members/", maxAsksWaiting, nil)
	held := map[string]bool{}
	for _, c := range w.f.Calls("PATCH", "/guilds/"+guildID+"/members/") {
		held[strings.TrimPrefix(c.Path, "/guilds/"+guildID+"/members/")] = true
	}
	for n := range maxAsksWaiting + 2 {
		if held[raider(n).id] != (n < maxAsksWaiting) {
			t.Errorf("raider %d held: %v", n, held[raider(n).id])
		}
	}
	pendingIs(t, w.st, raider(maxAsksWaiting-1).id, true)
	begins := 0
	for _, c := range w.f.Calls("POST", "/channels/"+deskID+"/messages") {
		if toDesk("Verification: over")(c) {
			begins++
		}
	}
	if n := begins; n != 1 {
		t.Errorf("the desk was told %d times that the wave began, want once", n)
	}
}

// The interactions waiting for a worker are bounded: with every worker busy
// and maxInteractionsWaiting waiting, one more is not done: it is answered
// at once "too busy", so that Discord does not show "This interaction
// failed", and audited. A stranger's press (a card's button, or a new
// member's button pressed by someone else) is refused at once, before any
// of the busy work is done, taking no place. The interactions waiting are
// all carried out once the workers are free.
func TestInteractionsWaitingAreBounded(t *testing.T) {
	w := newModWorld(t)
	busy, release := busyWorkers(t, w)
	var waiting []string
	for n := range maxInteractionsWaiting {
		id := fmt.Sprintf("97300000000000%04d", n)
		w.f.Dispatch("INTERACTION_CREATE", press(id, cm, "990000000000000001", customID("c-404", "keep")))
		waiting = append(waiting, id)
		if ack := w.f.WaitFor(t, "POST", "/interactions/"+id+"/", 1, nil); ack.Body["type"] != float64(6) {
			t.Fatalf("press %s acknowledged %s", id, ack.Raw)
		}
	}
	const last, stranger, other = "974000000000000001", "974000000000000002", "974000000000000003"
	w.f.Dispatch("INTERACTION_CREATE", press(last, cm, "990000000000000001", customID("c-404", "keep")))
	w.f.Dispatch("INTERACTION_CREATE", press(stranger, mallory, "990000000000000001", customID("c-404", "ban")))
	w.f.Dispatch("INTERACTION_CREATE", verifyPress(other, mallory, "990000000000000002", "vf:"+guildID+":"+newbie.id))

	for id, want := range map[string]string{
		last:     "vigie is too busy: nothing was done. Try again in a moment.",
		stranger: "Sorry, only the moderators of this server can do that.",
		other:    "This button is not for you.",
	} {
		r := w.f.WaitFor(t, "POST", "/interactions/"+id+"/", 1, nil)
		d, _ := r.Body["data"].(map[string]any)
		if r.Body["type"] != float64(4) || d["content"] != want || d["flags"] != float64(64) {
			t.Errorf("interaction %s answered %s, want at once, only for its author: %q", id, r.Raw, want)
		}
	}
	if n := busyDone(w, busy); n != 0 || w.c.work.Busy() != maxDeskWork {
		t.Fatalf("the answers came only once busy work was done: %d bans answered, %d workers busy", n, w.c.work.Busy())
	}
	for _, want := range []string{
		`msg="desk: button not done, too many waiting for a worker" platform=discord audit=true user=discord:` + cm.id,
		`msg="desk: refused a stranger" platform=discord audit=true user=discord:` + mallory.id,
		`msg="verify: someone else pressed a new member's button" platform=discord guild=` + guildID + ` user=` + newbie.id + ` audit=true by=` + mallory.id,
	} {
		if !strings.Contains(w.logs.String(), want) {
			t.Errorf("not audited: want\n%s\nin\n%s", want, w.logs)
		}
	}

	release()
	for _, id := range waiting {
		if got := told(t, w.f, id); !strings.Contains(got, "c-404") {
			t.Errorf("press %s once a worker was free = %q", id, got)
		}
	}
}

// A GUILD_CREATE (a new session after a reconnection) has /vigie registered
// on a desk worker apart from the gateway's reading loop: with every worker
// busy, a message after it still reaches the rules before any of the busy
// work is done. Once a worker is free it registers nothing twice.
func TestGuildCreateWhileWorkersBusy(t *testing.T) {
	w := newModWorld(t)
	busy, release := busyWorkers(t, w)
	w.f.Dispatch("GUILD_CREATE", guildCreate(allPerms))
	w.f.Dispatch("MESSAGE_CREATE", message("900000000000000903", general, bob, t0, "hello after the guild"))

	if ev := nextText(t, w.out, map[string]bot.Event{}); ev.Text != "hello after the guild" {
		t.Fatalf("event %q, want the message", ev.Text)
	}
	if n := busyDone(w, busy); n != 0 || w.c.work.Busy() != maxDeskWork {
		t.Fatalf("the message reached the rules only once busy work was done: %d bans answered, %d workers busy", n, w.c.work.Busy())
	}
	release()
	for n, id := range busy {
		if got := told(t, w.f, id); got != fmt.Sprintf("Banned Raider%d.", n) {
			t.Errorf("/ban %s = %q", id, got)
		}
	}
}
