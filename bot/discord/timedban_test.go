package discord

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// banClock is the handlers' clock in the timed bans' tests: a fixed day,
// moved by hand, never today's.
type banClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *banClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *banClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// banWorld is vigie on the fake Discord, its handlers on clk and st, as the
// daemon wires them.
type banWorld struct {
	*modWorld
	mod *handlers.Moderator
	clk *banClock
}

func newBanWorld(t *testing.T, f *discordfake.Server, st store.Store, clk *banClock) *banWorld {
	return newBanWorldPerms(t, f, st, clk, allPerms)
}

// viewAuditLog is Discord's View Audit Log permission.
const viewAuditLog = 1 << 7

// newBanWorldPerms is newBanWorld with vigie's role allowed perms.
func newBanWorldPerms(t *testing.T, f *discordfake.Server, st store.Store, clk *banClock, perms int64) *banWorld {
	c, logs := newTestClient(t, f, Config{DeskChannel: deskID, CMs: []string{"discord:" + cm.id}, ModeratorRoles: []string{modRole}})
	cmds := &desktest.Commands{Store: st}
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": c}, Store: st,
		Retry: handlers.Retry{Attempts: 1}, Now: clk.Now, Logger: testsync.Logger(logs)})
	if err != nil {
		t.Fatal(err)
	}
	cmds.Mod = mod
	c.Desk(cmds)
	out := make(chan bot.Event, 16)
	stop := run(t, f, c, out, perms)
	f.WaitFor(t, "PUT", "/applications/"+appID+"/guilds/"+guildID+"/commands", 1, nil)
	testsync.Eventually(t, "the commands' registration done", func() bool { return c.work.Busy() == 0 })
	return &banWorld{modWorld: &modWorld{f: f, c: c, logs: logs, out: out, stop: stop}, mod: mod, clk: clk}
}

// ban sends /ban member:who [duration:d] as the moderator, and returns the answer.
func (w *banWorld) ban(t *testing.T, id string, who user, d string) string {
	t.Helper()
	var opts []map[string]any
	if d != "" {
		opts = append(opts, opt("duration", 3, d))
	}
	w.f.Dispatch("INTERACTION_CREATE", modSlash(id, mod, 0, "ban", &who, opts...))
	return w.answer(t, id)
}

func (w *banWorld) lift(t *testing.T, want int) {
	t.Helper()
	if n, err := w.mod.LiftBans(context.Background()); n != want || err != nil {
		t.Fatalf("LiftBans at %s = %d, %v; want %d lifted", w.clk.Now().Format(time.RFC3339), n, err, want)
	}
}

