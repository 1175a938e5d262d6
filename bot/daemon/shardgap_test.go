package daemon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

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
	if testing.Short() {
		t.Skip("starts two processes")
	}
	guild := strconv.FormatUint(190_000_000_000<<22|1, 10)
	channel := discordfake.Channel(guild)
	dc := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	dir := t.TempDir()
	bin := buildVigie(t, dir)
	config := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(config, []byte(leasesRules), 0o600); err != nil {
		t.Fatal(err)
	}
	redisURL := redistest.URL(t)
	prefix := redistest.Prefix("shardgap")
	env := []string{
		"VIGIE_REDIS_PREFIX=" + prefix,
		"VIGIE_LEASE_TTL=3s",
		"DISCORD_TOKEN=" + discordfake.Token,
		"DISCORD_API_URL=" + dc.APIURL(),
		"DISCORD_GUILDS=" + guild,
	}
	ins := []*vigieProcess{
		startProcess(t, bin, "vigie-1", config, redisURL, env),
		startProcess(t, bin, "vigie-2", config, redisURL, env),
	}

	// Messages get ids of now, as Discord's: the catch-up reads the
	// history of the last 10 minutes.
	base := (time.Now().UnixMilli() - 1420070400000) << 22
	n := 0
	message := func(text string) map[string]any {
		n++
		now := time.Now().UTC()
		return map[string]any{
			"id": strconv.FormatInt(base+int64(n), 10), "channel_id": channel, "type": 0, "content": text,
			"author": map[string]any{"id": "600000000000000007", "username": "eve", "global_name": "Eve", "avatar": nil, "discriminator": "0",
				"public_flags": 0, "flags": 0, "primary_guild": nil},
			"timestamp": now.Format(time.RFC3339Nano), "edited_timestamp": nil,
			"attachments": []any{}, "embeds": []any{}, "mentions": []any{}, "mention_roles": []any{},
			"flags": 0, "components": []any{}, "pinned": false, "mention_everyone": false, "tts": false,
		}
	}
	id := func(m map[string]any) string { return m["id"].(string) }
	// live is posted and delivered on the gateway, gap only posted.
	live := func(text string) map[string]any {
		t.Helper()
		m := message(text)
		dc.Post(m)
		deadline := time.Now().Add(handover)
		for !dc.Message(guild, channel, id(m), "600000000000000007", text) {
			if time.Now().After(deadline) {
				t.Fatalf("no process connected the shard within %s", handover)
			}
			time.Sleep(20 * time.Millisecond)
		}
		return m
	}
	gap := func(text string) map[string]any {
		m := message(text)
		dc.Post(m)
		return m
	}
	deleted := func(m map[string]any) int { return dc.Count("DELETE", "/channels/"+channel+"/messages/"+id(m)) }
	waitDeleted := func(what string, m map[string]any) {
		t.Helper()
		deadline := time.Now().Add(handover)
		for deleted(m) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: message %s (%q) not deleted after %s", what, id(m), m["content"], handover)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	first := owner(t, "discord", ins)
	var spam []map[string]any
	spam = append(spam, live("FREE NITRO here"))
	waitDeleted("before the kill", spam[0])
	hello := live("hello")
	// The first process writes its memory every 5s: the test waits until
	// the store has the channel's last message (for three times that at
	// most; without it, the gap is not caught up, as the test finds).
	rc := redisClient(t, redisURL)
	for wait := time.Now().Add(15 * time.Second); time.Now().Before(wait); time.Sleep(50 * time.Millisecond) {
		v, err := rc.HGet(context.Background(), prefix+":{channels}:discord", channel).Result()
		if err == nil && strings.Contains(v, ":"+id(hello)+":") {
			break
		}
	}
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

	for _, m := range append(append(spam, gapSpam...), after) {
		if k := deleted(m); k != 1 {
			t.Errorf("message %s (%q) deleted %d times, want once", id(m), m["content"], k)
		}
	}
	for _, m := range []map[string]any{hello, quiet} {
		if k := deleted(m); k != 0 {
			t.Errorf("message %s (%q) deleted %d times", id(m), m["content"], k)
		}
	}
	// The history was read from the last message the first saw, as the
	// store kept it.
	calls := dc.Calls("GET", "/channels/"+channel+"/messages")
	if len(calls) == 0 {
		t.Fatal("the channel's history was not read")
	}
	if a := calls[0].Query.Get("after"); a != id(hello) && a != id(spam[1]) {
		t.Errorf("history read after %s; want after the last message the first process saw (%s or %s)", a, id(hello), id(spam[1]))
	}
	if n := dc.Overlaps(); n != 0 {
		t.Errorf("Discord saw the shard identified twice at once %d times", n)
	}
}

// redisClient is a client of the test's Redis, to look at what vigie keeps.
func redisClient(t *testing.T, url string) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(fmt.Errorf("redis url %s: %w", url, err))
	}
	c := goredis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}
