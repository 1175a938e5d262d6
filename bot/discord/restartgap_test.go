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

// judged serves c's events to the real engine and moderator on st, with
// catchupRules.
func judged(t *testing.T, c *Client, st store.Store) chan bot.Event {
	t.Helper()
	rs, err := rules.Parse("rules.yaml", []byte(catchupRules), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	moderator, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": c}, Store: st, Desk: desktest.Desk{}})
	if err != nil {
		t.Fatal(err)
	}
	return desktest.Serve(t, rules.NewEngine(rs, st, rules.Options{}), moderator)
}

// gapTest is a fake Discord and the messages of a test of a gap.
type gapTest struct {
	t *testing.T
	f *discordfake.Server
	n int
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
	testsync.Eventually(g.t, "the end of the catch-up", func() bool {
		return strings.Contains(logs.String(), "caught up after a gap in the shard's run")
	})
	for _, m := range append(gapSpam, spam) {
		if k := g.deleted(m); k != 1 {
			g.t.Errorf("message %s (%s) deleted %d times, want once\n%s", m["id"], m["content"], k, logs)
		}
	}
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
	c, logs := newTestClient(t, f, Config{StaffRoles: []string{"Moderator"}, Guilds: []string{guildID}})
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	})
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	out := judged(t, c, st)
	g := &gapTest{t: t, f: f}

	_, stop := start(t, f, c, out, allPerms, nil)
	spam, hello := g.spamAndThread(c, "")
	stop()

	gapSpam := []map[string]any{g.gap(general, "scam.example in the gap"), g.gap(threadID, "scam.example in the thread")}
	quiet := g.gap(general, "good night")
	start(t, f, c, out, allPerms, nil)
	g.caughtUpOnce(logs, "", gapSpam, spam, hello)
	if k := g.deleted(quiet); k != 0 {
		t.Errorf("a quiet message deleted %d times", k)
	}
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

// openRedis opens the Redis store at url under prefix, closed with the test.
func openRedis(t *testing.T, url, prefix string) *redis.Store {
	t.Helper()
	st, err := redis.Open(url, redis.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestShardTakenOverReadsTheMemoryInTheStore: two runners of one shard
// (two processes) on one Redis. The first judges messages and stops; what is
// posted before the second takes the shard is read from the channels'
// history, from the last message the first saw in each as the store keeps
// it, and judged once, by the second: the store drops what the first judged
// already.
func TestShardTakenOverReadsTheMemoryInTheStore(t *testing.T) {
	f := newFakeDiscord(t)
	url := redistest.URL(t)
	prefix := redistest.Prefix("takeover")
	g := &gapTest{t: t, f: f}
	runner := func() (*Client, *testsync.Buffer, chan bot.Event, ChannelMemory) {
		c, logs := newTestClient(t, f, Config{StaffRoles: []string{"Moderator"}, Guilds: []string{guildID}})
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(logs.String())
			}
		})
		st := openRedis(t, url, prefix)
		return c, logs, judged(t, c, st), redisMemory{st: st, name: "discord"}
	}

	a, _, outA, memA := runner()
	stopA := runShard(t, f, a, outA, allPerms, memA)
	spam, hello := g.spamAndThread(a, " by the first")
	stopA()

	gapSpam := []map[string]any{g.gap(general, "scam.example in the gap"), g.gap(threadID, "scam.example in the thread")}
	b, logsB, outB, memB := runner()
	runShard(t, f, b, outB, allPerms, memB)
	g.caughtUpOnce(logsB, " by the second", gapSpam, spam, hello)
}

// TestShardMemoryTooOldIsNotCaughtUp: a shard's memory written longer ago
// than the catch-up window (nobody ran the shard for that long) is not read
// from: the log says the gap is not judged.
func TestShardMemoryTooOldIsNotCaughtUp(t *testing.T) {
	f := newFakeDiscord(t)
	st := openRedis(t, redistest.URL(t), redistest.Prefix("tooold"))
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
	st := openRedis(t, srv.URL()+"?max_retries=-1&dial_timeout=500ms", redistest.Prefix("away"))
	mem := redisMemory{st: st, name: "discord"}
	g := &gapTest{t: t, f: f}
	c, logs := newTestClient(t, f, Config{Guilds: []string{guildID}})
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	})
	out := judged(t, c, memory.New())
	stop := runShard(t, f, c, out, allPerms, mem)
	hello := g.live(general, "hello")
	testsync.Eventually(t, "the message seen", func() bool {
		c.cu.mu.Lock()
		defer c.cu.mu.Unlock()
		return c.cu.seen[general].last == hello["id"]
	})
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
	url := redistest.URL(t)
	prefix := redistest.Prefix("undrained")
	g := &gapTest{t: t, f: f}

	a, logsA := newTestClient(t, f, Config{StaffRoles: []string{"Moderator"}, Guilds: []string{guildID}, DrainTimeout: time.Millisecond})
	stalled := make(chan bot.Event) // nobody judges: the queue stays
	stopA := runShard(t, f, a, stalled, allPerms, redisMemory{st: openRedis(t, url, prefix), name: "discord"})
	spam := []map[string]any{g.live(general, "scam.example"), g.live(general, "scam.example again")}
	last := spam[len(spam)-1]["id"].(string)
	testsync.Eventually(t, "the messages seen", func() bool {
		a.cu.mu.Lock()
		defer a.cu.mu.Unlock()
		return a.cu.seen[general].last == last
	})
	stopA()
	if !strings.Contains(logsA.String(), "not evaluated before shutdown") {
		t.Fatalf("the messages were not left undrained:\n%s", logsA)
	}

	b, logsB := newTestClient(t, f, Config{StaffRoles: []string{"Moderator"}, Guilds: []string{guildID}})
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(logsB.String())
		}
	})
	st := openRedis(t, url, prefix)
	runShard(t, f, b, judged(t, b, st), allPerms, redisMemory{st: st, name: "discord"})
	for _, m := range spam {
		g.waitDeleted("the undrained spam judged by the next runner", m)
	}
}
