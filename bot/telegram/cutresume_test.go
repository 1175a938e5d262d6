package telegram

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestWebhookRetryOfACutJoinHandsOverItsRest: a join gives two events, the
// join and the member's names (profile). Telegram gives up on the delivery
// while the join is queued, unjudged, and the profile not handed over yet
// (the queue full, a raid); the retry, in the same process, hands the
// profile over and is answered 200 only once both are judged. Before, the
// retry made the update's events anew, and this process, having seen the
// join, made none: it was answered 200 at once, the join still unjudged in
// a queue and the profile never judged.
func TestWebhookRetryOfACutJoinHandsOverItsRest(t *testing.T) {
	out := make(chan bot.Event) // a full queue: nothing is taken until read
	c, post := webhookReady(t, out)
	join := joins(carol, t0)
	join["update_id"] = 2
	rctx, giveUp := context.WithCancel(context.Background())
	first := posting(rctx, post, join)
	joined := testsync.Next(t, out)
	if joined.Kind != bot.KindJoin {
		t.Fatalf("first event %s, want the join", joined.Kind)
	}
	// The profile waits for room in the queue; the retry comes, and
	// Telegram gives up on the first delivery.
	retry := posting(context.Background(), post, join)
	time.Sleep(50 * time.Millisecond) // a chance for the retry to reach its wait
	giveUp()
	if code := <-first; code == http.StatusOK {
		t.Fatalf("the delivery given up on was answered %d", code)
	}
	var profile bot.Event
	select {
	case profile = <-out:
	case code := <-retry:
		t.Fatalf("the retry answered %d with the join unjudged and the profile not handed over", code)
	case <-time.After(testsync.Patience):
		t.Fatal("the retry did not hand the profile over")
	}
	if profile.Kind != bot.KindProfile {
		t.Fatalf("the retry handed over %s %s, want the profile", profile.Kind, profile.Key())
	}
	c.Judged(&profile)
	select {
	case code := <-retry:
		t.Fatalf("the retry answered %d before the join was judged", code)
	case <-time.After(100 * time.Millisecond):
	}
	c.Judged(&joined)
	answeredOK(t, retry, "the retry, once the join and the profile were judged,")
	select {
	case ev := <-out:
		t.Errorf("%s handed over again", ev.Key())
	default:
	}
}

// samePoller runs the pollers of one process (one client) one after the
// other on one Redis inbox, each under a lease of its own: the job lost and
// taken again.
type samePoller struct {
	t  *testing.T
	f  *fakeBotAPI
	st *redis.Store
	c  *Client
	n  int
}

func newSamePoller(t *testing.T) *samePoller {
	st := redistest.Open(t, redistest.URL(t), redis.WithPrefix(redistest.Prefix("vigietest-tgcut")))
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{PollTimeout: time.Second, Chats: fixtureChats, ReportsJudged: true, DrainTimeout: time.Millisecond})
	knowAdmins(t, c, group.id)
	return &samePoller{t: t, f: f, st: st, c: c}
}

