package handlers_test

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/vigie-bot/vigie/store/memory"
)

// logChannel keeps the lines posted to it, as a platform's chat would show
// them; fail makes its next posts fail.
type logChannel struct {
	mu    sync.Mutex
	lines map[string]string // by id
	order []string          // "to id" in the order posted
	edits int
	fail  int
}

func newLogChannel() *logChannel { return &logChannel{lines: map[string]string{}} }

func (c *logChannel) PostLog(_ context.Context, to, text string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail > 0 {
		c.fail--
		return "", &bot.ActionError{Op: "modlog", Retryable: true, Err: errors.New("502 Bad Gateway")}
	}
	id := fmt.Sprint(len(c.order) + 1)
	c.lines[id] = text
	c.order = append(c.order, to+" "+id)
	return id, nil
}

func (c *logChannel) EditLog(_ context.Context, to, id, text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.lines[id]; !ok {
		return errors.New("no such line")
	}
	c.lines[id] = text
	c.edits++
	return nil
}

func (c *logChannel) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, o := range c.order {
		to, id, _ := strings.Cut(o, " ")
		out = append(out, to+": "+c.lines[id])
	}
	return out
}

// newModLog is a mod-log made with opts.
func newModLog(t *testing.T, opts handlers.ModLogOptions) *handlers.ModLog {
	t.Helper()
	l, err := handlers.NewModLog(opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// runModLog runs l in the test's bubble until written, which waits for the
// lines recorded until then to be written and stops it.
func runModLog(t *testing.T, l *handlers.ModLog) (ctx context.Context, written func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	return ctx, func() {
		synctest.Wait()
		cancel()
		<-done
	}
}

// A flood's deletes in one place share one line, edited as the count grows;
// a moderator's ban has its own line, in the guild's channel; a platform
// that fails is tried again.
func TestModLogWaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg, dc := newLogChannel(), newLogChannel()
		l := newModLog(t, handlers.ModLogOptions{
			Posters:   map[string]bot.LogPoster{"telegram": tg, "discord": dc},
			PublicURL: "https://vigie.example/",
			Retry:     handlers.Retry{Attempts: 3, Base: time.Millisecond},
		})
		l.SetConfig(rules.ModLog{TelegramChat: "-100999", DiscordChannel: "1", DiscordChannels: map[string]string{"g-2": "2"}, Wave: 2 * time.Minute})
		_, written := runModLog(t, l)

		del := bot.Action{Kind: bot.ActDelete}
		for i := range 34 {
			ev := bot.Event{ID: fmt.Sprint("m-", i), Platform: "discord", Space: "g-1", Channel: "c-1",
				Author: bot.Author{ID: "u-7", Name: "Bob"}, Link: fmt.Sprint("https://discord.com/channels/g-1/c-1/m-", i)}
			l.Record(handlers.ModLogEntry{Event: ev, Action: del, Rule: "flood", Reason: "7 messages in 10s"})
			time.Sleep(3 * time.Second)
		}
		tg.fail = 1
		ban := bot.Event{Platform: "telegram", Space: "-100", Channel: "-100", Author: bot.Author{ID: "7", Name: "Bob"}}
		l.Record(handlers.ModLogEntry{Event: ban, Action: bot.Action{Kind: bot.ActBan, Duration: 7 * 24 * time.Hour}, By: "telegram:42", Reason: "raid", CaseID: "c-9"})
		other := bot.Event{ID: "x", Platform: "discord", Space: "g-2", Channel: "c-5", Author: bot.Author{ID: "u-8"}}
		l.Record(handlers.ModLogEntry{Event: other, Action: bot.Action{Kind: bot.ActTimeout, Duration: time.Hour}, Rule: "raid", Failed: "403 Missing Permissions"})
		time.Sleep(10 * time.Second)
		written()

		want := []string{
			"1: 🗑 34× delete in <#c-1> — rule flood: 7 messages in 10s, over 1m39s; last: Bob (discord u-7) · https://discord.com/channels/g-1/c-1/m-33 · https://vigie.example/people/discord/g-1/u-7",
			"2: ❌ failed: 🔇 timeout(1h) in <#c-5> — rule raid · u-8 (discord u-8) · https://vigie.example/people/discord/g-2/u-8 · 403 Missing Permissions",
		}
		if got := dc.all(); !slices.Equal(got, want) {
			t.Errorf("discord lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if dc.edits == 0 || dc.edits > 34 {
			t.Errorf("%d edits of the wave's line", dc.edits)
		}
		wantTG := []string{"-100999: ⛔ ban(7d) in -100 — by telegram:42: raid · Bob (telegram 7) · case c-9 · https://vigie.example/people/telegram/-100/7#case-c-9"}
		if got := tg.all(); !slices.Equal(got, wantTG) {
			t.Errorf("telegram lines = %q, want %q", got, wantTG)
		}
	})
}

