package daemon_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestBusyMemberDoesNotStallThePlace: a member's lock is held on the shared
// Redis (another instance's ban of them, whose Discord call hangs). Their
// scam's timeout waits for it, apart: the place's lane goes on, and another
// member's scam in the same channel is deleted and timed out while the lock
// is still held. Once it is let go, the busy member is timed out, then
// their second scam, which waited behind the first, is deleted and they are
// timed out again. Before, the other member's scam waited in the lane
// behind the busy member's, up to four tries of 30 seconds each.
func TestBusyMemberDoesNotStallThePlace(t *testing.T) {
	w := discordOnRedis(t, discordFailingRules, 191_000_000_000)
	guild, channel, f, in := w.guild, w.channel, w.f, w.in

	const busy, other = "600000000000000007", "600000000000000008"
	unlock := w.holdLock(t, busy)
	defer unlock()

	deleted := func(id string) bool {
		return len(f.Calls("DELETE", "/channels/"+channel+"/messages/"+id)) > 0
	}
	timedOut := func(member string) bool {
		return len(f.Calls("PATCH", "/guilds/"+guild+"/members/"+member)) > 0
	}
	testsync.Eventually(t, "the gateway taking the busy member's scam", func() bool {
		return f.Message(guild, channel, "700000000000000201", busy, "FREE NITRO here")
	})
	testsync.Eventually(t, "the gateway taking the busy member's second scam", func() bool {
		return f.Message(guild, channel, "700000000000000203", busy, "FREE NITRO again")
	})
	testsync.Eventually(t, "the gateway taking the other member's scam", func() bool {
		return f.Message(guild, channel, "700000000000000202", other, "FREE NITRO there")
	})
	testsync.Eventually(t, "the other member's scam deleted and timed out while the first's lock is held", func() bool {
		return deleted("700000000000000202") && timedOut(other)
	})
	if timedOut(busy) {
		t.Fatalf("the busy member timed out while another held their lock")
	}
	// Taken by the place's lane before the other member's, the busy
	// member's second verdict waits behind their first, in their lane.
	if deleted("700000000000000203") {
		t.Errorf("the busy member's second scam carried out before their first")
	}

	unlock()
	testsync.Eventually(t, "the busy member's scam deleted and timed out once their lock is let go", func() bool {
		return deleted("700000000000000201") && deleted("700000000000000203") &&
			len(f.Calls("PATCH", "/guilds/"+guild+"/members/"+busy)) == 2
	})
	if !strings.Contains(in.logs.String(), "the member is busy") {
		t.Errorf("the busy member's verdict taken apart, not logged")
	}
	if v := metric(t, in, `vigie_busy_member_verdicts_total{where="apart"}`); v != 2 {
		t.Errorf("verdicts carried out apart = %v, want the busy member's 2", v)
	}
}

// TestMemberLockAskedOnceForAVerdict: a scam's timeout, its member not
// busy, on a real redis-server watched by MONITOR. The member's lock is
// asked of Redis once (one SET NX PX) and let go once: the try that tells
// whether the member is busy is the take the timeout uses. Before, the
// verdict asked twice: a take let go at once to look, then the timeout's.
func TestMemberLockAskedOnceForAVerdict(t *testing.T) {
	w := discordOnRedis(t, discordFailingRules, 192_000_000_000)
	srv, guild, channel, f := w.srv, w.guild, w.channel, w.f

	mon := monitor(t, srv.Addr())
	const member = "600000000000000009"
	testsync.Eventually(t, "the gateway taking the scam", func() bool {
		return f.Message(guild, channel, "700000000000000301", member, "FREE NITRO here")
	})
	testsync.Eventually(t, "the scam deleted and its author timed out", func() bool {
		return len(f.Calls("DELETE", "/channels/"+channel+"/messages/700000000000000301")) > 0 &&
			len(f.Calls("PATCH", "/guilds/"+guild+"/members/"+member)) > 0
	})
	lock := ":{bans}:lock:"
	// The let-go is a script's compare-and-delete: its DEL, as Redis
	// runs it, names the lock.
	testsync.Eventually(t, "the lock let go", func() bool { return mon.count(`"del"`, lock) >= 1 })
	if n := mon.count(`"set"`, lock); n != 1 {
		t.Errorf("the member's lock asked of Redis %d times for one timeout, want 1:\n%s", n, mon.lines(lock))
	}
	if n := mon.count(`"del"`, lock); n != 1 {
		t.Errorf("the member's lock let go %d times for one timeout, want 1:\n%s", n, mon.lines(lock))
	}
}

// monitorLog is what Redis's MONITOR told, one command a line.
type monitorLog struct {
	mu  sync.Mutex
	got []string
}

// monitor watches every command addr runs until the test ends.
func monitor(t *testing.T, addr string) *monitorLog {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	if l, err := r.ReadString('\n'); err != nil || l != "+OK\r\n" {
		t.Fatalf("MONITOR: %q %v", l, err)
	}
	m := &monitorLog{}
	go func() {
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			m.mu.Lock()
			m.got = append(m.got, strings.ToLower(strings.TrimSpace(l)))
			m.mu.Unlock()
		}
	}()
	return m
}

// count is the number of commands named cmd (quoted, as MONITOR writes
// it) whose line holds what.
func (m *monitorLog) count(cmd, what string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, l := range m.got {
		if strings.Contains(l, "] "+cmd+" ") && strings.Contains(l, what) {
			n++
		}
	}
	return n
}

func (m *monitorLog) lines(what string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	for _, l := range m.got {
		if strings.Contains(l, what) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// discordWorld is a vigie on a redis-server of its own, with Discord's
// fake for a guild of its own (made from seq), the busy-member tests' world.
type discordWorld struct {
	srv            *redistest.Server
	guild, channel string
	f              *discordfake.Server
	in             *instance
}

func discordOnRedis(t *testing.T, rules string, seq uint64) *discordWorld {
	t.Helper()
	w := &discordWorld{srv: redistest.Start(t), guild: fmt.Sprint(seq<<22 | 1)}
	w.channel = discordfake.Channel(w.guild)
	w.f = discordfake.New(t, discordfake.Options{Guilds: []string{w.guild}, Announce: true})
	cl := discordClient(t, w.f, w.guild)
	w.in = startOnly(t, rules, map[string]string{"VIGIE_REDIS_URL": w.srv.URL()}, []daemon.Connector{discordConnector(cl)})
	testsync.Eventually(t, "ready", func() bool { return ready(t, w.in).code == http.StatusOK })
	return w
}

// holdLock holds member's lock on the world's Redis, as another instance's
// ban of them would (renewed while held), until unlock.
func (w *discordWorld) holdLock(t *testing.T, member string) (unlock func()) {
	t.Helper()
	var ml store.MemberLocker = redistest.Open(t, w.srv.URL())
	unlock, err := ml.LockMember(context.Background(), store.BanKey(bot.Event{Platform: "discord", Space: w.guild, Author: bot.Author{ID: member}}), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return unlock
}
