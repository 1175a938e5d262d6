package discord

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// judge is the real engine, with catchupRules, and moderator of c's events
// on st.
func judge(t *testing.T, c *Client, st store.Store) (*rules.Engine, *handlers.Moderator) {
	t.Helper()
	rs, err := rules.Parse("rules.yaml", []byte(catchupRules), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	moderator, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": c}, Store: st, Desk: desktest.Desk{}})
	if err != nil {
		t.Fatal(err)
	}
	return rules.NewEngine(rs, st, rules.Options{}), moderator
}

// judged serves c's events to the real engine and moderator on st, with
// catchupRules.
func judged(t *testing.T, c *Client, st store.Store) chan bot.Event {
	t.Helper()
	engine, moderator := judge(t, c, st)
	return desktest.Serve(t, engine, moderator)
}

// logOnFailure shows the clients' logs once the test has failed.
func logOnFailure(t *testing.T, logs ...*testsync.Buffer) {
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range logs {
				t.Log(l.String())
			}
		}
	})
}

// gapTest is a fake Discord and the messages of a test of a gap, and the
// Redis store the shard's runners share, started at the first one on it.
type gapTest struct {
	t           *testing.T
	f           *discordfake.Server
	n           int
	url, prefix string
}

// msg is a message of bob's in channel, posted now on Discord's clock.
func (g *gapTest) msg(channel, text string) map[string]any {
	g.n++
	now := g.f.Now().UTC()
	return message(snowflake(now, g.n), channel, bob, now, text)
}

// live posts a message and delivers it on the gateway.
func (g *gapTest) live(channel, text string) map[string]any {
	m := g.msg(channel, text)
	g.f.Post(m)
	g.f.Dispatch("MESSAGE_CREATE", m)
	return m
}

// gap posts a message that the gateway does not deliver.
func (g *gapTest) gap(channel, text string) map[string]any {
	m := g.msg(channel, text)
	g.f.Post(m)
	return m
}

func (g *gapTest) deleted(m map[string]any) int {
	return g.f.Count("DELETE", "/channels/"+m["channel_id"].(string)+"/messages/"+m["id"].(string))
}

func (g *gapTest) waitDeleted(what string, m map[string]any) {
	g.t.Helper()
	testsync.Eventually(g.t, what, func() bool { return g.deleted(m) > 0 })
}

// wantDeleted checks that each of ms was deleted times times.
func (g *gapTest) wantDeleted(times int, ms ...map[string]any) {
	g.t.Helper()
	for _, m := range ms {
		if k := g.deleted(m); k != times {
			g.t.Errorf("message %s (%s) deleted %d times, want %d", m["id"], m["content"], k, times)
		}
	}
}

// waitSeen waits for c to have seen m last in its channel.
func (g *gapTest) waitSeen(c *Client, m map[string]any) {
	g.t.Helper()
	testsync.Eventually(g.t, "the last message seen", func() bool {
		c.cu.mu.Lock()
		defer c.cu.mu.Unlock()
		return c.cu.seen[m["channel_id"].(string)].last == m["id"]
	})
}

// waitCaughtUp waits for the end of a catch-up in logs.
func (g *gapTest) waitCaughtUp(logs *testsync.Buffer) {
	g.t.Helper()
	testsync.Eventually(g.t, "the end of the catch-up", func() bool {
		return strings.Contains(logs.String(), "caught up after a gap in the shard's run")
	})
}

// store opens the test's Redis store, closed with the test.
func (g *gapTest) store() *redis.Store {
	g.t.Helper()
	if g.url == "" {
		g.url, g.prefix = redistest.URL(g.t), redistest.Prefix("gap")
	}
	return redistest.Open(g.t, g.url, redis.WithPrefix(g.prefix))
}

// client is a client of the fake with cfg, its log shown if the test fails.
func (g *gapTest) client(cfg Config) (*Client, *testsync.Buffer) {
	g.t.Helper()
	c, logs := newTestClient(g.t, g.f, cfg)
	logOnFailure(g.t, logs)
	return c, logs
}

// runner is a process that runs the shard on the test's Redis store: a
// client with cfg, its events judged on the store, and the shard's memory
// there.
func (g *gapTest) runner(cfg Config) (*Client, *testsync.Buffer, chan bot.Event, ChannelMemory) {
	g.t.Helper()
	c, logs := g.client(cfg)
	st := g.store()
	return c, logs, judged(g.t, c, st), redisMemory{st: st, name: "discord"}
}

