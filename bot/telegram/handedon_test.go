package telegram

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestPollerHandsOnAJoinAskedOnce: a poller stops with a new member's join
// in hand, its verification asked (held, prompt posted, timer set) and its
// events not judged; the next poller, on the same store, hands the join on
// to the rules, still unverified, but does not hold the member, post a
// second prompt or move their deadline. Before, the member got two prompts.
func TestPollerHandsOnAJoinAskedOnce(t *testing.T) {
	f := newFakeBotAPI(t)
	cfg := Config{PollTimeout: time.Second, Chats: fixtureChats, ReportsJudged: true, DrainTimeout: time.Millisecond}
	st := memory.New()
	clock := &fakeClock{t: time.Unix(t0, 0)}
	verify := func(c *Client) {
		c.SetVerify(&Verify{Timeout: 5 * time.Minute, Kick: true, Button: "I'm not a robot", Pending: st, Now: clock.now,
			Prompt: func(name string) string { return "Welcome " + name + ", press within 5m." }})
	}
	a, _ := newTestClient(t, f, cfg)
	knowAdmins(t, a, group.id)
	verify(a)
	inbox := newSharedInbox(3000)
	join := joins(bob, t0)
	join["update_id"] = 3000
	f.push(join)
	out := make(chan bot.Event) // judging held: the join taken, its profile not
	stop := runPoller(t, a, out, inbox)
	first := testsync.Next(t, out)
	if first.Kind != bot.KindJoin {
		t.Fatalf("first event %+v, want the join", first)
	}
	f.waitFor("sendMessage", 1, inChat(group.id))
	waitPending(t, st, "7", true)
	p, _, _ := st.TakePending(context.Background(), Platform, itoa(group.id), "7")
	if err := st.PutPending(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	stop()
	if got := inbox.ids(); got != "[3000]" {
		t.Fatalf("inbox %s after the poller stopped with the join not judged", got)
	}

	clock.add(time.Minute)
	b, logs := newTestClient(t, f, cfg)
	knowAdmins(t, b, group.id)
	verify(b)
	out2 := make(chan bot.Event, 8)
	runPoller(t, b, out2, inbox)
	ev := testsync.Next(t, out2)
	if ev.Kind != bot.KindJoin || !ev.Author.Unverified {
		t.Fatalf("handed on %+v, want the unverified join", ev)
	}
	// The same id: the store drops it as a duplicate if it was judged, and a
	// join raid's counters count it once.
	if ev.ID != first.ID {
		t.Errorf("the join handed on is event %q, first %q", ev.ID, first.ID)
	}
	testsync.Eventually(t, "the handed-on join's verification looked at", func() bool {
		l := logs.String()
		return strings.Contains(l, "asked already on this join") || strings.Contains(l, "new member asked")
	})
	if n := f.count("sendMessage", inChat(group.id)); n != 1 {
		t.Errorf("%d prompts posted to the new member, want 1", n)
	}
	if n := f.count("restrictChatMember", nil); n != 1 {
		t.Errorf("the new member held %d times, want once", n)
	}
	if n := f.count("deleteMessage", nil); n != 0 {
		t.Errorf("%d prompts deleted, want none", n)
	}
	got, ok, _ := st.TakePending(context.Background(), Platform, itoa(group.id), "7")
	if !ok || !got.Deadline.Equal(p.Deadline) || got.Prompt != p.Prompt {
		t.Errorf("pending %+v (%v), want the first one %+v", got, ok, p)
	}
}

// TestPollerDrainRemovesTogether: the updates whose events are judged after
// the poller stopped (a SIGTERM's drain) leave the inbox together, not
// each in a call of its own. Before, twelve updates cost twelve calls.
func TestPollerDrainRemovesTogether(t *testing.T) {
	const n = 12
	c, _, inbox, evs := drained(t, n)
	inbox.mu.Lock()
	before := inbox.removals
	inbox.mu.Unlock()
	for i := range evs {
		c.Judged(&evs[i])
	}
	if got := inbox.ids(); got != "[]" {
		t.Fatalf("inbox %s once every event of the drain is judged, want it empty", got)
	}
	inbox.mu.Lock()
	calls := inbox.removals - before
	inbox.mu.Unlock()
	if calls != 1 {
		t.Errorf("%d calls to remove the %d updates judged during the drain, want 1", calls, n)
	}
}
