package handlers_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// holding is a platform like Discord that holds its deletes until the
// test releases them.
type holding struct {
	chat
	entered, release chan struct{}
}

func (h *holding) Delete(ctx context.Context, ev bot.Event) error {
	h.entered <- struct{}{}
	<-h.release
	return h.chat.Delete(ctx, ev)
}

// TestKeepWhileRedisIsAway: a CM keeps a message whose delete the platform
// holds, its case opened while its actions are tried, on the memory store
// and on Redis's fallback while Redis is away (the case, and the decision,
// only in the fallback's memory). The held delete ends carried out; the
// timeout after it is not given, nor waited for, and the case says both.
func TestKeepWhileRedisIsAway(t *testing.T) {
	srv := redistest.Start(t)
	primary, err := redis.Open(srv.URL()+"?max_retries=-1&dial_timeout=500ms", redis.WithPrefix(redistest.Prefix("keep-test")))
	if err != nil {
		t.Fatal(err)
	}
	away := redis.NewFallback(primary, redis.FallbackOptions{RetryEvery: time.Hour})
	defer away.Close()
	srv.Stop()
	for i := 0; !away.Degraded(); i++ {
		if i == 100 {
			t.Fatal("not degraded with redis-server stopped")
		}
		_, _ = away.Observe(context.Background(), store.Observation{At: at, Platform: "discord", Space: "g", Author: "u-9", EventID: fmt.Sprintf("o-%d", i)})
	}
	for name, st := range map[string]store.Store{"memory": memory.New(), "redis away": away} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			timers := &heldTimers{}
			p := &holding{chat: chat{recorder: recorder{name: "discord"}}, entered: make(chan struct{}), release: make(chan struct{})}
			m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": p}, Store: st,
				Now: (&clock{t: at}).Now, AfterFunc: timers.AfterFunc,
				// a pause of an hour: a dropped action must not be tried again
				Retry: handlers.Retry{Base: time.Hour, Max: time.Hour}})
			if err != nil {
				t.Fatal(err)
			}
			ev := event("discord")
			v := verdict("discord", bot.Match{Rule: "scam", Category: "spam",
				Actions: []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActTimeout, Duration: 10 * time.Minute}, {Kind: bot.ActForward, Text: "scam"}}})
			handled := make(chan error, 1)
			go func() { handled <- m.Handle(ctx, ev, v) }()
			<-p.entered
			timers.fire() // the second passes: the case opens, its actions being tried
			open, err := st.Cases(ctx, store.CaseOpen)
			if err != nil || len(open) != 1 || len(open[0].Trying) != 2 {
				t.Fatalf("open cases while the delete is held = %+v, %v; want one, both actions being tried", open, err)
			}
			if _, err := m.Decide(ctx, open[0].ID, "keep", "telegram:42"); err != nil {
				t.Fatalf("Decide: %v", err)
			}
			close(p.release)
			select {
			case err := <-handled:
				if err != nil {
					t.Fatalf("Handle: %v", err)
				}
			case <-time.After(time.Minute):
				t.Fatal("Handle waits for a retry of an action the CM's decision dropped")
			}
			if calls := p.Calls(); !slices.Equal(calls, []string{"delete"}) {
				t.Errorf("calls = %q, want the held delete alone: the CM kept the message", calls)
			}
			c, err := st.Case(ctx, open[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			want := "decided keep by telegram:42 while vigie was acting; carried out before the decision reached it: delete; dropped for the decision: timeout(10m)"
			if c.Outcome != "keep" || !strings.HasSuffix(c.Reason, want) || len(c.Trying) != 0 ||
				!c.CarriedOut(bot.ActDelete) || c.CarriedOut(bot.ActTimeout) {
				t.Errorf("case = %+v\nwant kept, its reason ending %q, the delete carried out, the timeout not", c, want)
			}
		})
	}
}

// replyHeld is a platform like Discord that can hide too (a page's comment
// on a chat, for the table below), and holds its reply "held" until the
// test releases it.
type replyHeld struct {
	chat
	entered, release chan struct{}
}

