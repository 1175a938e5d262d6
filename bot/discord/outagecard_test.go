package discord

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
)

// TestCardWhileActionsAreTried: a scam that a rule deletes, times out and
// forwards, while Discord does not answer its delete (the fake holds the
// call), or answers 500. Its card is on the desk while the delete is still
// held, saying the actions are being tried and offering no undo; once they
// end, the same card is edited to say how: carried out (the timeout's
// removal offered), or failed, every failure in the case's reason. One case
// for the message, in Redis, either way.
func TestCardWhileActionsAreTried(t *testing.T) {
	for _, tt := range []struct {
		name string
		// fail: Discord answers 500 to every try; otherwise it answers
		// once the held delete is released.
		fail bool
	}{{"answered late", false}, {"failing", true}} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeDiscord(t)
			in := newInstances(t, f, 1)[0]
			ctx := in.runDelivering(t, f)

			const msgID = "1500"
			deletes := "/channels/" + general + "/messages/" + msgID
			acts := func(c discordfake.Call) bool {
				return c.Method == "DELETE" && c.Path == deletes ||
					c.Method == "PATCH" && strings.HasPrefix(c.Path, "/guilds/"+guildID+"/members/")
			}
			if tt.fail {
				f.FailWhen(acts, http.StatusInternalServerError, `{"message": "500: Internal Server Error", "code": 0}`)
			}
			// The first delete is answered (500 when failing); the tries after it are held.
			var tries atomic.Int64
			release := f.Hold(func(c discordfake.Call) bool {
				return c.Method == "DELETE" && c.Path == deletes && (!tt.fail || tries.Add(1) > 1)
			})

			handled := in.handleScam(msgID, time.Now(),
				bot.Action{Kind: bot.ActDelete},
				bot.Action{Kind: bot.ActTimeout, Duration: 10 * time.Minute},
				bot.Action{Kind: bot.ActForward, Text: "scam"},
			)

			// The card, while Discord holds the delete.
			post := f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 1, nil)
			select {
			case err := <-handled:
				t.Fatalf("the verdict's actions ended (%v) while Discord held the delete", err)
			default:
			}
			content, buttons := cardOf(post)
			if !strings.Contains(content, "delete"+bot.TryingMark) || !strings.Contains(content, "timeout(10m)"+bot.TryingMark) ||
				strings.Contains(buttons, ":unmute") || !strings.Contains(buttons, ":delete") {
				t.Errorf("card while the delete is held:\n%s\nbuttons %s\nwant both actions being tried, no undo", content, buttons)
			}

			release()
			if err := <-handled; err != nil {
				t.Fatalf("Handle: %v", err)
			}
			var msg string
			testsync.Eventually(t, "the card recorded", func() bool {
				cards, _ := in.st.CaseCards(context.Background(), caseIDOf(t, in.st))
				if len(cards) == 1 {
					msg = cards[0].Message
				}
				return msg != ""
			})
			edit := f.WaitFor(t, "PATCH", "/channels/"+deskID+"/messages/"+msg, 1, nil)
			content, buttons = cardOf(edit)
			if strings.Contains(content, bot.TryingMark) || !strings.Contains(buttons, ":delete") {
				t.Errorf("card once the actions ended:\n%s\nbuttons %s\nwant nothing being tried, the case still open", content, buttons)
			}
			cases, err := in.st.Cases(ctx, store.CaseOpen)
			if err != nil || len(cases) != 1 {
				t.Fatalf("open cases = %+v, %v; want one for the message", cases, err)
			}
			c := cases[0]
			if len(c.Trying) != 0 {
				t.Errorf("case still tries %v", c.Trying)
			}
			// Its message's edits find it, kept once its actions ended.
			msgOf := in.c.MessageOf(bot.Event{ID: msgID, Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general})
			if id, err := in.st.CaseOfMessage(ctx, "discord|"+guildID+"|"+msgOf); id != c.ID || err != nil {
				t.Errorf("the case of the message = %q, %v; want %s", id, err, c.ID)
			}
			if tt.fail {
				if !strings.Contains(content, "delete"+bot.NotDoneMark) || !strings.Contains(content, "timeout(10m)"+bot.NotDoneMark) ||
					strings.Contains(buttons, ":unmute") || len(c.NotDone) != 2 ||
					strings.Count(c.Reason, "gave up after 4 attempts") != 2 || !strings.HasPrefix(c.Reason, "scam: scam; ") {
					t.Errorf("failed actions: card\n%s\nbuttons %s\ncase %+v\nwant both not done, no undo, both failures and the forward in the reason", content, buttons, c)
				}
				if n := f.Count("DELETE", deletes); n != 4 {
					t.Errorf("delete tried %d times, want 4", n)
				}
				return
			}
			if strings.Contains(content, bot.NotDoneMark) || !strings.Contains(buttons, ":unmute") || len(c.NotDone) != 0 || c.Reason != "scam" {
				t.Errorf("actions carried out: card\n%s\nbuttons %s\ncase %+v\nwant the timeout's removal offered, nothing not done, the forward's reason", content, buttons, c)
			}
		})
	}
}

