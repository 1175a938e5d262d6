package telegram

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// redisInbox is the poller's inbox in a real Redis, under a lease of the
// job, as the daemon wires it.
type redisInbox struct {
	st *redis.Store
	l  store.Lease
}

const inboxJob = "telegram"

func (r redisInbox) Offset(ctx context.Context) (int, error) {
	v, err := r.st.Fenced(ctx, inboxJob, "offset")
	return int(v), err
}

func (r redisInbox) Commit(ctx context.Context, n int) error {
	_, err := r.st.AdvanceFenced(ctx, r.l, "offset", int64(n))
	return err
}

func (r redisInbox) Keep(ctx context.Context, n int, taken []Taken) (bool, int, error) {
	items := make([]store.InboxItem, len(taken))
	for i, t := range taken {
		items[i] = store.InboxItem{ID: int64(t.ID), Data: t.Raw, Taken: t.At}
	}
	return r.st.AdvanceFencedKeeping(ctx, r.l, "offset", int64(n), items, MaxInbox)
}

func (r redisInbox) Left(ctx context.Context) ([]Taken, error) {
	items, err := r.st.InboxItems(ctx, inboxJob)
	if err != nil {
		return nil, err
	}
	out := make([]Taken, len(items))
	for i, it := range items {
		out[i] = Taken{ID: int(it.ID), Raw: it.Data, At: it.Taken, HandedOn: it.HandedOn}
	}
	return out, nil
}

func (r redisInbox) Finished(ctx context.Context, ids []int) error {
	n := make([]int64, len(ids))
	for i, id := range ids {
		n[i] = int64(id)
	}
	return r.st.RemoveFromInbox(ctx, inboxJob, n)
}

func (r redisInbox) HandingOn(ctx context.Context, ids []int, now time.Time) error {
	n := make([]int64, len(ids))
	for i, id := range ids {
		n[i] = int64(id)
	}
	return r.st.HandingOn(ctx, inboxJob, n, now)
}

func (r redisInbox) Released(ctx context.Context, ids []int) error {
	n := make([]int64, len(ids))
	for i, id := range ids {
		n[i] = int64(id)
	}
	return r.st.ReleaseInbox(ctx, inboxJob, n)
}

var _ Inbox = redisInbox{}

var inboxPrefixes atomic.Int64