// A member whose name holds a right-to-left override does not turn the rest
// of their mod-log line around (the platform, the id, the case): the name is
// set apart.
func TestModLogIsolatesATurningName(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg := newLogChannel()
		l := newModLog(t, handlers.ModLogOptions{
			Posters: map[string]bot.LogPoster{"telegram": tg},
			Retry:   handlers.Retry{Attempts: 3, Base: time.Millisecond},
		})
		l.SetConfig(rules.ModLog{TelegramChat: "-100999", Wave: 2 * time.Minute})
		_, written := runModLog(t, l)
		ban := bot.Event{Platform: "telegram", Space: "-100", Channel: "-100", Author: bot.Author{ID: "7", Name: "Bob\u202e)24 di("}}
		l.Record(handlers.ModLogEntry{Event: ban, Action: bot.Action{Kind: bot.ActBan}, By: "telegram:42", Reason: "raid", CaseID: "c-9"})
		time.Sleep(10 * time.Second)
		written()
		want := "\u2068Bob\u202e)24 di(\u2069 (telegram 7) · case c-9"
		if got := tg.all(); len(got) != 1 || !strings.Contains(got[0], want) {
			t.Errorf("telegram lines = %q, want one holding %q", got, want)
		}
	})
}

// With a mod-log, the moderators' commands and the rules' actions are
// written there; the moderators' go through Moderate.
func TestModLogFromModerator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg := newLogChannel()
		l := newModLog(t, handlers.ModLogOptions{Posters: map[string]bot.LogPoster{"telegram": tg}})
		l.SetConfig(rules.ModLog{TelegramChat: "-100999"})
		p := &chat{recorder: recorder{name: "telegram"}}
		m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"telegram": p}, Store: memory.New(), ModLog: l})
		if err != nil {
			t.Fatal(err)
		}
		ctx, written := runModLog(t, l)
		ev := bot.Event{ID: "-100:5", Platform: "telegram", Space: "-100", Channel: "-100", Author: bot.Author{ID: "7", Name: "Bob"}}
		if err := m.Handle(ctx, ev, bot.Verdict{EventID: ev.ID, Platform: "telegram", Matches: []bot.Match{{Rule: "scam", Reason: "a scam link", Actions: []bot.Action{{Kind: bot.ActDelete}}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModKick, Target: ev, Text: "again", By: "telegram:42"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		written()
		want := []string{
			"-100999: 🗑 delete in -100 — rule scam: a scam link · Bob (telegram 7)",
			"-100999: 👢 kick in -100 — by telegram:42: again · Bob (telegram 7)",
		}
		if got := tg.all(); !slices.Equal(got, want) {
			t.Errorf("lines = %q, want %q", got, want)
		}
	})
}

// A log chat that refuses for good (vigie may not post there) is not tried
// again and again: the line is given up, and moderation goes on.
func TestModLogRefusedForGood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		refusing := &refusingLog{}
		l := newModLog(t, handlers.ModLogOptions{Posters: map[string]bot.LogPoster{"telegram": refusing}})
		l.SetConfig(rules.ModLog{TelegramChat: "-100999"})
		_, written := runModLog(t, l)
		ev := bot.Event{ID: "-100:5", Platform: "telegram", Space: "-100", Channel: "-100", Author: bot.Author{ID: "7"}}
		for range 3 {
			l.Record(handlers.ModLogEntry{Event: ev, Action: bot.Action{Kind: bot.ActDelete}, Rule: "flood"})
		}
		time.Sleep(time.Minute)
		written()
		if n := refusing.calls.Load(); n != 1 {
			t.Errorf("%d attempts to post in a chat that refuses for good, want 1", n)
		}
	})
}

type refusingLog struct{ calls atomic.Int32 }

func (r *refusingLog) PostLog(context.Context, string, string) (string, error) {
	r.calls.Add(1)
	return "", &bot.ActionError{Op: "modlog", Err: errors.New("telegram sendMessage: Forbidden: bot is not a member of the supergroup chat (403)")}
}

func (r *refusingLog) EditLog(context.Context, string, string, string) error {
	r.calls.Add(1)
	return errors.New("no line")
}

