package daemon_test

import (
	"context"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
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
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and kills a vigie process")
	}
	r := startFoldedRaid(t, 196_000_000_000, "600000000000000016", 700000000000000700)
	defer r.unlock()
	r.laterDeleted(t)
	r.first.kill()
	r.unlock()
	r.settledByTheNext(t)
}

// TestFoldKillBanAnswerLostNotGivenAgain: as TestFoldKillDeletesOnce, but
// Discord takes the raider's ban and the vigie that asked it is killed
// before its answer comes back: the journal still holds the ban of the
// first scam and of the two folded into it. The next vigie looks the
// raider up on Discord before it bans them: found banned, no ban is asked
// again, no case opened, and every message deleted once. Before, the ban
// was asked again for each of the three entries.
func TestFoldKillBanAnswerLostNotGivenAgain(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and kills a vigie process")
	}
	r := startFoldedRaid(t, 197_000_000_000, "600000000000000017", 700000000000000800)
	defer r.unlock()
	f, guild, raider := r.f, r.guild, r.raider
	r.laterDeleted(t)
	banPath := "/guilds/" + guild + "/bans/" + raider
	release := f.Hold(func(c discordfake.Call) bool { return c.Method == "PUT" && c.Path == banPath })
	defer release()
	r.unlock()
	f.WaitFor(t, "PUT", banPath, 1, nil)
	// Discord bans the raider; its answer never reaches the vigie killed.
	f.Ban(guild, raider)
	r.first.kill()
	release()

	r.settledByTheNext(t)
	// Counted once the next vigie stopped: a ban asked again by it is in.
	if n := f.Count("PUT", banPath); n != 1 {
		t.Errorf("the raider's ban asked %d times, want once (taken by Discord, then found there)", n)
	}
}

// laterDeleted waits until the two scams folded into the first one's ban
// are deleted, once each.
func (r *foldedRaid) laterDeleted(t *testing.T) {
	t.Helper()
	for _, id := range r.later {
		testsync.Eventually(t, "folded scam "+id+" deleted", func() bool { return r.deletes(id) == 1 })
	}
}

// settledByTheNext starts the next vigie on the raid's Redis, once the
// first one is killed, waits until it has carried out the journal, stops
// it, and checks what it must have done: the raider banned, each scam's
// message deleted once, no case opened. Its logs are shown if the test
// fails.
func (r *foldedRaid) settledByTheNext(t *testing.T) {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: r.srv.Addr()})
	defer c.Close()
	second := takeOverOnDiscord(t, discordBanRules, r.srv, r.f, r.guild)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("second vigie's logs:\n%s", second.logs)
		}
	})
	testsync.Eventually(t, "the journal emptied", func() bool {
		n, err := c.HLen(context.Background(), "vigie:{journal}:entries").Result()
		return err == nil && n == 0
	})
	if !r.f.Banned(r.guild, r.raider) {
		t.Errorf("raider not banned")
	}
	for _, id := range append([]string{r.firstScam}, r.later...) {
		if n := r.deletes(id); n != 1 {
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
}
