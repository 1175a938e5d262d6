package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// sharedInbox is the store's inbox as two pollers see it, one after the
// other: the offset and the updates kept with it, written together, or not
// at all while down (the store does not answer).
type sharedInbox struct {
	mu     sync.Mutex
	offset int
	kept   map[int]json.RawMessage
	down   bool
	// leftDown fails Left; asked counts the calls.
	leftDown bool
	asked    int
	// removals counts the calls to Finished.
	removals int
}

func (s *sharedInbox) Offset(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offset, nil
}

func (s *sharedInbox) Commit(_ context.Context, n int) error {
	return errors.New("a poller with an inbox keeps its updates with its offset")
}

func (s *sharedInbox) Keep(_ context.Context, n int, taken []Taken) (bool, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return false, 0, nil
	}
	s.offset = max(s.offset, n)
	for _, t := range taken {
		s.kept[t.ID] = t.Raw
	}
	return true, 0, nil
}

func (s *sharedInbox) Left(context.Context) ([]Taken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked++
	if s.leftDown {
		return nil, errors.New("the store does not answer")
	}
	var out []Taken
	for _, id := range slices.Sorted(maps.Keys(s.kept)) {
		out = append(out, Taken{ID: id, Raw: s.kept[id]})
	}
	return out, nil
}

func (s *sharedInbox) Finished(_ context.Context, ids []int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removals++
	if s.down {
		return errors.New("the store does not answer")
	}
	for _, id := range ids {
		delete(s.kept, id)
	}
	return nil
}

func (s *sharedInbox) HandingOn(context.Context, []int, time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errors.New("the store does not answer")
	}
	return nil
}

func (s *sharedInbox) Released(context.Context, []int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errors.New("the store does not answer")
	}
	return nil
}

var _ Inbox = (*sharedInbox)(nil)

// ids are the updates kept.
func (s *sharedInbox) ids() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(slices.Sorted(maps.Keys(s.kept)))
}

// newSharedInbox is an empty inbox whose next update is offset.
func newSharedInbox(offset int) *sharedInbox {
	return &sharedInbox{offset: offset, kept: map[int]json.RawMessage{}}
}

// setDown has the store not answer, or answer again.
func (s *sharedInbox) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// drained has a poller take n updates (messages from offset 4000) into an
// inbox, hand their events over and stop before any is judged: what a
// SIGTERM's drain judges. It returns the poller's client, its log, the
// inbox and the events.
func drained(t *testing.T, n int) (*Client, *testsync.Buffer, *sharedInbox, []bot.Event) {
	t.Helper()
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{PollTimeout: time.Second, Chats: fixtureChats, ReportsJudged: true})
	knowAdmins(t, c, group.id)
	inbox := newSharedInbox(4000)
	for i := range n {
		f.push(map[string]any{"update_id": 4000 + i, "message": message(group, 40+i, bob, t0, "queued")})
	}
	out := make(chan bot.Event, n)
	stop := runPoller(t, c, out, inbox)
	var evs []bot.Event
	for range n {
		evs = append(evs, testsync.Next(t, out))
	}
	stop()
	return c, logs, inbox, evs
}