// spamAndThread delivers a spam in general and waits for it to be deleted
// (judged by c, as by says), then a hello in the thread, and waits for c to
// have seen it: the messages a catch-up reads the history after.
func (g *gapTest) spamAndThread(c *Client, by string) (spam, hello map[string]any) {
	g.t.Helper()
	spam = g.live(general, "scam.example")
	g.waitDeleted("the spam judged"+by, spam)
	hello = g.live(threadID, "hello")
	testsync.Eventually(g.t, "the thread's message seen", func() bool {
		c.cu.mu.Lock()
		defer c.cu.mu.Unlock()
		_, ok := c.cu.seen[threadID]
		return ok
	})
	return spam, hello
}

// caughtUpOnce waits for the gap's spam to be deleted (by says by whom) and
// for the catch-up's end in logs, then checks that the gap's spam and spam
// were each deleted once, and that each channel's history was read after
// the message seen last in it (spam in general, hello in the thread).
func (g *gapTest) caughtUpOnce(logs *testsync.Buffer, by string, gapSpam []map[string]any, spam, hello map[string]any) {
	g.t.Helper()
	for _, m := range gapSpam {
		g.waitDeleted("the gap's spam judged"+by, m)
	}
	g.waitCaughtUp(logs)
	g.wantDeleted(1, append(gapSpam, spam)...)
	for channel, after := range map[string]string{general: spam["id"].(string), threadID: hello["id"].(string)} {
		calls := g.f.Calls("GET", "/channels/"+channel+"/messages")
		if len(calls) == 0 || calls[0].Query.Get("after") != after {
			g.t.Errorf("history of %s read as %v, want after=%s", channel, calls, after)
		}
	}
}

// TestRestartedShardCatchesUpItsGap: a shard's Run stops (its lease went
// to another process, or the gateway failed and the daemon starts it
// again) and starts again later; what was posted between the two Runs is
// read from the channels' history, from the last message the first Run saw
// in each, and judged once. Without a shared store, the memory is the
// process's own. Before, each Run forgot the channels seen, and the gap
// was never judged.
func TestRestartedShardCatchesUpItsGap(t *testing.T) {
	f := newFakeDiscord(t)
	g := &gapTest{t: t, f: f}
	c, logs := g.client(Config{StaffRoles: []string{"Moderator"}, Guilds: []string{guildID}})
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	out := judged(t, c, st)

	_, stop := start(t, f, c, out, allPerms, nil)
	spam, hello := g.spamAndThread(c, "")
	stop()

	gapSpam := []map[string]any{g.gap(general, "scam.example in the gap"), g.gap(threadID, "scam.example in the thread")}
	quiet := g.gap(general, "good night")
	start(t, f, c, out, allPerms, nil)
	g.caughtUpOnce(logs, "", gapSpam, spam, hello)
	g.wantDeleted(0, quiet)
}

// redisMemory is a shard's memory in the Redis store, as the daemon gives
// it to RunShard.
type redisMemory struct {
	st   *redis.Store
	name string
}

func (m redisMemory) SaveChannelMarks(ctx context.Context, marks []ChannelMark, saved time.Time, keep int, ttl time.Duration) error {
	out := make([]store.ChannelMark, len(marks))
	for i, k := range marks {
		out[i] = store.ChannelMark{Channel: k.Channel, Guild: k.Guild, Last: k.Last, At: k.At}
	}
	return m.st.SaveChannelMarks(ctx, m.name, "0/1", out, saved, keep, ttl)
}

func (m redisMemory) ChannelMarks(ctx context.Context) ([]ChannelMark, time.Time, error) {
	marks, writers, err := m.st.ChannelMarks(ctx, m.name)
	out := make([]ChannelMark, len(marks))
	for i, k := range marks {
		out[i] = ChannelMark{Channel: k.Channel, Guild: k.Guild, Last: k.Last, At: k.At}
	}
	var saved time.Time
	for _, t := range writers {
		if t.After(saved) {
			saved = t
		}
	}
	return out, saved, err
}

// TestShardTakenOverReadsTheMemoryInTheStore: two runners of one shard
// (two processes) on one Redis. The first judges messages and stops; what is
// posted before the second takes the shard is read from the channels'
// history, from the last message the first saw in each as the store keeps
// it, and judged once, by the second: the store drops what the first judged
// already.
func TestShardTakenOverReadsTheMemoryInTheStore(t *testing.T) {
	f := newFakeDiscord(t)
	g := &gapTest{t: t, f: f}
	cfg := Config{StaffRoles: []string{"Moderator"}, Guilds: []string{guildID}}

	a, _, outA, memA := g.runner(cfg)
	stopA := runShard(t, f, a, outA, allPerms, memA)
	spam, hello := g.spamAndThread(a, " by the first")
	stopA()

	gapSpam := []map[string]any{g.gap(general, "scam.example in the gap"), g.gap(threadID, "scam.example in the thread")}
	b, logsB, outB, memB := g.runner(cfg)
	runShard(t, f, b, outB, allPerms, memB)
	g.caughtUpOnce(logsB, " by the second", gapSpam, spam, hello)
}

