package daemon_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/stepclock"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestLongRateLimitSharesOneCard: Discord holds a channel's deletes for ten
// minutes (a 429 whose retry_after is past what vigie waits) while a scam
// wave goes on there. Each scam's delete is left as a case at once, as the
// docs say; their cases share one card on the desk, counted, as the actions
// refused for one cause do, rather than a card each that would bury the
// cases needing a human. Each case stays open.
func TestLongRateLimitSharesOneCard(t *testing.T) {
	guild := fmt.Sprint(uint64(190_000_000_000)<<22 | 1)
	channel := discordfake.Channel(guild)
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	holdDeletesTenMinutes(f, channel)
	cl := discordClient(t, f, guild)
	in := startOnly(t, `timezone: UTC
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [delete]
`, nil, []daemon.Connector{discordConnector(cl)})
	const wave = 5
	scamWave(t, in, f, guild, channel, 700000000000000201, 600000000000000101, wave)
	cards := func() int {
		n := 0
		for _, c := range f.Calls("POST", "/channels/"+deskChannel+"/messages") {
			if s, _ := c.Body["content"].(string); strings.Contains(s, "FREE NITRO wave") {
				n++
			}
		}
		return n
	}
	testsync.Eventually(t, "the first card", func() bool { return cards() >= 1 })
	testsync.Eventually(t, "the shared card counting the wave", func() bool {
		for _, l := range strings.Split(in.logs.String(), "\n") {
			if strings.Contains(l, `msg="a cause's card counts its cases"`) && strings.Contains(l, fmt.Sprintf(" cases=%d ", wave)) &&
				strings.Contains(l, "delete: rate limited for longer than vigie waits") {
				return true
			}
		}
		return false
	})
	if n := cards(); n != 1 {
		t.Errorf("%d cards for %d deletes left as cases by one rate limit, want one shared card", n, wave)
	}
}

// TestLongRateLimitCarriedOutWhenItEnds: Discord holds a channel's deletes
// for ten minutes (a 429 whose retry_after is past what vigie waits) while
// a scam wave goes on there: each scam's delete is left as a case at once,
// and nothing more reaches Discord. When the ten minutes are past, on the
// daemon's clock, vigie carries the deletes out, as its own decision of
// each case: every scam deleted once, no case left open. Before, the cases
// stayed open and the scams up until a CM pressed each.
func TestLongRateLimitCarriedOutWhenItEnds(t *testing.T) {
	clk := stepclock.New(time.Now().UTC().Truncate(time.Second))
	guild := fmt.Sprint(uint64(196_000_000_000)<<22 | 1)
	channel := discordfake.Channel(guild)
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	holdDeletesTenMinutes(f, channel)
	in := startLimitedDiscord(t, f, guild, clk, nil)
	const wave = 3
	ids, open := scamWave(t, in, f, guild, channel, 700000000000000701, 600000000000000201, wave)
	deletes := func(id string) int { return f.Count("DELETE", "/channels/"+channel+"/messages/"+id) }
	reached := 0
	for _, id := range ids {
		reached += deletes(id)
	}
	if reached != 1 {
		t.Fatalf("%d deletes reached Discord during the limit, want the first alone", reached)
	}

	clk.Step(601 * time.Second)
	testsync.Eventually(t, "the scams deleted once the limit ended, no case left open", func() bool {
		for i, id := range ids {
			want := 1
			if i == 0 {
				want = 2 // the first, rate limited, then carried out
			}
			if deletes(id) != want {
				return false
			}
		}
		return open() == 0
	})
	// The end is logged once the run is done: after the last case is
	// closed, and after its pass over the cases opened meanwhile.
	testsync.Eventually(t, "the limit's end logged", func() bool {
		return strings.Contains(in.logs.String(), `msg="rate limit ended: the actions it left as cases carried out`)
	})
	for i, id := range ids {
		want := 1
		if i == 0 {
			want = 2
		}
		if n := deletes(id); n != want {
			t.Errorf("scam %s: %d deletes asked, want %d", id, n, want)
		}
	}
}

