package failover_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

const failoverRules = `
counters:
  msgs: {key: author.id, window: 10s}
rules:
  - name: scam
    category: spam
    when: text contains "scam.example"
    do: ['forward("scam link")']
`

// TestSentinelFailover moderates through the store as vigie run does with
// --redis redis+sentinel://… (auto-pipelined, behind the fallback), while the
// master is killed (SIGKILL) and a sentinel promotes its replica: no event
// fails, the events of the failover are counted in memory and their cases
// kept until Redis answers again, and every case, opened before, during and
// after, is in Redis afterwards, read by another process.
func TestSentinelFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a master, a replica and three sentinels")
	}
	if redistest.Find("redis-server") == "" && os.Getenv(redistest.EnvURL) == "" {
		t.Skip("redis-server is not installed and " + redistest.EnvURL + " is not set: no Redis to test against " +
			"(make test installs Debian's redis-server, or apt-get install redis-server)")
	}
	s := redistest.StartSentinel(t)
	// A dead master refuses connections at once on loopback; go-redis asks the
	// sentinels for the master again on each new connection.
	url := s.URL() + "&dial_timeout=500ms&max_retries=1"
	prefix := redistest.Prefix("vigietest-failover")
	primary, err := redis.Open(url, redis.WithPrefix(prefix), redis.WithAutoPipeline())
	if err != nil {
		t.Fatal(err)
	}
	logs := &buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	st := redis.NewFallback(primary, redis.FallbackOptions{Logger: log, RetryEvery: 50 * time.Millisecond})
	t.Cleanup(func() { st.Close() })
	rs, err := rules.Parse("rules.yaml", []byte(failoverRules), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	engine := rules.NewEngine(rs, st, rules.Options{})
	mod, err := handlers.New(handlers.Options{Store: st, Logger: log})
	if err != nil {
		t.Fatal(err)
	}

	// One event every few milliseconds, each a scam link from an author and
	// in a channel of its own: a case each, grouped with none. While Redis is
	// away, maxAway events show the store moderating from memory; then the
	// stream waits for Redis. A failover takes the sentinels seconds, tens of
	// them on a loaded machine: events sent all along would outgrow the
	// buffer the store keeps its cases in (MaxCases, 1,000), and the cases
	// past it are dropped, as designed (TestFallbackDrops in store/redis).
	const maxAway = 300
	var (
		mu       sync.Mutex
		sent     []string
		away     int  // events handled while Redis was away
		degraded bool // an event was handled while Redis was away
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	ctx := context.Background()
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ev := bot.Event{ID: fmt.Sprint("m-", i), Platform: "discord", Kind: bot.KindMessage, Space: "guild-1", Channel: fmt.Sprint("ch-", i),
				Author: bot.Author{ID: fmt.Sprint("u-", i), Name: "Eve"}, Text: "free nitro on https://scam.example/gift",
				At: t0.Add(time.Duration(i) * time.Second)}
			v, err := engine.Evaluate(ctx, ev)
			if err != nil {
				t.Errorf("evaluate %s: %v", ev.ID, err)
				return
			}
			if len(v.Matches) != 1 {
				t.Errorf("verdict of %s: %+v, want the scam rule", ev.ID, v)
				return
			}
			if err := mod.Handle(ctx, ev, v); err != nil {
				t.Errorf("handle %s: %v", ev.ID, err)
				return
			}
			mu.Lock()
			sent = append(sent, ev.ID)
			if st.Degraded() {
				degraded = true
				away++
			}
			full := away >= maxAway
			mu.Unlock()
			for pause := 5 * time.Millisecond; ; pause = 10 * time.Millisecond {
				select {
				case <-stop:
					return
				case <-time.After(pause):
				}
				if !full || !st.Degraded() {
					break
				}
			}
		}
	})
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(sent)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	eventually(t, "cases before the failover", func() bool { return count() >= 20 })
	s.Master.Stop() // SIGKILL
	eventually(t, "the replica promoted", func() bool {
		addr, err := s.MasterAddr(ctx)
		return err == nil && addr == s.Replica.Addr()
	})
	eventually(t, "the store back on Redis, nothing waiting", func() bool { return !st.Degraded() && st.Buffered() == 0 })
	after := count() + 20
	eventually(t, "cases after the failover", func() bool { return count() >= after })
	close(stop)
	wg.Wait()
	eventually(t, "the last cases written", func() bool { return !st.Degraded() && st.Buffered() == 0 })

	mu.Lock()
	wasDegraded := degraded
	events := append([]string(nil), sent...)
	mu.Unlock()
	if !wasDegraded {
		t.Errorf("no event was handled while Redis was away: the failover was not under load")
	}
	if st.Dropped() != 0 {
		t.Errorf("%d cases or audit entries dropped", st.Dropped())
	}
	// What Redis holds after the failover, read by another process.
	other := redistest.Open(t, s.URL(), redis.WithPrefix(prefix), redis.WithConsumer("other"))
	open, err := other.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	byEvent := map[string]int{}
	for _, c := range open {
		byEvent[c.Event.ID]++
	}
	var lost, twice []string
	for _, id := range events {
		switch byEvent[id] {
		case 0:
			lost = append(lost, id)
		case 1:
		default:
			twice = append(twice, id)
		}
	}
	if len(lost) > 0 || len(twice) > 0 {
		t.Errorf("of %d events, cases lost: %v; cases twice: %v", len(events), lost, twice)
	}
	if len(open) != len(events) {
		t.Errorf("%d open cases in Redis for %d events", len(open), len(events))
	}
	if !strings.Contains(logs.String(), "redis unreachable") {
		t.Errorf("the switch to memory was not logged")
	}
	t.Logf("%d events, %d cases in Redis after the failover", len(events), len(open))
}

// eventually polls cond for up to two minutes: a failover takes seconds,
// tens of them on a busy machine (a failed election is tried again after the
// sentinels' failover-timeout).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	redistest.Eventually(t, 2*time.Minute, what, cond)
}

// buffer is a log that the store's goroutines write while the test reads it.
type buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
