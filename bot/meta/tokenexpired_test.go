package meta_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestDaemonTellsOfAnExpiredPageToken: the page token expires in the night
// (Graph answers code 190 to every call). The insult that could not be hidden
// becomes a case saying to renew META_PAGE_TOKEN, and vigie does not stay
// ready as if all were well: /-/ready names Meta's token, vigie_source_up is 0
// and one error is logged, however many comments fail. Once Graph takes the
// token again, the next hide goes through and vigie is ready.
func TestDaemonTellsOfAnExpiredPageToken(t *testing.T) {
	g := newFakeGraph(t)
	base, logs := startDaemon(t, metaEnv(g))
	get := func(path string) (int, []byte) { t.Helper(); return daemonGet(t, base+path) }
	readiness := func() (int, []string) { t.Helper(); return daemonReadiness(t, base) }
	// deliver posts the fixture's comment under the comment id cid, dated now.
	deliver := func(cid string) { t.Helper(); deliverComment(t, base, cid) }
	hides := func(cid string) int { return hidesOf(g, cid) }
	testsync.Eventually(t, "ready before the token expires", func() bool { code, _ := readiness(); return code == http.StatusOK })

	g.expire(true)
	expired := []string{"987654321098765_1000000000000001", "987654321098765_1000000000000002"}
	for _, cid := range expired {
		deliver(cid)
	}
	testsync.Eventually(t, "the hides tried", func() bool { return hides(expired[0]) >= 1 && hides(expired[1]) >= 1 })
	testsync.Eventually(t, "the cases of the hides that failed", func() bool {
		_, b := get("/v1/cases?status=open")
		return strings.Count(string(b), "renew META_PAGE_TOKEN") >= 2
	})
	// The source says it, and so do the actions once three failed (the
	// first comment's hide and warn, the second's hide): the second case can
	// be open before the third failure, so wait for the actions' reason.
	var code int
	var reasons []string
	testsync.Eventually(t, "the actions' reason in /-/ready", func() bool {
		code, reasons = readiness()
		return len(reasons) == 2
	})
	if code != http.StatusServiceUnavailable || len(reasons) != 2 || !strings.HasPrefix(reasons[1], "meta: ") ||
		!strings.Contains(reasons[1], "META_PAGE_TOKEN") ||
		!strings.HasPrefix(reasons[0], "meta actions: failing since ") || !strings.Contains(reasons[0], "META_PAGE_TOKEN") {
		t.Errorf("/-/ready = %d %q, want 503 naming Meta's page token, for the source and the actions", code, reasons)
	}
	if _, b := get("/metrics"); !strings.Contains(string(b), `vigie_source_up{part="events",platform="meta"} 0`) {
		t.Errorf("vigie_source_up for meta is not 0 while the token is refused")
	}
	if n := strings.Count(logs.String(), "Meta refused the page token"); n != 1 || !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("the refused token is logged %d times (want once, as an error)", n)
	}

	// The token is renewed (a token of a longer life put in place on Meta's
	// side): the next hide goes through, and vigie is ready again.
	g.expire(false)
	const later = "987654321098765_1000000000000003"
	deliver(later)
	testsync.Eventually(t, "the hide once the token is taken", func() bool { return hides(later) == 1 })
	testsync.Eventually(t, "ready again", func() bool { code, _ := readiness(); return code == http.StatusOK })
	// Readiness comes back, then the line is logged: wait for it.
	testsync.Eventually(t, "the recovery logged", func() bool { return strings.Contains(logs.String(), "Meta takes the page token again") })
}
