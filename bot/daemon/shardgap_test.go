package daemon_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestShardTakenOverCatchesUpTheGap runs two vigie processes on one Redis
// with a fake Discord of one shard. The shard's owner judges some messages
// and is SIGKILLed; messages posted meanwhile are never delivered on the
// gateway (nobody runs the shard). The other process takes the shard's
// lease over, reads the gap from the channel's history, from the last
// message the first saw there as the store keeps it, and deletes the gap's
// spam, once: nor is a spam the first deleted deleted again. Before, the
// memory of the last messages seen was the killed process's own, and the
// gap's spam stayed.
func TestShardTakenOverCatchesUpTheGap(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts two processes")
	}
	w := newGapWorld(t, strconv.FormatUint(190_000_000_000<<22|1, 10), "shardgap")
	ins := []*vigieProcess{w.start("vigie-1"), w.start("vigie-2")}
	live, gap, waitDeleted, id := w.live, w.gap, w.waitDeleted, gapID

	first := owner(t, "discord", ins)
	var spam []map[string]any
	spam = append(spam, live("FREE NITRO here"))
	waitDeleted("before the kill", spam[0])
	hello := live("hello")
	w.waitMark(hello)
	// Seen by the first, perhaps after its last write: the second reads it
	// again, and the store drops it as a duplicate.
	spam = append(spam, live("more FREE NITRO"))
	waitDeleted("before the kill", spam[1])

	first.kill()
	gapSpam := []map[string]any{gap("FREE NITRO in the gap"), gap("free nitro, again")}
	quiet := gap("good night")
	second := owner(t, "discord", ins)
	if second == first {
		t.Fatal("the killed process still owns the shard")
	}
	for _, m := range gapSpam {
		waitDeleted("the gap, after the shard was taken over", m)
	}
	after := live("FREE NITRO after")
	waitDeleted("after the shard was taken over", after)
	testsync.Eventually(t, "the end of the catch-up", func() bool {
		return strings.Contains(second.logs.String(), "caught up after a gap in the shard's run")
	})

	w.wantDeleted(1, append(append(spam, gapSpam...), after)...)
	w.wantDeleted(0, hello, quiet)
	// The history was read from the last message the first saw, as the
	// store kept it.
	calls := w.dc.Calls("GET", "/channels/"+w.channel+"/messages")
	if len(calls) == 0 {
		t.Fatal("the channel's history was not read")
	}
	if a := calls[0].Query.Get("after"); a != id(hello) && a != id(spam[1]) {
		t.Errorf("history read after %s; want after the last message the first process saw (%s or %s)", a, id(hello), id(spam[1]))
	}
	if n := w.dc.Overlaps(); n != 0 {
		t.Errorf("Discord saw the shard identified twice at once %d times", n)
	}
}

// gapWorld posts messages in a channel of a fake Discord, delivered on the
// gateway or only kept in the channel's history (a gap), and watches them
// deleted; it starts vigie processes on the fake and the test's Redis.
type gapWorld struct {
	t              *testing.T
	dc             *discordfake.Server
	guild, channel string
	base           int64
	n              int

	bin, config      string
	redisURL, prefix string
	env              []string
}

// newGapWorld is a fake Discord of guild, one shard, and vigie built with
// the leases' rules, to run on the test's Redis under a prefix named name.
func newGapWorld(t *testing.T, guild, name string) *gapWorld {
	dc := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	bin, config := vigieWith(t, leasesRules)
	prefix := redistest.Prefix(name)
	// Messages get ids of now, as Discord's: the catch-up reads the
	// history of the last 10 minutes.
	return &gapWorld{t: t, dc: dc, guild: guild, channel: discordfake.Channel(guild),
		base: (time.Now().UnixMilli() - 1420070400000) << 22,
		bin:  bin, config: config, redisURL: redistest.URL(t), prefix: prefix,
		env: []string{
			"VIGIE_REDIS_PREFIX=" + prefix,
			"VIGIE_LEASE_TTL=3s", "VIGIE_LEASE_TTL_MAX=3s",
			"DISCORD_TOKEN=" + discordfake.Token,
			"DISCORD_API_URL=" + dc.APIURL(),
			"DISCORD_GUILDS=" + guild,
		}}
}

// start starts a vigie process named name, with more in its environment.
func (w *gapWorld) start(name string, more ...string) *vigieProcess {
	return startProcess(w.t, w.bin, name, w.config, w.redisURL, append(slices.Clone(w.env), more...))
}

func gapID(m map[string]any) string { return m["id"].(string) }

