package handlers_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// guild is a platform that locks and slows down places; each lock answers
// the settings it found, numbered, for the undo to be checked.
type guild struct {
	recorder
	n int
}

var (
	_ bot.Locker    = (*guild)(nil)
	_ bot.SlowModer = (*guild)(nil)
)

func (g *guild) Lock(_ context.Context, ev bot.Event) (string, error) {
	if err := g.call("lock", "("+ev.Space+")"); err != nil {
		return "", err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	return fmt.Sprintf("before-%d", g.n), nil
}

func (g *guild) Unlock(_ context.Context, ev bot.Event, prev string) error {
	return g.call("unlock", "("+ev.Space+", "+prev+")")
}

func (g *guild) SlowMode(_ context.Context, ev bot.Event, d time.Duration) (string, error) {
	return "0", g.call("slowmode", "("+ev.Channel+", "+bot.FormatDuration(d)+")")
}

func (g *guild) RestoreSlowMode(_ context.Context, ev bot.Event, prev string) error {
	return g.call("restore-slowmode", "("+ev.Channel+", "+prev+")")
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func raidVerdict(acts ...bot.Action) bot.Verdict {
	return bot.Verdict{EventID: "j-1", Platform: "discord", At: at,
		Matches: []bot.Match{{Rule: "raid", Category: "raid", Actions: acts, Reason: "11 joins in a minute"}}}
}

func join(id string, now time.Time) bot.Event {
	return bot.Event{ID: id, Platform: "discord", Kind: bot.KindJoin, Space: "guild-1", Channel: "general",
		Author: bot.Author{ID: "new-" + id, RolesUnknown: true}, At: now}
}

// A lockdown locks the place once, a second one while locked extends it, the
// desk hears of the start and the end, and the lock is lifted when its time
// is up, to the settings from before the first lock, by a Moderator that did
// not set it (a restart, another process).
func TestLockdownLiftedAfterItsTime(t *testing.T) {
	for name, st := range redistest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: at}
			g := &guild{recorder: recorder{name: "discord"}}
			desk := &deskRecorder{}
			m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": g}, Store: st, Desk: desk, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			lockdown := bot.Action{Kind: bot.ActLockdown, Duration: 10 * time.Minute}
			if err := m.Handle(ctx, join("j-1", at), raidVerdict(lockdown, bot.Action{Kind: bot.ActSlowmode, Duration: 30 * time.Second})); err != nil {
				t.Fatal(err)
			}
			clk.Add(5 * time.Minute)
			if err := m.Handle(ctx, join("j-2", clk.Now()), raidVerdict(lockdown)); err != nil {
				t.Fatal(err)
			}
			want := []string{"lock(guild-1)", "slowmode(general, 30s)"}
			if got := g.Calls(); !slices.Equal(got, want) {
				t.Fatalf("calls = %q, want %q (the second lockdown extends the first)", got, want)
			}
			if len(desk.alerts) != 2 || !strings.Contains(desk.alerts[0], "🔒 lockdown(10m) on discord guild-1 until 22:20") {
				t.Fatalf("desk = %q", desk.alerts)
			}

			// the slow mode is up 30s after it started; the lockdown 10 minutes
			// after the second raid event, not the first
			clk.Add(6 * time.Minute) // 22:21
			if n, err := m.LiftLocks(ctx); n != 1 || err != nil {
				t.Fatalf("LiftLocks at 22:21 = %d, %v; want the slow mode", n, err)
			}
			// a restart: another Moderator, the same store
			g2 := &guild{recorder: recorder{name: "discord"}}
			desk2 := &deskRecorder{}
			m2, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": g2}, Store: st, Desk: desk2, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			esc, err := handlers.NewEscalation(m2, handlers.EscalationOptions{})
			if err != nil {
				t.Fatal(err)
			}
			clk.Add(3*time.Minute + 59*time.Second) // 22:24:59
			if _, err := esc.Check(ctx); err != nil || len(g2.Calls()) != 0 {
				t.Fatalf("before its time: calls %q, %v", g2.Calls(), err)
			}
			clk.Add(time.Second) // 22:25
			if _, err := esc.Check(ctx); err != nil {
				t.Fatal(err)
			}
			if got, want := g2.Calls(), []string{"unlock(guild-1, before-1)"}; !slices.Equal(got, want) {
				t.Fatalf("calls after the restart = %q, want %q", got, want)
			}
			if len(desk2.alerts) != 1 || !strings.Contains(desk2.alerts[0], "🔓 lockdown on discord guild-1 lifted after 15m") {
				t.Errorf("desk after the restart = %q", desk2.alerts)
			}
			if n, _ := m.LiftLocks(ctx); n != 0 {
				t.Errorf("lifted again: %d", n)
			}
			// the place is free: the next raid locks it again
			if err := m2.Handle(ctx, join("j-3", clk.Now()), raidVerdict(lockdown)); err != nil {
				t.Fatal(err)
			}
			if got := g2.Calls(); len(got) != 2 || got[1] != "lock(guild-1)" {
				t.Errorf("calls = %q, want a new lock", got)
			}
			entries, err := st.Audit(ctx, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			var lifts []string
			for _, e := range entries {
				for _, mt := range e.Verdict.Matches {
					for _, a := range mt.Actions {
						if a.Kind == "lift" {
							lifts = append(lifts, a.Text)
						}
					}
				}
			}
			if len(lifts) != 2 {
				t.Errorf("lifts audited = %q, want slowmode and lockdown", lifts)
			}
		})
	}
}

