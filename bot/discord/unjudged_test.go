package discord

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
)

// killableMemory is a shard's memory in the store that a test kills: from
// then on nothing is written, as when the process is SIGKILLed (no last
// write as Run stops). It counts the writes.
type killableMemory struct {
	ChannelMemory
	killed atomic.Bool
	saves  atomic.Int64
}

func (m *killableMemory) SaveChannelMarks(ctx context.Context, marks []ChannelMark, saved time.Time, keep int, ttl time.Duration) error {
	if m.killed.Load() {
		return nil
	}
	defer m.saves.Add(1)
	return m.ChannelMemory.SaveChannelMarks(ctx, marks, saved, keep, ttl)
}

// heldEvaluator judges c's events with the real engine and moderator on st,
// and tells c each one judged, as the daemon does, until hold is set: then
// it takes the events and keeps them, unjudged (an evaluator stuck on a
// backlog). It returns Run's out and the events it keeps.
func heldEvaluator(t *testing.T, c *Client, st store.Store, hold *atomic.Bool) (chan bot.Event, func() []bot.Event) {
	t.Helper()
	engine, moderator := judge(t, c, st)
	out := make(chan bot.Event)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var held []bot.Event
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case ev := <-out:
				if hold.Load() {
					mu.Lock()
					held = append(held, ev)
					mu.Unlock()
					continue
				}
				v, err := engine.Evaluate(ctx, ev)
				if err != nil {
					t.Errorf("evaluate %s: %v", ev.ID, err)
					continue
				}
				if err := moderator.Handle(ctx, ev, v); err != nil {
					t.Errorf("handle %s: %v", ev.ID, err)
				}
				c.Judged(&ev)
			case <-ctx.Done():
				return
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return out, func() []bot.Event {
		mu.Lock()
		defer mu.Unlock()
		return append([]bot.Event(nil), held...)
	}
}

// heldRunner is a process that runs the shard on the test's Redis store,
// its events judged by a heldEvaluator, and is killed with a backlog held.
type heldRunner struct {
	g    *gapTest
	c    *Client
	logs *testsync.Buffer
	mem  *killableMemory
	hold atomic.Bool
	held func() []bot.Event
	stop func()
}

// heldRunner starts a runner with cfg, and waits for it to judge and delete
// a first spam, which it returns.
func (g *gapTest) heldRunner(cfg Config) (*heldRunner, map[string]any) {
	g.t.Helper()
	r := &heldRunner{g: g}
	r.c, r.logs = newTestClient(g.t, g.f, cfg)
	st := g.store()
	r.mem = &killableMemory{ChannelMemory: redisMemory{st: st, name: "discord"}}
	var out chan bot.Event
	out, r.held = heldEvaluator(g.t, r.c, st, &r.hold)
	r.stop = runShard(g.t, g.f, r.c, out, allPerms, r.mem)
	spam := g.live(general, "scam.example")
	g.waitDeleted("the spam judged by the first", spam)
	return r, spam
}

// killWithBacklog holds the judging, delivers the backlog and waits for it
// handed over, held; then, two writes of the memory after (the backlog was
// received more than a write period before), it kills the runner: nothing
// written as it stops, and the backlog it holds is never judged.
func (r *heldRunner) killWithBacklog(backlog ...map[string]any) {
	r.g.t.Helper()
	r.hold.Store(true)
	for _, m := range backlog {
		r.g.f.Post(m)
		r.g.f.Dispatch("MESSAGE_CREATE", m)
	}
	testsync.Eventually(r.g.t, "the backlog handed over, held", func() bool { return len(r.held()) == len(backlog) })
	for n := r.mem.saves.Load() + 2; r.mem.saves.Load() < n; {
		time.Sleep(20 * time.Millisecond)
	}
	r.mem.killed.Store(true)
	r.stop()
}

