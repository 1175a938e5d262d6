package daemon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestFoldSurvivesKill: a raider's lock is held (another instance's ban of
// them) as they post three scams on a `vigie run` process. The first
// waits apart in their lane; the two later ones are folded into its ban,
// their messages deleted at once. The process is killed (SIGKILL) before
// the ban is carried out. The next vigie on the same Redis takes the
// journal, and Discord now refuses the ban (403): the first scam's ban is
// made a case, and so is each folded scam's, none of their messages
// deleted twice. Before, a folded verdict's journal entry was finished
// with its delete: the kill left only the first scam's, and the folded
// bans were lost with no case.
func TestFoldSurvivesKill(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and kills a vigie process")
	}
	r := startFoldedRaid(t, 195_000_000_000, "600000000000000015", 700000000000000600)
	defer r.unlock()
	f, srv, guild, raider, first := r.f, r.srv, r.guild, r.raider, r.first
	deletes, firstScam, later := r.deletes, r.firstScam, r.later
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	// The folded scams' rest carried out: deleted, and their journal
	// entries finished or no longer holding the delete.
	for _, id := range later {
		testsync.Eventually(t, "folded scam "+id+" deleted and its entry settled", func() bool {
			if deletes(id) != 1 {
				return false
			}
			raw, err := c.HGet(context.Background(), "vigie:{journal}:entries", "discord:"+id).Result()
			if err == goredis.Nil {
				return true
			}
			if err != nil {
				t.Fatal(err)
			}
			var e store.JournalEntry
			if err := json.Unmarshal([]byte(raw), &e); err != nil {
				t.Fatal(err)
			}
			for _, a := range e.Verdict.Actions() {
				if a.Kind == bot.ActDelete {
					return false
				}
			}
			return true
		})
	}
	if f.Banned(guild, raider) {
		t.Fatalf("the raider banned while their lock is held")
	}
	first.kill()
	r.unlock()

	banPath := "/guilds/" + guild + "/bans/" + raider
	f.FailWhen(func(c discordfake.Call) bool { return c.Method == "PUT" && c.Path == banPath },
		http.StatusForbidden, `{"message": "Missing Permissions", "code": 50013}`)
	second := takeOverOnDiscord(t, discordBanRules, srv, f, guild)
	for _, id := range append([]string{firstScam}, later...) {
		testsync.Eventually(t, "the case of scam "+id+", its ban refused", func() bool {
			for line := range strings.Lines(second.logs.String()) {
				if strings.Contains(line, "event=discord:"+id+" ") &&
					(strings.Contains(line, `msg="case opened"`) || strings.Contains(line, `msg="hit added to a case"`)) {
					return true
				}
			}
			return false
		})
	}
	testsync.Eventually(t, "the journal emptied", func() bool {
		n, err := c.HLen(context.Background(), "vigie:{journal}:entries").Result()
		return err == nil && n == 0
	})
	for _, id := range later {
		if n := deletes(id); n != 1 {
			t.Errorf("folded scam %s deleted %d times, want once", id, n)
		}
	}
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}
	if t.Failed() {
		t.Logf("second vigie's logs:\n%s", second.logs)
	}
}

// processMetric reads name from a vigie process's /metrics; -1 when it is
// not there.
func processMetric(t *testing.T, in *vigieProcess, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + in.addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s = %q: %v", name, v, err)
			}
			return f
		}
	}
	return -1
}

// foldedRaid is a raider's three scams on a `vigie run` process on Discord
// (startFoldedRaid): the first's verdict waits apart in the raider's lane,
// their lock held as another instance's ban would hold it, and the two
// later ones are folded into its ban.
type foldedRaid struct {
	f                      *discordfake.Server
	srv                    *redistest.Server
	first                  *vigieProcess
	guild, channel, raider string
	firstScam              string
	later                  []string
	unlock                 func()
}

// startFoldedRaid starts that raid in a guild of its own (seed, as a
// snowflake's time), the scams' ids from base+1, and waits until the first
// verdict waits apart and the two later are folded.
func startFoldedRaid(t *testing.T, seed uint64, raider string, base uint64) *foldedRaid {
	t.Helper()
	guild := fmt.Sprint(seed<<22 | 1)
	channel := discordfake.Channel(guild)
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	srv := redistest.Start(t)
	first := startDiscordProcess(t, discordBanRules, srv, f, guild)
	w := &discordWorld{srv: srv, guild: guild, channel: channel, f: f}
	r := &foldedRaid{f: f, srv: srv, first: first, guild: guild, channel: channel, raider: raider, unlock: w.holdLock(t, raider)}
	scam := func(n uint64) string {
		id := fmt.Sprint(base + n)
		testsync.Eventually(t, "the gateway taking scam "+id, func() bool { return f.Message(guild, channel, id, raider, "FREE NITRO "+id) })
		return id
	}
	r.firstScam = scam(1)
	testsync.Eventually(t, "the first verdict waiting apart", func() bool {
		return processMetric(t, first, `vigie_busy_member_verdicts_total{where="apart"}`) == 1
	})
	r.later = []string{scam(2), scam(3)}
	testsync.Eventually(t, "the later scams folded", func() bool {
		return processMetric(t, first, `vigie_busy_member_verdicts_total{where="folded"}`) == 2
	})
	return r
}

// deletes is how many times Discord was asked to delete the message id.
func (r *foldedRaid) deletes(id string) int {
	return r.f.Count("DELETE", "/channels/"+r.channel+"/messages/"+id)
}