// A moderator's /ban 7d on Discord bans (for good, as Discord bans) and the
// ban is lifted with a real unban when its time is up, not before; the
// answer says until when, and that a memory store's restart would leave it
// on. An unban by hand before the end, or a ban for good, cancels the lift;
// a new timed ban replaces the end.
func TestTimedBanLiftedAtItsEnd(t *testing.T) {
	f := newFakeDiscord(t)
	clk := &banClock{t: time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)}
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	w := newBanWorld(t, f, st, clk)
	banPath := "/guilds/" + guildID + "/bans/" + mallory.id

	want := "Banned Mallory for 7d, until 12 Dec 03:00 UTC (vigie lifts it then; its store is in memory: a restart before then leaves the ban on, until /unban)."
	if got := w.ban(t, "9101", mallory, "7d"); got != want {
		t.Errorf("/ban 7d: answer = %q, want %q", got, want)
	}
	if !f.Banned(guildID, mallory.id) {
		t.Fatal("Mallory not banned")
	}
	clk.Add(7*24*time.Hour - time.Minute)
	w.lift(t, 0)
	if n := f.Count("DELETE", banPath); n != 0 || !f.Banned(guildID, mallory.id) {
		t.Fatalf("a minute before the end: %d unbans, banned %v", n, f.Banned(guildID, mallory.id))
	}
	clk.Add(time.Minute)
	w.lift(t, 1)
	if f.Banned(guildID, mallory.id) {
		t.Fatal("still banned at the end of the 7 days")
	}
	unban := f.WaitFor(t, "DELETE", banPath, 1, nil)
	if r, _ := url.PathUnescape(unban.Header.Get("X-Audit-Log-Reason")); !strings.Contains(r, "end of ban(7d) by discord:"+mod.id) {
		t.Errorf("unban's audit-log reason = %q", r)
	}
	w.lift(t, 0)
	audit, _ := st.Audit(context.Background(), clk.Now())
	if len(audit) != 1 || len(audit[0].Verdict.Matches) != 1 || audit[0].By != "discord:"+mod.id ||
		!strings.Contains(audit[0].Verdict.Matches[0].Reason, "end of ban(7d)") || audit[0].Verdict.Matches[0].Actions[0].Kind != handlers.OutcomeUnban {
		t.Errorf("the lift's audit = %+v", audit)
	}

	// /unban before the end: nothing left to lift.
	w.ban(t, "9102", mallory, "1d")
	w.f.Dispatch("INTERACTION_CREATE", modSlash("9103", mod, 0, "unban", &mallory))
	if got := w.answer(t, "9103"); got != "Unbanned Mallory." {
		t.Errorf("/unban: answer = %q", got)
	}
	// A ban for good after a timed one: never lifted.
	w.ban(t, "9104", bob, "1d")
	if got := w.ban(t, "9105", bob, ""); got != "Banned Bob." {
		t.Errorf("/ban: answer = %q", got)
	}
	clk.Add(2 * 24 * time.Hour)
	w.lift(t, 0)
	if n := f.Count("DELETE", banPath); n != 2 {
		t.Errorf("Mallory's unbans = %d, want 2 (the lift, /unban)", n)
	}
	if !f.Banned(guildID, bob.id) || f.Count("DELETE", "/guilds/"+guildID+"/bans/"+bob.id) != 0 {
		t.Error("Bob's ban for good was lifted")
	}

	// A new timed ban replaces the end of the one before: 1h, then 3h.
	w.ban(t, "9106", mallory, "1h")
	w.ban(t, "9107", mallory, "3h")
	clk.Add(2 * time.Hour)
	w.lift(t, 0)
	clk.Add(time.Hour)
	w.lift(t, 1)
	if f.Banned(guildID, mallory.id) {
		t.Error("Mallory still banned after the 3h ban")
	}
}