// TestPollerInboxHandsOnWhatWasNotJudged: a poller whose updates are taken
// from it but not judged (its context cut in the middle of a batch, as a
// kill would, with the first event handed over and still in a queue) leaves
// them in the inbox; the next poller hands them on before anything new,
// and an update leaves the inbox once its events are judged, whichever
// poller handed them over.
func TestPollerInboxHandsOnWhatWasNotJudged(t *testing.T) {
	f := newFakeBotAPI(t)
	cfg := Config{PollTimeout: time.Second, Chats: fixtureChats, ReportsJudged: true, DrainTimeout: time.Millisecond}
	a, _ := newTestClient(t, f, cfg)
	knowAdmins(t, a, group.id)
	inbox := newSharedInbox(2000)
	for i := range 3 {
		f.push(map[string]any{"update_id": 2000 + i, "message": message(group, 10+i, bob, t0, fmt.Sprint("raid ", i))})
	}
	out := make(chan bot.Event) // judging held: one event taken, no more
	stop := runPoller(t, a, out, inbox)
	first := testsync.Next(t, out)
	if first.Text != "raid 0" {
		t.Fatalf("first event %q", first.Text)
	}
	stop()
	if got := inbox.ids(); got != "[2000 2001 2002]" {
		t.Fatalf("inbox %s after the poller stopped with nothing judged, want the batch", got)
	}

	b, logs := newTestClient(t, f, cfg)
	knowAdmins(t, b, group.id)
	f.push(map[string]any{"update_id": 2003, "message": message(group, 13, bob, t0, "after")})
	out2 := make(chan bot.Event, 8)
	runPoller(t, b, out2, inbox)
	// Each judged as it comes, as the daemon does: the poller hands on the
	// next update left once the last one's events are judged.
	var texts []string
	for i := range 4 {
		ev := testsync.Next(t, out2)
		texts = append(texts, ev.Text)
		if i == 0 {
			// The first poller's event judged late, once it stopped:
			// removed too.
			a.Judged(&first)
			testsync.Eventually(t, "update 2000 out of the inbox", func() bool { return !strings.Contains(inbox.ids(), "2000") })
		}
		b.Judged(&ev)
	}
	if got := strings.Join(texts, ", "); got != "raid 0, raid 1, raid 2, after" {
		t.Errorf("the second poller handed over %s; want what the first left, first", got)
	}
	if !strings.Contains(logs.String(), "handing on the updates a poller before took") {
		t.Errorf("the hand-over is not logged:\n%s", logs.String())
	}
	testsync.Eventually(t, "the inbox emptied once all is judged", func() bool { return inbox.ids() == "[]" })
}

// TestPollerInboxWhileTheStoreIsDown: updates taken while the store does
// not answer are kept with the next batch written once it answers, unless
// judged by then; an update judged while it does not answer is removed from
// the inbox with the next ones, once it answers again.
func TestPollerInboxWhileTheStoreIsDown(t *testing.T) {
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{PollTimeout: time.Second, Chats: fixtureChats, ReportsJudged: true})
	knowAdmins(t, c, group.id)
	inbox := newSharedInbox(1)
	inbox.setDown(true)
	out := make(chan bot.Event, 8)
	runPoller(t, c, out, inbox)
	f.push(map[string]any{"update_id": 1, "message": message(group, 1, bob, t0, "judged during the outage")})
	f.push(map[string]any{"update_id": 2, "message": message(group, 2, bob, t0, "not judged yet")})
	one, two := testsync.Next(t, out), testsync.Next(t, out)
	c.Judged(&one)
	inbox.setDown(false)
	f.push(map[string]any{"update_id": 3, "message": message(group, 3, bob, t0, "after")})
	three := testsync.Next(t, out)
	if got := inbox.ids(); got != "[2 3]" {
		t.Errorf("inbox %s once the store answers, want the update not judged and the new one", got)
	}
	inbox.setDown(true)
	c.Judged(&two)
	testsync.Eventually(t, "the removal tried", func() bool { return strings.Contains(logs.String(), "not removed from the poller's inbox") })
	inbox.setDown(false)
	c.Judged(&three)
	testsync.Eventually(t, "the inbox emptied once all is judged", func() bool { return inbox.ids() == "[]" })
}

// TestWebhookAnswersOnceJudged: in webhook mode an update is answered 200
// only once its events are judged, so that Telegram sends it again when
// vigie dies with it in a queue.
func TestWebhookAnswersOnceJudged(t *testing.T) {
	out := make(chan bot.Event, 4)
	c, post := webhookReady(t, out)
	answered := posting(context.Background(), post, textUpdate(2, "spam"))
	ev := testsync.Next(t, out)
	select {
	case code := <-answered:
		t.Fatalf("answered %d before the event was judged", code)
	default:
	}
	c.Judged(&ev)
	answeredOK(t, answered, "the update, once judged,")
}