// holdDeletesTenMinutes makes Discord answer the next delete in channel
// with a 429 whose retry_after, ten minutes, is past what vigie waits.
func holdDeletesTenMinutes(f *discordfake.Server, channel string) {
	f.Fail("DELETE", "/channels/"+channel+"/messages/", 429, `{"message": "You are being rate limited.", "retry_after": 600, "global": false}`,
		http.Header{"X-Ratelimit-Limit": {"5"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset-After": {"600"},
			"X-Ratelimit-Bucket": {"deletes"}, "Retry-After": {"600"}}, 1)
}

// scamWave sends wave "FREE NITRO wave i" messages through the gateway,
// message ids and authors counting up from firstID and firstAuthor, and
// waits for a case open for each. It gives the ids, in order, and open,
// which counts the wave's cases open now.
func scamWave(t *testing.T, in *instance, f *discordfake.Server, guild, channel string, firstID, firstAuthor uint64, wave int) (ids []string, open func() int) {
	t.Helper()
	for i := range wave {
		id := fmt.Sprint(firstID + uint64(i))
		author := fmt.Sprint(firstAuthor + uint64(i))
		ids = append(ids, id)
		testsync.Eventually(t, "the gateway taking scam "+id, func() bool {
			return f.Message(guild, channel, id, author, fmt.Sprintf("FREE NITRO wave %d", i))
		})
	}
	open = func() int {
		var r struct {
			Cases []struct{ Event struct{ Text string } }
		}
		in.do(t, "GET", "/v1/cases?status=open", nil, nil).json(t, &r)
		n := 0
		for _, c := range r.Cases {
			if strings.HasPrefix(c.Event.Text, "FREE NITRO wave") {
				n++
			}
		}
		return n
	}
	testsync.Eventually(t, "a case for each scam", func() bool { return open() == wave })
	return ids, open
}

// TestLongRateLimitNotOverOneCaseAgain: as TestLongRateLimitCarriedOutWhenItEnds,
// but Discord still answers 429 (ten minutes more) when the limit's time is
// past. The first case's delete, carried out again, meets the limit again
// and becomes a case once more; the others are not tried: they wait, open,
// for the limit's next end, when all are deleted. Before, each case of the
// limit was tried and became a case again, a card each, for one limit.
func TestLongRateLimitNotOverOneCaseAgain(t *testing.T) {
	clk := stepclock.New(time.Now().UTC().Truncate(time.Second))
	guild := fmt.Sprint(uint64(197_000_000_000)<<22 | 1)
	channel := discordfake.Channel(guild)
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	holdDeletesTenMinutes(f, channel)
	in := startLimitedDiscord(t, f, guild, clk, nil)
	const wave = 3
	ids, open := scamWave(t, in, f, guild, channel, 700000000000000801, 600000000000000301, wave)
	decided := func() int { return casesOf(t, in, "decided") }

	holdDeletesTenMinutes(f, channel)
	clk.Step(601 * time.Second)
	testsync.Eventually(t, "the limit's end tried, and found not over", func() bool {
		return strings.Contains(in.logs.String(), `msg="rate limit not over`) || decided() == wave
	})
	if n := decided(); n != 1 {
		t.Errorf("%d of the limit's cases tried again and made cases again, want the first alone", n)
	}
	if n := open(); n != wave {
		t.Errorf("%d cases open, want %d (the first made a case again, the others waiting)", n, wave)
	}

	clk.Step(601 * time.Second)
	testsync.Eventually(t, "the scams deleted once the limit ended at last, no case left open", func() bool {
		return open() == 0
	})
	// A case is decided before its delete reaches Discord: each is waited
	// for, not read the moment the last case closes.
	for _, id := range ids {
		testsync.Eventually(t, "scam "+id+" asked deleted", func() bool {
			return f.Count("DELETE", "/channels/"+channel+"/messages/"+id) > 0
		})
	}
}

// TestLongRateLimitLeftAtAStopCarriedOutNextStart: Discord holds a channel's
// deletes for ten minutes while a scam wave goes on, and vigie (on Redis) is
// stopped before the limit ends: the stop says the cases the limit left
// stay open. The next vigie on the same Redis carries them out a minute
// after its start, on its clock. Before, the stop said nothing, and the
// cases stayed open, the scams up, until a CM pressed each.
func TestLongRateLimitLeftAtAStopCarriedOutNextStart(t *testing.T) {
	srv := redistest.Start(t)
	clk := stepclock.New(time.Now().UTC().Truncate(time.Second))
	guild := fmt.Sprint(uint64(198_000_000_000)<<22 | 1)
	channel := discordfake.Channel(guild)
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	holdDeletesTenMinutes(f, channel)
	env := map[string]string{"VIGIE_REDIS_URL": srv.URL()}
	in := startLimitedDiscord(t, f, guild, clk, env)
	const wave = 3
	_, _ = scamWave(t, in, f, guild, channel, 700000000000000901, 600000000000000401, wave)
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(in.logs.String(), `msg="stopping while rate limited`) {
		t.Errorf("the stop did not say what the limit left:\n%s", in.logs)
	}

	next := startLimitedDiscord(t, f, guild, clk, env)
	testsync.Eventually(t, "the next vigie arming the limit's cases", func() bool {
		return strings.Contains(next.logs.String(), `msg="cases a rate limit left before the start`)
	})
	clk.Step(601 * time.Second)
	testsync.Eventually(t, "the scams deleted by the next vigie, no case left open", func() bool {
		return casesOf(t, next, "open") == 0 && casesOf(t, next, "decided") == wave
	})
}

// startLimitedDiscord starts a vigie deleting "free nitro" on the Discord
// fake f, on clk, with env.
func startLimitedDiscord(t *testing.T, f *discordfake.Server, guild string, clk *stepclock.Clock, env map[string]string) *instance {
	t.Helper()
	cl := discordClient(t, f, guild, func(c *discord.Config) { c.Now = clk.Now })
	return start(t, `timezone: UTC
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [delete]
`, env, onClock(clk), func(c *daemon.Config) {
		c.Connectors = []daemon.Connector{discordConnector(cl)}
	})
}

// casesOf counts the cases of status of the scam waves.
func casesOf(t *testing.T, in *instance, status string) int {
	t.Helper()
	var r struct {
		Cases []struct{ Event struct{ Text string } }
	}
	in.do(t, "GET", "/v1/cases?status="+status, nil, nil).json(t, &r)
	n := 0
	for _, c := range r.Cases {
		if strings.HasPrefix(c.Event.Text, "FREE NITRO wave") {
			n++
		}
	}
	return n
}
