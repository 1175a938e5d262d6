package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestEscalation opens cases through forwards during a night, then lets the
// clock run: the cases left open are announced again after 2h (high priority
// after 30m), at most once an hour, and a case a CM decided is not.
func TestEscalation(t *testing.T) {
	withAndWithoutIndex(t, testEscalation)
}

// withAndWithoutIndex runs test on a memory store with its index of open
// cases (index=true), then on one whose index is hidden (index=false).
func withAndWithoutIndex(t *testing.T, test func(t *testing.T, st store.Store)) {
	for _, index := range []bool{true, false} {
		t.Run(fmt.Sprint("index=", index), func(t *testing.T) {
			var st store.Store = memory.New(memory.WithCaseEpoch("tests"))
			defer st.Close()
			if !index {
				st = unindexed{st}
			}
			test(t, st)
		})
	}
}

// unindexed hides the memory store's index of open cases: the escalation
// then reads them all, as it does from a store without one.
type unindexed struct{ store.Store }

func testEscalation(t *testing.T, st store.Store) {
	now := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	desk := &deskRecorder{}
	m, err := handlers.New(handlers.Options{Store: st, Desk: desk, Now: clock,
		Priority: func(_ *rules.Ruleset, rule string) string {
			if rule == "threat" {
				return handlers.PriorityHigh
			}
			return ""
		}})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	esc, err := handlers.NewEscalation(m, handlers.EscalationOptions{Age: 2 * time.Hour, Interval: time.Hour, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n := 0
	forward := func(rule, author, thread string) {
		n++
		// Each post its own, but a thread's: hits of one author and rule in
		// one post would be grouped into one case.
		channel := fmt.Sprint("post-", n)
		if thread != "" {
			channel = "post-" + thread
		}
		ev := bot.Event{ID: fmt.Sprint("m", n), Platform: "facebook", Space: "page", Channel: channel, Thread: thread,
			Author: bot.Author{ID: author}, Text: "x", At: now}
		v := bot.Verdict{EventID: ev.ID, Matches: []bot.Match{{Rule: rule, Actions: []bot.Action{{Kind: bot.ActForward, Text: rule}}}}}
		if err := m.Handle(ctx, ev, v); err != nil {
			t.Fatal(err)
		}
	}
	forward("insult", "bob", "")  // c1 normal
	forward("threat", "eve", "")  // c2 high: its rule
	forward("insult", "bob", "")  // c3 normal
	forward("insult", "bob", "")  // c4 high: bob's third case in a day
	forward("insult", "a1", "t9") // c5
	forward("insult", "a2", "t9") // c6
	forward("insult", "a3", "t9") // c7 high: the thread's third
	open, _ := st.Cases(ctx, store.CaseOpen)
	var prio []string
	for _, c := range open {
		prio = append(prio, c.ID+"="+c.Priority)
	}
	if got := strings.Join(prio, " "); got != "c-tests-000001= c-tests-000002=high c-tests-000003= c-tests-000004=high c-tests-000005= c-tests-000006= c-tests-000007=high" {
		t.Fatalf("priorities %s", got)
	}
	if !strings.HasPrefix(open[3].Reason, "high priority, 2 other cases for this author in 24h: ") ||
		!strings.HasPrefix(open[6].Reason, "high priority, 2 other cases in this thread in 24h: ") {
		t.Errorf("reasons %q / %q", open[3].Reason, open[6].Reason)
	}
	if _, err := m.Decide(ctx, "c-tests-000007", "keep", "telegram:1"); err != nil {
		t.Fatal(err)
	}
	check := func(after time.Duration, want int) {
		t.Helper()
		now = time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC).Add(after)
		got, err := esc.Check(ctx)
		if err != nil || got != want {
			t.Errorf("at +%s: %d announced (%v), want %d", after, got, err, want)
		}
	}
	check(10*time.Minute, 0)
	check(31*time.Minute, 2)  // c2 and c4, high; c7 was decided
	check(60*time.Minute, 0)  // not again within the hour
	check(92*time.Minute, 2)  // an hour later, again
	check(121*time.Minute, 4) // the normal ones' turn (c2 and c4 wait)
	check(150*time.Minute, 0)
	desk.mu.Lock()
	last := desk.cases[len(desk.cases)-1]
	desk.mu.Unlock()
	if !strings.Contains(last, "⏰ waiting for 2h1m: ") {
		t.Errorf("reannounced as %q", last)
	}
	if got := metric(t, reg, "vigie_cases_reannounced_total"); got != 8 {
		t.Errorf("reannounced counter %v", got)
	}
	if got := metric(t, reg, "vigie_cases_oldest_open_seconds"); got != 150*60 {
		t.Errorf("oldest %v", got)
	}
}

// TestReminderNotDeliveredIsTriedAgain: a reminder the desk refuses (an
// outage) is announced at the next check once the desk takes it again, not
// an hour later at the case's next reminder; once only, and not for a case
// decided meanwhile.
func TestReminderNotDeliveredIsTriedAgain(t *testing.T) {
	withAndWithoutIndex(t, func(t *testing.T, st store.Store) {
		t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
		now := t0
		desk := &deskRecorder{}
		m, err := handlers.New(handlers.Options{Store: st, Desk: desk, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		esc, err := handlers.NewEscalation(m, handlers.EscalationOptions{Age: 2 * time.Hour, Interval: time.Hour, Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for i := range 2 {
			ev := bot.Event{ID: fmt.Sprint("m", i), Platform: "discord", Space: "g", Channel: fmt.Sprint("c", i),
				Author: bot.Author{ID: fmt.Sprint("u", i)}, Text: "x", At: now}
			v := bot.Verdict{EventID: ev.ID, Matches: []bot.Match{{Rule: "r", Actions: []bot.Action{{Kind: bot.ActForward, Text: "r"}}}}}
			if err := m.Handle(ctx, ev, v); err != nil {
				t.Fatal(err)
			}
		}
		posted := func() []string {
			desk.mu.Lock()
			defer desk.mu.Unlock()
			return append([]string(nil), desk.cases...)
		}
		check := func(after time.Duration, want int, wantErr bool) {
			t.Helper()
			now = t0.Add(after)
			got, err := esc.Check(ctx)
			if got != want || (err != nil) != wantErr {
				t.Errorf("at +%s: %d announced (err %v), want %d (an error: %v)", after, got, err, want, wantErr)
			}
		}
		desk.mu.Lock()
		desk.err = errors.New("desk unreachable")
		desk.mu.Unlock()
		check(2*time.Hour+time.Minute, 0, true) // both due, neither taken
		if _, err := m.Decide(ctx, "c-tests-000002", "keep", "telegram:1"); err != nil {
			t.Fatal(err)
		}
		desk.mu.Lock()
		desk.err = nil
		desk.mu.Unlock()
		before := len(posted())
		check(2*time.Hour+2*time.Minute, 1, false) // c1 again; c2 was decided
		if got := posted()[before:]; len(got) != 1 || !strings.HasPrefix(got[0], "c-tests-000001 ⏰ waiting for 2h2m: ") {
			t.Errorf("posted once the desk answers: %q, want c-tests-000001's reminder alone", got)
		}
		check(2*time.Hour+3*time.Minute, 0, false) // delivered: not again
		check(3*time.Hour+time.Minute, 1, false)   // its next reminder, as usual
		if got := metric(t, reg, "vigie_cases_reannounced_total"); got != 2 {
			t.Errorf("reannounced counter %v, want 2", got)
		}
	})
}

// TestReminderRefusedForGoodIsNotTriedAgain: a reminder the desk refused for
// good (not retryable) waits for the case's next reminder; tried each minute,
// it would be refused each minute.
func TestReminderRefusedForGoodIsNotTriedAgain(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	now := t0
	desk := &deskRecorder{}
	esc := oneCaseToRemind(t, desk, &now)
	ctx := context.Background()
	tries := func() int {
		desk.mu.Lock()
		defer desk.mu.Unlock()
		return len(desk.cases)
	}
	desk.mu.Lock()
	desk.err = &bot.ActionError{Op: bot.ActForward, Retryable: false, Err: errors.New("400 Bad Request")}
	desk.mu.Unlock()
	for i, after := range []time.Duration{2*time.Hour + time.Minute, 2*time.Hour + 2*time.Minute, 2*time.Hour + 3*time.Minute} {
		now = t0.Add(after)
		before := tries()
		n, err := esc.Check(ctx)
		want := 0
		if i == 0 {
			want = 1
		}
		if got := tries() - before; n != 0 || got != want {
			t.Errorf("at +%s: %d announced (%v), %d tried; want none announced, %d tried", after, n, err, got, want)
		}
	}
}

// oneCaseToRemind opens one case forwarded to desk, at *now, on a memory
// store, and returns the escalation that reminds of it after two hours,
// then each hour; *now is the moderator's clock, moved by the test.
func oneCaseToRemind(t *testing.T, desk *deskRecorder, now *time.Time) *handlers.Escalation {
	t.Helper()
	st := memory.New(memory.WithCaseEpoch("tests"))
	t.Cleanup(func() { st.Close() })
	m, err := handlers.New(handlers.Options{Store: st, Desk: desk, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	esc, err := handlers.NewEscalation(m, handlers.EscalationOptions{Age: 2 * time.Hour, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ev := bot.Event{ID: "m0", Platform: "discord", Space: "g", Channel: "c0", Author: bot.Author{ID: "u0"}, Text: "x", At: *now}
	v := bot.Verdict{EventID: ev.ID, Matches: []bot.Match{{Rule: "r", Actions: []bot.Action{{Kind: bot.ActForward, Text: "r"}}}}}
	if err := m.Handle(context.Background(), ev, v); err != nil {
		t.Fatal(err)
	}
	return esc
}

// metric reads an unlabelled series of reg.
func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name || len(mf.GetMetric()) == 0 {
			continue
		}
		m := mf.GetMetric()[0]
		if m.Counter != nil {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	return -1
}

// TestCaseTTL: a case nobody decided is closed as expired once open past its
// TTL, counted, and no longer in the gauges; a newer one stays open.
func TestCaseTTL(t *testing.T) {
	withAndWithoutIndex(t, func(t *testing.T, st store.Store) {
		t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
		now := t0
		m, err := handlers.New(handlers.Options{Store: st, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		esc, err := handlers.NewEscalation(m, handlers.EscalationOptions{TTL: 72 * time.Hour, Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for i, at := range []time.Duration{0, time.Hour, 50 * time.Hour} {
			now = t0.Add(at)
			ev := bot.Event{ID: fmt.Sprint("m", i), Platform: "discord", Space: "g", Channel: fmt.Sprint("c", i),
				Author: bot.Author{ID: fmt.Sprint("u", i)}, Text: "x", At: now}
			v := bot.Verdict{EventID: ev.ID, Matches: []bot.Match{{Rule: "r", Actions: []bot.Action{{Kind: bot.ActForward, Text: "r"}}}}}
			if err := m.Handle(ctx, ev, v); err != nil {
				t.Fatal(err)
			}
		}
		now = t0.Add(72*time.Hour + 30*time.Minute)
		if _, err := esc.Check(ctx); err != nil {
			t.Fatal(err)
		}
		if got := metric(t, reg, "vigie_cases_expired_total"); got != 1 {
			t.Errorf("expired %v, want 1", got)
		}
		now = t0.Add(74 * time.Hour)
		if _, err := esc.Check(ctx); err != nil {
			t.Fatal(err)
		}
		if got := metric(t, reg, "vigie_cases_expired_total"); got != 2 {
			t.Errorf("expired %v, want 2", got)
		}
		decided, _ := st.Cases(ctx, store.CaseDecided)
		for _, c := range decided {
			if c.Outcome != store.OutcomeExpired || c.DecidedBy != "vigie" {
				t.Errorf("case %s decided %q by %q", c.ID, c.Outcome, c.DecidedBy)
			}
		}
		open, _ := st.Cases(ctx, store.CaseOpen)
		if len(decided) != 2 || len(open) != 1 || open[0].Event.ID != "m2" {
			t.Errorf("%d decided, open %v; want 2 and m2", len(decided), open)
		}
		if got := metric(t, reg, "vigie_cases_oldest_open_seconds"); got != 24*3600 {
			t.Errorf("oldest %v, want 24h", got)
		}
	})
}

// One message that several rules forward is one of its author's messages,
// not several: it opens one case, and does not make itself high priority.
// The author's third message with a case is.
func TestOneMessageCountsOnceForPriority(t *testing.T) {
	st := memory.New(memory.WithCaseEpoch("tests"))
	defer st.Close()
	now := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	m, err := handlers.New(handlers.Options{Store: st, Desk: &deskRecorder{}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	message := func(id string, rules ...string) {
		ev := bot.Event{ID: id, Platform: "facebook", Space: "page", Channel: "post-" + id,
			Author: bot.Author{ID: "bob"}, Text: "x", At: now}
		v := bot.Verdict{EventID: ev.ID}
		for _, r := range rules {
			v.Matches = append(v.Matches, bot.Match{Rule: r, Actions: []bot.Action{{Kind: bot.ActForward, Text: r}}})
		}
		if err := m.Handle(ctx, ev, v); err != nil {
			t.Fatal(err)
		}
	}
	message("m1", "insult", "link", "caps") // c1: one message
	message("m2", "insult")                 // c2: bob's second message
	message("m3", "insult")                 // c3: bob's third
	open, _ := st.Cases(ctx, store.CaseOpen)
	var prio []string
	for _, c := range open {
		prio = append(prio, c.ID+"="+c.Priority)
	}
	if got := strings.Join(prio, " "); got != "c-tests-000001= c-tests-000002= c-tests-000003=high" {
		t.Fatalf("priorities %s", got)
	}
	if !strings.HasPrefix(open[2].Reason, "high priority, 2 other cases for this author in 24h: ") {
		t.Errorf("reason %q", open[2].Reason)
	}
}

// The case of a message several rules forward has the highest of their
// priorities, and is the case of the rule that has it: a low rule matching
// too does not lower it, a high one raises it.
func TestOneCaseHasItsRulesHighestPriority(t *testing.T) {
	prio := map[string]string{"chatter": handlers.PriorityLow, "threat": handlers.PriorityHigh}
	tests := []struct {
		rules []string
		want  string // rule=priority
	}{
		{[]string{"chatter", "insult"}, "insult="},
		{[]string{"chatter", "insult", "threat"}, "threat=high"},
		{[]string{"chatter"}, "chatter=low"},
	}
	for i, tt := range tests {
		t.Run(strings.Join(tt.rules, "+"), func(t *testing.T) {
			st := memory.New(memory.WithCaseEpoch("tests"))
			defer st.Close()
			now := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
			m, err := handlers.New(handlers.Options{Store: st, Desk: &deskRecorder{}, Now: func() time.Time { return now },
				Priority: func(_ *rules.Ruleset, rule string) string { return prio[rule] }})
			if err != nil {
				t.Fatal(err)
			}
			ev := bot.Event{ID: fmt.Sprint("m", i), Platform: "facebook", Space: "page", Channel: "post",
				Author: bot.Author{ID: "bob"}, Text: "x", At: now}
			v := bot.Verdict{EventID: ev.ID}
			for _, r := range tt.rules {
				v.Matches = append(v.Matches, bot.Match{Rule: r, Actions: []bot.Action{{Kind: bot.ActForward, Text: r}}})
			}
			if err := m.Handle(context.Background(), ev, v); err != nil {
				t.Fatal(err)
			}
			open, _ := st.Cases(context.Background(), store.CaseOpen)
			if len(open) != 1 {
				t.Fatalf("%d cases, want 1: %+v", len(open), open)
			}
			if got := open[0].Rule + "=" + open[0].Priority; got != tt.want {
				t.Errorf("case %s (%q), want %s", got, open[0].Reason, tt.want)
			}
		})
	}
}

// TestCaseLeftBeingTried: a case still being tried an hour after it
// opened was left so by a vigie that stopped while acting on it; the
// escalation's check says so (reason, actions not done, card edited), on
// the moderator's clock: not a minute before the hour, nor a case whose
// actions ended meanwhile. With the store's index of open cases (read from
// the last check on) and without (read whole).
func TestCaseLeftBeingTried(t *testing.T) {
	withAndWithoutIndex(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := at
		desk := &cardDesk{}
		m, err := handlers.New(handlers.Options{Store: st, Desk: desk, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		esc, err := handlers.NewEscalation(m, handlers.EscalationOptions{Age: 2 * time.Hour, Interval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		acts := []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActTimeout, Duration: 10 * time.Minute}}
		open := func(id string) store.Case {
			ev := event("discord")
			ev.ID, ev.Author.ID, ev.Channel = id, "u-"+id, "c-"+id
			c, err := st.OpenCase(ctx, store.Case{Event: ev, Opened: now, Rule: "scam", Reason: "scam: scam; scam: being tried: delete, timeout(10m)",
				Suggested: acts, NotDone: acts, Trying: acts, Holds: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.AddCard(ctx, c.ID, bot.CardRef{Platform: "discord", Chat: "desk", Message: "card-" + id}); err != nil {
				t.Fatal(err)
			}
			return c
		}
		left, ended := open("m-1"), open("m-2")
		if err := st.AmendCase(ctx, ended.ID, store.CaseAmendment{Reason: "scam", Suggested: acts}); err != nil {
			t.Fatal(err)
		}
		check := func() {
			t.Helper()
			if _, err := esc.Check(ctx); err != nil {
				t.Fatal(err)
			}
		}
		now = at.Add(time.Hour - time.Minute)
		check()
		if c, _ := st.Case(ctx, left.ID); len(c.Trying) != 2 || len(desk.edited()) != 0 {
			t.Fatalf("a minute before the hour: case %+v, edits %q; want it still being tried, no card edited", c, desk.edited())
		}
		now = at.Add(time.Hour)
		check()
		c, err := st.Case(ctx, left.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := "scam: scam; scam: vigie stopped while acting on this (delete, timeout(10m)); check it"
		if len(c.Trying) != 0 || c.Reason != want || len(c.NotDone) != 2 || c.Outcome != "" {
			t.Errorf("after the hour: case %+v\nwant it open, nothing being tried, %q, both actions not done", c, want)
		}
		if e := desk.edited(); len(e) != 1 || !strings.HasPrefix(e[0], "discord/desk/card-m-1 "+left.ID) {
			t.Errorf("edits = %q, want the left case's card", e)
		}
		if c, _ := st.Case(ctx, ended.ID); c.Reason != "scam" || len(c.NotDone) != 0 {
			t.Errorf("the case whose actions ended = %+v, want it as amended then", c)
		}
		now = at.Add(2 * time.Hour)
		check()
		if e := desk.edited(); len(e) != 1 {
			t.Errorf("edits after the next check = %q, want the one", e)
		}
	})
}

// TestReminderRefusedByTheDeskChatIsTriedAgain: a reminder refused because
// the desk chat refuses vigie (removed from it, no right to post) or its
// token is refused is tried again at the next check, as one refused by an
// outage: the desk takes it as soon as a member lets vigie back in, not an
// hour later at the case's next reminder.
func TestReminderRefusedByTheDeskChatIsTriedAgain(t *testing.T) {
	for _, refusal := range []error{handlers.ErrDeskChatRefused, handlers.ErrDeskTokenRefused} {
		t.Run(refusal.Error(), func(t *testing.T) {
			t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
			now := t0
			desk := &deskRecorder{}
			esc := oneCaseToRemind(t, desk, &now)
			ctx := context.Background()
			desk.mu.Lock()
			// as the daemon's desk says it: the platform's 403, not worth a
			// retry by itself, behind the refusal
			desk.err = fmt.Errorf("%w: %w", refusal, &bot.ActionError{Op: bot.ActForward, Err: errors.New("403 Forbidden")})
			desk.mu.Unlock()
			now = t0.Add(2*time.Hour + time.Minute)
			if n, err := esc.Check(ctx); n != 0 || err == nil {
				t.Fatalf("with the desk chat refusing vigie: %d announced, err %v; want none, an error", n, err)
			}
			desk.mu.Lock()
			desk.err = nil
			before := len(desk.cases)
			desk.mu.Unlock()
			now = t0.Add(2*time.Hour + 2*time.Minute)
			if n, err := esc.Check(ctx); n != 1 || err != nil {
				t.Errorf("once vigie is let back in: %d announced (%v), want the reminder", n, err)
			}
			desk.mu.Lock()
			got := desk.cases[before:]
			desk.mu.Unlock()
			if len(got) != 1 || !strings.Contains(got[0], "⏰ waiting for 2h2m") {
				t.Errorf("posted %q, want the reminder, waiting for 2h2m", got)
			}
		})
	}
}