// TestPollerInboxUnreadAtStart: what a poller before left, not read at the
// start (the store did not answer), is asked again once a batch is kept
// (the store answers), and handed on before that batch.
func TestPollerInboxUnreadAtStart(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{PollTimeout: time.Second, Chats: fixtureChats, ReportsJudged: true})
	knowAdmins(t, c, group.id)
	left, _ := json.Marshal(map[string]any{"update_id": 5, "message": message(group, 5, bob, t0, "left by a poller killed")})
	inbox := &sharedInbox{offset: 6, kept: map[int]json.RawMessage{5: left}, leftDown: true}
	out := make(chan bot.Event, 8)
	runPoller(t, c, out, inbox)
	testsync.Eventually(t, "the inbox asked at the start", func() bool {
		inbox.mu.Lock()
		defer inbox.mu.Unlock()
		return inbox.asked == 1
	})
	inbox.mu.Lock()
	inbox.leftDown = false
	inbox.mu.Unlock()
	f.push(map[string]any{"update_id": 6, "message": message(group, 6, bob, t0, "new")})
	a := testsync.Next(t, out)
	c.Judged(&a) // as the daemon does: the next is handed over after
	if b := testsync.Next(t, out); a.Text != "left by a poller killed" || b.Text != "new" {
		t.Errorf("events %q, %q; want what was left, then the new one", a.Text, b.Text)
	}
}

// TestWebhookRetryWaitsForTheFirstDelivery: Telegram gives up on a
// delivery whose events wait in a stalled queue (its request cut) and posts
// the update again. The update, handed over already, is not handed over a
// second time, to wait behind the first in the same stalled queue: the
// retry waits for the first delivery's events to be judged, and is
// answered 200 then. Before, each retry queued the update's events again,
// and a retry that came while the first request was still open was
// answered 200 at once, unjudged.
func TestWebhookRetryWaitsForTheFirstDelivery(t *testing.T) {
	out := make(chan bot.Event, 4)
	c, post := webhookReady(t, out)
	// The first delivery: its event queued, not judged; Telegram gives up.
	rctx, giveUp := context.WithCancel(context.Background())
	first := posting(rctx, post, textUpdate(2, "spam"))
	ev := testsync.Next(t, out)
	giveUp()
	if code := <-first; code == http.StatusOK {
		t.Fatalf("the delivery given up on was answered %d", code)
	}
	// The retry.
	retry := posting(context.Background(), post, textUpdate(2, "spam"))
	select {
	case again := <-out:
		t.Fatalf("the update handed over again (%s) while its first delivery waits to be judged", again.Key())
	case code := <-retry:
		t.Fatalf("the retry answered %d before the event was judged", code)
	case <-time.After(200 * time.Millisecond):
	}
	c.Judged(&ev)
	answeredOK(t, retry, "the retry, once the event was judged,")
	if len(out) != 0 {
		t.Errorf("%d events handed over again", len(out))
	}
}

// TestWebhookRetryTakesOverACutDelivery: the retry of a delivery still
// being handed over (the queue full) waits for it; when Telegram gives up
// on the first before its events were all queued, the retry hands the
// update over itself, and is answered 200 once judged. Before, the retry
// waited for the first delivery's events, which were never all queued,
// until Telegram gave up on it too.
func TestWebhookRetryTakesOverACutDelivery(t *testing.T) {
	out := make(chan bot.Event) // a full queue: nothing is taken until read
	c, post := webhookReady(t, out)
	rctx, giveUp := context.WithCancel(context.Background())
	first := posting(rctx, post, textUpdate(2, "spam"))
	// The first delivery is open once it is blocked on the queue; the
	// retry comes then, and Telegram gives up on the first.
	testsync.Eventually(t, "the first delivery open", func() bool {
		c.judging.mu.Lock()
		defer c.judging.mu.Unlock()
		_, ok := c.judging.open[2]
		return ok
	})
	retry := posting(context.Background(), post, textUpdate(2, "spam"))
	time.Sleep(50 * time.Millisecond) // a chance for the retry to reach its wait
	giveUp()
	if code := <-first; code == http.StatusOK {
		t.Fatalf("the delivery given up on was answered %d", code)
	}
	var ev bot.Event
	select {
	case ev = <-out:
	case code := <-retry:
		t.Fatalf("the retry answered %d, its update not handed over", code)
	case <-time.After(testsync.Patience):
		t.Fatal("the retry did not hand the update over once the first delivery was cut")
	}
	c.Judged(&ev)
	answeredOK(t, retry, "the retry, once the event was judged,")
}
