package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// A CM's ban(3d) on a case, on a platform whose bans do not end by
// themselves: the case's card says until when (and, from a memory store,
// that a restart would leave it on), and the ban is lifted at its end by
// the check, not before; with Redis the end is kept for a Moderator that did
// not ban (a restart, another process).
func TestTimedBanDecisionShownAndLifted(t *testing.T) {
	for name, st := range redistest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: at}
			p := &chat{recorder: recorder{name: "discord"}}
			desk := &cardDesk{}
			m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": p}, Store: st, Desk: desk,
				Now: clk.Now, Retry: handlers.Retry{Attempts: 1}})
			if err != nil {
				t.Fatal(err)
			}
			c, err := st.OpenCase(ctx, store.Case{Event: event("discord"), Rule: "insult", Reason: "insult", Opened: at})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.AddCard(ctx, c.ID, bot.CardRef{Platform: "discord", Chat: "desk", Message: "card-1"}); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Decide(ctx, c.ID, "ban(3d)", "discord:42"); err != nil {
				t.Fatal(err)
			}
			note := "until 23 Nov 22:10 UTC"
			if name == "memory" {
				note += " (vigie lifts it then; its store is in memory: a restart before then leaves the ban on, until /unban)"
			}
			if got, want := desk.edited(), []string{"discord/desk/card-1 " + c.ID + " ban(3d) by discord:42 " + note}; !slices.Equal(got, want) {
				t.Errorf("card edits = %q, want %q", got, want)
			}
			lifter := m
			if name == "redis" {
				// another process lifts it
				lifter, err = handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": p}, Store: st,
					Now: clk.Now, Retry: handlers.Retry{Attempts: 1}})
				if err != nil {
					t.Fatal(err)
				}
			}
			clk.Add(3*24*time.Hour - time.Second)
			if n, err := lifter.LiftBans(ctx); n != 0 || err != nil {
				t.Fatalf("LiftBans a second early = %d, %v", n, err)
			}
			clk.Add(time.Second)
			if n, err := lifter.LiftBans(ctx); n != 1 || err != nil {
				t.Fatalf("LiftBans at the end = %d, %v", n, err)
			}
			if got, want := p.Calls(), []string{"ban(3d)", "unban"}; !slices.Equal(got, want) {
				t.Errorf("platform calls = %q, want %q", got, want)
			}
		})
	}
}

// Two processes that check at once (a lease moving from one to the other)
// lift one ban once: one of them counts it, audits it and logs it.
func TestTimedBanLiftedOnceByTwoProcesses(t *testing.T) {
	st := redistest.OpenStore(t, "redis")
	ctx := context.Background()
	clk := &clock{t: at}
	p := &chat{recorder: recorder{name: "discord"}}
	var ms []*handlers.Moderator
	for range 2 {
		m := discordModerator(t, p, st, clk)
		ms = append(ms, m)
	}
	if _, err := ms[0].Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: event("discord"), Duration: time.Hour, By: "discord:42"}); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	lifted := make(chan int, 2)
	for _, m := range ms {
		go func() {
			n, err := m.LiftBans(ctx)
			if err != nil {
				t.Error(err)
			}
			lifted <- n
		}()
	}
	if n := <-lifted + <-lifted; n != 1 {
		t.Errorf("lifted %d times, want once", n)
	}
	audit, _ := st.Audit(ctx, clk.Now())
	if len(audit) != 1 {
		t.Errorf("the lift audited %d times, want once: %+v", len(audit), audit)
	}
}

