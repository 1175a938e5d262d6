package handlers_test

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// bannedDuringLift is a platform like Discord where a member is banned again
// while a lift is on its way: during, when set, is run once as the first
// unban is asked, before it is carried out. Its calls name the member.
type bannedDuringLift struct {
	chat
	during func()
}

var _ bot.Banner = (*bannedDuringLift)(nil)

func (b *bannedDuringLift) Ban(_ context.Context, ev bot.Event, d time.Duration) error {
	return b.call("ban", "("+bot.FormatDuration(d)+") "+ev.Author.ID)
}

func (b *bannedDuringLift) Unban(_ context.Context, ev bot.Event) error {
	if f := b.during; f != nil {
		b.during = nil
		f()
	}
	return b.call("unban", " "+ev.Author.ID)
}

// withoutMemberLock is the store as a process that takes no member's lock
// sees it (a vigie of a version before it, beside this one on one Redis):
// the same ban book, and no lock.
type withoutMemberLock struct {
	store.Store
	store.BanKeeper
}

func unlocked(st store.Store) store.Store { return withoutMemberLock{st, st.(store.BanKeeper)} }

// A member banned again (ban(2d), or for good) by a process that takes no
// member's lock, while the lift of their old ban is on its way, keeps the
// new ban: a lift that finds its end replaced after it read it does not
// unban, and one whose unban raced the new ban bans again, and audits it.
func TestTimedBanGivenDuringLiftKept(t *testing.T) {
	tests := []struct {
		name string
		// again is who is banned again during the first unban, for
		// againFor (0: for good); authors are those banned for a day first.
		again    string
		againFor time.Duration
		authors  []string
		want     []string
		audited  string
	}{
		{"the member whose ban is being lifted", "u-1", 48 * time.Hour, []string{"u-1"},
			[]string{"ban(1d) u-1", "ban(2d) u-1", "unban u-1", "ban(2d) u-1"},
			"end of ban(1d); banned again: a new ban until 23 Nov 22:10 UTC was given while it was being lifted"},
		{"the member whose ban is being lifted, for good", "u-1", 0, []string{"u-1"},
			[]string{"ban(1d) u-1", "ban(0s) u-1", "unban u-1", "ban(0s) u-1"},
			"end of ban(1d); banned again: a new ban for good was given while it was being lifted"},
		{"a member whose ban is to be lifted next", "u-2", 48 * time.Hour, []string{"u-1", "u-2"},
			[]string{"ban(1d) u-1", "ban(1d) u-2", "ban(2d) u-2", "unban u-1"}, ""},
		{"a member whose ban is to be lifted next, for good", "u-2", 0, []string{"u-1", "u-2"},
			[]string{"ban(1d) u-1", "ban(1d) u-2", "ban(0s) u-2", "unban u-1"}, ""},
	}
	for _, tt := range tests {
		for name, st := range redistest.Stores(t) {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				ctx := context.Background()
				clk := &clock{t: at}
				p := &bannedDuringLift{chat: chat{recorder: recorder{name: "discord"}}}
				var logs strings.Builder
				m := discordModerator(t, p, st, clk, func(o *handlers.Options) {
					o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
				})
				old := discordModerator(t, p, unlocked(st), clk)
				ban := func(m *handlers.Moderator, author string, d time.Duration) {
					ev := event("discord")
					ev.Author.ID = author
					if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: ev, Duration: d, By: "discord:42"}); err != nil {
						t.Fatal(err)
					}
				}
				for _, a := range tt.authors {
					ban(m, a, 24*time.Hour)
					clk.Add(time.Second)
				}
				clk.Add(24 * time.Hour)
				p.during = func() { ban(old, tt.again, tt.againFor) }
				if _, err := m.LiftBans(ctx); err != nil {
					t.Fatal(err)
				}
				if got := p.Calls(); !slices.Equal(got, tt.want) {
					t.Errorf("platform calls = %q\nwant %q", got, tt.want)
				}
				if tt.audited == "" {
					return
				}
				audit, err := st.Audit(ctx, at)
				if err != nil {
					t.Fatal(err)
				}
				var reasons []string
				for _, e := range audit {
					for _, mt := range e.Verdict.Matches {
						reasons = append(reasons, mt.Reason)
					}
				}
				if !slices.ContainsFunc(reasons, func(r string) bool { return strings.Contains(r, tt.audited) }) {
					t.Errorf("audit reasons = %q\nwant one saying %q", reasons, tt.audited)
				}
				// the log says a ban for good is for good, not until year 9999
				if strings.Contains(logs.String(), "9999") || !strings.Contains(logs.String(), "given again") {
					t.Errorf("log:\n%s\nwant the ban given again, with no year 9999", logs.String())
				}
			})
		}
	}
}

