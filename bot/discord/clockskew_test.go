package discord

import (
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestCatchUpOnDiscordsClock: the host's clock is 15 minutes off Discord's
// (a VM after a suspend, no NTP), ahead or behind. A shard's runner receives
// a backlog that waits unjudged in its queues across two writes of its
// memory and is killed; meanwhile spam is posted, and a message judged
// before is edited into spam. The runner that takes the shard over reads the
// gap from the channels' history and deletes each spam once, the edit's
// included; the first warned once that the host's clock is off, and says so
// on /healthz and in a metric. Before, a host ahead let the backlog go at
// each write ("more than 10m" by the host's clock) and read nothing of the
// gap (its window began after Discord's now); a host behind found no edit
// (the messages seemed posted after the gap began).
func TestCatchUpOnDiscordsClock(t *testing.T) {
	for _, tc := range []struct {
		name string
		skew time.Duration // the host's clock less Discord's
		says string
	}{
		{"host 15 minutes fast", 15 * time.Minute, "ahead of Discord's"},
		{"host 15 minutes slow", -15 * time.Minute, "behind Discord's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Discord's clock is set apart from the host's: the ids of the
			// messages, their edits and its answers' Date go by it.
			f := discordfake.New(t, discordfake.Options{Guilds: []string{guildID},
				Now: func() time.Time { return time.Now().Add(-tc.skew) }})
			g := &gapTest{t: t, f: f}
			cfg := Config{StaffRoles: []string{"Moderator"}, Guilds: []string{guildID}, ReportsJudged: true, Now: time.Now}

			a, spam := g.heldRunner(cfg)
			hello := g.live(general, "hello")
			g.waitSeen(a.c, hello)
			testsync.Eventually(t, "hello judged", func() bool {
				a.c.cu.mu.Lock()
				defer a.c.cu.mu.Unlock()
				return len(a.c.cu.unjudged) == 0
			})
			backlog := []map[string]any{
				g.msg(general, "scam.example 1"),
				g.msg(threadID, "scam.example in the thread"),
				g.msg(general, "good morning"),
			}
			a.killWithBacklog(backlog...)

			gapSpam := g.gap(general, "scam.example in the gap")
			if !f.Edit(general, hello["id"].(string), "hello, see scam.example", f.Now()) {
				t.Fatal("hello is not in the channel's history")
			}
			b, logsB, outB, memB := g.runner(cfg)
			logOnFailure(t, a.logs)
			runShard(t, f, b, outB, allPerms, memB)
			g.waitCaughtUp(logsB)
			for _, m := range []map[string]any{backlog[0], backlog[1], gapSpam, hello} {
				g.waitDeleted("the gap's spam judged by the second", m)
			}
			g.wantDeleted(1, spam, backlog[0], backlog[1], gapSpam, hello)
			g.wantDeleted(0, backlog[2])
			if strings.Contains(a.logs.String(), "let go") {
				t.Errorf("the first let messages go unjudged:\n%s", a.logs)
			}

			// Told once, on /healthz and in the metric.
			if n := strings.Count(a.logs.String(), tc.says); n != 1 {
				t.Errorf("the first's log says %q %d times, want once", tc.says, n)
			}
			found := false
			for _, tr := range b.Troubles() {
				found = found || strings.Contains(tr, tc.says)
			}
			if !found {
				t.Errorf("troubles %q do not say the host's clock is %s", b.Troubles(), tc.says)
			}
			var gauge dto.Metric
			if err := b.met.clockOffset.Write(&gauge); err != nil {
				t.Fatal(err)
			}
			if off := gauge.GetGauge().GetValue(); off > -tc.skew.Seconds()+5 || off < -tc.skew.Seconds()-5 {
				t.Errorf("clock offset metric %.1fs, want about %.0fs", off, -tc.skew.Seconds())
			}
		})
	}
}
