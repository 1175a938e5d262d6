package daemon_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestTimeoutAskedOnceItsTryingIsWritten: a rule times a member out, and
// Redis is slow to take the journal's word that the timeout is being asked
// (the write that carries it held on its way). Discord is asked for the
// timeout only once Redis took that word, or once vigie gave up waiting
// for it and said so: a kill during the call must leave the next vigie to
// find the timeout asked. Before, the word was queued for Redis and the
// timeout asked at once: a kill then left an entry that did not say it,
// and the next vigie asked the timeout a second time.
func TestTimeoutAskedOnceItsTryingIsWritten(t *testing.T) {
	guild := fmt.Sprint(uint64(198_000_000_000)<<22 | 1)
	channel := discordfake.Channel(guild)
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	srv := redistest.Start(t)
	proxy := redistest.NewHangProxy(t, srv.Addr())
	cl := discordClient(t, f, guild)
	in := start(t, timeoutRules, map[string]string{"VIGIE_REDIS_URL": proxy.URL()}, func(c *daemon.Config) {
		c.Connectors = []daemon.Connector{discordConnector(cl)}
	})
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()

	const member = "600000000000000018"
	path := "/guilds/" + guild + "/members/" + member
	const msg = "700000000000000992"
	proxy.HoldAt([]byte(`"trying":[`))
	// When Discord is asked, the journal says the timeout is being asked,
	// or vigie said it could not write it.
	var written, told bool
	release := f.Hold(func(call discordfake.Call) bool {
		if call.Method != "PATCH" || call.Path != path {
			return false
		}
		raw, err := c.HGet(context.Background(), "vigie:{journal}:entries", "discord:"+msg).Result()
		written = err == nil && strings.Contains(raw, `"trying":[`)
		told = strings.Contains(in.logs.String(), "journal entry not told of an action being asked")
		return false
	})
	defer release()
	testsync.Eventually(t, "the gateway taking the message", func() bool { return f.Message(guild, channel, msg, member, "you idiot") })
	<-proxy.Holding()
	f.WaitFor(t, "PATCH", path, 1, nil)
	proxy.Resume()
	if !written && !told {
		t.Errorf("Discord asked for the timeout while the journal did not say it was being asked, and vigie did not say so")
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
}
