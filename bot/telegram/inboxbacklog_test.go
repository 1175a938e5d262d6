package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestPollerHandsOnABacklog: a poller killed with a backlog in its inbox
// (2,000 updates, or VIGIE_BACKLOG), and the next one, on a real
// redis-server through the shared pipelines as the daemon opens it, hands
// each on in order, the next once the last is judged, and each judged
// leaves the inbox. It logs what that cost:
// the time from the poller's start to the last update handed over, and per
// update the poller's round trips to Redis, the CPU of this process and of
// redis-server, the scripts Redis ran and the commands it was sent (figures in
// docs/speed.md; the test asserts none of them).
func TestPollerHandsOnABacklog(t *testing.T) {
	n := 2000
	if s := os.Getenv("VIGIE_BACKLOG"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 || n > MaxInbox {
			t.Fatalf("VIGIE_BACKLOG=%q: want 1 to %d", s, MaxInbox)
		}
	}
	prefix := fmt.Sprintf("vigietest-tgbacklog-%d-%d", os.Getpid(), inboxPrefixes.Add(1))
	url := redistest.URL(t)
	st := redistest.Open(t, url, redis.WithPrefix(prefix))
	ctx := context.Background()
	const first = 100_000
	l, ok, err := st.AcquireLease(ctx, inboxJob, "process-1", time.Minute)
	if !ok || err != nil {
		t.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	// The first process kept the backlog, and died with it.
	items := make([]store.InboxItem, n)
	for i := range items {
		raw, err := json.Marshal(map[string]any{"update_id": first + i, "message": message(group, 1000+i, bob, t0, fmt.Sprint("raid ", i))})
		if err != nil {
			t.Fatal(err)
		}
		items[i] = store.InboxItem{ID: int64(first + i), Data: raw, Taken: time.Unix(t0, 0)}
	}
	for i := 0; i < n; i += 500 {
		if ok, _, err := st.AdvanceFencedKeeping(ctx, l, "offset", int64(first+n), items[i:min(i+500, n)], MaxInbox); !ok || err != nil {
			t.Fatalf("AdvanceFencedKeeping = %v, %v", ok, err)
		}
	}
	if err := st.ReleaseLease(ctx, l); err != nil {
		t.Fatal(err)
	}
	l, ok, err = st.AcquireLease(ctx, inboxJob, "process-2", time.Minute)
	if !ok || err != nil {
		t.Fatalf("AcquireLease = %v, %v", ok, err)
	}

	// The next process: its own store, as the daemon opens it.
	own := redistest.Open(t, url, redis.WithPrefix(prefix), redis.WithAutoPipeline())
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{PollTimeout: time.Second, Chats: fixtureChats, ReportsJudged: true, DrainTimeout: time.Millisecond})
	knowAdmins(t, c, group.id)
	c.inboxNow = func() time.Time { return time.Unix(t0, 0).Add(time.Minute) }
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	info := goredis.NewClient(opt)
	defer info.Close()
	before, cpu, trips := commandStats(t, info), redistest.ProcessCPU(), own.RoundTrips()

	out := make(chan bot.Event, 64)
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- c.RunPoller(pctx, out, redisInbox{st: own, l: l}) }()
	for i := range n {
		ev := testsync.Next(t, out)
		if want := fmt.Sprint("raid ", i); ev.Text != want {
			t.Fatalf("handed over %q, want %q\n%s", ev.Text, want, logs)
		}
		// Judged as it comes, as the daemon does: the poller hands on
		// the next update left once the last one's events are judged.
		c.Judged(&ev)
	}
	took, used, trips := time.Since(start), redistest.ProcessCPU()-cpu, own.RoundTrips()-trips
	// Each judged and so out of the inbox (that each hand-on is counted
	// once, as its handling began, is TestPollerInboxBacklogNotReachedIsNotPoison's).
	testsync.Eventually(t, "every update judged out of the inbox", func() bool {
		left, err := st.InboxItems(ctx, inboxJob)
		return err == nil && len(left) == 0
	})
	after := commandStats(t, info)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d updates handed on in %s (%.1f µs an update); per update: %.3f round trips, this process's CPU %.1f µs, redis-server's %.1f µs, %.3f scripts, %.3f commands (the scripts' calls included)",
		n, took.Round(time.Millisecond), float64(took.Microseconds())/float64(n), float64(trips)/float64(n), float64(used.Microseconds())/float64(n),
		float64((after.cpu-before.cpu).Microseconds())/float64(n),
		float64(after.scripts-before.scripts)/float64(n), float64(after.commands-before.commands)/float64(n))
}

// cmdStats is what INFO commandstats counts: the scripts (EVAL and
// EVALSHA), and all commands, the scripts' own calls included.
// cpu is redis-server's (INFO cpu), counted until the last update's
// hand-on is read back.
type cmdStats struct {
	scripts, commands int64
	cpu               time.Duration
}

func commandStats(t *testing.T, c *goredis.Client) cmdStats {
	t.Helper()
	s, err := c.Info(context.Background(), "commandstats", "cpu").Result()
	if err != nil {
		t.Fatal(err)
	}
	var st cmdStats
	for _, line := range strings.Split(s, "\n") {
		if k, v, _ := strings.Cut(strings.TrimSpace(line), ":"); k == "used_cpu_sys" || k == "used_cpu_user" {
			f, _ := strconv.ParseFloat(v, 64)
			st.cpu += time.Duration(f * float64(time.Second))
		}
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		v, _ := strconv.ParseInt(calls, 10, 64)
		switch strings.TrimPrefix(name, "cmdstat_") {
		case "eval", "evalsha":
			st.scripts += v
		case "info":
			continue // this test's own
		}
		st.commands += v
	}
	return st
}