// cardOf is a card's text and its buttons' custom ids, as a post or an
// edit sent them.
func cardOf(c discordfake.Call) (content, buttons string) {
	content, _ = c.Body["content"].(string)
	b, _ := json.Marshal(c.Body["components"])
	return content, string(b)
}

// caseIDOf is the id of the one open case.
func caseIDOf(t *testing.T, st store.Store) string {
	t.Helper()
	cases, err := st.Cases(context.Background(), store.CaseOpen)
	if err != nil || len(cases) != 1 {
		t.Fatalf("open cases = %v, %v", cases, err)
	}
	return cases[0].ID
}

// TestDecisionWhileDiscordIsSlow: a CM bans from a case while Discord
// holds the ban. The decision is recorded and, once the decision's wait
// has passed on the moderator's clock, Decide answers that it is still
// being tried, with the ban still held; the card says so. Discord then
// answers 500 to every try: the card is edited to say it was not carried
// out, and a case says so, once the retries, paused on the same clock, are
// over.
func TestDecisionWhileDiscordIsSlow(t *testing.T) {
	f := newFakeDiscord(t)
	clk := &stepClock{at: time.Now().UTC().Truncate(time.Minute), set: make(chan struct{}, 1)}
	in := newInstances(t, f, 1, func(o *handlers.Options) { o.Now, o.AfterFunc = clk.Now, clk.AfterFunc })[0]
	run(t, f, in.c, make(chan bot.Event, 10), allPerms)
	ctx := context.Background()
	ev := bot.Event{ID: "1600", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
		Author: bot.Author{ID: bob.id, Name: "Bob"}, Text: "FREE NITRO", At: time.Now()}
	c, err := in.st.OpenCase(ctx, store.Case{Event: ev, Rule: "scam", Category: "spam", Reason: "scam",
		Suggested: []bot.Action{{Kind: bot.ActBan}}, NotDone: []bot.Action{{Kind: bot.ActBan}}})
	if err != nil {
		t.Fatal(err)
	}
	in.mod.FlushCases(ctx)
	cards, err := in.st.CaseCards(ctx, c.ID)
	if err != nil || len(cards) != 1 {
		t.Fatalf("cards = %v, %v", cards, err)
	}
	bans := "/guilds/" + guildID + "/bans/" + bob.id
	isBan := func(c discordfake.Call) bool { return c.Method == "PUT" && c.Path == bans }
	f.FailWhen(isBan, http.StatusInternalServerError, `{"message": "500: Internal Server Error", "code": 0}`)
	release := f.Hold(isBan)

	decided := make(chan error, 1)
	go func() {
		_, err := in.mod.Decide(ctx, c.ID, "ban", "http:ann")
		decided <- err
	}()
	f.WaitFor(t, "PUT", bans, 1, nil)
	wait := clk.nextWait(t)
	if wait != handlers.DefaultDecisionWait {
		t.Fatalf("wait on the moderator's clock while Discord holds the ban = %s, want the decision's %s", wait, handlers.DefaultDecisionWait)
	}
	select {
	case err := <-decided:
		t.Fatalf("Decide answered (%v) before its wait passed on the clock", err)
	default:
	}
	clk.Advance(wait)
	select {
	case err := <-decided:
		if !errors.Is(err, bot.ErrStillTrying) {
			t.Fatalf("Decide while Discord holds the ban = %v, want it still being tried", err)
		}
	case <-time.After(testsync.Patience):
		t.Fatal("Decide waits for the ban Discord holds")
	}
	if n := f.Count("PUT", bans); n != 1 {
		t.Errorf("%d bans asked while the first is held, want 1", n)
	}
	card := "/channels/" + deskID + "/messages/" + cards[0].Message
	if content, _ := cardOf(f.WaitFor(t, "PATCH", card, 1, nil)); !strings.Contains(content, "Being carried out") {
		t.Errorf("card while the ban is held:\n%s", content)
	}
	release()
	// The tries after the first wait for the clock.
	for n := 2; n <= 4; n++ {
		clk.Advance(clk.nextWait(t))
		f.WaitFor(t, "PUT", bans, n, nil)
	}
	content, _ := cardOf(f.WaitFor(t, "PATCH", card, 2, nil))
	if !strings.Contains(content, "Not carried out") || !strings.Contains(content, "gave up after 4 attempts") {
		t.Errorf("card once the ban failed:\n%s", content)
	}
	if err := in.mod.WaitDecisions(ctx); err != nil {
		t.Fatal(err)
	}
	open, err := in.st.Cases(ctx, store.CaseOpen)
	if err != nil || len(open) != 1 || !strings.Contains(open[0].Reason, "not carried out") {
		t.Errorf("open cases once the ban failed = %+v, %v; want the one that says so", open, err)
	}
	// No caller was left to be told: the log says it.
	if logs := in.logs.String(); !strings.Contains(logs, `msg="decision not carried out" case=`+c.ID) {
		t.Errorf("the decision that failed in the background is not logged:\n%s", logs)
	}
}

