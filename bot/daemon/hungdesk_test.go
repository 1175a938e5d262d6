package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/bot/stepclock"
)

// TestAHungDeskHoldsUpNoOther: in the night the Telegram Bot API takes
// vigie's connections and never answers what is sent to the desk chat (a
// proxy or a server that hangs), while the Discord desk works. The cases
// opened meanwhile are shown on Discord at once, each, rather than each
// after Telegram's call timed out: once Discord took the first, Telegram's
// call is left behind and Telegram passed over until it answers. Once it
// answers, it shows what was left behind and is asked again. Before, the
// desks were tried in turn: every card waited for Telegram's timeout (30 s)
// before Discord showed it, and a raid's cases reached Discord two a minute.
func TestAHungDeskHoldsUpNoOther(t *testing.T) {
	api := tgfake.New(t)
	hang, held, gaveUp, answerAgain := hungTelegram(t, api)
	dc := discordfake.New(t, discordfake.Options{})
	in := startWith(t, deskRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": hang},
		discordDesk(t, dc))
	for i, text := range []string{"nitro one", "nitro two", "nitro three"} {
		api.Push(groupMessage(tgGroup, int64(7+i), "Eve", text))
	}
	testsync.Eventually(t, "the three cards on Discord", func() bool { return len(posted(dc, "nitro")) == 3 })
	if n := gaveUp.Load(); n != 0 {
		t.Errorf("Discord showed the three cards only after vigie gave up %d calls to the hung Telegram desk, want all while the first hangs", n)
	}
	if n := held.Load(); n != 1 {
		t.Errorf("%d calls hang on the Telegram desk, want 1: a desk left behind is passed over until it answers", n)
	}
	if n := strings.Count(in.logs.String(), "a desk has not answered; it is passed over until it does"); n != 1 {
		t.Errorf("the hung desk logged %d times, want once", n)
	}
	if n := strings.Count(in.logs.String(), "passed over: a call to this desk left behind"); n != 0 {
		t.Errorf("%d cases logged one by one as passed over on the hung desk, want it said once", n)
	}
	testsync.Eventually(t, "the cases passed over counted", func() bool {
		return metricsHave(t, in, `vigie_desk_failures_total{desk="telegram",kind="unreachable"} 2`)
	})

	// Telegram answers again: the card left behind is shown there, and the
	// next case on both desks.
	answerAgain()
	testsync.Eventually(t, "the card left behind on Telegram", func() bool { return len(deskCards(api, "nitro one")) == 1 })
	testsync.Eventually(t, "the desk left behind asked again", func() bool {
		return strings.Contains(in.logs.String(), "a desk left behind answered")
	})
	ev := message("m-4", "u-4", "nitro four") // elsewhere: not folded into the cases above
	ev["platform"] = "shop"
	in.post(t, ev)
	testsync.Eventually(t, "the next card on both desks", func() bool {
		return len(deskCards(api, "nitro four")) == 1 && len(posted(dc, "nitro four")) == 1
	})
}

// hungTelegram is api behind a server that holds every message sent to the
// desk chat until answerAgain: its URL, the messages held, and those whose
// caller gave up.
func hungTelegram(t *testing.T, api *tgfake.Server) (hangURL string, held, gaveUp *atomic.Int32, answerAgain func()) {
	gaveUp = &atomic.Int32{}
	release := make(chan struct{})
	var releaseOnce sync.Once
	answerAgain = func() { releaseOnce.Do(func() { close(release) }) }
	hangURL, held = heldDesk(t, api, func(string) bool { return true }, func(ctx context.Context) bool {
		select {
		case <-ctx.Done():
			gaveUp.Add(1)
			return false
		case <-release:
			return true
		}
	})
	t.Cleanup(answerAgain) // before the server closes (heldDesk): it waits for its handlers
	return hangURL, held, gaveUp, answerAgain
}