// A member banned again while the lift of their old ban is on its way, by
// a process that shares the members' locks, is banned once the lift is
// done: the ban waits for it, then finds the member unbanned, and is given.
// Nothing is unbanned after it, nor banned again.
func TestBanDuringLiftWaitsForIt(t *testing.T) {
	sts := redistest.Stores(t)
	for _, name := range lockStores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: at}
			p := &bannedDuringLift{chat: chat{recorder: recorder{name: "discord"}}}
			m, other := lockModerators(t, sts, name, p, clk)
			ban := func(m *handlers.Moderator, d time.Duration) error {
				_, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: event("discord"), Duration: d, By: "discord:42"})
				return err
			}
			if err := ban(m, 24*time.Hour); err != nil {
				t.Fatal(err)
			}
			clk.Add(24 * time.Hour)
			again := make(chan error, 1)
			p.during = func() {
				go func() { again <- ban(other, 48*time.Hour) }()
				// The new ban may reach the platform before the unban:
				// give it the chance (it need not take it).
				for i := 0; i < 10000 && len(p.Calls()) < 2; i++ {
					runtime.Gosched()
				}
			}
			if n, err := m.LiftBans(ctx); n != 1 || err != nil {
				t.Fatalf("LiftBans = %d, %v, want the day's ban lifted", n, err)
			}
			if err := <-again; err != nil {
				t.Fatal(err)
			}
			want := []string{"ban(1d) u-7", "unban u-7", "ban(2d) u-7"}
			if got := p.Calls(); !slices.Equal(got, want) {
				t.Errorf("platform calls = %q\nwant %q", got, want)
			}
			clk.Add(48*time.Hour - time.Second)
			if n, err := other.LiftBans(ctx); n != 0 || err != nil {
				t.Errorf("LiftBans before the new ban's end = %d, %v, want none", n, err)
			}
			clk.Add(time.Second)
			if n, err := other.LiftBans(ctx); n != 1 || err != nil {
				t.Errorf("LiftBans at the new ban's end = %d, %v, want it lifted", n, err)
			}
		})
	}
}

// letBackByHand is a platform like Discord that says whether the member is
// banned (bot.BanReader): lifted says a moderator unbanned them by hand in
// the platform's app, unseen.
type letBackByHand struct {
	bannedDuringLift
	lifted bool
}

func (l *letBackByHand) BanOf(context.Context, bot.Event) (bot.BanStatus, error) {
	return bot.BanStatus{Known: true, Banned: !l.lifted}, nil
}

// A rule's ban(1d) carried out late, for a message written before a CM
// banned its author for good (a verdict retried, or taken again from the
// journal after a crash), does not shorten the ban for good: nothing is
// asked of the platform, and the day after, nothing is lifted. For a message
// written after the ban for good (the member was let back in by hand), the
// rule's ban is given, and lifted at its end.
func TestRuleTimedBanKeepsALaterBanForGood(t *testing.T) {
	for _, tt := range []struct {
		name    string
		written time.Duration // after the ban for good; negative: before
		want    []string
	}{
		{"message written before the ban for good", -time.Minute, []string{"ban(0s) u-7"}},
		{"message written after the ban for good", time.Minute, []string{"ban(0s) u-7", "ban(1d) u-7", "unban u-7"}},
	} {
		for name, st := range redistest.Stores(t) {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				ctx := context.Background()
				clk := &clock{t: at}
				p := &letBackByHand{bannedDuringLift: bannedDuringLift{chat: chat{recorder: recorder{name: "discord"}}}}
				m := discordModerator(t, p, st, clk)
				if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: event("discord"), By: "discord:42"}); err != nil {
					t.Fatal(err)
				}
				clk.Add(2 * time.Minute)
				p.lifted = tt.written > 0
				ev := event("discord")
				ev.ID, ev.At = "m-2", at.Add(tt.written)
				v := bot.Verdict{EventID: ev.ID, Platform: ev.Platform, At: clk.Now(), Matches: []bot.Match{{Rule: "raid", Category: "spam",
					Actions: []bot.Action{{Kind: bot.ActBan, Duration: 24 * time.Hour}}}}}
				if err := m.Handle(ctx, ev, v); err != nil {
					t.Fatal(err)
				}
				clk.Add(48 * time.Hour)
				if _, err := m.LiftBans(ctx); err != nil {
					t.Fatal(err)
				}
				if got := p.Calls(); !slices.Equal(got, tt.want) {
					t.Errorf("platform calls = %q\nwant %q", got, tt.want)
				}
			})
		}
	}
}