// A lockdown and its lift are lines of the mod-log.
func TestModLogLockdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg := newLogChannel()
		l := newModLog(t, handlers.ModLogOptions{Posters: map[string]bot.LogPoster{"telegram": tg}})
		l.SetConfig(rules.ModLog{TelegramChat: "-100999"})
		g := &guild{recorder: recorder{name: "telegram"}}
		m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"telegram": g}, Store: memory.New(), ModLog: l})
		if err != nil {
			t.Fatal(err)
		}
		ctx, written := runModLog(t, l)
		ev := bot.Event{ID: "-100:join:7", Platform: "telegram", Kind: bot.KindJoin, Space: "-100", Channel: "-100", Author: bot.Author{ID: "7", Name: "Bob"}, At: time.Now()}
		v := bot.Verdict{EventID: ev.ID, Platform: "telegram", Matches: []bot.Match{{Rule: "raid", Reason: "11 joins", Actions: []bot.Action{{Kind: bot.ActLockdown, Duration: 10 * time.Minute}}}}}
		if err := m.Handle(ctx, ev, v); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Minute)
		if n, err := m.LiftLocks(ctx); n != 1 || err != nil {
			t.Fatalf("LiftLocks = %d, %v", n, err)
		}
		time.Sleep(time.Second)
		written()
		want := []string{
			"-100999: 🔒 lockdown(10m) in -100 — rule raid: 11 joins · Bob (telegram 7)",
			"-100999: 🔓 lift in -100 — rule raid: end of lockdown",
		}
		if got := tg.all(); !slices.Equal(got, want) {
			t.Errorf("lines = %q, want %q", got, want)
		}
	})
}

// A rule's timed ban on a platform whose bans do not end by themselves says
// until when in its line, and its lift, done by the escalation's check, is a
// line of its own.
func TestModLogTimedBan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dc := newLogChannel()
		l := newModLog(t, handlers.ModLogOptions{Posters: map[string]bot.LogPoster{"discord": dc}})
		l.SetConfig(rules.ModLog{DiscordChannel: "mod-log"})
		p := &chat{recorder: recorder{name: "discord"}}
		m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": p}, Store: memory.New(), ModLog: l})
		if err != nil {
			t.Fatal(err)
		}
		esc, err := handlers.NewEscalation(m, handlers.EscalationOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, written := runModLog(t, l)
		ev := event("discord")
		ev.At = time.Now()
		v := bot.Verdict{EventID: ev.ID, Platform: "discord", Matches: []bot.Match{{Rule: "scam", Reason: "scam link",
			Actions: []bot.Action{{Kind: bot.ActBan, Duration: 24 * time.Hour}}}}}
		if err := m.Handle(ctx, ev, v); err != nil {
			t.Fatal(err)
		}
		time.Sleep(24*time.Hour - time.Minute)
		if _, err := esc.Check(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		if _, err := esc.Check(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		written()
		if got, want := p.Calls(), []string{"ban(1d)", "unban"}; !slices.Equal(got, want) {
			t.Errorf("platform calls = %q, want %q", got, want)
		}
		want := []string{
			"mod-log: ⛔ ban(1d) until 2 Jan 00:00 UTC in guild-1 — rule scam: scam link · Bob (discord u-7)",
			"mod-log: ↩️ unban in guild-1 — rule scam: end of ban(1d) · Bob (discord u-7)",
		}
		if got := dc.all(); !slices.Equal(got, want) {
			t.Errorf("lines = %q, want %q", got, want)
		}
	})
}

// A line goes where the mod-log was set when its action was recorded: the
// actions taken before a reload that moves the mod-log (or turns it off)
// are logged where the old file said, though written after it. They went
// to the new channel, or nowhere.
func TestModLogLineGoesWhereItWasRecorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg := newLogChannel()
		l := newModLog(t, handlers.ModLogOptions{Posters: map[string]bot.LogPoster{"telegram": tg}})
		ev := func(id string) bot.Event {
			return bot.Event{ID: id, Platform: "telegram", Space: "-100", Channel: "-100", Author: bot.Author{ID: "7", Name: "Bob"}}
		}
		del := bot.Action{Kind: bot.ActDelete}
		l.SetConfig(rules.ModLog{TelegramChat: "-100901"})
		l.Record(handlers.ModLogEntry{Event: ev("1"), Action: del, Rule: "old"})
		l.SetConfig(rules.ModLog{TelegramChat: "-100902"})
		l.Record(handlers.ModLogEntry{Event: ev("2"), Action: del, Rule: "new"})
		l.Record(handlers.ModLogEntry{Event: ev("3"), Action: del, Rule: "new-then-off"})
		l.SetConfig(rules.ModLog{})
		l.Record(handlers.ModLogEntry{Event: ev("4"), Action: del, Rule: "off"})
		// Written only now, after the changes.
		_, written := runModLog(t, l)
		written()
		want := []string{
			"-100901: 🗑 delete in -100 — rule old · Bob (telegram 7)",
			"-100902: 🗑 delete in -100 — rule new · Bob (telegram 7)",
			"-100902: 🗑 delete in -100 — rule new-then-off · Bob (telegram 7)",
		}
		if got := tg.all(); !slices.Equal(got, want) {
			t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