// TestEarlyCaseOnTheModeratorsClock: the second a forwarded message's
// actions may take before its case opens is waited on the moderator's
// clock, not the wall's. With Discord holding the delete, the case waits
// for the clock, however long the wall takes; moved by a second, the clock
// opens it, dated by the clock, and the card says the actions are being
// tried; once Discord answers, the card is edited.
func TestEarlyCaseOnTheModeratorsClock(t *testing.T) {
	f := newFakeDiscord(t)
	// Started at the wall clock's minute, as the events of this file's other
	// tests: the store beside it keeps its keys on the wall clock.
	clk := &stepClock{at: time.Now().UTC().Truncate(time.Minute), set: make(chan struct{}, 1)}
	in := newInstances(t, f, 1, func(o *handlers.Options) { o.Now, o.AfterFunc = clk.Now, clk.AfterFunc })[0]
	ctx := in.runDelivering(t, f)

	const msgID = "1700"
	deletes := "/channels/" + general + "/messages/" + msgID
	release := f.Hold(func(c discordfake.Call) bool { return c.Method == "DELETE" && c.Path == deletes })
	handled := in.handleScam(msgID, clk.Now(),
		bot.Action{Kind: bot.ActDelete},
		bot.Action{Kind: bot.ActTimeout, Duration: 10 * time.Minute},
		bot.Action{Kind: bot.ActForward, Text: "scam"},
	)

	f.WaitFor(t, "DELETE", deletes, 1, nil)
	// The desk's rounds for the cards not posted wait 10s on the clock too.
	var waits []time.Duration
	testsync.Eventually(t, "a wait set on the moderator's clock while Discord holds the delete", func() bool {
		waits = slices.DeleteFunc(clk.waits(), func(d time.Duration) bool { return d == 10*time.Second })
		return len(waits) > 0
	})
	if len(waits) != 1 || waits[0] != time.Second {
		t.Fatalf("waits on the clock besides the desk's rounds = %v, want one second", waits)
	}
	if open, err := in.st.Cases(ctx, store.CaseOpen); err != nil || len(open) != 0 {
		t.Fatalf("open cases before the clock moved = %+v, %v; want none", open, err)
	}
	clk.Advance(time.Second)
	post := f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 1, nil)
	if content, _ := cardOf(post); !strings.Contains(content, "delete"+bot.TryingMark) {
		t.Errorf("card once the clock moved:\n%s\nwant the delete being tried", content)
	}
	c, err := in.st.Case(ctx, caseIDOf(t, in.st))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Opened.Equal(clk.Now()) || len(c.Trying) != 2 {
		t.Errorf("case opened %s trying %v; want opened at the clock's %s, both actions being tried", c.Opened, c.Trying, clk.Now())
	}
	release()
	if err := <-handled; err != nil {
		t.Fatalf("Handle: %v", err)
	}
	var msg string
	testsync.Eventually(t, "the card recorded", func() bool {
		cards, _ := in.st.CaseCards(ctx, c.ID)
		if len(cards) == 1 {
			msg = cards[0].Message
		}
		return msg != ""
	})
	if content, _ := cardOf(f.WaitFor(t, "PATCH", "/channels/"+deskID+"/messages/"+msg, 1, nil)); strings.Contains(content, bot.TryingMark) {
		t.Errorf("card once Discord answered:\n%s\nwant nothing being tried", content)
	}
}