func (p *replyHeld) Reply(ctx context.Context, ev bot.Event, text string) error {
	if text == "held" {
		p.entered <- struct{}{}
		<-p.release
	}
	return p.chat.Reply(ctx, ev, text)
}
func (p *replyHeld) Hide(_ context.Context, ev bot.Event) error   { return p.call("hide", "") }
func (p *replyHeld) Unhide(_ context.Context, ev bot.Event) error { return p.call("unhide", "") }

// TestDecisionReplacesActionsOnItsTarget: a CM decides, while the first of
// a verdict's actions (a reply, which no moderating decision replaces) is
// held, a case whose other actions are still to try. A decision on the
// message (delete, hide) replaces the verdict's delete and hide; one on the
// author (timeout, ban, kick) replaces its timeout, ban, kick and warning,
// milder or harsher: the CM chose. The verdict's actions on the other
// target go on, and the case says what was dropped.
func TestDecisionReplacesActionsOnItsTarget(t *testing.T) {
	warn := bot.Action{Kind: bot.ActWarn, Text: "stop"}
	for _, tt := range []struct {
		name, decision string
		acts           []bot.Action
		// want are the calls: the decision's (made while the reply is
		// held, so before it is recorded), then the verdict's that go on
		// after the reply.
		want    []string
		dropped string
	}{
		{"delete replaces hide", "delete", []bot.Action{{Kind: bot.ActHide}, {Kind: bot.ActTimeout, Duration: 10 * time.Minute}},
			[]string{"delete", "timeout(10m)"}, "hide"},
		{"hide replaces delete", "hide", []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActTimeout, Duration: 10 * time.Minute}},
			[]string{"hide", "timeout(10m)"}, "delete"},
		{"timeout replaces ban and kick", "timeout(1h)", []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActBan}, {Kind: bot.ActKick}},
			[]string{"timeout(1h)", "delete"}, "ban, kick"},
		{"timeout replaces warn", "timeout(1h)", []bot.Action{{Kind: bot.ActDelete}, warn},
			[]string{"timeout(1h)", "delete"}, `warn("stop")`},
		{"kick replaces ban", "kick", []bot.Action{{Kind: bot.ActBan, Duration: 24 * time.Hour}},
			[]string{"kick"}, "ban(1d)"},
		{"ban replaces timeout", "ban", []bot.Action{{Kind: bot.ActHide}, {Kind: bot.ActTimeout, Duration: 10 * time.Minute}},
			[]string{"ban", "hide"}, "timeout(10m)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := memory.New()
			timers := &heldTimers{}
			p := &replyHeld{chat: chat{recorder: recorder{name: "discord"}}, entered: make(chan struct{}), release: make(chan struct{})}
			m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": p}, Store: st,
				Now: (&clock{t: at}).Now, AfterFunc: timers.AfterFunc, Retry: handlers.Retry{Attempts: 1}})
			if err != nil {
				t.Fatal(err)
			}
			acts := append([]bot.Action{{Kind: bot.ActReply, Text: "held"}}, tt.acts...)
			v := verdict("discord", bot.Match{Rule: "scam", Category: "spam",
				Actions: append(acts, bot.Action{Kind: bot.ActForward, Text: "scam"})})
			handled := make(chan error, 1)
			go func() { handled <- m.Handle(ctx, event("discord"), v) }()
			<-p.entered
			timers.fire() // the second passes: the case opens, its actions being tried
			open, err := st.Cases(ctx, store.CaseOpen)
			if err != nil || len(open) != 1 || len(open[0].Trying) != len(acts) {
				t.Fatalf("open cases while the reply is held = %+v, %v; want one, every action being tried", open, err)
			}
			if _, err := m.Decide(ctx, open[0].ID, tt.decision, "telegram:42"); err != nil {
				t.Fatalf("Decide: %v", err)
			}
			close(p.release)
			if err := <-handled; err != nil {
				t.Fatalf("Handle: %v", err)
			}
			want := append([]string{tt.want[0], `reply("held")`}, tt.want[1:]...)
			if calls := p.Calls(); !slices.Equal(calls, want) {
				t.Errorf("calls = %q, want %q", calls, want)
			}
			c, err := st.Case(ctx, open[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			reason := "decided " + tt.decision + " by telegram:42 while vigie was acting; dropped for the decision: " + tt.dropped
			if !strings.HasSuffix(c.Reason, reason) {
				t.Errorf("case reason %q, want it to end %q", c.Reason, reason)
			}
		})
	}
}
