package discord

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// reconnectClock is the clock of c's reconnection: each wait between two
// tries lasts until the test lets it end (next).
type reconnectClock struct {
	tick  chan struct{}
	waits chan time.Duration
}

func injectReconnectClock(c *Client) *reconnectClock {
	k := &reconnectClock{tick: make(chan struct{}), waits: make(chan time.Duration, 64)}
	c.reconnectWait = func(ctx context.Context, d time.Duration) bool {
		select {
		case k.waits <- d:
		default:
		}
		select {
		case <-k.tick:
			return true
		case <-ctx.Done():
			return false
		}
	}
	return k
}

// next ends the wait under way, failing t when none comes.
func (k *reconnectClock) next(t *testing.T) {
	t.Helper()
	select {
	case k.tick <- struct{}{}:
	case <-time.After(testsync.Patience):
		t.Fatal("the reconnection never waited")
	}
}

// idle reports whether a wait would end now: false when nothing waits.
func (k *reconnectClock) idle() bool {
	select {
	case k.tick <- struct{}{}:
		return false
	default:
		return true
	}
}

// sessionGoroutines are the goroutines left of c's gateway session:
// discordgo's reading loop, heartbeat and reconnection on c.sess, and
// vigie's reconnection.
func sessionGoroutines(c *Client) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	sess, client := fmt.Sprintf("(%p", c.sess), fmt.Sprintf("(%p", c)
	var left []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, line := range strings.Split(g, "\n") {
			if strings.Contains(line, "discordgo.(*Session).") && strings.Contains(line, sess) ||
				strings.Contains(line, "(*Client).keepConnected"+client) {
				left = append(left, g)
				break
			}
		}
	}
	return left
}

// noneLeft fails t unless every goroutine of c's session ends.
func noneLeft(t *testing.T, c *Client) {
	t.Helper()
	deadline := time.Now().Add(testsync.Patience)
	for {
		left := sessionGoroutines(c)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of the gateway session left after Run returned:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStopWhileReconnecting: the gateway goes down, and vigie stops while
// it waits to dial the gateway again, after none, one, two or three dials
// refused.
// Run returns with nothing of the session left running: no reconnection
// goes on dialling a gateway nobody listens to, and no Open races the
// stop's Close (run with -race). Before, discordgo's own reconnection went
// on after Run returned, dialling every 10 minutes at most for the life of
// the process, with Open and Close called from two goroutines at once.
func TestStopWhileReconnecting(t *testing.T) {
	for tries := range 4 {
		t.Run(fmt.Sprint(tries, " failed dials"), func(t *testing.T) {
			f := newFakeDiscord(t)
			c, logs := newTestClient(t, f, Config{Guilds: []string{guildID}})
			clock := injectReconnectClock(c)
			_, stop := start(t, f, c, make(chan bot.Event, 10), allPerms, nil)
			f.SetDown(true)
			for i := range tries {
				clock.next(t)
				testsync.Eventually(t, "a dial refused", func() bool { return f.Dials() >= 2+i })
			}
			stop()
			noneLeft(t, c)
			dials := f.Dials()
			if !clock.idle() {
				t.Error("the reconnection still waits after Run returned")
			}
			f.SetDown(false)
			if n := f.Dials(); n != dials {
				t.Errorf("%d gateway dials after Run returned", n-dials)
			}
			if strings.Contains(logs.String(), "already opened") {
				t.Errorf("two openers of the session:\n%s", logs)
			}
		})
	}
}

// TestStopWhileGatewayAddressRefused: the token is reset while the gateway
// is down, so that each try asks for the gateway's address (GET /gateway)
// and hears 401 (Discord's first, then vigie's, which holds the token's
// refusal), again and again, waiting twice as long each time. Stopped
// then, vigie asks nothing more: no request for the address, no dial, no
// goroutine of the session left. Before, discordgo asked for the address
// for ever after Run returned.
func TestStopWhileGatewayAddressRefused(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	clock := injectReconnectClock(c)
	_, stop := start(t, f, c, make(chan bot.Event, 10), allPerms, nil)
	f.RevokeToken()
	f.SetDown(true)
	for range 4 {
		clock.next(t)
	}
	// A fifth wait: four tries failed.
	var waits []time.Duration
	for len(waits) < 5 {
		select {
		case d := <-clock.waits:
			waits = append(waits, d)
		case <-time.After(testsync.Patience):
			t.Fatalf("waits between tries %v, want five", waits)
		}
	}
	if want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}; !slices.Equal(waits, want) {
		t.Errorf("waits between tries %v, want %v", waits, want)
	}
	// Refused once, the address is refused by vigie itself after that (the
	// token's refusal is held): Discord hears one 401 for it.
	if n := f.Asked("GET", "/gateway"); n == 0 {
		t.Error("the gateway's address never asked")
	}
	stop()
	noneLeft(t, c)
	asked, dials := f.Asked("GET", "/gateway"), f.Dials()
	if !clock.idle() {
		t.Error("the reconnection still waits after Run returned")
	}
	f.RestoreToken()
	f.SetDown(false)
	if n := f.Asked("GET", "/gateway"); n != asked {
		t.Errorf("the gateway's address asked %d times after Run returned", n-asked)
	}
	if n := f.Dials(); n != dials {
		t.Errorf("%d gateway dials after Run returned", n-dials)
	}
}

// TestStopWhileReconnectingMany: the gateway lost again and again on a
// connection vigie writes on all the time (a heartbeat every 10ms), and vigie
// stopped at each step of the reconnection, many times over: under -race,
// no Open of the session may run alongside its Close, nor a reconnection
// outlive Run. Before, discordgo's reading loop and heartbeat each started a
// reconnection when both saw the connection fail, and Run's stop made the
// one under way fail its dial: Open cleared the gateway's address while the
// heartbeat's failure read it: the data race -race reported in CI. The
// waits between tries are short, not skipped: a heartbeat that slow may
// miss its acknowledgement and drop a connection, which is dialled again.
func TestStopWhileReconnectingMany(t *testing.T) {
	rounds := 12
	if testing.Short() {
		rounds = 4
	}
	for round := range rounds {
		f := discordfake.New(t, discordfake.Options{Guilds: []string{guildID}, HeartbeatInterval: 10})
		c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
		c.reconnectWait = func(ctx context.Context, _ time.Duration) bool { return bot.Sleep(ctx, 20*time.Millisecond) }
		_, stop := start(t, f, c, make(chan bot.Event, 10), allPerms, nil)
		dials := f.Dials()
		if round%2 == 0 {
			f.SetDown(true)
		} else {
			f.RevokeToken()
		}
		testsync.Eventually(t, "dials after the loss", func() bool { return f.Dials() >= dials+round%4 })
		stop()
		noneLeft(t, c)
	}
}
