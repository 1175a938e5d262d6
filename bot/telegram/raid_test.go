package telegram

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/memory"
)

// raidDesk runs a client that verifies new members, whose desk workers are
// all busy (holdWorkers), with room for a raid's events.
func raidDesk(t *testing.T) (f *fakeBotAPI, c *Client, st *memory.Store, out chan bot.Event, logs *testsync.Buffer) {
	t.Helper()
	f = newFakeBotAPI(t)
	c, logs = newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	st = memory.New()
	t.Cleanup(func() { st.Close() })
	c.SetVerify(&Verify{Timeout: 5 * time.Minute, Kick: true, Button: "I'm not a robot", Pending: st,
		Now: func() time.Time { return time.Unix(t0, 0) }, Prompt: func(name string) string { return "Welcome " + name }})
	book := newCaseBook()
	desk := c.Desk(book)
	out = make(chan bot.Event, 4*maxAsksWaiting)
	run(t, c, out)
	f.waitFor("getUpdates", 1, nil)
	holdWorkers(t, f, c, desk, book, 0)
	return f, c, st, out, logs
}

// raider is the nth account of a raid.
func raider(n int) tgUser { return tgUser{id: int64(100000 + n), first: fmt.Sprintf("Raider%d", n)} }

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

// A new member's verification waits for a desk worker apart from the
// updates' loop: with every worker busy (Telegram slow to take vigie's
// calls, as in a raid), the join still reaches the rules, unverified, and
// a group message after it too, before any of the busy work is done, as
// the fake sees it, with no clock. The member is asked once a worker is free.
func TestVerifyWhileWorkersBusy(t *testing.T) {
	f, c, st, out, _ := raidDesk(t)
	f.push(joins(raider(0), t0))
	f.push(map[string]any{"message": message(group, 900, bob, t0, "hello after the join")})

	joined := map[string]bot.Event{}
	if ev := nextText(t, out, joined); ev.Text != "hello after the join" {
		t.Fatalf("event %q, want the group message", ev.Text)
	}
	if ev, ok := joined[itoa(raider(0).id)]; !ok || !ev.Author.Unverified {
		t.Errorf("the join reached the rules as %+v, want unverified", ev)
	}
	if n, held := f.count("sendMessage", pressTold), f.count("restrictChatMember", nil); n != 0 || held != 0 || c.work.Busy() != maxDeskWork {
		t.Fatalf("the group message reached the rules only once busy work was done: %d presses told how they went, %d members held, %d workers busy",
			n, held, c.work.Busy())
	}

	f.Release()
	if held := f.waitFor("restrictChatMember", 1, nil); held.Params.Get("user_id") != itoa(raider(0).id) {
		t.Errorf("held %s", held.Params.Get("user_id"))
	}
	waitPending(t, st, itoa(raider(0).id), true)
}

// A join raid is bounded: maxAsksWaiting members wait to be asked, and the
// next are let in without being asked: their joins still reach the rules
// (unverified), each is audited and counted, and the desk is told once as
// the wave begins and once, with the count, when the line has drained. The
// members waiting are all asked.
func TestVerifyAsksWaitingAreBounded(t *testing.T) {
	f, c, st, out, logs := raidDesk(t)
	for n := range maxAsksWaiting + 2 {
		f.push(joins(raider(n), t0))
	}
	f.push(map[string]any{"message": message(group, 900, bob, t0, "hello during the raid")})

	joined := map[string]bot.Event{}
	if ev := nextText(t, out, joined); ev.Text != "hello during the raid" {
		t.Fatalf("event %q, want the group message", ev.Text)
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
		want := fmt.Sprintf(`msg="verify: new member not asked, too many waiting" platform=telegram audit=true chat=%d user=%d name=Raider%d waiting=%d not_asked=%d`,
			group.id, raider(n).id, n, maxAsksWaiting, i+1)
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the member not asked is not audited: want\n%s\nin\n%s", want, logs)
		}
	}
	begun := f.waitFor("sendMessage", 1, func(c apiCall) bool {
		return inChat(deskChat.id)(c) && strings.HasPrefix(c.Params.Get("text"), "Verification: over 256 new members are waiting")
	})
	if !strings.Contains(begun.Params.Get("text"), itoa(group.id)) {
		t.Errorf("the desk told %q, without the chat", begun.Params.Get("text"))
	}
	if n, held := f.count("sendMessage", pressTold), f.count("restrictChatMember", nil); n != 0 || held != 0 || c.work.Busy() != maxDeskWork {
		t.Fatalf("the raid reached the rules only once busy work was done: %d presses told how they went, %d members held, %d workers busy",
			n, held, c.work.Busy())
	}

	f.Release()
	over := f.waitFor("sendMessage", 1, func(c apiCall) bool {
		return inChat(deskChat.id)(c) && strings.HasPrefix(c.Params.Get("text"), "Verification: the wave is over")
	}).Params.Get("text")
	if want := fmt.Sprintf("2 new members were let in without being asked (chat %d: 2)", group.id); !strings.Contains(over, want) {
		t.Errorf("the desk told %q, want %q", over, want)
	}
	f.waitFor("restrictChatMember", maxAsksWaiting, nil)
	held := map[string]bool{}
	for _, call := range f.callsOf("restrictChatMember") {
		held[call.Params.Get("user_id")] = true
	}
	for n := range maxAsksWaiting + 2 {
		if id := itoa(raider(n).id); held[id] != (n < maxAsksWaiting) {
			t.Errorf("raider %d held: %v", n, held[id])
		}
	}
	waitPending(t, st, itoa(raider(maxAsksWaiting-1).id), true)
	if n := f.count("sendMessage", func(c apiCall) bool {
		return inChat(deskChat.id)(c) && strings.HasPrefix(c.Params.Get("text"), "Verification: over")
	}); n != 1 {
		t.Errorf("the desk was told %d times that the wave began, want once", n)
	}
}