// TestRetriesOnTheModeratorsClock: the retry stage's pauses are waited on
// the moderator's clock. Discord answers 500 to a scam's delete: each try
// after the first waits until the clock has moved by its pause (500 ms,
// then twice as long each time, up to a fifth less), however long the wall
// takes; the case opens at the first failure, and says the delete was not
// done after the fourth.
func TestRetriesOnTheModeratorsClock(t *testing.T) {
	f := newFakeDiscord(t)
	clk := &stepClock{at: time.Now().UTC().Truncate(time.Minute), set: make(chan struct{}, 1)}
	in := newInstances(t, f, 1, func(o *handlers.Options) {
		o.Now, o.AfterFunc, o.Retry = clk.Now, clk.AfterFunc, handlers.Retry{}
	})[0]
	run(t, f, in.c, make(chan bot.Event, 10), allPerms)

	const msgID = "1800"
	deletes := "/channels/" + general + "/messages/" + msgID
	f.FailWhen(func(c discordfake.Call) bool { return c.Method == "DELETE" && c.Path == deletes },
		http.StatusInternalServerError, `{"message": "500: Internal Server Error", "code": 0}`)
	handled := in.handleScam(msgID, clk.Now(),
		bot.Action{Kind: bot.ActDelete},
		bot.Action{Kind: bot.ActForward, Text: "scam"},
	)

	// The early case's second is set first; each pause after it.
	testsync.Eventually(t, "the early case's wait and the first pause", func() bool { return len(clk.waits()) == 2 })
	for try := 1; try <= 3; try++ {
		waits := clk.waits()
		pause, want := waits[len(waits)-1], 500*time.Millisecond<<(try-1)
		if pause > want || pause < want*4/5 {
			t.Errorf("pause after try %d = %s, want %s less up to a fifth", try, pause, want)
		}
		if n := f.Count("DELETE", deletes); n != try {
			t.Fatalf("delete tried %d times before the clock moved by the pause after try %d", n, try)
		}
		clk.Advance(pause)
		f.WaitFor(t, "DELETE", deletes, try+1, nil)
		if try < 3 {
			testsync.Eventually(t, "the next pause", func() bool { return len(clk.waits()) == try+2 })
		}
	}
	if err := <-handled; err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if n := f.Count("DELETE", deletes); n != 4 {
		t.Errorf("delete tried %d times, want 4", n)
	}
	c, err := in.st.Case(context.Background(), caseIDOf(t, in.st))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Trying) != 0 || len(c.NotDone) != 1 || !strings.Contains(c.Reason, "gave up after 4 attempts") {
		t.Errorf("case = %+v\nwant the delete not done, given up after 4 attempts", c)
	}
}

// stepClock is a clock the test moves (Advance): its timers
// (AfterFunc) fire only then. set is nudged when a timer is set.
type stepClock struct {
	mu     sync.Mutex
	at     time.Time
	timers []*stepTimer
	set    chan struct{}
}

type stepTimer struct {
	d, left time.Duration
	f       func()
	done    bool
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *stepClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &stepTimer{d: d, left: d, f: f}
	c.timers = append(c.timers, tm)
	select {
	case c.set <- struct{}{}:
	default:
	}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		stopped := !tm.done
		tm.done = true
		return stopped
	}
}

// waits are the durations of the timers set, in order.
func (c *stepClock) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, tm := range c.timers {
		out = append(out, tm.d)
	}
	return out
}

// nextWait waits until a timer is pending on the clock, and returns the
// shortest wait left of the pending ones.
func (c *stepClock) nextWait(t *testing.T) time.Duration {
	t.Helper()
	var next time.Duration
	testsync.Eventually(t, "a wait on the clock", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		next = -1
		for _, tm := range c.timers {
			if !tm.done && (next < 0 || tm.left < next) {
				next = tm.left
			}
		}
		return next >= 0
	})
	return next
}

// Advance moves the clock by d, and fires the timers due.
func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(d)
	for _, tm := range c.timers {
		if tm.done {
			continue
		}
		if tm.left -= d; tm.left <= 0 {
			tm.done = true
			go tm.f()
		}
	}
}