// With Redis, the end of a ban is kept: a process that did not ban (another
// one, or the same after a restart) lifts it. A lift Discord cannot do now
// (a 502, a 429) is logged and tried again at the next check, never lost;
// one found done by hand already (Unknown Ban) is forgotten without a fuss.
func TestTimedBanSurvivesRestartAndFailures(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix("vigietest-tempban")
	open := func() *redis.Store { return redistest.Open(t, url, redis.WithPrefix(prefix)) }
	f := newFakeDiscord(t)
	clk := &banClock{t: time.Date(2026, 3, 1, 22, 30, 0, 0, time.UTC)}
	first := newBanWorld(t, f, open(), clk)
	if got, want := first.ban(t, "9201", mallory, "2d"), "Banned Mallory for 2d, until 3 Mar 22:30 UTC."; got != want {
		t.Errorf("/ban 2d: answer = %q, want %q", got, want)
	}
	first.ban(t, "9202", bob, "1d")
	first.stop()

	// Another process, or this one started again: its own Discord client
	// (not connected to the gateway: the lift needs the REST API only),
	// handlers and connection to the Redis.
	st := open()
	c, logs := newTestClient(t, f, Config{DeskChannel: deskID})
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": c}, Store: st,
		Retry: handlers.Retry{Attempts: 1}, Now: clk.Now, Logger: testsync.Logger(logs)})
	if err != nil {
		t.Fatal(err)
	}
	second := &banWorld{modWorld: &modWorld{f: f, c: c, logs: logs}, mod: mod, clk: clk}
	clk.Add(2 * 24 * time.Hour)
	bobs, mallorys := "/guilds/"+guildID+"/bans/"+bob.id, "/guilds/"+guildID+"/bans/"+mallory.id
	f.Fail("DELETE", bobs, 502, `{"message": "Bad Gateway", "code": 0}`, nil, 1)
	f.Fail("DELETE", mallorys, 429,
		`{"message": "You are being rate limited.", "retry_after": 0.01, "global": false}`, nil, 1)
	// Bob's ban ends first: its 502 leaves Discord's other lifts, Mallory's,
	// for the next check, rather than each wait out its tries.
	if n, err := second.mod.LiftBans(context.Background()); n != 0 || err == nil {
		t.Fatalf("LiftBans with a 502 = %d, %v; want none lifted and an error", n, err)
	}
	if !f.Banned(guildID, bob.id) || !f.Banned(guildID, mallory.id) {
		t.Fatal("a ban was lifted though Discord refused")
	}
	if n := f.Count("DELETE", mallorys); n != 0 {
		t.Errorf("Mallory's lift tried %d times while Discord answered 502 to Bob's, want it left for the next check", n)
	}
	f.Unban(guildID, bob.id) // by hand, meanwhile
	// The next check: Mallory's, which did not fail yet, comes before
	// Bob's, and is refused by a 429, which leaves Bob's for the next.
	clk.Add(time.Minute)
	since := clk.Now()
	if n, err := second.mod.LiftBans(context.Background()); n != 0 || err == nil {
		t.Fatalf("LiftBans with a 429 = %d, %v; want none lifted and an error", n, err)
	}
	if !f.Banned(guildID, mallory.id) {
		t.Fatal("Mallory's ban was lifted though Discord refused")
	}
	if logs := second.logs.String(); strings.Count(logs, "timed ban not lifted yet") != 2 {
		t.Errorf("the failed lifts are not logged:\n%s", logs)
	}
	// Then both: Bob's found lifted already, Mallory's lifted.
	clk.Add(time.Minute)
	second.lift(t, 2)
	if f.Banned(guildID, mallory.id) {
		t.Error("Mallory still banned")
	}
	if due, _ := st.DueBans(context.Background(), clk.Now().Add(time.Hour), 0); len(due) != 0 {
		t.Errorf("bans kept after their lift: %+v", due)
	}
	audit, _ := st.Audit(context.Background(), since)
	var reasons []string
	for _, e := range audit {
		reasons = append(reasons, e.Verdict.Matches[0].Reason)
	}
	if len(reasons) != 2 || !strings.Contains(strings.Join(reasons, "|"), "end of ban(1d): lifted already") {
		t.Errorf("the lifts' audit reasons = %q", reasons)
	}
}

// A lift that keeps failing for a reason worth another try (Discord answers
// 502 to the unban of Bob and of Newbie, every time, and to nothing else)
// holds back the others for a check each, not for good: Mallory's ban,
// which ends after theirs, is lifted at the third check, and theirs are
// still tried, and kept, until Discord lifts them.
func TestTimedBanLiftedPastLiftsThatKeepFailing(t *testing.T) {
	f := newFakeDiscord(t)
	clk := &banClock{t: time.Date(2026, 3, 1, 22, 30, 0, 0, time.UTC)}
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	w := newBanWorld(t, f, st, clk)
	w.ban(t, "9301", bob, "1d")
	w.ban(t, "9302", newbie, "1d")
	w.ban(t, "9303", mallory, "2d")
	broken := func(c discordfake.Call) bool {
		return c.Method == "DELETE" && (c.Path == "/guilds/"+guildID+"/bans/"+bob.id || c.Path == "/guilds/"+guildID+"/bans/"+newbie.id)
	}
	f.FailWhen(broken, 502, `{"message": "Bad Gateway", "code": 0}`)
	clk.Add(2 * 24 * time.Hour)
	for check := 1; check <= 5 && f.Banned(guildID, mallory.id); check++ {
		if _, err := w.mod.LiftBans(context.Background()); err == nil {
			t.Fatalf("check %d: no error, though Discord answers 502 to two lifts", check)
		}
		clk.Add(time.Minute)
	}
	if f.Banned(guildID, mallory.id) {
		t.Fatalf("Mallory still banned after 5 checks: the lifts that keep failing hold hers back\n%s", f.Summary())
	}
	if !f.Banned(guildID, bob.id) || !f.Banned(guildID, newbie.id) {
		t.Error("a ban Discord refused to lift is lifted")
	}
	due, err := st.DueBans(context.Background(), clk.Now(), 0)
	if err != nil || len(due) != 2 {
		t.Errorf("bans kept = %+v, %v; want Bob's and Newbie's, still to lift", due, err)
	}
}

