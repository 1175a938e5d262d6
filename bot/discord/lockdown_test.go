package discord

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// alertDesk keeps what the desk was told.
type alertDesk struct {
	mu     sync.Mutex
	alerts []string
}

func (d *alertDesk) PostCase(context.Context, store.Case) error { return nil }
func (d *alertDesk) Alert(_ context.Context, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.alerts = append(d.alerts, text)
	return nil
}

func (d *alertDesk) told() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.alerts...)
}

// raidWorld is the test guild with vigie and the handlers on a memory store,
// with a clock the test moves.
type raidWorld struct {
	f    *discordfake.Server
	st   *memory.Store
	mod  *handlers.Moderator
	desk *alertDesk
	mu   sync.Mutex
	now  time.Time
}

func newRaidWorld(t *testing.T) *raidWorld {
	w := &raidWorld{f: newFakeDiscord(t), st: memory.New(), desk: &alertDesk{}, now: t0}
	c, _ := newTestClient(t, w.f, Config{Guilds: []string{guildID}})
	run(t, w.f, c, make(chan bot.Event, 16), allPerms)
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": c}, Store: w.st, Desk: w.desk,
		Retry: handlers.Retry{Attempts: 1}, Now: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	w.mod = mod
	return w
}

func (w *raidWorld) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *raidWorld) wait(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(d)
}

func (w *raidWorld) raid(t *testing.T, a bot.Action) {
	t.Helper()
	ev := bot.Event{ID: "5001", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
		Author: bot.Author{ID: bob.id, Name: "Bob"}, At: w.clock()}
	v := bot.Verdict{EventID: ev.ID, Platform: "discord", At: ev.At,
		Matches: []bot.Match{{Rule: "raid", Category: "raid", Actions: []bot.Action{a}, Reason: "raid"}}}
	if err := w.mod.Handle(context.Background(), ev, v); err != nil {
		t.Fatal(err)
	}
}

func (w *raidWorld) state() (level, slow int) {
	return w.f.VerificationLevel(guildID), w.f.Slowmode(general)
}

// A lockdown raises the guild's verification level and puts a slow mode on
// the channel; when its time is up both are put back as they were.
func TestLockdownOnDiscord(t *testing.T) {
	w := newRaidWorld(t)
	w.f.SetSlowmode(general, 5)
	w.raid(t, bot.Action{Kind: bot.ActLockdown, Duration: 10 * time.Minute})
	if level, slow := w.state(); level != 3 || slow != 30 {
		t.Fatalf("locked: verification level %d, slow mode %ds; want 3 and 30s%s", level, slow, w.f.Summary())
	}
	patch := w.f.WaitFor(t, "PATCH", "/guilds/"+guildID, 1, nil)
	if patch.Header.Get("X-Audit-Log-Reason") == "" {
		t.Error("no audit log reason on the guild's edit")
	}
	w.wait(9 * time.Minute)
	if n, err := w.mod.LiftLocks(context.Background()); n != 0 || err != nil {
		t.Fatalf("lifted before its time: %d, %v", n, err)
	}
	w.wait(time.Minute)
	if n, err := w.mod.LiftLocks(context.Background()); n != 1 || err != nil {
		t.Fatalf("LiftLocks = %d, %v; want 1", n, err)
	}
	if level, slow := w.state(); level != 1 || slow != 5 {
		t.Errorf("lifted: verification level %d, slow mode %ds; want 1 and 5s as before", level, slow)
	}
	told := w.desk.told()
	if len(told) != 2 || !strings.HasPrefix(told[0], "🔒 lockdown(10m) on discord "+guildID) || !strings.HasPrefix(told[1], "🔓 lockdown on discord "+guildID+" lifted after 10m") {
		t.Errorf("desk told %q", told)
	}
}

// slowmode(2m) sets the channel's rate_limit_per_user and puts it back.
func TestSlowmodeOnDiscord(t *testing.T) {
	w := newRaidWorld(t)
	w.raid(t, bot.Action{Kind: bot.ActSlowmode, Duration: 2 * time.Minute})
	if level, slow := w.state(); level != 1 || slow != 120 {
		t.Fatalf("slowed: level %d, slow mode %ds; want 1 and 120s", level, slow)
	}
	w.wait(2 * time.Minute)
	if n, err := w.mod.LiftLocks(context.Background()); n != 1 || err != nil {
		t.Fatalf("LiftLocks = %d, %v", n, err)
	}
	if _, slow := w.state(); slow != 0 {
		t.Errorf("slow mode after = %ds, want 0", slow)
	}
}

// Discord answers 403 (vigie lacks Manage Server): nothing is locked, the
// desk gets a case, the audit says it failed, and nothing is left to lift.
func TestLockdownMissingPermission(t *testing.T) {
	w := newRaidWorld(t)
	w.f.Fail("PATCH", "/guilds/"+guildID, 403, `{"message": "Missing Permissions", "code": 50013}`, nil, 1)
	w.raid(t, bot.Action{Kind: bot.ActLockdown, Duration: 10 * time.Minute})
	if level, slow := w.state(); level != 1 || slow != 0 {
		t.Errorf("level %d, slow mode %d after a refusal", level, slow)
	}
	ctx := context.Background()
	cases, _ := w.st.Cases(ctx, store.CaseOpen)
	if len(cases) != 1 || !strings.Contains(cases[0].Reason, "vigie lacks Manage Server") || !strings.Contains(cases[0].Reason, "[discord 50013]") {
		t.Errorf("cases = %+v, want one about the refusal", cases)
	}
	audit, _ := w.st.Audit(ctx, time.Time{})
	failed := 0
	for _, e := range audit {
		if strings.Contains(e.Failed, "50013") {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("audit entries failed with 50013: %d, want 1", failed)
	}
	w.wait(time.Hour)
	if n, err := w.mod.LiftLocks(ctx); n != 0 || err != nil {
		t.Errorf("LiftLocks after a refusal = %d, %v; want nothing", n, err)
	}
	if n := w.f.Count("PATCH", "/guilds/"+guildID); n != 1 {
		t.Errorf("%d PATCH of the guild, want the refused one only", n)
	}
}
