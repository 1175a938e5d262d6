package daemon_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestCaseOpenedBeforeItsJournalNamesItSurvivesKill: a vigie process on
// Redis forwards a scam whose delete Discord holds; its case opens on the
// desk, its actions being tried, and the process is killed (SIGKILL)
// before the journal entry of the verdict names that case (the write that
// carries the case's id never reaches Redis). The next vigie on the same
// Redis carries the verdict out again: it finds the case being tried for
// the message and amends it, rather than open a second case beside it and
// leave the first saying the actions are being tried until the hour's
// check says vigie stopped. Before, the message had two cases.
func TestCaseOpenedBeforeItsJournalNamesItSurvivesKill(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and kills a vigie process")
	}
	k := startUnnamedCase(t, "700000000000000311", 191)
	second := k.takeOver(t)
	all := k.cases(t)
	if len(all) != 1 || all[0].ID != k.early.ID || len(all[0].Trying) != 0 || len(all[0].NotDone) != 0 || all[0].Reason != "scam" {
		t.Errorf("cases after the restart = %+v\nwant one, the one opened before the kill (%s), amended: nothing being tried, nothing not done, the forward's reason",
			all, k.early.ID)
	}
	if t.Failed() {
		t.Logf("second vigie's logs:\n%s", second.logs)
	}
}

// TestCaseKeptBeforeItsJournalNamesItSurvivesKill: as above, and a CM
// keeps the message from its case (pressed on another instance's desk)
// before the process is killed, the journal entry of the verdict not
// naming the case yet. The next vigie obeys the CM: the message is not
// deleted again, its author not timed out, no second case opens, and the
// kept case says the actions were dropped for the decision. Before, the
// next vigie knew nothing of the case: it deleted the message again, timed
// its author out, and opened a second case.
func TestCaseKeptBeforeItsJournalNamesItSurvivesKill(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and kills a vigie process")
	}
	k := startUnnamedCase(t, "700000000000000312", 192)
	if _, err := k.st.DecideCase(context.Background(), k.early.ID, "keep", "telegram:42", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	second := k.takeOver(t)
	all := k.cases(t)
	if n := k.f.Count("DELETE", k.deletes); n != 1 {
		t.Errorf("the delete was asked %d times, want once: none after the CM kept the message", n)
	}
	if n := k.f.Count("PATCH", "/guilds/"+k.guild+"/members/"); n != 0 {
		t.Errorf("%d timeouts asked after the CM kept the message, want none", n)
	}
	if len(all) != 1 || all[0].ID != k.early.ID || all[0].Outcome != "keep" ||
		!strings.HasSuffix(all[0].Reason, "decided keep by telegram:42 while vigie was acting; dropped for the decision: delete, timeout(10m)") {
		t.Errorf("cases after the restart = %+v\nwant one, the one kept (%s), amended to say its actions were dropped for the decision", all, k.early.ID)
	}
	if t.Failed() {
		t.Logf("second vigie's logs:\n%s", second.logs)
	}
}

// unnamedCase is a vigie process (killed by the time startUnnamedCase
// returns) whose scam's case opened, its actions being tried, and whose
// journal entry was never told the case's id.
type unnamedCase struct {
	f              *discordfake.Server
	guild, deletes string
	srv            *redistest.Server
	st             *redis.Store
	early          store.Case
}

// startUnnamedCase builds vigie and runs it on a redis-server through a
// proxy that passes nothing from the first write naming a case in a journal
// entry; the fake Discord's gateway sends it the scam msgID, whose delete it
// holds until the process is killed, once the case is open.
func startUnnamedCase(t *testing.T, msgID string, guildSeed uint64) *unnamedCase {
	t.Helper()
	guild := fmt.Sprint(guildSeed*1_000_000_000<<22 | 1)
	channel := discordfake.Channel(guild)
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	deletes := "/channels/" + channel + "/messages/" + msgID
	release := f.Hold(func(c discordfake.Call) bool { return c.Method == "DELETE" && c.Path == deletes })
	t.Cleanup(release)

	srv := redistest.Start(t)
	proxy := redistest.NewHangProxy(t, srv.Addr())
	proxy.HangAt([]byte(`"case":"c-`))
	first := startDiscordProcessOn(t, discordFailingRules, proxy.URL(), f, guild)
	testsync.Eventually(t, "the gateway taking the scam", func() bool {
		return f.Message(guild, channel, msgID, "600000000000000007", "FREE NITRO here")
	})
	st := redistest.Open(t, srv.URL())
	early := (&heldScam{st: st}).beingTried(t, false)
	<-proxy.Held()
	first.kill()
	release()
	return &unnamedCase{f: f, guild: guild, deletes: deletes, srv: srv, st: st, early: early}
}

// takeOver starts the vigie that takes over from the killed one, waits
// until the journal is empty, and stops it.
func (k *unnamedCase) takeOver(t *testing.T) *instance {
	t.Helper()
	second := takeOverOnDiscord(t, discordFailingRules, k.srv, k.f, k.guild)
	c := goredis.NewClient(&goredis.Options{Addr: k.srv.Addr()})
	defer c.Close()
	testsync.Eventually(t, "the journal emptied", func() bool {
		n, err := c.HLen(context.Background(), "vigie:{journal}:entries").Result()
		return err == nil && n == 0
	})
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}
	return second
}

// cases returns every case, open or decided.
func (k *unnamedCase) cases(t *testing.T) []store.Case {
	t.Helper()
	var all []store.Case
	for _, status := range []store.CaseStatus{store.CaseOpen, store.CaseDecided} {
		cs, err := k.st.Cases(context.Background(), status)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, cs...)
	}
	return all
}