// An unban by hand in Discord's app (GUILD_BAN_REMOVE) forgets the ban vigie
// keeps, on either store: the end of a timed ban does not lift a ban given
// by hand since, and a ban for good lifted by hand leaves the book. Both are
// audited; vigie's own unban (/unban) is no unban by hand.
func TestUnbanByHandForgetsTheBan(t *testing.T) {
	for _, kind := range redistest.StoreKinds {
		t.Run(kind, func(t *testing.T) {
			st := redistest.OpenStore(t, kind)
			f := newFakeDiscord(t)
			clk := &banClock{t: time.Date(2026, 3, 1, 22, 30, 0, 0, time.UTC)}
			w := newBanWorld(t, f, st, clk)
			ctx := context.Background()
			bk := st.(store.BanKeeper)
			gone := func(who user) bool {
				_, ok, err := bk.KeptBan(ctx, "discord|"+guildID+"|"+who.id)
				return err == nil && !ok
			}
			w.ban(t, "9401", mallory, "1d")
			w.ban(t, "9402", bob, "")
			clk.Add(time.Hour)
			f.Unban(guildID, mallory.id) // by hand, in Discord's app
			f.Unban(guildID, bob.id)
			testsync.Eventually(t, "the unbans by hand learned", func() bool { return gone(mallory) && gone(bob) })
			f.Ban(guildID, mallory.id) // by hand again, for good
			clk.Add(24 * time.Hour)
			w.lift(t, 0)
			if !f.Banned(guildID, mallory.id) {
				t.Error("the end of vigie's 1d ban lifted the ban Mallory was given by hand since")
			}
			audit, _ := st.Audit(ctx, clk.Now().Add(-48*time.Hour))
			var reasons []string
			for _, e := range audit {
				if len(e.Verdict.Matches) == 1 && strings.Contains(e.Verdict.Matches[0].Reason, "by hand") {
					reasons = append(reasons, e.Event.Author.ID+": "+e.Verdict.Matches[0].Reason)
				}
			}
			slices.Sort(reasons)
			want := []string{bob.id + ": unbanned on discord by hand: the ban for good is forgotten",
				mallory.id + ": unbanned on discord by hand: the ban until 2 Mar 22:30 UTC is forgotten"}
			slices.Sort(want)
			if !slices.Equal(reasons, want) {
				t.Errorf("the unbans by hand audited %q, want %q", reasons, want)
			}

			// vigie's own /unban is not one by hand: audited as the /unban only.
			w.ban(t, "9403", newbie, "1d")
			w.f.Dispatch("INTERACTION_CREATE", modSlash("9404", mod, 0, "unban", &newbie))
			if got := w.answer(t, "9404"); !strings.HasPrefix(got, "Unbanned") {
				t.Errorf("/unban: answer = %q", got)
			}
			testsync.Eventually(t, "the gateway's word of the /unban taken", func() bool { return w.c.work.Busy() == 0 })
			audit, _ = st.Audit(ctx, clk.Now().Add(-time.Minute))
			for _, e := range audit {
				if e.Event.Author.ID == newbie.id && len(e.Verdict.Matches) == 1 && strings.Contains(e.Verdict.Matches[0].Reason, "by hand") {
					t.Errorf("vigie's /unban audited as one by hand: %+v", e)
				}
			}
		})
	}
}