// inboxCount reads vigie_telegram_inbox_updates_total{result}.
func inboxCount(t *testing.T, c *Client, result string) float64 {
	var m dto.Metric
	if err := c.metrics.inbox.WithLabelValues(result).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// pollers runs pollers one after the other on one Redis inbox, each as a
// process of its own (its own client, its own lease).
type pollers struct {
	t      *testing.T
	f      *fakeBotAPI
	url    string
	prefix string
	st     *redis.Store
	cfg    Config
	n      int
	// waits, when set, is each poller's handOnWaits; wait, when set, its
	// handOnWait.
	waits func(id int)
	wait  time.Duration
}

func newPollers(t *testing.T) *pollers {
	prefix := fmt.Sprintf("vigietest-tginbox-%d-%d", os.Getpid(), inboxPrefixes.Add(1))
	url := redistest.URL(t)
	st := redistest.Open(t, url, redis.WithPrefix(prefix))
	return &pollers{t: t, f: newFakeBotAPI(t), url: url, prefix: prefix, st: st,
		cfg: Config{PollTimeout: time.Second, Chats: fixtureChats, ReportsJudged: true, DrainTimeout: time.Millisecond}}
}

// run starts a poller whose inbox clock reads now, and returns its events,
// its logs, the client and what stops it cleanly (a shutdown).
func (p *pollers) run(now time.Time) (<-chan bot.Event, *testsync.Buffer, *Client, func()) {
	out, logs, c, stop, _ := p.runKillable(now)
	return out, logs, c, stop
}

// runKillable is run, and also returns what kills the poller: its
// process's connection to Redis is cut first, so that nothing it would do
// as it stops reaches the inbox, as with a process SIGKILLed.
func (p *pollers) runKillable(now time.Time) (<-chan bot.Event, *testsync.Buffer, *Client, func(), func()) {
	t := p.t
	p.n++
	l, ok, err := p.st.AcquireLease(context.Background(), inboxJob, fmt.Sprint("process-", p.n), time.Minute)
	if !ok || err != nil {
		t.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	// the process's own connection to Redis
	own, err := redis.Open(p.url, redis.WithPrefix(p.prefix))
	if err != nil {
		t.Fatal(err)
	}
	c, logs := newTestClient(t, p.f, p.cfg)
	knowAdmins(t, c, group.id)
	c.inboxNow = func() time.Time { return now }
	c.handOnWaits = p.waits
	if p.wait > 0 {
		c.handOnWait = p.wait
	}
	out := make(chan bot.Event) // judging held: what is taken is never judged
	stop := runPoller(t, c, out, redisInbox{st: own, l: l})
	stopped := false
	end := func() {
		if stopped {
			return
		}
		stopped = true
		stop()
		// the lease runs out, or is given up
		if err := p.st.ReleaseLease(context.Background(), l); err != nil {
			t.Error(err)
		}
		_ = own.Close()
	}
	kill := func() {
		_ = own.Close()
		end()
	}
	t.Cleanup(end)
	return out, logs, c, end, kill
}

func (p *pollers) left() []store.InboxItem {
	items, err := p.st.InboxItems(context.Background(), inboxJob)
	if err != nil {
		p.t.Fatal(err)
	}
	return items
}

// TestPollerInboxLetsGoAPoisonUpdate: an update whose handling never ends
// (a panic takes the process down, each time) stays in the inbox; each
// poller after hands it on, counted in Redis before, twice; the next one
// lets it go, logged as an error and counted, and goes on with what is new.
// Before, every start and takeover handed it on again, for good.
func TestPollerInboxLetsGoAPoisonUpdate(t *testing.T) {
	p := newPollers(t)
	now := time.Unix(t0, 0)
	p.f.push(map[string]any{"update_id": 5000, "message": message(group, 50, bob, t0, "poison")})
	for i := range 1 + MaxHandOns {
		out, _, _, _, kill := p.runKillable(now)
		if ev := testsync.Next(t, out); ev.Text != "poison" {
			t.Fatalf("poller %d handed over %q, want the poison update", i+1, ev.Text)
		}
		kill() // the process dies with it in hand
		left := p.left()
		if len(left) != 1 || left[0].ID != 5000 || left[0].HandedOn != i {
			t.Fatalf("after poller %d: inbox %+v, want update 5000 handed on %d times", i+1, left, i)
		}
		now = now.Add(time.Minute)
	}
	p.f.push(map[string]any{"update_id": 5001, "message": message(group, 51, bob, t0, "after")})
	out, logs, c, _ := p.run(now)
	if ev := testsync.Next(t, out); ev.Text != "after" {
		t.Fatalf("poller %d handed over %q; want the update after, the poison one let go", 2+MaxHandOns, ev.Text)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "handed on 2 times already") {
		t.Errorf("the poison update let go is not logged as an error:\n%s", logs)
	}
	if n := inboxCount(t, c, "poison"); n != 1 {
		t.Errorf(`vigie_telegram_inbox_updates_total{result="poison"} = %v, want 1`, n)
	}
	testsync.Eventually(t, "update 5000 out of the inbox", func() bool {
		for _, it := range p.left() {
			if it.ID == 5000 {
				return false
			}
		}
		return true
	})
}

// TestPollerInboxBacklogNotReachedIsNotPoison: a backlog of updates (a
// raid's) whose handling kills the process each time, at its first update
// (out of memory): each poller after counts a hand-on for that update, in
// hand as it dies, and hands on the next only once its events are judged,
// so that no other is counted. The poller after the last kill lets that one
// go, and hands on all the others. Before, the next update was counted as
// it was handed over, while the first was still being judged (in the
// daemon, while the first waited in its queues, every update handed over
// meanwhile), and after two kills it was let go as poison, never judged.
func TestPollerInboxBacklogNotReachedIsNotPoison(t *testing.T) {
	p := newPollers(t)
	now := time.Unix(t0, 0)
	const first, n = 6000, 20
	for i := range n {
		p.f.push(map[string]any{"update_id": first + i, "message": message(group, 600+i, bob, t0, fmt.Sprint("raid ", i))})
	}
	handedOn := func() map[int64]int {
		m := map[int64]int{}
		for _, it := range p.left() {
			m[it.ID] = it.HandedOn
		}
		return m
	}
	var waiting atomic.Int64
	p.waits = func(id int) { waiting.Store(int64(id)) }
	for i := range 1 + MaxHandOns {
		waiting.Store(0)
		out, logs, _, _, kill := p.runKillable(now)
		if ev := testsync.Next(t, out); ev.Text != "raid 0" {
			t.Fatalf("poller %d handed over %q, want the backlog's first", i+1, ev.Text)
		}
		if i > 0 {
			// the poller goes no further until the first is judged (or, as
			// before, counts the next as it hands it over)
			testsync.Eventually(t, "the poller waiting, or the next update's hand-on counted", func() bool {
				return waiting.Load() == first || handedOn()[first+1] == i
			})
		}
		kill() // the process dies with the first in hand
		got := handedOn()
		if len(got) != n {
			t.Fatalf("after poller %d: %d updates in the inbox, want %d\n%s", i+1, len(got), n, logs)
		}
		for id, h := range got {
			want := 0
			if id == first {
				want = i
			}
			if h != want {
				t.Errorf("after poller %d: update %d handed on %d times, want %d", i+1, id, h, want)
			}
		}
		now = now.Add(time.Minute)
	}
	out, logs, c, _ := p.run(now)
	for i := 1; i < n; i++ {
		ev := testsync.Next(t, out)
		if ev.Text != fmt.Sprint("raid ", i) {
			t.Fatalf("handed over %q after the kills, want %q: the backlog's updates never judged are handed on", ev.Text, fmt.Sprint("raid ", i))
		}
		c.Judged(&ev)
	}
	if n := inboxCount(t, c, "poison"); n != 1 {
		t.Errorf(`vigie_telegram_inbox_updates_total{result="poison"} = %v, want 1 (the update in hand at each kill)`+"\n%s", n, logs)
	}
	testsync.Eventually(t, "the backlog judged, out of the inbox", func() bool { return len(p.left()) == 0 })
}

// TestPollerInboxCleanStopsAreNotPoison: an update still waiting to be
// judged when its poller stops cleanly (a shutdown, its drain cut short)
// is released in the inbox: the next poller hands it on without counting a
// hand-on, however many restarts there are, and it is judged at last. A
// poller killed with it still counts. Before, three clean restarts let it
// go as poison, never judged.
func TestPollerInboxCleanStopsAreNotPoison(t *testing.T) {
	p := newPollers(t)
	now := time.Unix(t0, 0)
	p.f.push(map[string]any{"update_id": 7000, "message": message(group, 70, bob, t0, "queued")})
	for i := range 2 + MaxHandOns {
		out, logs, _, stop := p.run(now)
		if ev := testsync.Next(t, out); ev.Text != "queued" {
			t.Fatalf("poller %d handed over %q, want the update left", i+1, ev.Text)
		}
		stop()
		left := p.left()
		if len(left) != 1 || left[0].ID != 7000 || left[0].HandedOn != 0 {
			t.Fatalf("after clean stop %d: inbox %+v, want update 7000 handed on 0 times after a crash\n%s", i+1, left, logs)
		}
		now = now.Add(time.Minute)
	}
	out, _, _, _, kill := p.runKillable(now)
	testsync.Next(t, out)
	kill()
	out, _, c, _ := p.run(now)
	ev := testsync.Next(t, out)
	if ev.Text != "queued" {
		t.Fatalf("handed over %q after the kill, want the update left", ev.Text)
	}
	if left := p.left(); len(left) != 1 || left[0].HandedOn != 1 {
		t.Errorf("after the kill: inbox %+v, want update 7000 handed on once after a crash", left)
	}
	if n := inboxCount(t, c, "poison"); n != 0 {
		t.Errorf(`vigie_telegram_inbox_updates_total{result="poison"} = %v, want 0`, n)
	}
	c.Judged(&ev)
	testsync.Eventually(t, "update 7000 judged, out of the inbox", func() bool { return len(p.left()) == 0 })
}

// TestPollerInboxLetsGoAnUpdateTooOld: an update left in the inbox longer
// than the store's duplicate check (72 h, counted from when a poller first
// took it, however often the inbox was written since) is let go at its
// hand-on, logged and counted: handed on, it could be judged a second time.
// One younger is handed on.
func TestPollerInboxLetsGoAnUpdateTooOld(t *testing.T) {
	p := newPollers(t)
	t1 := time.Unix(t0, 0)
	p.f.push(map[string]any{"update_id": 6000, "message": message(group, 60, bob, t0, "old")})
	out, _, _, stop := p.run(t1)
	testsync.Next(t, out)
	stop()
	p.f.push(map[string]any{"update_id": 6001, "message": message(group, 61, bob, t0, "younger")})
	// the update handed on stays unjudged: the poller goes on after a
	// moment, as it does after a judge that hangs
	p.wait = time.Millisecond
	out, _, _, stop = p.run(t1.Add(MaxInboxAge - time.Hour))
	p.wait = 0
	if ev := testsync.Next(t, out); ev.Text != "old" {
		t.Fatalf("handed over %q, want the update left, younger than %s", ev.Text, MaxInboxAge)
	}
	testsync.Next(t, out) // 6001, taken now
	stop()
	if left := p.left(); len(left) != 2 {
		t.Fatalf("inbox %+v, want 6000 and 6001", left)
	}

	p.f.push(map[string]any{"update_id": 6002, "message": message(group, 62, bob, t0, "new")})
	out, logs, c, _ := p.run(t1.Add(MaxInboxAge + time.Minute))
	if ev := testsync.Next(t, out); ev.Text != "younger" {
		t.Fatalf("handed over %q; want update 6001, 6000 let go as too old", ev.Text)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "past the store's duplicate check") {
		t.Errorf("the update too old is not logged as an error:\n%s", logs)
	}
	if n := inboxCount(t, c, "expired"); n != 1 {
		t.Errorf(`vigie_telegram_inbox_updates_total{result="expired"} = %v, want 1`, n)
	}
	testsync.Eventually(t, "update 6000 out of the inbox", func() bool {
		for _, it := range p.left() {
			if it.ID == 6000 {
				return false
			}
		}
		return true
	})
}