// Bans kept for a platform that is not on in this process (turned off, or run
// by another process only) do not hold back those of the platforms that are:
// many more than a check lifts, all due before the one vigie can lift, leave
// that one lifted at the first check.
func TestTimedBanOfAnAbsentPlatformHoldsNoOtherBack(t *testing.T) {
	for name, st := range redistest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: at}
			bk := st.(store.BanKeeper)
			for i := range 200 {
				ev := event("page")
				ev.Author.ID = fmt.Sprintf("u-%d", i)
				if _, _, err := bk.PutBan(ctx, store.TimedBan{Event: ev, Rule: "spam", Started: at, Until: at.Add(time.Minute)}); err != nil {
					t.Fatal(err)
				}
			}
			p := &chat{recorder: recorder{name: "discord"}}
			m := discordModerator(t, p, st, clk)
			if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: event("discord"), Duration: time.Hour, By: "discord:42"}); err != nil {
				t.Fatal(err)
			}
			clk.Add(time.Hour)
			if n, err := m.LiftBans(ctx); n != 1 || err != nil {
				t.Fatalf("LiftBans = %d, %v, want the discord ban lifted", n, err)
			}
			if got, want := p.Calls(), []string{"ban(1h)", "unban"}; !slices.Equal(got, want) {
				t.Errorf("platform calls = %q, want %q", got, want)
			}
			if due, err := bk.DueBans(ctx, clk.Now(), 0); len(due) != 200 || err != nil {
				t.Errorf("bans kept for the absent platform = %d, %v, want the 200 left for a process where it is on", len(due), err)
			}
		})
	}
}

// expiring is a platform like Telegram: it ends a ban of up to 366 days by
// itself, and keeps a longer one until it is lifted.
type expiring struct{ chat }

func (e *expiring) BanEnds(_ bot.Event, d time.Duration) bool { return d > 0 && d <= 366*24*time.Hour }

// A ban the platform ends by itself replaces, as any later ban does, the end
// kept of an earlier one that vigie lifts: that end does not lift the later
// ban before its time.
func TestTimedBanReplacedByOneThePlatformEnds(t *testing.T) {
	for name, st := range redistest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: at}
			p := &expiring{chat{recorder: recorder{name: "telegram"}}}
			m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"telegram": p}, Store: st,
				Now: clk.Now, Retry: handlers.Retry{Attempts: 1}})
			if err != nil {
				t.Fatal(err)
			}
			ban := func(d time.Duration) {
				t.Helper()
				if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: event("telegram"), Duration: d, By: "telegram:42"}); err != nil {
					t.Fatal(err)
				}
			}
			ban(400 * 24 * time.Hour) // kept: vigie lifts it
			clk.Add(399 * 24 * time.Hour)
			ban(30 * 24 * time.Hour) // the platform ends it
			clk.Add(24 * time.Hour)
			if n, err := m.LiftBans(ctx); n != 0 || err != nil {
				t.Errorf("LiftBans at the first ban's end = %d, %v, want none: the second ban replaced it", n, err)
			}
			if got := p.Calls(); slices.Contains(got, "unban") {
				t.Errorf("platform calls = %q: the second ban was lifted 29 days early", got)
			}
		})
	}
}

// slowRefusal is a platform like Discord whose first ban for slow (0: for
// good) waits for release, then is refused; the others are given.
type slowRefusal struct {
	chat
	slow             time.Duration
	entered, release chan struct{}
	once             sync.Once
}

func (s *slowRefusal) Ban(ctx context.Context, ev bot.Event, d time.Duration) error {
	first := false
	if d == s.slow {
		s.once.Do(func() { first = true })
	}
	if first {
		close(s.entered)
		<-s.release
		return &bot.ActionError{Op: bot.ActBan, Err: errors.New("refused")}
	}
	return s.chat.Ban(ctx, ev, d)
}