// run starts a poller handing over to out, and returns what stops it and
// gives its lease up.
func (p *samePoller) run(out chan bot.Event) (stop func()) {
	t := p.t
	p.n++
	l, ok, err := p.st.AcquireLease(context.Background(), inboxJob, fmt.Sprint("lease-", p.n), time.Minute)
	if !ok || err != nil {
		t.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	stopPoller := runPoller(t, p.c, out, redisInbox{st: p.st, l: l})
	var once sync.Once
	stop = func() {
		once.Do(func() {
			stopPoller()
			if err := p.st.ReleaseLease(context.Background(), l); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// ids are the updates in the inbox.
func (p *samePoller) ids() string {
	items, err := p.st.InboxItems(context.Background(), inboxJob)
	if err != nil {
		p.t.Fatal(err)
	}
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	return fmt.Sprint(ids)
}

// cutJoin has a first poller take a join, hand over its first event (the
// join) and stop, the profile not handed over; it returns the join.
func (p *samePoller) cutJoin(id int) bot.Event {
	t := p.t
	join := joins(carol, t0)
	join["update_id"] = id
	p.f.push(join)
	out := make(chan bot.Event) // judging held: one event taken, no more
	stop := p.run(out)
	joined := testsync.Next(t, out)
	if joined.Kind != bot.KindJoin {
		t.Fatalf("first event %s, want the join", joined.Kind)
	}
	stop()
	if got := p.ids(); got != fmt.Sprintf("[%d]", id) {
		t.Fatalf("inbox %s after the poller stopped, want the join's update", got)
	}
	return joined
}

// TestPollerRetakingACutJoinHandsOverItsRest: a poller stops (its lease
// lost) with a join's event handed over, unjudged, and its profile not; the
// next poller of the same process (the lease taken again) hands the
// profile on, and the update leaves the inbox once both are judged.
// Before, the next poller found the update seen already and took it as
// finished: removed from the inbox, the join unjudged and the profile never
// judged.
func TestPollerRetakingACutJoinHandsOverItsRest(t *testing.T) {
	p := newSamePoller(t)
	joined := p.cutJoin(2000)
	out := make(chan bot.Event, 8)
	p.run(out)
	var profile bot.Event
	select {
	case profile = <-out:
	case <-time.After(testsync.Patience):
		t.Fatalf("the next poller did not hand the profile on; inbox %s", p.ids())
	}
	if profile.Kind != bot.KindProfile {
		t.Fatalf("the next poller handed over %s %s, want the profile", profile.Kind, profile.Key())
	}
	p.c.Judged(&profile)
	time.Sleep(50 * time.Millisecond) // a chance for a wrong removal
	if got := p.ids(); got != "[2000]" {
		t.Fatalf("inbox %s with the join not judged yet, want the update still there", got)
	}
	p.c.Judged(&joined)
	testsync.Eventually(t, "the update out of the inbox once all is judged", func() bool { return p.ids() == "[]" })
}

// TestPollerRetakingLetsGoACutPoisonUpdate: an update cut short in this
// process, and handed on twice already, is let go by the next poller of
// the same process, as one left by another process is: removed from the
// inbox once what was handed over of it is judged, not handed on.
func TestPollerRetakingLetsGoACutPoisonUpdate(t *testing.T) {
	p := newSamePoller(t)
	joined := p.cutJoin(3000)
	// The first hand-on uses up the release the poller's clean stop left;
	// the next ones count.
	for range MaxHandOns + 1 {
		if err := p.st.HandingOn(context.Background(), inboxJob, []int64{3000}, time.Unix(t0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	out := make(chan bot.Event, 8)
	p.run(out)
	p.f.push(map[string]any{"update_id": 3001, "message": message(group, 31, bob, t0, "after")})
	if ev := testsync.Next(t, out); ev.Text != "after" {
		t.Fatalf("the next poller handed over %s %q; want the update after, the poison one let go", ev.Key(), ev.Text)
	}
	p.c.Judged(&joined)
	testsync.Eventually(t, "the poison update out of the inbox", func() bool { return !strings.Contains(p.ids(), "3000") })
}

// TestWebhookUpdateTakenOverIsSeen: a message from a member under new names
// gives their profile, then the message. Cut with the profile queued and the
// message not, the update is taken over by the retry, which hands the
// message over; posted once more after, it is known as seen and not handed
// over again. Before, the retry that took it over did not note it as seen,
// and the next post queued the message a second time.
func TestWebhookUpdateTakenOverIsSeen(t *testing.T) {
	out := make(chan bot.Event) // a full queue: nothing is taken until read
	c, post := webhookReady(t, out)
	renamed := bob
	renamed.first = "Support"
	upd := map[string]any{"update_id": 2, "message": message(group, 2, renamed, t0, "hello")}
	rctx, giveUp := context.WithCancel(context.Background())
	first := posting(rctx, post, upd)
	profile := testsync.Next(t, out)
	if profile.Kind != bot.KindProfile {
		t.Fatalf("first event %s, want the profile", profile.Kind)
	}
	retry := posting(context.Background(), post, upd)
	time.Sleep(50 * time.Millisecond) // a chance for the retry to reach its wait
	giveUp()
	<-first
	msg := testsync.Next(t, out)
	if msg.Kind != bot.KindMessage {
		t.Fatalf("the retry handed over %s, want the message", msg.Kind)
	}
	c.Judged(&profile)
	c.Judged(&msg)
	if code := <-retry; code != http.StatusOK {
		t.Fatalf("the retry answered %d once all was judged", code)
	}
	again := posting(context.Background(), post, upd)
	select {
	case ev := <-out:
		t.Fatalf("%s handed over again", ev.Key())
	case code := <-again:
		if code != http.StatusOK {
			t.Errorf("posted again, answered %d, want 200", code)
		}
	case <-time.After(testsync.Patience):
		t.Fatal("posted again, not answered")
	}
}

// TestPollerDrainRemovalFailureIsLogged: the updates judged after the poller
// stopped (the drain) whose removal from the inbox fails (the store does
// not answer) are said in the log, once until a removal works again. Before,
// the failure was silent: the updates stayed in the inbox for a next
// poller, which the log did not tell.
func TestPollerDrainRemovalFailureIsLogged(t *testing.T) {
	c, logs, inbox, evs := drained(t, 3)
	inbox.setDown(true)
	for i := range evs {
		c.Judged(&evs[i])
	}
	if got := inbox.ids(); got != "[4000 4001 4002]" {
		t.Fatalf("inbox %s, want the updates whose removal failed", got)
	}
	if !strings.Contains(logs.String(), "not removed from the poller's inbox") {
		t.Errorf("the failed removal is not in the log:\n%s", logs)
	}
}

// TestCutShortUpdatesRememberedWithinTheBound: updates cut short with an
// event handed over, unjudged, are remembered for their rest at most
// maxParked of them once those events are judged, however many were cut
// before any was judged.
func TestCutShortUpdatesRememberedWithinTheBound(t *testing.T) {
	j := newJudging(testsync.Logger(&testsync.Buffer{}))
	var sent []bot.Event
	for id := 1; id <= maxParked+10; id++ {
		j.take(id, nil, false, true)
		evs := []bot.Event{
			{ID: fmt.Sprintf("1:join:%d", id), Platform: Platform},
			{ID: fmt.Sprintf("1:profile:%d", id), Platform: Platform},
		}
		j.expect(id, evs)
		sent = append(sent, evs[0])
		j.cut(id, evs[1:]) // the join handed over, the profile not
	}
	for _, ev := range sent {
		j.judged(ev.Key())
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.open) > maxParked || j.parked > maxParked {
		t.Errorf("%d updates open, %d parked; want %d at most", len(j.open), j.parked, maxParked)
	}
	if j.parked != len(j.open) {
		t.Errorf("%d parked of %d open, want all", j.parked, len(j.open))
	}
}
