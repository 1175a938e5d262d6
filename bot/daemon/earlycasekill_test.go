package daemon_test

import (
	"context"
	"fmt"
	"testing"

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
	if testing.Short() {
		t.Skip("builds and kills a vigie process")
	}
	const msgID = "700000000000000311"
	guild := fmt.Sprint(uint64(191_000_000_000)<<22 | 1)
	channel := discordfake.Channel(guild)
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	deletes := "/channels/" + channel + "/messages/" + msgID
	release := f.Hold(func(c discordfake.Call) bool { return c.Method == "DELETE" && c.Path == deletes })
	defer release()

	srv := redistest.Start(t)
	proxy := redistest.NewHangProxy(t, srv.Addr())
	// The first write that names a case in a journal entry, and all after
	// it, never reach Redis: the process is as good as killed before it.
	proxy.HangAt([]byte(`"case":"c-`))
	bin, config := vigieWith(t, discordFailingRules)
	first := startProcess(t, bin, "vigie-1", config, proxy.URL(), []string{
		"DISCORD_TOKEN=" + discordfake.Token,
		"DISCORD_API_URL=" + f.APIURL(),
		"DISCORD_GUILDS=" + guild,
		"DISCORD_DESK_CHANNEL=" + deskChannel,
	})
	testsync.Eventually(t, "the gateway taking the scam", func() bool {
		return f.Message(guild, channel, msgID, "600000000000000007", "FREE NITRO here")
	})
	st, err := redis.Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := &heldScam{st: st}
	early := h.beingTried(t, false)
	<-proxy.Held()
	first.kill()
	release()

	second := takeOverOnDiscord(t, discordFailingRules, srv, f, guild)
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	testsync.Eventually(t, "the journal emptied", func() bool {
		n, err := c.HLen(context.Background(), "vigie:{journal}:entries").Result()
		return err == nil && n == 0
	})
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}
	var all []store.Case
	for _, status := range []store.CaseStatus{store.CaseOpen, store.CaseDecided} {
		cs, err := st.Cases(context.Background(), status)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, cs...)
	}
	if len(all) != 1 || all[0].ID != early.ID || len(all[0].Trying) != 0 || len(all[0].NotDone) != 0 || all[0].Reason != "scam" {
		t.Errorf("cases after the restart = %+v\nwant one, the one opened before the kill (%s), amended: nothing being tried, nothing not done, the forward's reason",
			all, early.ID)
	}
	if t.Failed() {
		t.Logf("second vigie's logs:\n%s", second.logs)
	}
}
