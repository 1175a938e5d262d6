package meta_test

import (
	"html"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// TestNightCasesOfAnExpiredTokenDoneOnceRenewed: the page token expires in
// the night (Graph's code 190 for it); two comments the rules hide become
// cases, on one card on the Telegram desk, which says vigie carries them
// out once Meta takes a token again. In the morning a CM writes the
// renewed token in META_PAGE_TOKEN_FILE and reloads: both comments are
// hidden with the new token, in the order they came, their cases decided
// by vigie and closed, and the card says so. Before, they waited for a CM
// one by one.
func TestNightCasesOfAnExpiredTokenDoneOnceRenewed(t *testing.T) {
	g := newFakeGraph(t)
	api := tgfake.New(t)
	base, logs, tokenFile := startDeskWithPageTokenFile(t, g, api)

	renewed := g.renew()
	night := []string{"987654321098765_1000000000000401", "987654321098765_1000000000000402"}
	for _, cid := range night {
		deliverComment(t, base, cid)
		testsync.Eventually(t, "a case for the comment not hidden", func() bool {
			return openCasesWith(t, base, "") == 1+slices.Index(night, cid)
		})
	}
	var card tgfake.Call
	testsync.Eventually(t, "the cases' card on the desk", func() bool {
		for _, c := range api.CallsOf("sendMessage") {
			if c.Params.Get("chat_id") == "-100500" && strings.Contains(c.Params.Get("text"), "escrocs") {
				card = c
				return true
			}
		}
		return false
	})
	const says = "When Meta takes a page token again (renewed in META_PAGE_TOKEN_FILE, then /reload), vigie carries them out itself"
	testsync.Eventually(t, "the card saying vigie carries the cases out once Meta takes a page token again", func() bool {
		return strings.Contains(lastTextOf(api, card.MsgID), says)
	})

	if err := os.WriteFile(tokenFile, []byte(renewed+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reloadDaemon(t, base)
	testsync.Eventually(t, "the night's comments hidden with the renewed token, no case left open", func() bool {
		return hidesWith(g, night[0], renewed) == 1 && hidesWith(g, night[1], renewed) == 1 && openCasesWith(t, base, "") == 0
	})
	var order []string
	for _, c := range g.Calls() {
		if c.Method == "POST" && c.Params.Get("is_hidden") == "true" && c.Auth == "Bearer "+renewed {
			order = append(order, strings.TrimPrefix(c.Path, "/"))
		}
	}
	if strings.Join(order, " ") != strings.Join(night, " ") {
		t.Errorf("hidden with the renewed token: %q, want %q, once each, in order", order, night)
	}
	// The card is the first case's, which counts the second.
	testsync.Eventually(t, "the card drawn again, saying vigie hid the comment and carries out the other case too", func() bool {
		text := lastTextOf(api, card.MsgID)
		return strings.Contains(text, "Hidden</b> — decided by vigie") &&
			strings.Contains(text, "vigie carries out the 1 other case of this card's cause (hide failed) too")
	})
	if !strings.Contains(logs.String(), `msg="page token taken again: the actions it left as cases carried out`) {
		t.Errorf("the log does not say the cases the refused token left were carried out")
	}
}

// lastTextOf is the text the Telegram desk's card id shows last, as
// Telegram shows it.
func lastTextOf(api *tgfake.Server, id int) string {
	text := ""
	for _, c := range api.CallsOf("editMessageText") {
		if c.Params.Get("message_id") == strconv.Itoa(id) {
			text = html.UnescapeString(c.Params.Get("text"))
		}
	}
	return text
}

// TestNightCasesOfAnExpiredTokenDoneAfterARestart: vigie on Redis, its page
// token expired in the night, a scam left as a case; the CM restarts vigie
// with the renewed token rather than reload it. A minute after the start,
// on the daemon's clock, the scam is hidden with the new token and no case
// is left open.
func TestNightCasesOfAnExpiredTokenDoneAfterARestart(t *testing.T) {
	env := redisEnv(t, "token-restart")
	clk, g := graphOnStepClock(t)
	base, _, stop := startDaemonOn(t, clk, g, &deskRecorder{}, env, hideScams)
	renewed := g.renew()
	const night = "111_9200000000000001"
	deliverScam(t, base, night, 7200, clk.Now().Add(-time.Minute).Unix())
	testsync.Eventually(t, "a case for the scam not hidden", func() bool { return openCasesWith(t, base, "[graph 190") == 1 })
	stop()

	base, logs, _ := startDaemonOn(t, clk, g, &deskRecorder{}, env, hideScams) // with the renewed token
	testsync.Eventually(t, "the case found at the start", func() bool {
		return strings.Contains(logs.String(), "left before the start: carried out once the platform takes actions again")
	})
	clk.Step(time.Minute)
	testsync.Eventually(t, "the scam hidden with the renewed token, no case left open", func() bool {
		return hidesWith(g, night, renewed) == 1 && openCasesWith(t, base, "") == 0
	})
}