// expiringDuringLift is bannedDuringLift as Telegram: it ends a ban of up to
// 366 days by itself.
type expiringDuringLift struct{ bannedDuringLift }

func (e *expiringDuringLift) BanEnds(_ bot.Event, d time.Duration) bool {
	return d > 0 && d <= 366*24*time.Hour
}

// On Telegram, a ban(30d), which Telegram ends by itself, given (by a
// process that takes no member's lock) while the member's kept ban(400d) is
// being lifted is given again once the unban is done; it is not lifted, and
// the book forgets it at its end.
func TestBanThePlatformEndsGivenDuringLiftKept(t *testing.T) {
	for name, st := range redistest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: at}
			p := &expiringDuringLift{bannedDuringLift{chat: chat{recorder: recorder{name: "telegram"}}}}
			m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"telegram": p}, Store: st,
				Now: clk.Now, Retry: handlers.Retry{Attempts: 1}})
			if err != nil {
				t.Fatal(err)
			}
			old, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"telegram": p}, Store: unlocked(st),
				Now: clk.Now, Retry: handlers.Retry{Attempts: 1}})
			if err != nil {
				t.Fatal(err)
			}
			ban := func(m *handlers.Moderator, d time.Duration) {
				if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: event("telegram"), Duration: d, By: "telegram:42"}); err != nil {
					t.Fatal(err)
				}
			}
			ban(m, 400*24*time.Hour)
			clk.Add(400 * 24 * time.Hour)
			p.during = func() { ban(old, 30*24*time.Hour) }
			if _, err := m.LiftBans(ctx); err != nil {
				t.Fatal(err)
			}
			want := []string{"ban(400d) u-7", "ban(30d) u-7", "unban u-7", "ban(30d) u-7"}
			if got := p.Calls(); !slices.Equal(got, want) {
				t.Fatalf("platform calls = %q\nwant %q", got, want)
			}
			clk.Add(31 * 24 * time.Hour)
			if n, err := m.LiftBans(ctx); n != 0 || err != nil {
				t.Errorf("LiftBans after the 30 days = %d, %v; want none: Telegram ends that ban", n, err)
			}
			if got := p.Calls(); len(got) != len(want) {
				t.Errorf("platform calls after the 30 days = %q", got)
			}
			if _, ok, err := st.(store.BanKeeper).KeptBan(ctx, store.BanKey(event("telegram"))); ok || err != nil {
				t.Errorf("the 30-day ban still in the book after its end: %v, %v", ok, err)
			}
		})
	}
}

// A rule's ban(1d) of a member the platform says is banned, with no end
// kept (banned for good by hand in the platform's app, or by vigie more
// than 30 days ago, dropped from the book since), would shorten that ban:
// it is not given, nothing is lifted, and the mod-log says why.
func TestRuleTimedBanKeepsABanForGoodByHand(t *testing.T) {
	for name, st := range redistest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: at}
			p := &letBackByHand{bannedDuringLift: bannedDuringLift{chat: chat{recorder: recorder{name: "discord"}}}}
			m := discordModerator(t, p, st, clk)
			ev := event("discord")
			v := bot.Verdict{EventID: ev.ID, Platform: ev.Platform, At: clk.Now(), Matches: []bot.Match{{Rule: "raid", Category: "spam",
				Actions: []bot.Action{{Kind: bot.ActBan, Duration: 24 * time.Hour}}}}}
			if err := m.Handle(ctx, ev, v); err != nil {
				t.Fatal(err)
			}
			clk.Add(48 * time.Hour)
			if n, err := m.LiftBans(ctx); n != 0 || err != nil {
				t.Errorf("LiftBans = %d, %v: want nothing lifted", n, err)
			}
			if got := p.Calls(); len(got) != 0 {
				t.Errorf("platform calls = %q, want none", got)
			}
		})
	}
}

