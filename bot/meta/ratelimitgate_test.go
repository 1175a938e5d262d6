package meta_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/stepclock"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

const hideScams = `
timezone: UTC
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "crypto"'
    do: [hide]
`

// graphOnStepClock is the fake Graph API on a clock moved by hand, from
// now: the limit's ends Meta says are on it, and so are the daemon's.
func graphOnStepClock(t *testing.T) (*stepclock.Clock, *fakeGraph) {
	t.Helper()
	clk := stepclock.New(time.Now().UTC().Truncate(time.Second))
	g := newFakeGraph(t)
	g.now = clk.Now
	return clk, g
}

// redisEnv starts a throwaway Redis and gives the environment that has
// startDaemonOn keep its store there, under a prefix of name's.
func redisEnv(t *testing.T, name string) map[string]string {
	t.Helper()
	srv := redistest.Start(t)
	return map[string]string{"VIGIE_REDIS_URL": srv.URL(), "VIGIE_REDIS_PREFIX": redistest.Prefix(name)}
}

// deliverScam delivers to the daemon at base, signed, a "CRYPTO gratuit"
// comment cid (POST_COMMENT) on its post, from author id from, written at
// (Unix seconds).
func deliverScam(t *testing.T, base, cid string, from int, at int64) {
	t.Helper()
	post, _, _ := strings.Cut(cid, "_")
	deliverSigned(t, base, commentOnPost(post, cid, fmt.Sprint(from), "CRYPTO gratuit", at))
}

// deliverScams delivers to the daemon at base a scam for each comment id
// of wave, from authors from, from+1…, written a second apart from a
// minute before clk's now, each once the one before is a case the limit
// left.
func deliverScams(t *testing.T, base string, clk *stepclock.Clock, wave []string, from int) {
	t.Helper()
	sent := clk.Now().Add(-time.Minute).Unix()
	for i, cid := range wave {
		deliverScam(t, base, cid, from+i, sent+int64(i))
		testsync.Eventually(t, "the scam's case", func() bool { return openCasesWith(t, base, handlersLongLimit) == i+1 })
	}
}

// callsText names the Graph calls, for a failure's message.
func callsText(calls []graphCall) string {
	var s []string
	for _, c := range calls {
		s = append(s, c.Method+" "+c.Path)
	}
	return strings.Join(s, ", ")
}

// hidesIn are the comments hidden by calls, in their order.
func hidesIn(calls []graphCall) []string {
	var out []string
	for _, c := range calls {
		if c.Method == "POST" && c.Params.Get("is_hidden") == "true" {
			out = append(out, strings.TrimPrefix(c.Path, "/"))
		}
	}
	return out
}

// TestGraphRateLimitKnownNoCalls: once Meta said it limits the Page's calls
// for 10 minutes, the scams that come meanwhile are not sent to Graph (each
// call sent while limited makes Meta extend the limit): they wait as cases.
// When the limit's time is past, one call asks whether it is over; Meta
// still limiting, the others wait again, unsent, for the next end. Before,
// each comment of the wave made its call during the limit, and each
// refused one pushed the limit's end on.
func TestGraphRateLimitKnownNoCalls(t *testing.T) {
	clk, g := graphOnStepClock(t)
	base, logs, _ := startDaemonOn(t, clk, g, &deskRecorder{}, nil, hideScams)

	g.limit(10)
	wave := []string{"111_9200000000000001", "222_9200000000000002", "111_9200000000000003", "333_9200000000000004"}
	deliverScams(t, base, clk, wave, 7200)
	if calls := g.Calls(); len(calls) != 1 {
		t.Errorf("%d Graph calls while Meta limits the Page (%s), want 1: the one that met the limit", len(calls), callsText(calls))
	}

	// The limit's time is past, but Meta limits still: one call asks.
	clk.Step(601 * time.Second)
	testsync.Eventually(t, "one call asking whether the limit is over, answered", func() bool {
		return len(g.Calls()) >= 2 && strings.Contains(logs.String(), "rate limit not over")
	})
	if calls := g.Calls(); len(calls) != 2 {
		t.Errorf("%d Graph calls once the limit's time was past, Meta limiting still (%s), want 2: one asked", len(calls), callsText(calls))
	}

	g.limit(0)
	clk.Step(601 * time.Second)
	testsync.Eventually(t, "the scams hidden once the limit ended, no case left open", func() bool {
		return len(hidesIn(g.Calls())) >= 2+len(wave)-1 && openCasesWith(t, base, "") == 0
	})
	calls := g.Calls()
	if got, want := strings.Join(hidesIn(calls[2:]), ", "), strings.Join(wave, ", "); got != want {
		t.Errorf("hidden once the limit ended: %s, want %s, once each, in order", got, want)
	}
	testsync.Eventually(t, "/-/ready says nothing of the limit once it ended", func() bool {
		code, reasons := daemonReadiness(t, base)
		return code == http.StatusOK && len(reasons) == 0
	})
}

