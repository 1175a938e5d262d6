package daemon_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// passOver posts n cases to in, each in a place of its own, and waits until
// Discord shows each and the Telegram desk, hung, is passed over by one of
// fleet (in alone when none is given: the instances on one Redis share the
// cards to show).
func passOver(t *testing.T, in *instance, dc *discordfake.Server, prefix string, n int, fleet ...*instance) []string {
	t.Helper()
	texts := make([]string, n)
	for i := range texts {
		texts[i] = fmt.Sprintf("nitro %s%02d", prefix, i+1)
		ev := message(fmt.Sprintf("m-%s%d", prefix, i+1), fmt.Sprintf("u-%s%d", prefix, i+1), texts[i])
		ev["platform"], ev["space"] = "shop", fmt.Sprintf("shop-%s%d", prefix, i+1)
		in.post(t, ev)
		testsync.Eventually(t, "the card of "+texts[i]+" on Discord", func() bool { return len(posted(dc, texts[i])) == 1 })
		if i == 0 {
			testsync.Eventually(t, "the hung desk passed over", func() bool {
				for _, in := range append([]*instance{in}, fleet...) {
					if strings.Contains(in.logs.String(), "a desk has not answered; it is passed over until it does") {
						return true
					}
				}
				return false
			})
		}
	}
	return texts
}

// TestWhatADeskMissedOutlivesARestart: the Telegram desk hangs in the
// night, the Discord desk shows the cases, and vigie (on Redis) is started
// again before Telegram answers (a deploy, a reboot). Once Telegram
// answers, the new process shows it what it missed: the line, then the
// cards still open. Before, the list lived in the memory of the process
// that passed the desk over: the restart lost it, and the CM who watches
// Telegram never heard of the night's cases.
func TestWhatADeskMissedOutlivesARestart(t *testing.T) {
	api := tgfake.New(t)
	hang, _, _, _ := hungTelegram(t, api)
	dc := discordfake.New(t, discordfake.Options{})
	env := missedEnv(t, hang)
	first := startWith(t, deskRules, env, discordDesk(t, dc))
	texts := passOver(t, first, dc, "a", 3)
	testsync.Eventually(t, "the cases the desk missed counted", func() bool {
		return metricsHave(t, first, `vigie_desk_missed_cases{desk="telegram"} 2`)
	})
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	// Telegram answers the new process (the first's call stays held).
	env["TELEGRAM_API_URL"] = api.HTTP.URL
	startWith(t, deskRules, env, discordDesk(t, dc))
	line := "While this desk did not answer, 2 cases were shown on the other desks only; 2 are still open"
	testsync.Eventually(t, "the line of what the desk missed", func() bool { return len(deskCards(api, line)) == 1 })
	testsync.Eventually(t, "the cards it missed", func() bool {
		return len(deskCards(api, texts[1])) == 1 && len(deskCards(api, texts[2])) == 1
	})
}

// TestWhatADeskMissedToldOnceAcrossInstances: two vigie on one Redis pass
// the hung Telegram desk over, each for the cards it shows (they share the
// cards to show). Once Telegram answers, it is told once what it missed,
// all of it: one line that counts the cases both passed it over for, their
// cards once. Before, each instance kept its own list and told its own
// part: two lines, each counting its cases.
func TestWhatADeskMissedToldOnceAcrossInstances(t *testing.T) {
	api := tgfake.New(t)
	hang, held, _, answerAgain := hungTelegram(t, api)
	dc := discordfake.New(t, discordfake.Options{})
	env := missedEnv(t, hang)
	a := startWith(t, deskRules, env, discordDesk(t, dc))
	b := startWith(t, deskRules, env, discordDesk(t, dc))
	// Cases come in on both, until both passed the desk over and kept a
	// case it missed (the card of a case goes to the desk from either
	// instance).
	passed := func(in *instance) bool {
		return strings.Contains(in.logs.String(), "a desk has not answered; it is passed over until it does")
	}
	gauge := `vigie_desk_missed_cases{desk="telegram"}`
	kept := func(in *instance) bool { return metric(t, in, gauge) > 0 }
	var texts []string
	for i := 0; !kept(a) || !kept(b); i++ {
		if i == 10 {
			t.Fatalf("after %d cases, a kept a case the desk missed: %v, b: %v; want both", i, kept(a), kept(b))
		}
		in, name := a, "a"
		if i%2 == 1 {
			in, name = b, "b"
		}
		texts = append(texts, passOver(t, in, dc, fmt.Sprint(name, i), 1, a, b)...)
		// Its card held on Telegram, or kept as missed; held, the
		// instance that holds it passes the desk over.
		testsync.Eventually(t, "the card held or kept", func() bool {
			return int(held.Load())+int(max(metric(t, a, gauge), metric(t, b, gauge), 0)) == len(texts)
		})
		testsync.Eventually(t, "each instance that holds a card passing the desk over", func() bool {
			n := 0
			for _, in := range []*instance{a, b} {
				if passed(in) {
					n++
				}
			}
			return n == int(held.Load())
		})
	}
	// Each instance's first card to Telegram is held, the others missed:
	// once all are kept, one of the two counted them all.
	missedAll := func() bool {
		want := fmt.Sprintf(`vigie_desk_missed_cases{desk="telegram"} %d`, len(texts)-int(held.Load()))
		return metricsHave(t, a, want) || metricsHave(t, b, want)
	}
	testsync.Eventually(t, "the cases the desk missed all kept", missedAll)
	missed := len(texts) - int(held.Load())
	answerAgain()
	lines := func() []string { return deskCards(api, "While this desk did not answer") }
	testsync.Eventually(t, "the line of what the desk missed", func() bool { return len(lines()) > 0 })
	testsync.Eventually(t, "every card on Telegram", func() bool {
		for _, text := range texts {
			if len(deskCards(api, text)) == 0 {
				return false
			}
		}
		return true
	})
	// Both stopped: whatever either was still to show, it has shown.
	for _, in := range []*instance{a, b} {
		if err := in.stop(); err != nil {
			t.Fatal(err)
		}
	}
	want := fmt.Sprintf("While this desk did not answer, %d cases were shown on the other desks only", missed)
	if got := lines(); len(got) != 1 || !strings.Contains(got[0], want) {
		t.Errorf("lines of what the desk missed:\n%s\nwant one: %s", strings.Join(got, "\n"), want)
	}
	for _, text := range texts {
		if n := len(deskCards(api, text)); n != 1 {
			t.Errorf("%d cards of %s on Telegram, want 1", n, text)
		}
	}
}

