package telegram

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestAnotherPollerAllNight: someone leaves another program polling with
// vigie's token (a second vigie on a laptop, a test, another bot) for the
// night. Telegram gives each update to one of the two and ends the other's
// long poll with 409 Conflict, so a share of the messages are never judged.
// One 409 (a restart overlapping) is only logged; the conflicts going on
// past a minute are told to the desk once, and /healthz says it, however
// many come after; once the other stopped and ten minutes went by without
// one, the desk is told once that vigie gets every message again.
func TestAnotherPollerAllNight(t *testing.T) {
	f := newFakeBotAPI(t)
	// The night's clock moves by the poller's waits between polls, and by
	// the test's steps.
	var mu sync.Mutex
	now := time.Unix(t0, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c, logs := newTestClient(t, f, Config{PollTimeout: 2 * time.Second, Chats: fixtureChats, DeskChat: deskChat.id, Now: clock})
	step := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c.pause = func(ctx context.Context, d time.Duration) bool { step(d); return ctx.Err() == nil }
	out := make(chan bot.Event, 10)
	run(t, c, out)
	f.waitFor("getUpdates", 1, nil)

	conflictAlert := func(call apiCall) bool {
		return call.Params.Get("chat_id") == itoa(deskChat.id) && strings.Contains(call.Params.Get("text"), "Another program polls Telegram with vigie's bot token")
	}
	// The other program, polling as any client of the Bot API does.
	stopOther := f.AnotherPoller()

	f.waitFor("sendMessage", 1, conflictAlert)
	if !strings.Contains(logs.String(), "another program polls Telegram with this bot's token") {
		t.Errorf("no error in the log for the other poller:\n%s", logs)
	}
	troubles := strings.Join(c.Troubles(), "\n")
	if !strings.Contains(troubles, "another program polls Telegram with vigie's token") {
		t.Errorf("Troubles = %q, want the other poller", troubles)
	}
	// The conflicts go on: no second alert.
	conflicts := f.Conflicts()
	testsync.Eventually(t, "more conflicts", func() bool { return f.Conflicts() >= conflicts+10 })

	// The other program stops: vigie polls alone again (a message shows
	// it), and one comes ten minutes later.
	stopOther()
	f.push(map[string]any{"message": message(group, 40, bob, t0, "alone again")})
	for ev := testsync.Next(t, out); ev.Text != "alone again"; ev = testsync.Next(t, out) {
	}
	step(conflictQuiet)
	f.push(map[string]any{"message": message(group, 41, bob, t0+600, "the other one is gone")})
	for ev := testsync.Next(t, out); ev.Text != "the other one is gone"; ev = testsync.Next(t, out) {
	}
	back := func(call apiCall) bool {
		return call.Params.Get("chat_id") == itoa(deskChat.id) && strings.Contains(call.Params.Get("text"), "vigie gets every message again")
	}
	f.waitFor("sendMessage", 1, back)
	if tr := c.Troubles(); len(tr) != 0 {
		t.Errorf("Troubles = %q once the other stopped, want none", tr)
	}
	if n := f.Count("sendMessage", conflictAlert); n != 1 {
		t.Errorf("%d alerts of the other poller, want 1", n)
	}
}

// TestOneConflictIsNotTold: a restart's poller overlapping the one before
// ends it once with 409: logged, not told to the desk, not on /healthz.
func TestOneConflictIsNotTold(t *testing.T) {
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{PollTimeout: 2 * time.Second, Chats: fixtureChats, DeskChat: deskChat.id})
	f.fail("getUpdates", http.StatusConflict, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running", 0)
	out := make(chan bot.Event, 10)
	run(t, c, out)
	testsync.Eventually(t, "the 409 logged", func() bool { return strings.Contains(logs.String(), "another getUpdates took this bot's updates") })
	f.push(map[string]any{"message": message(group, 40, bob, t0, "after the restart")})
	for ev := testsync.Next(t, out); ev.Text != "after the restart"; ev = testsync.Next(t, out) {
	}
	if n := f.Count("sendMessage", nil); n != 0 {
		t.Errorf("%d messages sent for one conflict, want none", n)
	}
	if tr := c.Troubles(); len(tr) != 0 {
		t.Errorf("Troubles = %q after one conflict, want none", tr)
	}
}

// TestWebhookSetOverThePoller: in the night another program sets a webhook
// with vigie's token (a vigie in webhook mode meant for another bot, a
// test): Telegram ends vigie's long poll and sends the updates there. The
// run ends, and its restart removes the webhook and polls again, as before;
// the desk is now told, once for the conflicts of ten minutes, since the
// messages sent to the webhook meanwhile were not judged.
func TestWebhookSetOverThePoller(t *testing.T) {
	f := newFakeBotAPI(t)
	var mu sync.Mutex
	now := time.Unix(t0, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c, _ := newTestClient(t, f, Config{PollTimeout: 2 * time.Second, Chats: fixtureChats, DeskChat: deskChat.id, Now: clock})
	told := func(call apiCall) bool {
		return call.Params.Get("chat_id") == itoa(deskChat.id) && strings.Contains(call.Params.Get("text"), "set a webhook for vigie's bot token")
	}
	for i, gap := range []time.Duration{0, time.Minute, conflictQuiet + time.Minute} {
		mu.Lock()
		now = now.Add(gap)
		mu.Unlock()
		f.fail("getUpdates", http.StatusConflict, "Conflict: terminated by setWebhook request", 0)
		if err := c.Run(t.Context(), make(chan bot.Event)); err == nil || !strings.Contains(err.Error(), "a webhook receives this bot's updates") {
			t.Fatalf("run %d = %v, want the webhook's 409", i, err)
		}
	}
	if n := f.count("sendMessage", told); n != 2 {
		t.Errorf("%d alerts of the webhook set over the poller, want 2 (the first, and the one more than ten minutes later)", n)
	}
}

// TestAnotherPollerClockSteppedBack: another program polls with vigie's
// token, and the clock vigie runs on (Config.Now, the daemon's) is stepped
// back an hour after the first 409, as a clock set right is. The conflicts
// going on for a minute after the step are still told to the desk, once:
// the step does not count against them, nor keep the alert an hour away.
func TestAnotherPollerClockSteppedBack(t *testing.T) {
	f := newFakeBotAPI(t)
	var mu sync.Mutex
	now := time.Unix(t0, 0)
	var until time.Time // the clock stands once there
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c, logs := newTestClient(t, f, Config{PollTimeout: 2 * time.Second, Chats: fixtureChats, DeskChat: deskChat.id, Now: clock})
	// The clock moves by the poller's waits between polls, five minutes
	// at most after the step.
	c.pause = func(ctx context.Context, d time.Duration) bool {
		mu.Lock()
		if until.IsZero() || now.Before(until) {
			now = now.Add(d)
		}
		mu.Unlock()
		return ctx.Err() == nil
	}
	out := make(chan bot.Event, 10)
	run(t, c, out)
	f.waitFor("getUpdates", 1, nil)

	f.AnotherPoller()

	testsync.Eventually(t, "the first 409", func() bool { return strings.Contains(logs.String(), "another getUpdates took this bot's updates") })
	mu.Lock()
	now = now.Add(-time.Hour)
	until = now.Add(5 * time.Minute)
	mu.Unlock()
	conflictAlert := func(call apiCall) bool {
		return call.Params.Get("chat_id") == itoa(deskChat.id) && strings.Contains(call.Params.Get("text"), "Another program polls Telegram with vigie's bot token")
	}
	testsync.Eventually(t, "the desk told of the other poller", func() bool { return f.Count("sendMessage", conflictAlert) >= 1 })
	conflicts := f.Conflicts()
	testsync.Eventually(t, "more conflicts", func() bool { return f.Conflicts() >= conflicts+10 })
	if n := f.Count("sendMessage", conflictAlert); n != 1 {
		t.Errorf("%d alerts of the other poller, want 1", n)
	}
}