// TestGraphRateLimitLiftedEarlyKeepsOrder: Meta said the Page may call
// again in 10 minutes, and lifts the limit after 5; a scam that comes then
// waits for those the limit left, and is hidden after them, in the order
// the comments came. Before, the new scam's hide was sent at once, carried
// out before those that had waited, and only then were they carried out.
func TestGraphRateLimitLiftedEarlyKeepsOrder(t *testing.T) {
	clk, g := graphOnStepClock(t)
	base, _, _ := startDaemonOn(t, clk, g, &deskRecorder{}, nil, hideScams)

	g.limit(10)
	wave := []string{"111_9300000000000001", "222_9300000000000002", "333_9300000000000003"}
	deliverScams(t, base, clk, wave, 7300)
	limited := len(g.Calls())

	g.limit(0)
	clk.Step(5 * time.Minute)
	const later = "444_9300000000000004"
	deliverSigned(t, base, commentOnPost("444", later, "7399", "CRYPTO encore", clk.Now().Add(-time.Second).Unix()))
	// Judged while the limit holds, not as its end is carried out (an
	// action then waits a minute more of the clock, which this test does
	// not step): a delivery is judged after its answer.
	testsync.Eventually(t, "the later scam's case", func() bool { return openCasesWith(t, base, handlersLongLimit) == len(wave)+1 })
	clk.Step(5*time.Minute + time.Second)
	testsync.Eventually(t, "every scam hidden, no case left open", func() bool {
		return len(hidesIn(g.Calls()[limited:])) >= len(wave)+1 && openCasesWith(t, base, "") == 0
	})
	want := append(append([]string{}, wave...), later)
	if got := hidesIn(g.Calls()[limited:]); strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("hidden: %s, want %s: those that waited first, in order", strings.Join(got, ", "), strings.Join(want, ", "))
	}
}