func (w *gapWorld) message(text string) map[string]any {
	w.n++
	now := time.Now().UTC()
	return map[string]any{
		"id": strconv.FormatInt(w.base+int64(w.n), 10), "channel_id": w.channel, "type": 0, "content": text,
		"author": map[string]any{"id": "600000000000000007", "username": "eve", "global_name": "Eve", "avatar": nil, "discriminator": "0",
			"public_flags": 0, "flags": 0, "primary_guild": nil},
		"timestamp": now.Format(time.RFC3339Nano), "edited_timestamp": nil,
		"attachments": []any{}, "embeds": []any{}, "mentions": []any{}, "mention_roles": []any{},
		"flags": 0, "components": []any{}, "pinned": false, "mention_everyone": false, "tts": false,
	}
}

// live is posted and delivered on the gateway.
func (w *gapWorld) live(text string) map[string]any {
	w.t.Helper()
	m := w.message(text)
	w.dc.Post(m)
	deadline := time.Now().Add(handover)
	for !w.dc.Message(w.guild, w.channel, gapID(m), "600000000000000007", text) {
		if time.Now().After(deadline) {
			w.t.Fatalf("no process connected the shard within %s", handover)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return m
}

// gap is only posted: nobody runs the shard.
func (w *gapWorld) gap(text string) map[string]any {
	m := w.message(text)
	w.dc.Post(m)
	return m
}

func (w *gapWorld) deleted(m map[string]any) int {
	return w.dc.Count("DELETE", "/channels/"+w.channel+"/messages/"+gapID(m))
}

// wantDeleted checks that each of ms was deleted times times.
func (w *gapWorld) wantDeleted(times int, ms ...map[string]any) {
	w.t.Helper()
	for _, m := range ms {
		if k := w.deleted(m); k != times {
			w.t.Errorf("message %s (%q) deleted %d times, want %d", gapID(m), m["content"], k, times)
		}
	}
}

func (w *gapWorld) waitDeleted(what string, m map[string]any) {
	w.t.Helper()
	deadline := time.Now().Add(handover)
	for w.deleted(m) == 0 {
		if time.Now().After(deadline) {
			w.t.Fatalf("%s: message %s (%q) not deleted after %s", what, gapID(m), m["content"], handover)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitMark waits until the store has the channel's mark at m: the shard
// writes its memory every 5s (the test waits testsync.Patience at most;
// without it, the gap is not caught up, as the test finds).
func (w *gapWorld) waitMark(m map[string]any) {
	w.t.Helper()
	rc := redistest.Client(w.t, w.redisURL)
	for wait := time.Now().Add(testsync.Patience); time.Now().Before(wait); time.Sleep(50 * time.Millisecond) {
		v, err := rc.HGet(context.Background(), w.prefix+":{channels}:discord", w.channel).Result()
		if err == nil && strings.Contains(v, ":"+gapID(m)+":") {
			return
		}
	}
}

// TestShardCountChangeCatchesUpTheGap: a community grows from one shard to
// two. The process running the one shard is SIGKILLed; the messages posted
// meanwhile are never delivered on the gateway. A process started with
// DISCORD_SHARD_COUNT=2 runs the guild's new shard (1 of 2), finds the
// marks its predecessor kept for the guild's channel, and deletes the gap's
// spam from the channel's history. Before, the marks were kept under the
// shard's job name (discord, then discord-shard-1-of-2): the new shard found
// none, and the gap's spam stayed.
func TestShardCountChangeCatchesUpTheGap(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts two processes")
	}
	// A guild on shard 1 of 2.
	var guild string
	for n := uint64(190_000_000_000); guild == ""; n++ {
		if id := strconv.FormatUint(n<<22|1, 10); discordfake.ShardOf(id, 2) == 1 {
			guild = id
		}
	}
	w := newGapWorld(t, guild, "shardcount")

	one := w.start("vigie-1", "DISCORD_SHARD_COUNT=1")
	owner(t, "discord", []*vigieProcess{one})
	spam := w.live("FREE NITRO here")
	w.waitDeleted("before the kill", spam)
	hello := w.live("hello")
	w.waitMark(hello)
	one.kill()

	gapSpam := []map[string]any{w.gap("FREE NITRO in the gap"), w.gap("free nitro, again")}
	quiet := w.gap("good night")
	two := w.start("vigie-2", "DISCORD_SHARD_COUNT=2")
	owner(t, "discord-shard-1-of-2", []*vigieProcess{two})
	for _, m := range gapSpam {
		w.waitDeleted("the gap, after the count of shards changed", m)
	}
	after := w.live("FREE NITRO after")
	w.waitDeleted("after the count of shards changed", after)
	w.wantDeleted(1, append(gapSpam, spam, after)...)
	w.wantDeleted(0, hello, quiet)
	calls := w.dc.Calls("GET", "/channels/"+w.channel+"/messages")
	if len(calls) == 0 || calls[0].Query.Get("after") != gapID(hello) {
		t.Errorf("history read as %v; want after the last message the first process saw (%s)", calls, gapID(hello))
	}
}