// banRefusedWhileAnother bans the member for a day, then asks a ban for
// refused, which the platform holds, then refuses (what names it when it
// is given); meanwhile it asks another ban, for given by givenBy: of the
// same moderator (locked), which makes it wait for the refused one, or of
// one that takes no member's lock (an earlier version's), which gives it
// while the refused one is held. It returns the moderator, the platform
// and its clock.
func banRefusedWhileAnother(t *testing.T, st store.Store, locked bool, refused, given time.Duration, givenBy, what string) (*handlers.Moderator, *slowRefusal, *clock) {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: at}
	p := &slowRefusal{chat: chat{recorder: recorder{name: "discord"}}, slow: refused, entered: make(chan struct{}), release: make(chan struct{})}
	m := discordModerator(t, p, st, clk)
	other := m
	if !locked {
		other = discordModerator(t, p, unlocked(st), clk)
	}
	ban := func(m *handlers.Moderator, d time.Duration, by string) error {
		_, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: event("discord"), Duration: d, By: by})
		return err
	}
	if err := ban(m, 24*time.Hour, "discord:42"); err != nil {
		t.Fatal(err)
	}
	refusedDone := make(chan error)
	go func() { refusedDone <- ban(m, refused, "discord:42") }()
	<-p.entered
	givenDone := make(chan error, 1)
	go func() { givenDone <- ban(other, given, givenBy) }()
	if !locked {
		// given while the refused ban is under way
		if err := <-givenDone; err != nil {
			t.Fatal(err)
		}
	}
	close(p.release)
	if err := <-refusedDone; err == nil {
		t.Fatalf("%s was not refused", what)
	}
	if locked {
		if err := <-givenDone; err != nil {
			t.Fatal(err)
		}
	}
	return m, p, clk
}

// A ban refused while a later (longer) ban of the same member was asked
// for leaves the later ban's end kept, to lift it. The later ban waits for
// the refused one, which puts back the end of the ban before it, and is
// given then; given meanwhile, by a process that takes no member's lock
// (an earlier version's), it is kept all the same: the refused ban puts
// back the end before it only if its own end is still the one kept.
func TestTimedBanRefusedKeepsALaterOnesEnd(t *testing.T) {
	for _, locked := range []bool{true, false} {
		for name, st := range redistest.Stores(t) {
			t.Run(fmt.Sprintf("%s/locked=%v", name, locked), func(t *testing.T) {
				ctx := context.Background()
				m, p, clk := banRefusedWhileAnother(t, st, locked, 7*24*time.Hour, 30*24*time.Hour, "discord:42", "the week's ban")
				if got, want := p.Calls(), []string{"ban(1d)", "ban(30d)"}; !slices.Equal(got, want) {
					t.Errorf("platform calls = %q, want %q", got, want)
				}
				clk.Add(24 * time.Hour)
				if n, err := m.LiftBans(ctx); n != 0 || err != nil {
					t.Errorf("LiftBans at the end of the first ban = %d, %v, want none: the last ban given replaced it", n, err)
				}
				clk.Add(29 * 24 * time.Hour)
				if n, err := m.LiftBans(ctx); n != 1 || err != nil {
					t.Errorf("LiftBans at the end of the last ban given = %d, %v, want it lifted", n, err)
				}
			})
		}
	}
}

// unbannedByHand is a platform like Discord where the member's ban was lifted
// by hand: its next unban finds none.
type unbannedByHand struct {
	chat
	lifted bool
}

func (u *unbannedByHand) Unban(ctx context.Context, ev bot.Event) error {
	if u.lifted {
		u.lifted = false
		return &bot.ActionError{Op: handlers.OutcomeUnban, Err: fmt.Errorf("%w: unknown ban", bot.ErrNotBanned)}
	}
	return u.chat.Unban(ctx, ev)
}

// A moderator's /unban that finds the member not banned (lifted by hand)
// forgets the end kept of the timed ban all the same: a ban given by hand
// afterwards is not lifted at that end.
func TestTimedBanForgottenWhenUnbanFindsNone(t *testing.T) {
	for name, st := range redistest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: at}
			p := &unbannedByHand{chat: chat{recorder: recorder{name: "discord"}}}
			m := discordModerator(t, p, st, clk)
			mod := func(cmd bot.ModCommand, d time.Duration) error {
				_, err := m.Moderate(ctx, bot.ModRequest{Command: cmd, Target: event("discord"), Duration: d, By: "discord:42"})
				return err
			}
			if err := mod(bot.ModBan, 7*24*time.Hour); err != nil {
				t.Fatal(err)
			}
			p.lifted = true
			if err := mod(bot.ModUnban, 0); !errors.Is(err, bot.ErrNotBanned) {
				t.Fatalf("unban of a member not banned: %v, want ErrNotBanned", err)
			}
			clk.Add(7 * 24 * time.Hour)
			if n, err := m.LiftBans(ctx); n != 0 || err != nil {
				t.Errorf("LiftBans at the end of the ban lifted by hand = %d, %v, want nothing kept to lift", n, err)
			}
		})
	}
}