// cardsHeldTelegram is api behind a server that holds the Telegram desk's
// cards (the line of what the desk missed goes through), until their call
// gives up or letOne lets the oldest held through.
func cardsHeldTelegram(t *testing.T, api *tgfake.Server) (hangURL string, held *atomic.Int32, letOne func()) {
	let, done := make(chan struct{}, 16), make(chan struct{})
	hangURL, held = heldDesk(t, api,
		func(text string) bool { return !strings.Contains(text, "While this desk did not answer") },
		func(ctx context.Context) bool {
			select {
			case <-ctx.Done():
				return false
			case <-let:
				return true
			case <-done:
				return false
			}
		})
	t.Cleanup(func() { close(done) }) // before the server closes (heldDesk): it waits for its handlers
	return hangURL, held, func() { let <- struct{}{} }
}

// missedEnv is the environment of a vigie on a Redis of its own, with the
// Telegram desk at telegramURL.
func missedEnv(t *testing.T, telegramURL string) map[string]string {
	return map[string]string{
		"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": telegramURL,
		"VIGIE_REDIS_URL": redistest.URL(t), "VIGIE_REDIS_PREFIX": fmt.Sprintf("missed-%d", time.Now().UnixNano()),
	}
}

// TestDeskCatchUpEndsWithTheStop: the Telegram desk answers again and is
// being shown what it missed when vigie stops (a deploy), its cards slow
// to go. The stop cancels the catch-up, which puts back in the store the
// cards it did not show, and waits for it; the next start shows them.
// Before, the catch-up ran in a goroutine nothing waited for, on a context
// the stop did not end: it went on posting after the stop, or its cards
// were lost with the process.
func TestDeskCatchUpEndsWithTheStop(t *testing.T) {
	api := tgfake.New(t)
	hang, held, letOne := cardsHeldTelegram(t, api)
	dc := discordfake.New(t, discordfake.Options{})
	env := missedEnv(t, hang)
	first := startWith(t, deskRules, env, discordDesk(t, dc))
	texts := passOver(t, first, dc, "a", 3)
	testsync.Eventually(t, "the cases the desk missed counted", func() bool {
		return metricsHave(t, first, `vigie_desk_missed_cases{desk="telegram"} 2`)
	})
	letOne() // the first card, left behind, answers: the catch-up begins
	line := "While this desk did not answer, 2 cases were shown on the other desks only; 2 are still open"
	testsync.Eventually(t, "the line of what the desk missed", func() bool { return len(deskCards(api, line)) == 1 })
	testsync.Eventually(t, "the first card it missed sent", func() bool { return held.Load() == 2 })
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(first.logs.String(), "a case a desk missed could not be shown there") {
		t.Errorf("the catch-up cut by the stop not logged:\n%s", first.logs)
	}

	env["TELEGRAM_API_URL"] = api.HTTP.URL
	startWith(t, deskRules, env, discordDesk(t, dc))
	testsync.Eventually(t, "the cards it missed, at the next start", func() bool {
		return len(deskCards(api, texts[1])) == 1 && len(deskCards(api, texts[2])) == 1
	})
}