// heldDesk is api behind a server that holds each message sent to the desk
// chat whose text hold takes, until let, given the request's context, says
// to send it on (true) or to drop it (false): its URL, and the messages held.
func heldDesk(t *testing.T, api *tgfake.Server, hold func(text string) bool, let func(context.Context) bool) (string, *atomic.Int32) {
	target, err := url.Parse(api.HTTP.URL)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(target)
	held := &atomic.Int32{}
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if q, _ := url.ParseQuery(string(body)); strings.HasSuffix(r.URL.Path, "/sendMessage") && q.Get("chat_id") == strconv.Itoa(tgDesk) && hold(q.Get("text")) {
			held.Add(1)
			if !let(r.Context()) {
				return
			}
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(hang.Close)
	return hang.URL, held
}

// TestAHungDeskPassedOverOnTheDaemonsClock: the five seconds a desk that
// hangs is waited for, once the other took a card, are on the daemon's
// clock (Config.AfterFunc), as its other waits: the Discord desk showed
// the card, the Telegram desk hangs, and it is passed over once that clock
// is stepped five seconds on, not before. Before, the wait was a timer of
// the wall clock, which a daemon on another clock (a replay, a test) did not
// move.
func TestAHungDeskPassedOverOnTheDaemonsClock(t *testing.T) {
	api := tgfake.New(t)
	hang, _, _, _ := hungTelegram(t, api)
	dc := discordfake.New(t, discordfake.Options{})
	clk := stepclock.New(stepMorning, stepclock.RecordCallers())
	in := start(t, deskRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": hang}, onClock(clk),
		func(c *daemon.Config) { c.Connectors = append(c.Connectors, discordDesk(t, dc)) })

	in.post(t, message("m-1", "u-1", "nitro one"))
	testsync.Eventually(t, "the card on Discord", func() bool { return len(posted(dc, "nitro one")) == 1 })
	const late = 5 * time.Second
	testsync.Eventually(t, "the wait for the hung desk set on the daemon's clock", func() bool {
		return clk.Armed(late, "(*deskFanout).send")
	})
	const passedOver = "a desk has not answered; it is passed over until it does"
	if strings.Contains(in.logs.String(), passedOver) {
		t.Fatalf("the hung desk passed over before the daemon's clock moved:\n%s", in.logs.String())
	}
	clk.Step(late)
	testsync.Eventually(t, "the hung desk passed over", func() bool { return strings.Contains(in.logs.String(), passedOver) })
}

// TestAHungDeskGetsWhatItMissed: the Telegram desk hangs through the night
// while Discord shows every case. A CM who only watches Telegram saw none of
// them: once it answers again, it gets one line that counts what it missed
// and says since when, then the cards of the cases still open, oldest first
// and DeskCatchUpCards at most, so that a long outage does not flood a
// phone; a case decided meanwhile on the other desk is not shown again.
// Before, the cases passed over were never shown there.
func TestAHungDeskGetsWhatItMissed(t *testing.T) {
	api := tgfake.New(t)
	hang, held, _, answerAgain := hungTelegram(t, api)
	dc := discordfake.New(t, discordfake.Options{})
	in := startWith(t, deskRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": hang},
		discordDesk(t, dc))
	n := daemon.DeskCatchUpCards + 3
	texts := make([]string, n)
	for i := range texts {
		texts[i] = fmt.Sprintf("nitro n%02d", i+1)
		ev := message(fmt.Sprintf("m-%d", i+1), fmt.Sprintf("u-%d", i+1), texts[i])
		ev["platform"], ev["space"] = "shop", fmt.Sprintf("shop-%d", i+1) // each a case of its own
		in.post(t, ev)
		testsync.Eventually(t, "the card of "+texts[i]+" on Discord", func() bool { return len(posted(dc, texts[i])) == 1 })
		if i == 0 {
			testsync.Eventually(t, "the hung desk passed over", func() bool {
				return strings.Contains(in.logs.String(), "a desk has not answered; it is passed over until it does")
			})
		}
	}
	if h := held.Load(); h != 1 {
		t.Fatalf("%d calls hang on the Telegram desk, want 1", h)
	}
	// A CM on Discord decides the second case in the night.
	open := openCases(t, in)
	if r := in.do(t, "POST", "/v1/cases/"+open[texts[1]].ID+"/decision", []byte(`{"outcome": "keep", "by": "ann"}`), nil); r.code != http.StatusOK {
		t.Fatalf("decision over HTTP = %d %s", r.code, r.body)
	}

	// Each case passed over is kept for the desk once another desk took it.
	testsync.Eventually(t, "the cases the desk missed counted", func() bool {
		return metricsHave(t, in, fmt.Sprintf(`vigie_desk_missed_cases{desk="telegram"} %d`, n-1))
	})

	answerAgain()
	// The first card was held: it shows late. The second was decided. The
	// others were passed over: the oldest DeskCatchUpCards of them follow
	// the line, the newest wait in /queue.
	stillOpen := n - 2
	line := fmt.Sprintf("While this desk did not answer, %d cases were shown on the other desks only; %d are still open", n-1, stillOpen)
	testsync.Eventually(t, "the line of what the desk missed", func() bool { return len(deskCards(api, line)) == 1 })
	if got := deskCards(api, line)[0]; !strings.Contains(got, fmt.Sprintf("here are the %d oldest; /queue lists them all", daemon.DeskCatchUpCards)) {
		t.Errorf("line = %q, want it to say how many cards follow and where the rest are", got)
	}
	last := texts[1+daemon.DeskCatchUpCards]
	testsync.Eventually(t, "the cards it missed", func() bool { return len(deskCards(api, last)) == 1 })
	for i, text := range texts {
		want := 1
		if i == 1 || i > 1+daemon.DeskCatchUpCards {
			want = 0
		}
		if got := len(deskCards(api, text)); got != want {
			t.Errorf("%d cards of %s on Telegram, want %d", got, text, want)
		}
	}
	// Shown once: the next case that both desks take brings no second line.
	ev := message("m-next", "u-next", "nitro next")
	ev["platform"] = "shop"
	in.post(t, ev)
	testsync.Eventually(t, "the next card on both desks", func() bool {
		return len(deskCards(api, "nitro next")) == 1 && len(posted(dc, "nitro next")) == 1
	})
	if got := len(deskCards(api, "While this desk did not answer")); got != 1 {
		t.Errorf("%d lines of what the desk missed, want 1", got)
	}
	if line := `vigie_desk_missed_cases{desk="telegram"} 0`; !metricsHave(t, in, line) {
		t.Errorf("/metrics lacks %s", line)
	}
}