// TestShardKilledWithMessagesUnjudged: a shard's runner receives a
// backlog (a raid) that waits, unjudged, in its queues for longer than its
// memory's writes, and is killed: nothing written as it dies. The runner
// that takes the shard over reads each channel's history from the last
// message before the first one not judged, and judges each message of the
// backlog, once: the spam the first judged is not deleted again. Before,
// the memory moved past every message received one write period before:
// the backlog was in the store as seen, and never judged.
func TestShardKilledWithMessagesUnjudged(t *testing.T) {
	f := newFakeDiscord(t)
	g := &gapTest{t: t, f: f}
	cfg := Config{StaffRoles: []string{"Moderator"}, Guilds: []string{guildID}, ReportsJudged: true}

	a, spam := g.heldRunner(cfg)
	backlog := []map[string]any{
		g.msg(general, "scam.example 1"),
		g.msg(threadID, "scam.example in the thread"),
		g.msg(general, "hello"),
		g.msg(general, "scam.example 2"),
	}
	a.killWithBacklog(backlog...)

	b, logsB, outB, memB := g.runner(cfg)
	logOnFailure(t, a.logs)
	runShard(t, f, b, outB, allPerms, memB)
	g.waitCaughtUp(logsB)
	for _, m := range []map[string]any{backlog[0], backlog[1], backlog[3]} {
		g.waitDeleted("the backlog's spam judged by the second", m)
	}
	g.wantDeleted(1, spam, backlog[0], backlog[1], backlog[3])
	g.wantDeleted(0, backlog[2])
	// Read from just before the first message not judged: not again from
	// before the spam the first judged.
	calls := f.Calls("GET", "/channels/"+general+"/messages")
	if len(calls) == 0 {
		t.Fatal("the channel's history not read")
	}
	if after := calls[0].Query.Get("after"); compareSnowflakes(after, spam["id"].(string)) < 0 || compareSnowflakes(after, backlog[0]["id"].(string)) >= 0 {
		t.Errorf("history of %s read after %s, want from %s (judged) to before %s", general, after, spam["id"], backlog[0]["id"])
	}
}

// marksOf is what a write of cu's memory would write now: each channel's
// mark, and the messages let go. The marks count as written.
func marksOf(cu *catchup, now time.Time) (map[string]string, int) {
	marks, letGo := cu.takeDirty(now)
	cu.saved(marks)
	out := map[string]string{}
	for _, m := range marks {
		out[m.Channel] = m.Last
	}
	return out, letGo
}

// TestChannelMarkMovesPastJudgedOnly: a channel's mark is the message
// before the first one handed over and not judged yet there, whatever
// order they are judged in; a write has only the channels whose mark moved.
func TestChannelMarkMovesPastJudgedOnly(t *testing.T) {
	now := time.Now()
	var cu catchup
	cu.reset()
	id := func(n int) string { return snowflake(now, n) }
	before := func(n int) string { return snowflake(now, n-1) }
	cu.note(guildID, general, id(1), now)
	for n := 2; n <= 4; n++ {
		cu.handedOver(guildID, general, id(n), now)
	}
	cu.handedOver(guildID, threadID, id(5), now)
	if got, _ := marksOf(&cu, now); got[general] != before(2) || got[threadID] != before(5) {
		t.Fatalf("marks %v, want %s before the first not judged, and %s", got, before(2), before(5))
	}
	cu.judged(id(3))
	if got, _ := marksOf(&cu, now); len(got) != 0 {
		t.Errorf("a later message judged moved the marks: %v", got)
	}
	cu.judged(id(2))
	if got, _ := marksOf(&cu, now); got[general] != before(4) || len(got) != 1 {
		t.Errorf("marks %v, want only %s's, at %s", got, general, before(4))
	}
	cu.judged(id(4))
	cu.judged(id(5))
	if got, _ := marksOf(&cu, now); got[general] != id(4) || got[threadID] != id(5) {
		t.Errorf("all judged: marks %v, want the last messages", got)
	}
	if len(cu.unjudged) != 0 {
		t.Errorf("%d messages still followed", len(cu.unjudged))
	}
}