// TestShardMemoryTooOldIsNotCaughtUp: a shard's memory written longer ago
// than the catch-up window (nobody ran the shard for that long) is not read
// from: the log says the gap is not judged.
func TestShardMemoryTooOldIsNotCaughtUp(t *testing.T) {
	f := newFakeDiscord(t)
	st := redistest.Open(t, redistest.URL(t), redis.WithPrefix(redistest.Prefix("tooold")))
	g := &gapTest{t: t, f: f}
	old := time.Now().Add(-catchupWindow - time.Minute)
	if err := st.SaveChannelMarks(context.Background(), "discord", "0/1", []store.ChannelMark{
		{Channel: general, Guild: guildID, Last: snowflake(old, 1), At: old},
	}, old, seenKept, time.Hour); err != nil {
		t.Fatal(err)
	}
	g.gap(general, "scam.example, long after")
	c, logs := newTestClient(t, f, Config{Guilds: []string{guildID}})
	runShard(t, f, c, judged(t, c, memory.New()), allPerms, redisMemory{st: st, name: "discord"})
	testsync.Eventually(t, "the gap told as not read", func() bool {
		return strings.Contains(logs.String(), "the shard was not run for longer than 10m0s")
	})
	if calls := f.Calls("GET", "/channels/"); len(calls) != 0 {
		t.Errorf("history read: %v", calls)
	}
}

// TestShardMemoryWhileRedisIsAway: Redis away as a shard's Run starts
// again, its memory is not read from the store; the process's own, from its
// earlier Run, is caught up from.
func TestShardMemoryWhileRedisIsAway(t *testing.T) {
	f := newFakeDiscord(t)
	srv := redistest.Start(t)
	st := redistest.Open(t, srv.URL()+"?max_retries=-1&dial_timeout=500ms", redis.WithPrefix(redistest.Prefix("away")))
	mem := redisMemory{st: st, name: "discord"}
	g := &gapTest{t: t, f: f}
	c, logs := g.client(Config{Guilds: []string{guildID}})
	out := judged(t, c, memory.New())
	stop := runShard(t, f, c, out, allPerms, mem)
	hello := g.live(general, "hello")
	g.waitSeen(c, hello)
	stop()
	srv.Stop()

	spam := g.gap(general, "scam.example while Redis is away")
	runShard(t, f, c, out, allPerms, mem)
	g.waitDeleted("the gap's spam judged", spam)
	if !strings.Contains(logs.String(), "not read from the store") {
		t.Errorf("the memory not read from the store, and not told")
	}
	if calls := f.Calls("GET", "/channels/"+general+"/messages"); len(calls) == 0 || calls[0].Query.Get("after") != hello["id"] {
		t.Errorf("history read as %v, want after=%s", calls, hello["id"])
	}
}

// TestShardStoppedWithMessagesUndrainedLeavesThemToTheNext: a shard's runner
// stops (vigie stops, its judge slow) with messages it received and could
// not hand over within its drain: they are lost here, as the log says. The
// memory it writes as it stops does not go past them, so the next runner
// reads them from the channels' history and judges them. Before, the memory
// said the runner had seen them, and they were never judged.
func TestShardStoppedWithMessagesUndrainedLeavesThemToTheNext(t *testing.T) {
	f := newFakeDiscord(t)
	g := &gapTest{t: t, f: f}

	a, logsA := newTestClient(t, f, Config{StaffRoles: []string{"Moderator"}, Guilds: []string{guildID}, DrainTimeout: time.Millisecond})
	stalled := make(chan bot.Event) // nobody judges: the queue stays
	stopA := runShard(t, f, a, stalled, allPerms, redisMemory{st: g.store(), name: "discord"})
	spam := []map[string]any{g.live(general, "scam.example"), g.live(general, "scam.example again")}
	g.waitSeen(a, spam[len(spam)-1])
	stopA()
	if !strings.Contains(logsA.String(), "not evaluated before shutdown") {
		t.Fatalf("the messages were not left undrained:\n%s", logsA)
	}

	b, _, outB, memB := g.runner(Config{StaffRoles: []string{"Moderator"}, Guilds: []string{guildID}})
	runShard(t, f, b, outB, allPerms, memB)
	for _, m := range spam {
		g.waitDeleted("the undrained spam judged by the next runner", m)
	}
}