// A CM decides ban(1d) on a case of a member banned for good by hand: no
// ban is given, and the mod-log line says so, as a rule's does, rather
// than read as a ban of a day given.
func TestDecidedTimedBanOverABanForGoodLogsNothingDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dc := newLogChannel()
		l := newModLog(t, handlers.ModLogOptions{Posters: map[string]bot.LogPoster{"discord": dc}})
		l.SetConfig(rules.ModLog{DiscordChannel: "mod-log"})
		st := memory.New()
		p := &letBackByHand{bannedDuringLift: bannedDuringLift{chat: chat{recorder: recorder{name: "discord"}}}}
		m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": p}, Store: st, ModLog: l})
		if err != nil {
			t.Fatal(err)
		}
		ctx, written := runModLog(t, l)
		c, err := st.OpenCase(ctx, store.Case{Event: event("discord"), Rule: "scam", Reason: "scam link"})
		if err != nil {
			t.Fatal(err)
		}
		if _, note, err := m.DecideNoted(ctx, c.ID, "ban(1d)", "http:ann"); err != nil || !strings.Contains(note, "banned already for good") {
			t.Fatalf("DecideNoted = %q, %v", note, err)
		}
		time.Sleep(time.Second)
		written()
		if got := p.Calls(); len(got) != 0 {
			t.Errorf("platform calls = %q, want none", got)
		}
		got := dc.all()
		if len(got) != 1 || !strings.Contains(got[0], "banned already for good") {
			t.Errorf("lines = %q, want one saying the member is banned already for good", got)
		}
	})
}

// slowBanWithReader is a platform like Discord that says whether the member
// is banned now (bot.BanReader): a ban counts once carried out. Its ban for
// 30 days waits for release after it is entered; read says BanOf was asked
// while it waited.
type slowBanWithReader struct {
	chat
	mu               sync.Mutex
	banned           bool
	entered, release chan struct{}
	read             atomic.Bool
	waiting          atomic.Bool
}

func (s *slowBanWithReader) Ban(ctx context.Context, ev bot.Event, d time.Duration) error {
	if d == 30*24*time.Hour {
		s.waiting.Store(true)
		close(s.entered)
		<-s.release
		s.waiting.Store(false)
	}
	s.mu.Lock()
	s.banned = true
	s.mu.Unlock()
	return s.chat.Ban(ctx, ev, d)
}

func (s *slowBanWithReader) BanOf(context.Context, bot.Event) (bot.BanStatus, error) {
	if s.waiting.Load() {
		s.read.Store(true)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return bot.BanStatus{Known: true, Banned: s.banned}, nil
}

// Two bans of one member at once (two messages of a raider judged by two
// rules, or a CM's /ban as a rule's lands): ban(30d) is under way on the
// platform when ban(1d) asks whether the member is banned. The platform
// says no, as the first ban is not carried out yet; given, the day's ban
// would replace the 30 days' end and have vigie lift the ban after a day.
// A member's bans are given one after the other: the day's ban finds the
// 30 days' and is not given.
func TestTimedBansAtOnceKeepTheLonger(t *testing.T) {
	sts := redistest.Stores(t)
	for _, name := range lockStores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: at}
			p := &slowBanWithReader{chat: chat{recorder: recorder{name: "discord"}}, entered: make(chan struct{}), release: make(chan struct{})}
			first, second := lockModerators(t, sts, name, p, clk)
			ban := func(m *handlers.Moderator, d time.Duration) error {
				_, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: event("discord"), Duration: d, By: "discord:42"})
				return err
			}
			long := make(chan error, 1)
			go func() { long <- ban(first, 30*24*time.Hour) }()
			<-p.entered
			short := make(chan error, 1)
			go func() { short <- ban(second, 24*time.Hour) }()
			// The day's ban may ask the platform while the 30 days' waits:
			// give it the chance (it need not take it).
			for i := 0; i < 10000 && !p.read.Load(); i++ {
				runtime.Gosched()
			}
			close(p.release)
			if err := <-long; err != nil {
				t.Fatal(err)
			}
			if err := <-short; err != nil {
				t.Fatal(err)
			}
			if p.read.Load() {
				t.Error("the day's ban asked whether the member is banned while the 30 days' ban was under way")
			}
			clk.Add(25 * time.Hour)
			for _, m := range []*handlers.Moderator{first, second} {
				if n, err := m.LiftBans(ctx); n != 0 || err != nil {
					t.Errorf("LiftBans after a day = %d, %v, want none: the 30 days' ban stays", n, err)
				}
			}
		})
	}
}

