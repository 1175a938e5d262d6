package telegram

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// lockDesk keeps what the desk was told.
type lockDesk struct {
	mu     sync.Mutex
	alerts []string
}

func (d *lockDesk) PostCase(context.Context, store.Case) error { return nil }
func (d *lockDesk) Alert(_ context.Context, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.alerts = append(d.alerts, text)
	return nil
}

// lockWorld is the group with vigie and the handlers on a memory store, with
// a clock the test moves.
type lockWorld struct {
	f    *fakeBotAPI
	st   *memory.Store
	mod  *handlers.Moderator
	desk *lockDesk
	mu   sync.Mutex
	now  time.Time
}

func newLockWorld(t *testing.T) *lockWorld {
	w := &lockWorld{f: newFakeBotAPI(t), st: memory.New(), desk: &lockDesk{}, now: time.Unix(t0, 0)}
	c, _ := newTestClient(t, w.f, Config{Chats: fixtureChats})
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"telegram": c}, Store: w.st, Desk: w.desk,
		Retry: handlers.Retry{Attempts: 1}, Now: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	w.mod = mod
	return w
}

func (w *lockWorld) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *lockWorld) wait(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(d)
}

func (w *lockWorld) raid(t *testing.T, acts ...bot.Action) {
	t.Helper()
	ev := groupEvent(10, "7")
	ev.At = w.clock()
	v := bot.Verdict{EventID: ev.ID, Platform: "telegram", At: ev.At,
		Matches: []bot.Match{{Rule: "raid", Category: "raid", Actions: acts, Reason: "raid"}}}
	if err := w.mod.Handle(context.Background(), ev, v); err != nil {
		t.Fatal(err)
	}
}

// A lockdown takes media, stickers, polls, previews and invitations away
// from the group's members, keeps what the admins had set otherwise, and
// gives it all back when its time is up. slowmode is not for bots on
// Telegram: it is not done.
func TestLockdownOnTelegram(t *testing.T) {
	w := newLockWorld(t)
	before := w.f.Permissions(group.id)
	before["can_pin_messages"], before["can_change_info"] = false, false
	w.f.SetPermissions(group.id, before)
	w.raid(t, bot.Action{Kind: bot.ActLockdown, Duration: 10 * time.Minute}, bot.Action{Kind: bot.ActSlowmode, Duration: 30 * time.Second})
	locked := w.f.Permissions(group.id)
	for _, k := range []string{"can_send_photos", "can_send_other_messages", "can_add_web_page_previews", "can_send_polls", "can_invite_users"} {
		if locked[k] {
			t.Errorf("locked: %s still true", k)
		}
	}
	if !locked["can_send_messages"] || locked["can_pin_messages"] {
		t.Errorf("locked: text %v, pin %v; want text as before (true), pin as before (false)", locked["can_send_messages"], locked["can_pin_messages"])
	}
	if got := w.f.methods(); strings.Join(got, ",") != "getChat,setChatPermissions" {
		t.Errorf("calls = %q, want getChat then setChatPermissions (no slow mode)", got)
	}
	w.wait(10 * time.Minute)
	if n, err := w.mod.LiftLocks(context.Background()); n != 1 || err != nil {
		t.Fatalf("LiftLocks = %d, %v", n, err)
	}
	after := w.f.Permissions(group.id)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("lifted: %s = %v, want %v as before", k, after[k], v)
		}
	}
	if len(w.desk.alerts) != 2 || !strings.Contains(w.desk.alerts[1], "🔓 lockdown on telegram") {
		t.Errorf("desk told %q", w.desk.alerts)
	}
}

// Telegram refuses (vigie is no admin with can_restrict_members): nothing
// changes, the desk gets a case, the audit says it failed.
func TestLockdownNotEnoughRights(t *testing.T) {
	w := newLockWorld(t)
	w.f.fail("setChatPermissions", 400, "Bad Request: not enough rights to change chat permissions", 0)
	w.raid(t, bot.Action{Kind: bot.ActLockdown, Duration: 10 * time.Minute})
	ctx := context.Background()
	cases, _ := w.st.Cases(ctx, store.CaseOpen)
	if len(cases) != 1 || !strings.Contains(cases[0].Reason, "not enough rights") {
		t.Errorf("cases = %+v", cases)
	}
	audit, _ := w.st.Audit(ctx, time.Time{})
	failed := 0
	for _, e := range audit {
		if strings.Contains(e.Failed, "not enough rights") {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("audit entries failed: %d, want 1", failed)
	}
	w.wait(time.Hour)
	if n, err := w.mod.LiftLocks(ctx); n != 0 || err != nil {
		t.Errorf("LiftLocks after a refusal = %d, %v", n, err)
	}
	if !w.f.Permissions(group.id)["can_send_photos"] {
		t.Error("permissions changed after a refusal")
	}
}
