package meta_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

const hideInsults = `
timezone: UTC
lists:
  insults: [connard, escroc]
rules:
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [hide]
`

// TestBrigadeUnderOnePostHiddenAtMetasPace: 500 insults under one post, in
// ten deliveries, while Graph is slow to carry out the first hide, and the
// Page's token may make 200 calls each 10 minutes (X-Page-Usage). Every
// delivery is answered 200; every insult is hidden once, at Meta's pace: the
// hides past the quota wait, with no card, for the limit's end, when vigie
// carries them out itself. No card reaches the desk, and Meta refuses few
// calls. Before, the 243 insults past the post's lane (256) were deferred
// to the desk, left up until a CM decided them.
func TestBrigadeUnderOnePostHiddenAtMetasPace(t *testing.T) {
	clk, g := graphOnStepClock(t)
	const quota, window = 200, 10 * time.Minute
	g.quota(quota, window)
	desk := &deskRecorder{}
	base, logs, _ := startDaemonOn(t, clk, g, desk, nil, hideInsults)

	const brigade, deliveries = 500, 10
	cids := make([]string, brigade)
	for i := range cids {
		cids[i] = fmt.Sprintf("9300_%d", 9300000000000000+i)
	}
	release := g.holdCalls(t, "POST", "/"+pageID+"_"+cids[0])
	at := clk.Now().Add(-time.Minute).Unix()
	for d := range deliveries {
		var entries []string
		for i := d * brigade / deliveries; i < (d+1)*brigade/deliveries; i++ {
			entries = append(entries, fmt.Sprintf(`{"id":"%s","time":%d,"changes":[{"field":"feed","value":`+
				`{"item":"comment","verb":"add","comment_id":"%s_%s","post_id":"%s_9300","parent_id":"%s_9300",`+
				`"from":{"id":"%d","name":"Troll %d"},"message":"espèce de connard","created_time":%d}}]}`,
				pageID, at, pageID, cids[i], pageID, pageID, 8300+i, i, at))
		}
		deliverSigned(t, base, []byte(`{"object":"page","entry":[`+strings.Join(entries, ",")+`]}`))
	}
	testsync.Eventually(t, "every insult judged", func() bool { return commentsJudged(t, base) == brigade })
	release()

	hidden := func() int { return len(g.hidesDone()) }
	deferred := func() int { return strings.Count(logs.String(), `msg="actions deferred to the desk"`) }
	for step := 0; hidden() < brigade; step++ {
		// Each insult is hidden, or waits as a case for the limit's end.
		testsync.Eventually(t, "each insult hidden or waiting", func() bool {
			return hidden()+openCasesAll(t, base) >= brigade || deferred() > 0 && hidden()+deferred() >= brigade-quota
		})
		if n := deferred(); n > 0 {
			t.Fatalf("%d of %d insults deferred to the desk, %d hidden: want each hidden by vigie", n, brigade, hidden())
		}
		if hidden() == brigade {
			break
		}
		if step == brigade/quota+2 {
			t.Fatalf("%d of %d insults hidden after %d of Meta's windows", hidden(), brigade, step)
		}
		// The limit's end, and the Page's next window, on the clocks: what
		// the limit left is carried out, up to the next limit.
		runs := func() int { return strings.Count(logs.String(), `msg="rate limit ended: the actions it left`) }
		before := runs()
		clk.Step(window + time.Second)
		testsync.Eventually(t, "the run of what the limit left", func() bool { return runs() > before })
	}
	testsync.Eventually(t, "no case left open", func() bool { return openCasesAll(t, base) == 0 })
	done := g.hidesDone()
	for _, cid := range cids {
		if n := done[pageID+"_"+cid]; n != 1 {
			t.Errorf("insult %s hidden %d times, want once", cid, n)
		}
	}
	// A warning a minute at most, not one a call past 80%: the clock
	// moved by a window each limit.
	if n := strings.Count(logs.String(), `msg="close to the Graph API rate limit"`); n > 4 {
		t.Errorf("%d warnings of the usage headers for %d hides, want one a minute at most:\n%s", n, brigade, logs)
	}
	if n := desk.cardCount(); n != 0 {
		t.Errorf("%d cards on the desk for a brigade vigie hid itself, want none", n)
	}
	t.Logf("hides done %d, cards posted %d, alerts %d (%d of the limit), calls refused by the Page's quota %d",
		len(done), desk.cardCount(), len(desk.all()), desk.told("⏳"), g.quotaRefused())
}

// commentsJudged is the number of Facebook comments the daemon at base
// judged, from /metrics.
func commentsJudged(t *testing.T, base string) int {
	t.Helper()
	_, b := daemonGet(t, base+"/metrics")
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), `vigie_events_total{kind="comment",platform="facebook"} `); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return 0
}

// openCasesAll counts the open cases of the daemon at base, up to 1,000.
func openCasesAll(t *testing.T, base string) int {
	t.Helper()
	_, b := daemonGet(t, base+"/v1/cases?status=open&limit=1000")
	var list struct{ Cases []json.RawMessage }
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatalf("/v1/cases: %v: %s", err, b)
	}
	return len(list.Cases)
}