// lockStores name the stores a member's lock is tried on (lockModerators).
var lockStores = []string{"memory", "redis", "redis, two processes"}

// lockModerators are two moderators of p on clk, on the store of sts named
// (one moderator for both), or, for "redis, two processes", on two stores
// on one Redis, as two processes have: each its own store, its own
// connections, the same platform.
func lockModerators(t *testing.T, sts map[string]store.Store, name string, p bot.Platform, clk *clock) (m, other *handlers.Moderator) {
	t.Helper()
	if name == "redis, two processes" {
		a, b := sharedRedis(t)
		return discordModerator(t, p, a, clk), discordModerator(t, p, b, clk)
	}
	m = discordModerator(t, p, sts[name], clk)
	return m, m
}

// sharedRedis is two stores on one Redis, as two processes have: a
// prefix of their own, each its own client.
func sharedRedis(t *testing.T) (store.Store, store.Store) {
	t.Helper()
	url := redistest.URL(t)
	prefix := redistest.Prefix("shared-test")
	var sts [2]store.Store
	for i := range sts {
		rs := redistest.Open(t, url, redis.WithPrefix(prefix))
		sts[i] = rs
	}
	return sts[0], sts[1]
}

// slowKick is a platform like Discord whose kick waits for release.
type slowKick struct {
	chat
	entered, release chan struct{}
}

func (s *slowKick) Kick(ctx context.Context, ev bot.Event) error {
	close(s.entered)
	<-s.release
	return s.chat.Kick(ctx, ev)
}

// A lift due for a member whose kick is under way (the member's lock held)
// waits a little for it, not a ban's wait: it is tried at the next check,
// and the check, which runs the escalations too, is not held 30 seconds for
// each such lift. The lift is done at the next check, once the kick is done.
func TestLiftOfABusyMemberLeftForTheNextCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		clk := &clock{t: at}
		st := memory.New()
		defer st.Close()
		p := &slowKick{chat: chat{recorder: recorder{name: "discord"}}, entered: make(chan struct{}), release: make(chan struct{})}
		m := discordModerator(t, p, st, clk)
		moderate := func(c bot.ModCommand, d time.Duration) error {
			_, err := m.Moderate(ctx, bot.ModRequest{Command: c, Target: event("discord"), Duration: d, By: "discord:42"})
			return err
		}
		if err := moderate(bot.ModBan, time.Hour); err != nil {
			t.Fatal(err)
		}
		clk.Add(2 * time.Hour)
		kicked := make(chan error)
		go func() { kicked <- moderate(bot.ModKick, 0) }()
		<-p.entered
		start := time.Now()
		if n, err := m.LiftBans(ctx); n != 0 || err != nil {
			t.Errorf("LiftBans while the member's kick is under way = %d, %v; want none lifted", n, err)
		}
		if waited := time.Since(start); waited > 5*time.Second {
			t.Errorf("LiftBans waited %v for the member's lock; want a few seconds at most", waited)
		}
		close(p.release)
		if err := <-kicked; err != nil {
			t.Fatal(err)
		}
		if n, err := m.LiftBans(ctx); n != 1 || err != nil {
			t.Errorf("LiftBans at the next check = %d, %v; want the hour's ban lifted", n, err)
		}
		if got := p.Calls(); !slices.Contains(got, "unban") {
			t.Errorf("platform calls = %q; want the unban", got)
		}
	})
}