// The audit log's entry, which Discord sends where vigie may view the audit
// log, dates an unban by hand and names who gave it:
// a moderator's, seconds after vigie's ban, forgets that ban (its end would
// lift a ban given by hand since), and one Discord tells late (a gateway
// that resumed replays it) does not forget a ban vigie gave after it (never
// lifted then).
func TestUnbanByHandDatedByTheAuditLog(t *testing.T) {
	for _, kind := range redistest.StoreKinds {
		t.Run(kind, func(t *testing.T) {
			st := redistest.OpenStore(t, kind)
			clk := &banClock{t: time.Date(2026, 3, 1, 22, 30, 0, 0, time.UTC)}
			f := discordfake.New(t, discordfake.Options{Guilds: []string{guildID}, Now: clk.Now, AuditLog: true})
			w := newBanWorldPerms(t, f, st, clk, allPerms|viewAuditLog)
			ctx := context.Background()
			bk := st.(store.BanKeeper)
			gone := func(who user) bool {
				_, ok, err := bk.KeptBan(ctx, "discord|"+guildID+"|"+who.id)
				return err == nil && !ok
			}

			// Seconds after vigie's ban, a moderator lifts it by hand, then
			// bans Mallory by hand for good.
			w.ban(t, "9501", mallory, "1d")
			clk.Add(2 * time.Second)
			f.Unban(guildID, mallory.id)
			testsync.Eventually(t, "the unban by hand seconds after the ban learned", func() bool { return gone(mallory) })
			f.Ban(guildID, mallory.id)

			// A moderator lifts Bob's ban by hand; Discord tells it after
			// vigie banned Bob again.
			w.ban(t, "9502", bob, "1d")
			clk.Add(time.Hour)
			tell := f.UnbanUntold(guildID, bob.id)
			clk.Add(5 * time.Minute)
			w.ban(t, "9503", bob, "1d")
			again := clk.Now().Add(24 * time.Hour)
			clk.Add(time.Minute)
			tell()
			// Discord's events are handled in order: once Newbie's unban by
			// hand is learned and the desk's workers are idle, Bob's was.
			w.ban(t, "9504", newbie, "1d")
			clk.Add(time.Minute)
			f.Unban(guildID, newbie.id)
			testsync.Eventually(t, "the unbans told late learned", func() bool { return gone(newbie) && w.c.work.Busy() == 0 })
			if b, ok, err := bk.KeptBan(ctx, "discord|"+guildID+"|"+bob.id); err != nil || !ok || !b.Until.Equal(again) {
				t.Fatalf("Bob's ban kept = %+v, %v, %v; want the one given after the unban told late, until %s", b, ok, err, again)
			}

			clk.Add(24 * time.Hour)
			w.lift(t, 1)
			if f.Banned(guildID, bob.id) {
				t.Error("the ban given after the unban told late is not lifted at its end")
			}
			if !f.Banned(guildID, mallory.id) {
				t.Error("the end of vigie's 1d ban lifted the ban Mallory was given by hand since")
			}
			audit, _ := st.Audit(ctx, clk.Now().Add(-48*time.Hour))
			var by []string
			for _, e := range audit {
				if len(e.Verdict.Matches) == 1 && strings.Contains(e.Verdict.Matches[0].Reason, "by hand") {
					by = append(by, e.Event.Author.Name+" by "+e.By)
				}
			}
			slices.Sort(by)
			want := []string{mallory.name + " by discord:" + discordfake.ModID, newbie.name + " by discord:" + discordfake.ModID}
			slices.Sort(want)
			if !slices.Equal(by, want) {
				t.Errorf("the unbans by hand audited %q, want %q", by, want)
			}
		})
	}
}

// Without the guild's audit log (vigie may not view it), an unban by hand is
// taken as given just before Discord told it: it still forgets the ban, and
// vigie says once what it does without.
func TestUnbanByHandWithoutTheAuditLog(t *testing.T) {
	clk := &banClock{t: time.Date(2026, 3, 1, 22, 30, 0, 0, time.UTC)}
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guildID}, Now: clk.Now})
	st := memory.New()
	w := newBanWorld(t, f, st, clk)
	ctx := context.Background()
	for i, who := range []user{mallory, bob} {
		w.ban(t, fmt.Sprint(9601+i), who, "1d")
		clk.Add(time.Hour)
		f.Unban(guildID, who.id)
		testsync.Eventually(t, "the unban by hand learned", func() bool {
			_, ok, err := st.KeptBan(ctx, "discord|"+guildID+"|"+who.id)
			return err == nil && !ok
		})
	}
	if n := strings.Count(w.logs.String(), "vigie may not view the server's audit log"); n != 1 {
		t.Errorf("the audit log not read logged %d times, want once:\n%s", n, w.logs.String())
	}
}

