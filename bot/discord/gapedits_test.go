package discord

import (
	"strconv"
	"strings"
	"testing"
	"time"
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
	g := &gapTest{t: t, f: f}
	cfg := Config{StaffRoles: []string{"Moderator"}, Guilds: []string{guildID}}

	a, _, outA, memA := g.runner(cfg)
	stopA := runShard(t, f, a, outA, allPerms, memA)
	spam := g.live(general, "scam.example")
	g.waitDeleted("the spam judged by the first", spam)
	older := g.live(general, "good morning")
	hello := g.live(general, "hello")
	g.waitSeen(a, hello)
	stopA()

	if !f.Edit(general, hello["id"].(string), "hello, see scam.example", time.Now()) {
		t.Fatal("hello is not in the channel's history")
	}
	fresh := g.gap(general, "hi all")
	f.Edit(general, fresh["id"].(string), "hi all, scam.example", time.Now())
	b, logsB, outB, memB := g.runner(cfg)
	runShard(t, f, b, outB, allPerms, memB)
	g.waitDeleted("the message edited in the gap", hello)
	g.waitDeleted("the message posted and edited in the gap", fresh)
	g.waitCaughtUp(logsB)
	g.wantDeleted(1, spam, hello, fresh)
	g.wantDeleted(0, older)
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