// A platform that refuses (a right missing) leaves the place unlocked and
// free for the next try: the desk gets a case, the audit says it failed.
func TestLockdownRefused(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	g := &guild{recorder: recorder{name: "discord", errs: map[string][]error{
		"lock": {&bot.ActionError{Op: bot.ActLockdown, Err: fmt.Errorf("discord: 403 Missing Permissions")}},
	}}}
	desk := &deskRecorder{}
	m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": g}, Store: st, Desk: desk, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	lockdown := bot.Action{Kind: bot.ActLockdown, Duration: 10 * time.Minute}
	if err := m.Handle(ctx, join("j-1", at), raidVerdict(lockdown)); err != nil {
		t.Fatal(err)
	}
	cases, _ := st.Cases(ctx, store.CaseOpen)
	if len(cases) != 1 || !strings.Contains(cases[0].Reason, "403 Missing Permissions") {
		t.Fatalf("cases = %+v, want one about the refusal", cases)
	}
	entries, _ := st.Audit(ctx, time.Time{})
	failed := 0
	for _, e := range entries {
		if strings.Contains(e.Failed, "403") {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("audit entries that failed = %d, want 1", failed)
	}
	if err := m.Handle(ctx, join("j-2", at), raidVerdict(lockdown)); err != nil {
		t.Fatal(err)
	}
	if got, want := g.Calls(), []string{"lock(guild-1) -> error", "lock(guild-1)"}; !slices.Equal(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
}

// While vigie is paused a lockdown waits in a case; the CM who decides
// lockdown(10m) on it locks the place as the rule would have, and it is
// lifted at its time.
func TestLockdownDecidedAfterAPause(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	clk := &clock{t: at}
	g := &guild{recorder: recorder{name: "discord"}}
	m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": g}, Store: st, Desk: &deskRecorder{}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	m.Pause(time.Time{})
	if err := m.Handle(ctx, join("j-1", at), raidVerdict(bot.Action{Kind: bot.ActLockdown, Duration: 10 * time.Minute})); err != nil {
		t.Fatal(err)
	}
	cases, _ := st.Cases(ctx, store.CaseOpen)
	if len(cases) != 1 || len(g.Calls()) != 0 {
		t.Fatalf("paused: cases %+v, calls %q; want one case, no call", cases, g.Calls())
	}
	m.Resume()
	if _, err := m.Decide(ctx, cases[0].ID, "lockdown(10m)", "telegram:1"); err != nil {
		t.Fatal(err)
	}
	clk.Add(10 * time.Minute)
	if n, err := m.LiftLocks(ctx); n != 1 || err != nil {
		t.Fatalf("LiftLocks = %d, %v", n, err)
	}
	if got, want := g.Calls(), []string{"lock(guild-1)", "unlock(guild-1, before-1)"}; !slices.Equal(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
}

// A lift the platform cannot do now (a 5xx) is tried again at the next
// check; one it refuses for good (the right was taken away) is forgotten,
// and the desk is asked to lift it by hand.
func TestLockdownLiftRefused(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: at}
	g := &guild{recorder: recorder{name: "discord", errs: map[string][]error{"unlock": {
		&bot.ActionError{Op: bot.ActLockdown, Retryable: true, Err: fmt.Errorf("discord: 502 Bad Gateway")},
		&bot.ActionError{Op: bot.ActLockdown, Err: fmt.Errorf("discord: 403 Missing Permissions")},
	}}}}
	desk := &deskRecorder{}
	m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": g}, Store: memory.New(), Desk: desk,
		Now: clk.Now, Retry: handlers.Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Handle(ctx, join("j-1", at), raidVerdict(bot.Action{Kind: bot.ActLockdown, Duration: 10 * time.Minute})); err != nil {
		t.Fatal(err)
	}
	clk.Add(10 * time.Minute)
	if n, err := m.LiftLocks(ctx); n != 0 || err == nil {
		t.Fatalf("LiftLocks with a 502 = %d, %v; want an error and the lock kept", n, err)
	}
	clk.Add(time.Minute)
	if n, err := m.LiftLocks(ctx); n != 0 || err != nil {
		t.Fatalf("LiftLocks with a 403 = %d, %v; want nothing lifted, no error", n, err)
	}
	if last := desk.alerts[len(desk.alerts)-1]; !strings.Contains(last, "could not be lifted") || !strings.Contains(last, "403") {
		t.Errorf("desk told %q", desk.alerts)
	}
	clk.Add(time.Minute)
	if n, _ := m.LiftLocks(ctx); n != 0 || len(g.Calls()) != 3 {
		t.Errorf("after the refusal: lifted %d, calls %q; want the lock forgotten", n, g.Calls())
	}
}

// TestLockdownTimeInTheFilesZone: the desk is told until when a place is
// locked in the rule file's time zone, which the CMs live in, and says
// which: before, a Paris desk read "until 22:20" at 23:10 its time, the UTC
// hour without its zone.
func TestLockdownTimeInTheFilesZone(t *testing.T) {
	rs, err := rules.Parse("rules.yaml", []byte("timezone: Europe/Paris\nrules: []\n"), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: at}
	g := &guild{recorder: recorder{name: "discord"}}
	desk := &deskRecorder{}
	m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": g}, Store: memory.New(), Desk: desk, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	lockdown := bot.Action{Kind: bot.ActLockdown, Duration: 10 * time.Minute}
	if err := m.HandleBy(context.Background(), rs, join("j-1", at), raidVerdict(lockdown)); err != nil {
		t.Fatal(err)
	}
	if len(desk.alerts) != 1 || !strings.Contains(desk.alerts[0], "until 23:20 CET") {
		t.Fatalf("desk = %q, want the lock's end at 23:20 CET (22:20 UTC)", desk.alerts)
	}
}