// An unban the audit log names a moderator's is theirs, not vigie's lift:
// it forgets a timed ban whose end has come (its lift waits for the next
// check, or for Discord), and one given over it then, whose unban might
// otherwise have been that lift's. A ban given by hand since stays.
func TestUnbanByHandOfABanWhoseEndCame(t *testing.T) {
	clk := &banClock{t: time.Date(2026, 3, 1, 22, 30, 0, 0, time.UTC)}
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guildID}, Now: clk.Now, AuditLog: true})
	st := memory.New()
	w := newBanWorldPerms(t, f, st, clk, allPerms|viewAuditLog)
	ctx := context.Background()
	gone := func(who user) bool {
		_, ok, err := st.KeptBan(ctx, "discord|"+guildID+"|"+who.id)
		return err == nil && !ok
	}
	w.ban(t, "9701", mallory, "1h")
	w.ban(t, "9702", bob, "1h")
	clk.Add(2 * time.Hour) // both ends came; not lifted yet
	w.ban(t, "9703", bob, "1d")
	clk.Add(time.Minute)
	for _, who := range []user{mallory, bob} {
		f.Unban(guildID, who.id)
		testsync.Eventually(t, "the unban by hand learned", func() bool { return gone(who) })
		f.Ban(guildID, who.id) // by hand again, for good
	}
	clk.Add(25 * time.Hour)
	w.lift(t, 0)
	if !f.Banned(guildID, mallory.id) || !f.Banned(guildID, bob.id) {
		t.Errorf("a ban given by hand was lifted at the end of vigie's: Mallory banned %v, Bob %v",
			f.Banned(guildID, mallory.id), f.Banned(guildID, bob.id))
	}
}

// vigie's own unban, its audit log entry naming vigie, is no unban by hand:
// a ban for good asked for while a lift was under way waits for the lift
// (the member's lock), is given and kept after it, and stays in the book
// once the lift's unban is learned.
func TestOwnUnbanInTheAuditLogKeepsTheBan(t *testing.T) {
	clk := &banClock{t: time.Date(2026, 3, 1, 22, 30, 0, 0, time.UTC)}
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guildID}, Now: clk.Now, AuditLog: true})
	st := memory.New()
	w := newBanWorldPerms(t, f, st, clk, allPerms|viewAuditLog)
	ctx := context.Background()
	banPath := "/guilds/" + guildID + "/bans/" + mallory.id
	w.ban(t, "9801", mallory, "1h")
	clk.Add(2 * time.Hour)
	release := f.Hold(func(c discordfake.Call) bool { return c.Method == "DELETE" && c.Path == banPath })
	lifted := make(chan error, 1)
	go func() { _, err := w.mod.LiftBans(ctx); lifted <- err }()
	f.WaitFor(t, "DELETE", banPath, 1, nil)
	// For good, while the lift's unban is under way: it waits for the lift,
	// then is given and kept.
	f.Dispatch("INTERACTION_CREATE", modSlash("9802", mod, 0, "ban", &mallory))
	clk.Add(time.Second)
	release()
	if err := <-lifted; err != nil {
		t.Fatal(err)
	}
	w.answer(t, "9802")
	testsync.Eventually(t, "the ban for good kept", func() bool {
		b, ok, err := st.KeptBan(ctx, "discord|"+guildID+"|"+mallory.id)
		return err == nil && ok && b.ForGood()
	})
	// Discord's events are handled in order: once Newbie's unban by hand is
	// learned and the desk's workers are idle, the lift's was.
	w.ban(t, "9803", newbie, "1d")
	clk.Add(time.Minute)
	f.Unban(guildID, newbie.id)
	testsync.Eventually(t, "the unbans learned", func() bool {
		_, ok, err := st.KeptBan(ctx, "discord|"+guildID+"|"+newbie.id)
		return err == nil && !ok && w.c.work.Busy() == 0
	})
	if b, ok, err := st.KeptBan(ctx, "discord|"+guildID+"|"+mallory.id); err != nil || !ok || !b.ForGood() {
		t.Errorf("Mallory's ban kept = %+v, %v, %v; want the ban for good", b, ok, err)
	}
	if !f.Banned(guildID, mallory.id) {
		t.Error("the ban for good given while the lift was under way is undone")
	}
}
