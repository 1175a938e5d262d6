package discord

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestCatchUpJudgesTheGapsEdits: a message judged and kept before a gap in
// the shard's run is edited into spam meanwhile; the edit is never delivered
// on the gateway. The runner that takes the shard over reads the last page
// of the channel before its mark, finds the message edited since the gap
// began, judges the edit and deletes the message. A message posted and
// edited in the gap is judged once, as a message, with its last text: not
// again as an edit. Before, the edit stayed.
func TestCatchUpJudgesTheGapsEdits(t *testing.T) {
	f := newFakeDiscord(t)
	url := redistest.URL(t)
	prefix := redistest.Prefix("gapedits")
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
	spam := g.live(general, "scam.example")
	g.waitDeleted("the spam judged by the first", spam)
	older := g.live(general, "good morning")
	hello := g.live(general, "hello")
	testsync.Eventually(t, "the last message seen", func() bool {
		a.cu.mu.Lock()
		defer a.cu.mu.Unlock()
		return a.cu.seen[general].last == hello["id"]
	})
	stopA()

	if !f.Edit(general, hello["id"].(string), "hello, see scam.example", time.Now()) {
		t.Fatal("hello is not in the channel's history")
	}
	fresh := g.gap(general, "hi all")
	f.Edit(general, fresh["id"].(string), "hi all, scam.example", time.Now())
	b, logsB, outB, memB := runner()
	runShard(t, f, b, outB, allPerms, memB)
	g.waitDeleted("the message edited in the gap", hello)
	g.waitDeleted("the message posted and edited in the gap", fresh)
	testsync.Eventually(t, "the end of the catch-up", func() bool {
		return strings.Contains(logsB.String(), "caught up after a gap in the shard's run")
	})
	for m, want := range map[*map[string]any]int{&spam: 1, &hello: 1, &fresh: 1, &older: 0} {
		if k := g.deleted(*m); k != want {
			t.Errorf("message %s (%s) deleted %d times, want %d", (*m)["id"], (*m)["content"], k, want)
		}
	}
	if !strings.Contains(logsB.String(), "edits=1 ") {
		t.Errorf("the catch-up's log does not say it judged one edit:\n%s", logsB)
	}
	// The history after the mark, then the page before it, once.
	id, _ := strconv.ParseUint(hello["id"].(string), 10, 64)
	var before []string
	for _, c := range f.Calls("GET", "/channels/"+general+"/messages") {
		if b := c.Query.Get("before"); b != "" {
			before = append(before, b)
		}
	}
	if want := strconv.FormatUint(id+1, 10); len(before) != 1 || before[0] != want {
		t.Errorf("pages read before an id: %v; want one, before %s (the mark's next)", before, want)
	}
}
