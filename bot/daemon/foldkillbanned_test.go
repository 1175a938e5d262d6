package daemon_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestFoldKillDeletesOnce: as TestFoldSurvivesKill, but the ban goes
// through on the next vigie. The first scam's verdict waits apart in the
// raider's lane: its message is deleted at once, its ban waits for the
// raider's lock, and the process is killed in that wait. The next vigie
// carries the journal's entries out: the raider banned, no case opened,
// and each scam's message asked deleted once. Before, the entry of the
// verdict waiting apart did not say its delete was done, and the next
// vigie asked Discord to delete the first scam a second time.
func TestFoldKillDeletesOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a vigie process")
	}
	guild := fmt.Sprint(uint64(196_000_000_000)<<22 | 1)
	channel := discordfake.Channel(guild)
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	srv := redistest.Start(t)
	first := startDiscordProcess(t, discordBanRules, srv, f, guild)
	w := &discordWorld{srv: srv, guild: guild, channel: channel, f: f}
	const raider = "600000000000000016"
	unlock := w.holdLock(t, raider)
	defer unlock()

	deletes := func(id string) int { return f.Count("DELETE", "/channels/"+channel+"/messages/"+id) }
	scam := func(n int) string {
		id := fmt.Sprint(700000000000000700 + n)
		testsync.Eventually(t, "the gateway taking scam "+id, func() bool { return f.Message(guild, channel, id, raider, "FREE NITRO "+id) })
		return id
	}
	firstScam := scam(1)
	testsync.Eventually(t, "the first verdict waiting apart", func() bool {
		return processMetric(t, first, `vigie_busy_member_verdicts_total{where="apart"}`) == 1
	})
	later := []string{scam(2), scam(3)}
	testsync.Eventually(t, "the later scams folded", func() bool {
		return processMetric(t, first, `vigie_busy_member_verdicts_total{where="folded"}`) == 2
	})
	for _, id := range later {
		testsync.Eventually(t, "folded scam "+id+" deleted", func() bool { return deletes(id) == 1 })
	}
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	first.kill()
	unlock()

	second := takeOverOnDiscord(t, discordBanRules, srv, f, guild)
	testsync.Eventually(t, "the journal emptied", func() bool {
		n, err := c.HLen(context.Background(), "vigie:{journal}:entries").Result()
		return err == nil && n == 0
	})
	if !f.Banned(guild, raider) {
		t.Errorf("raider not banned")
	}
	for _, id := range append([]string{firstScam}, later...) {
		if n := deletes(id); n != 1 {
			t.Errorf("scam %s deleted %d times, want once", id, n)
		}
	}
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(second.logs.String()) {
		if strings.Contains(line, `msg="case opened"`) {
			t.Errorf("a case opened: %s", line)
		}
	}
	if t.Failed() {
		t.Logf("second vigie's logs:\n%s", second.logs)
	}
}