// TestChannelMarkHeldByCatchUp: while a catch-up has not read a channel,
// a message the gateway delivered there, judged, does not move its mark
// past the gap; the catch-up moves it as it reads, and lets it go at the
// channel's end. Cut short by a stop, it leaves the mark, and the
// next catch-up reads from there.
func TestChannelMarkHeldByCatchUp(t *testing.T) {
	now := time.Now()
	var cu catchup
	cu.reset()
	id := func(n int) string { return snowflake(now, n) }
	cu.note(guildID, general, id(1), now)
	cu.session = true // a session was lost: a catch-up from id(1)
	_, _, channels := cu.newSession(now)
	if len(channels) != 1 || channels[0].last != id(1) {
		t.Fatalf("catch-up of %v, want %s after %s", channels, general, id(1))
	}
	cu.handedOver(guildID, general, id(9), now) // the new session's
	cu.judged(id(9))
	if got, _ := marksOf(&cu, now); got[general] != id(1) {
		t.Errorf("mark %s during the catch-up, want %s", got[general], id(1))
	}
	cu.handedOver(guildID, general, id(2), now) // read from the history
	cu.readUpTo(general, id(2))
	cu.judged(id(2))
	if got, _ := marksOf(&cu, now); got[general] != id(2) {
		t.Errorf("mark %s, want %s, read and judged", got[general], id(2))
	}
	cu.release(general, true) // vigie stops
	if got, _ := marksOf(&cu, now); len(got) != 0 {
		t.Errorf("a catch-up cut short moved the marks: %v", got)
	}
	cu.reset()
	cu.session = true
	if _, _, channels := cu.newSession(now); len(channels) != 1 || channels[0].last != id(2) {
		t.Fatalf("next catch-up of %v, want after %s", channels, id(2))
	}
	cu.release(general, false)
	if got, _ := marksOf(&cu, now); got[general] != id(9) {
		t.Errorf("mark %s once read, want %s", got[general], id(9))
	}
}

// TestUnjudgedBounded: the messages followed until judged are at most
// unjudgedKept, and none received longer than the catch-up window ago (a
// next runner would not read them): those let go are counted.
func TestUnjudgedBounded(t *testing.T) {
	now := time.Now()
	var cu catchup
	cu.reset()
	old := now.Add(-catchupWindow - time.Minute)
	cu.handedOver(guildID, threadID, snowflake(old, 1), old)
	for n := range unjudgedKept + 5 {
		cu.handedOver(guildID, general, strconv.FormatUint(uint64(now.UnixMilli()-1420070400000)<<22+uint64(n), 10), now)
	}
	if len(cu.unjudged) != unjudgedKept {
		t.Errorf("%d messages followed, want %d", len(cu.unjudged), unjudgedKept)
	}
	got, letGo := marksOf(&cu, now)
	// 6 of the channel's past the bound (the thread's message takes a
	// place), and the thread's, too old.
	if letGo != 7 {
		t.Errorf("%d let go, want 7 (6 past the bound, 1 too old)", letGo)
	}
	if got[threadID] != snowflake(old, 1) {
		t.Errorf("the too old message still holds its channel's mark: %v", got[threadID])
	}
	if want := strconv.FormatUint(uint64(now.UnixMilli()-1420070400000)<<22+5, 10); got[general] != want {
		t.Errorf("mark %s, want %s, before the oldest followed", got[general], want)
	}
}

// TestHandedOverCountsAsJudged: without Config.ReportsJudged (nobody tells
// the client), a message counts as judged once handed over on Run's out.
func TestHandedOverCountsAsJudged(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	out := make(chan bot.Event, 10)
	runShard(t, f, c, out, allPerms, nil)
	g := &gapTest{t: t, f: f}
	m := g.live(general, "hello")
	<-out
	testsync.Eventually(t, "the mark past the message handed over", func() bool {
		c.cu.mu.Lock()
		defer c.cu.mu.Unlock()
		return c.cu.seen[general].mark() == m["id"]
	})
}