// TestGraphRateLimitResumedAtItsEnd: vigie, on Redis, stops while Meta
// limits the Page's calls for 10 minutes, and is started again two minutes
// later; no comment comes. It knows the limit and its end (/-/ready says
// it), sends nothing while it lasts, and hides the scams the limit left as
// soon as its time is past. Before, the new vigie knew nothing of the
// limit: it asked Meta a minute after its start, in the limit, which
// answered with the limit again, and the scams stayed up past its end.
func TestGraphRateLimitResumedAtItsEnd(t *testing.T) {
	env := redisEnv(t, "limit-resume")
	clk, g := graphOnStepClock(t)
	base, _, stop := startDaemonOn(t, clk, g, &deskRecorder{}, env, hideScams)
	g.limit(10)
	wave := []string{"111_9400000000000001", "222_9400000000000002"}
	deliverScams(t, base, clk, wave, 7400)
	stop()
	before := len(g.Calls())

	end := clk.Now().Add(10 * time.Minute)
	clk.Step(2 * time.Minute)
	base, _, _ = startDaemonOn(t, clk, g, &deskRecorder{}, env, hideScams)
	said := "meta actions: rate limited until " + end.UTC().Format("15:04 UTC") + ", 2 actions left as cases"
	testsync.Eventually(t, "/-/ready saying the limit known, and its end: "+said, func() bool {
		_, b := daemonGet(t, base+"/-/ready")
		return strings.Contains(string(b), said)
	})
	clk.Step(time.Minute)
	clk.Step(5 * time.Minute)
	g.limit(0)
	clk.Step(2*time.Minute + time.Second) // 10 minutes and a second after the limit began
	testsync.Eventually(t, "the scams hidden at the limit's end, no case left open", func() bool {
		return len(hidesIn(g.Calls()[before:])) >= len(wave) && openCasesWith(t, base, "") == 0
	})
	if calls := g.Calls()[before:]; strings.Join(hidesIn(calls), ", ") != strings.Join(wave, ", ") || len(calls) != len(wave) {
		t.Errorf("Graph calls after the restart: %s, want the hides of %s, in order, and no call during the limit", callsText(calls), strings.Join(wave, ", "))
	}
}

// TestGraphRateLimitSharedByInstances: two vigies behind one address, on
// one Redis. The limit Meta answered one of them is known to the other,
// which sends nothing while it lasts; when its time is past, one call of
// the two asks whether it is over. Before, each instance met the limit on
// its own, calling Meta during it, and each asked at its end.
func TestGraphRateLimitSharedByInstances(t *testing.T) {
	env := redisEnv(t, "limit-shared")
	clk, g := graphOnStepClock(t)
	desk := &deskRecorder{}
	a, aLogs, _ := startDaemonOn(t, clk, g, desk, env, hideScams)
	b, bLogs, _ := startDaemonOn(t, clk, g, desk, env, hideScams)

	g.limit(10)
	sent := clk.Now().Add(-time.Minute).Unix()
	wave := []string{"111_9500000000000001", "222_9500000000000002", "333_9500000000000003"}
	for i, cid := range wave {
		to := a
		if i > 0 {
			to = b
		}
		deliverScam(t, to, cid, 7500+i, sent+int64(i))
		testsync.Eventually(t, "the scam's case", func() bool { return openCasesWith(t, a, handlersLongLimit) == i+1 })
	}
	if calls := g.Calls(); len(calls) != 1 {
		t.Errorf("%d Graph calls while Meta limits the Page (%s), want 1: the other instance knows the limit", len(calls), callsText(calls))
	}

	clk.Step(601 * time.Second)
	testsync.Eventually(t, "a call asking whether the limit is over, answered", func() bool {
		return len(g.Calls()) >= 2 && strings.Contains(aLogs.String()+bLogs.String(), "rate limit not over: the platform asked to wait again")
	})
	if calls := g.Calls(); len(calls) != 2 {
		t.Errorf("%d Graph calls once the limit's time was past, Meta limiting still (%s), want 2: one asked, for both instances", len(calls), callsText(calls))
	}

	g.limit(0)
	clk.Step(601 * time.Second)
	testsync.Eventually(t, "the scams hidden once the limit ended, no case left open", func() bool {
		return len(hidesIn(g.Calls()[2:])) >= len(wave) && openCasesWith(t, a, "") == 0
	})
	if got, want := strings.Join(hidesIn(g.Calls()[2:]), ", "), strings.Join(wave, ", "); got != want {
		t.Errorf("hidden once the limit ended: %s, want %s, once each, in order", got, want)
	}
	if n := desk.told("Meta limits vigie's calls"); n != 1 {
		t.Errorf("the desk told of the limit %d times, want once", n)
	}
	_ = b
}

// handlersLongLimit is how the case of an action a long limit left reads:
// the retry stage's note after Meta's refusal.
const handlersLongLimit = "(platform asks to wait "