// down is a platform like Discord that does not answer: every unban fails
// with an error worth another try.
type down struct{ chat }

func (d *down) Unban(ctx context.Context, ev bot.Event) error {
	_ = d.chat.Unban(ctx, ev)
	return &bot.ActionError{Op: handlers.OutcomeUnban, Retryable: true, Err: errors.New("503 Service Unavailable")}
}

// A platform that is down holds its lifts for the next check after the
// first that fails, not one by one: each would wait for its tries and
// timeouts, and hold the check (its reminders, its expired cases) for an
// hour. Another platform's lifts are made.
func TestTimedBanLiftsStopOnAPlatformDown(t *testing.T) {
	for name, st := range redistest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: at}
			dc := &down{chat{recorder: recorder{name: "discord"}}}
			pg := &chat{recorder: recorder{name: "page"}}
			m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": dc, "page": pg}, Store: st,
				Now: clk.Now, Retry: handlers.Retry{Attempts: 1}})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				for _, platform := range []string{"discord", "page"} {
					ev := event(platform)
					ev.Author.ID = fmt.Sprintf("u-%d", i)
					if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: ev, Duration: time.Hour, By: "discord:42"}); err != nil {
						t.Fatal(err)
					}
				}
			}
			clk.Add(time.Hour)
			n, err := m.LiftBans(ctx)
			if n != 5 || err == nil {
				t.Errorf("LiftBans = %d, %v, want the page's 5 lifted and an error for discord", n, err)
			}
			if got := dc.Calls(); len(got) != 6 {
				t.Errorf("discord calls = %q, want 5 bans and one unban tried", got)
			}
			clk.Add(time.Minute)
			if _, err := m.LiftBans(ctx); err == nil {
				t.Error("the next check: no error for discord")
			}
			if got := dc.Calls(); len(got) != 7 {
				t.Errorf("discord calls after the next check = %q, want one more unban tried", got)
			}
		})
	}
}

// unanswered is a platform like Discord that does not answer a ban for a
// week: the ban fails after longer than the store's 10 s bound on a call.
type unanswered struct{ chat }

func (u *unanswered) Ban(ctx context.Context, ev bot.Event, d time.Duration) error {
	if d == 7*24*time.Hour {
		time.Sleep(10*time.Second + 500*time.Millisecond)
		return &bot.ActionError{Op: bot.ActBan, Err: errors.New("no answer")}
	}
	return u.chat.Ban(ctx, ev, d)
}

// A ban that fails after a platform slower than the store's bound on a call
// still puts back the end of the ban before it: that ban, still on, is
// lifted at its own end, not at the failed one's.
func TestTimedBanFailedAfterASlowPlatformPutsTheEndBack(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the store's 10 s bound")
	}
	st := redistest.OpenStore(t, "redis") // the memory store's calls are not bounded
	ctx := context.Background()
	clk := &clock{t: at}
	p := &unanswered{chat{recorder: recorder{name: "discord"}}}
	m := discordModerator(t, p, st, clk)
	ban := func(d time.Duration) error {
		_, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: event("discord"), Duration: d, By: "discord:42"})
		return err
	}
	if err := ban(24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := ban(7 * 24 * time.Hour); err == nil {
		t.Fatal("the week's ban did not fail")
	}
	due, err := st.(store.BanKeeper).DueBans(ctx, at.Add(365*24*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || !due[0].Until.Equal(at.Add(24*time.Hour)) {
		t.Errorf("ends kept = %+v, want the day's ban's", due)
	}
}

// discordModerator is a moderator of p as Discord on st, on clk, trying each
// action once.
func discordModerator(t *testing.T, p bot.Platform, st store.Store, clk *clock, with ...func(*handlers.Options)) *handlers.Moderator {
	t.Helper()
	o := handlers.Options{Platforms: map[string]bot.Platform{"discord": p}, Store: st,
		Now: clk.Now, Retry: handlers.Retry{Attempts: 1}}
	for _, f := range with {
		f(&o)
	}
	m, err := handlers.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
