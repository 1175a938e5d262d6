package meta_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/bot/stepclock"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// sharedDesk is two instances of the connector on one Redis, calling one
// Graph API on one clock, whose desk alerts land in one list.
type sharedDesk struct {
	raw   *goredis.Client
	clock *stepclock.Clock
	logs  []*testsync.Buffer
	alertList
}

// startSharedDesk starts the two instances, checking the page token (and
// with it the Page's subscription) every 20 ms of the wall clock.
func startSharedDesk(t *testing.T, g *fakeGraph) *sharedDesk {
	srv := redistest.Start(t)
	prefix := redistest.Prefix("told-once")
	d := &sharedDesk{raw: redistest.Client(t, srv.URL()), clock: stepclock.New(fixedNow), logs: make([]*testsync.Buffer, 2)}
	for i := range d.logs {
		d.logs[i] = &testsync.Buffer{}
		_, stop := d.start(t, g, srv.URL(), prefix, strconv.Itoa(i), d.logs[i])
		t.Cleanup(stop)
	}
	return d
}

// start starts an instance on the Redis at url (under prefix, as
// consumer), logging to log, and returns it and what stops it.
func (d *sharedDesk) start(t *testing.T, g *fakeGraph, url, prefix, consumer string, log *testsync.Buffer) (c *meta.Connector, stop func()) {
	st := redistest.Open(t, url, redis.WithPrefix(prefix), redis.WithConsumer(consumer))
	c = meta.New(meta.Config{AppSecret: appSecret, VerifyToken: verifyToken, PageToken: g.token, GraphURL: g.URL(), PageID: pageID,
		TokenCheckEvery: 20 * time.Millisecond, Answers: st, Now: d.clock.Now, Logger: testsync.Logger(log)})
	c.AlertWith(d.alert)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, make(chan bot.Event, 100)) }()
	var once sync.Once
	return c, func() { once.Do(func() { cancel(); <-done }) }
}

// logged counts the instances' log lines holding part.
func (d *sharedDesk) logged(part string) int {
	n := 0
	for _, l := range d.logs {
		n += strings.Count(l.String(), part)
	}
	return n
}

// change makes a change (do) while Redis holds every write (CLIENT
// PAUSE WRITE, reads go on), and lets the writes go once both instances
// wait on one, having each found it and asked the store whether to tell
// it: a race as close as two instances can run. Without a write asked, it
// lets them go once both found it: told by tellers, or logged as told by
// another (other). Then it wants the change told once, want times in all
// since the test's start.
func (d *sharedDesk) change(t *testing.T, what string, do func(), tellers func() int, other string, want int) {
	t.Helper()
	ctx := context.Background()
	found := func() bool { return tellers()+d.logged(other) >= want*2 }
	// Under go-redis's read timeout (3 s), or the writes held would fail.
	if err := d.raw.Do(ctx, "client", "pause", "2500", "write").Err(); err != nil {
		t.Fatal(err)
	}
	do()
	testsync.Eventually(t, "both instances at the store, or done", func() bool {
		return blockedClients(t, d.raw) >= 2 || found()
	})
	if err := d.raw.Do(ctx, "client", "unpause").Err(); err != nil {
		t.Fatal(err)
	}
	testsync.Eventually(t, "both instances finding "+what, found)
	if n := tellers(); n != want {
		t.Fatalf("%s: told by %d instances in all, want %d: logs:\n%s\n%s", what, n, want, d.logs[0], d.logs[1])
	}
}

// blockedClients is Redis's count of the clients whose command waits.
func blockedClients(t *testing.T, raw *goredis.Client) int {
	t.Helper()
	info, err := raw.Info(context.Background(), "clients").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "blocked_clients:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// TestPageUnsubscribedToldOnceInARace: two instances on one Redis find the
// Page unsubscribed at the same moment, each asking the store whether
// another told the desk before either answer comes. The desk hears of the
// loss once, of the return once, and of a second loss within the hour
// once.
func TestPageUnsubscribedToldOnceInARace(t *testing.T) {
	g := newFakeGraph(t)
	d := startSharedDesk(t, g)
	testsync.Eventually(t, "both instances' first reads", func() bool { return g.subscriptionChecks() >= 2 })

	const (
		lostTold  = "Meta sends vigie no webhook for the Page"
		lostOther = "the Page is not subscribed to vigie's app: another instance told the desk"
		backTold  = "the Page is subscribed to vigie's app again: Meta sends its webhooks"
		backOther = "the Page is subscribed to vigie's app again: another instance told the desk"
	)
	for _, c := range []struct {
		what         string
		unsubscribed bool
		told, other  string
		alert        string
		want         int
	}{
		{"the loss", true, lostTold, lostOther, "not subscribed to the Page", 1},
		{"the return", false, backTold, backOther, "subscribed to the Page again", 1},
		{"the second loss", true, lostTold, lostOther, "not subscribed to the Page", 2},
	} {
		d.change(t, c.what, func() { g.unsubscribe(c.unsubscribed) }, func() int { return d.logged(c.told) }, c.other, c.want)
		testsync.Eventually(t, "the desk told", func() bool { return d.told(c.alert) >= c.want })
	}
	if n, m := d.told("not subscribed to the Page"), d.told("subscribed to the Page again"); n != 2 || m != 1 {
		t.Errorf("the desk was told %d losses and %d returns, want 2 and 1", n, m)
	}
}

// TestPageTokenToldOnceInARace: two instances on one Redis find at the same
// moment that Meta refuses the page token (their periodic checks), then,
// the token taken again for 10 minutes of their clock, that the trouble is
// over, then that it is refused again. The desk hears of each once.
func TestPageTokenToldOnceInARace(t *testing.T) {
	g := newFakeGraph(t)
	d := startSharedDesk(t, g)
	testsync.Eventually(t, "both instances' first checks", func() bool { return g.subscriptionChecks() >= 2 })

	const (
		refused      = "Meta refuses vigie's page token"
		refusedOther = "Meta refuses the page token: another instance told the desk"
		taken        = "Meta takes vigie's page token again"
		takenOther   = "Meta takes the page token again: another instance told the desk"
	)
	told := func(alert string) func() int { return func() int { return d.told(alert) } }
	d.change(t, "the token refused", func() { g.expire(true) }, told(refused), refusedOther, 1)

	g.expire(false)
	testsync.Eventually(t, "both instances finding the token taken", func() bool {
		return d.logged("Meta takes the page token again: the desk is told once") >= 2
	})
	d.change(t, "the trouble over", func() { d.clock.Step(11 * time.Minute) }, told(taken), takenOther, 1)

	d.change(t, "the token refused again", func() { g.expire(true) }, told(refused), refusedOther, 2)
}
