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

const timeoutRules = `timezone: UTC
rules:
  - name: rude
    category: abuse
    when: 'lower(text) contains "idiot"'
    do: [timeout(1h)]
`

// TestTimeoutInFlightAtKillNotGivenTwice: a rule times a member out, and
// the `vigie run` process carrying it out is killed (SIGKILL) while Discord
// holds the timeout's call: Discord may have given it. The next vigie on
// the same Redis takes the verdict from the journal: its entry says the
// timeout was asked and not how it ended, so it is not asked again (a
// second timeout would run from later than the first); a case says its
// end is unknown, for a CM to check. Before, the timeout was asked again.
func TestTimeoutInFlightAtKillNotGivenTwice(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and kills a vigie process")
	}
	guild := fmt.Sprint(uint64(199_000_000_000)<<22 | 1)
	channel := discordfake.Channel(guild)
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	srv := redistest.Start(t)
	first := startDiscordProcess(t, timeoutRules, srv, f, guild)
	const member = "600000000000000017"
	path := "/guilds/" + guild + "/members/" + member
	release := f.Hold(func(c discordfake.Call) bool { return c.Method == "PATCH" && c.Path == path })
	const msg = "700000000000000991"
	testsync.Eventually(t, "the gateway taking the message", func() bool { return f.Message(guild, channel, msg, member, "you idiot") })
	f.WaitFor(t, "PATCH", path, 1, nil)
	first.kill()
	release()

	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	second := takeOverOnDiscord(t, timeoutRules, srv, f, guild)
	testsync.Eventually(t, "the journal emptied", func() bool {
		n, err := c.HLen(context.Background(), "vigie:{journal}:entries").Result()
		return err == nil && n == 0
	})
	if n := f.Count("PATCH", path); n != 1 {
		t.Errorf("the member's timeout asked %d times, want once", n)
	}
	cased := false
	for line := range strings.Lines(second.logs.String()) {
		if strings.Contains(line, "event=discord:"+msg+" ") && strings.Contains(line, `msg="case opened"`) && strings.Contains(line, "unknown") {
			cased = true
		}
	}
	if !cased {
		t.Errorf("no case saying the timeout's end is unknown")
	}
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}
	if t.Failed() {
		t.Logf("second vigie's logs:\n%s", second.logs)
	}
}
