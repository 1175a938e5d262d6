package telegram

import (
	"context"
	"encoding/json"
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
	inbox := &sharedInbox{offset: 3000, kept: map[int]json.RawMessage{}}
	join := joins(bob, t0)
	join["update_id"] = 3000
	f.push(join)
	out := make(chan bot.Event) // judging held: the join taken, its profile not
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.RunPoller(ctx, out, inbox) }()
	if ev := testsync.Next(t, out); ev.Kind != bot.KindJoin {
		t.Fatalf("first event %+v, want the join", ev)
	}
	f.waitFor("sendMessage", 1, inChat(group.id))
	waitPending(t, st, "7", true)
	p, _, _ := st.TakePending(context.Background(), Platform, itoa(group.id), "7")
	if err := st.PutPending(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("RunPoller: %v", err)
	}
	if got := inbox.ids(); got != "[3000]" {
		t.Fatalf("inbox %s after the poller stopped with the join not judged", got)
	}

	clock.add(time.Minute)
	b, logs := newTestClient(t, f, cfg)
	knowAdmins(t, b, group.id)
	verify(b)
	out2 := make(chan bot.Event, 8)
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan error, 1)
	go func() { done2 <- b.RunPoller(ctx2, out2, inbox) }()
	defer func() {
		cancel2()
		<-done2
	}()
	ev := testsync.Next(t, out2)
	if ev.Kind != bot.KindJoin || !ev.Author.Unverified {
		t.Fatalf("handed on %+v, want the unverified join", ev)
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
