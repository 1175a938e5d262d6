package meta_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestDeliveriesBeforeTheTokenCheckWaitForIt: without META_PAGE_ID, which
// Page is vigie's is known only once Graph answered the token's first check
// (GET /me). A delivery that comes before is not taken blind: it is
// answered 503, which Meta sends again, and its retry, once Graph said
// which Page the token is, is refused when it is about another Page and
// acted on when it is about vigie's own.
func TestDeliveriesBeforeTheTokenCheckWaitForIt(t *testing.T) {
	g := newFakeGraph(t)
	release := g.holdCalls(t, http.MethodGet, "/me")
	base, logs := startDaemon(t, metaEnv(g))
	testsync.Eventually(t, "the token's check asked", func() bool {
		for _, c := range g.Calls() {
			if c.Method == "GET" && c.Path == "/me" {
				return true
			}
		}
		return false
	})

	ours := restamp(fixture(t, "fb_comment_add.json"), time.Since(fbCommentAddSent))
	const oursCid, otherCid = "987654321098765_1122334455667788", "987654321098765_1122334455669999"
	other := bytes.ReplaceAll(bytes.ReplaceAll(ours, []byte(pageID), []byte("555000555000555")), []byte(oursCid), []byte(otherCid))
	otherEarly, oursEarly := deliverStatus(t, base, other), deliverStatus(t, base, ours)

	release()
	testsync.Eventually(t, "the page token's Page known", func() bool {
		return bytes.Contains([]byte(logs.String()), []byte("the page token is the Page's"))
	})
	// Meta's retries.
	deliverSigned(t, base, other)
	deliverSigned(t, base, ours)
	testsync.Eventually(t, "the Page's own insult hidden", func() bool { return hidesOf(g, oursCid) == 1 })
	if otherEarly != http.StatusServiceUnavailable || oursEarly != http.StatusServiceUnavailable || hidesOf(g, otherCid) != 0 {
		t.Errorf("before Graph said which Page the token is: another Page's insult answered %d, the Page's own %d, "+
			"and the other's hidden %d times; want both 503 (sent again by Meta), the other never hidden",
			otherEarly, oursEarly, hidesOf(g, otherCid))
	}
}

// TestOtherInstagramAccountsRefusedWithoutInstagramID: an app subscribed to
// several Instagram accounts gets all their deliveries, signed alike.
// Without META_INSTAGRAM_ID, vigie asks Graph which account the Page is
// linked to (GET /{page-id}?fields=instagram_business_account) and leaves
// the other accounts' comments alone.
func TestOtherInstagramAccountsRefusedWithoutInstagramID(t *testing.T) {
	g := newFakeGraph(t)
	base, logs := startDaemon(t, metaEnv(g))
	// The linked account is read before the Page's subscription.
	waitTokenChecked(t, g)

	const oursCid, otherCid = "17865799348089039", "17865799348089777"
	ours := bytes.ReplaceAll(restamp(fixture(t, "ig_comment.json"), time.Since(igCommentSent)),
		[]byte("quels sont vos horaires ?"), []byte("vous êtes des escrocs"))
	other := bytes.ReplaceAll(bytes.ReplaceAll(ours, []byte(igID), []byte("17841400000000001")), []byte(oursCid), []byte(otherCid))
	deliverSigned(t, base, other)
	refused := bytes.Contains([]byte(logs.String()), []byte("Meta entry for another Instagram account than the Page's refused"))
	deliverSigned(t, base, ours)
	testsync.Eventually(t, "the account's own insult hidden", func() bool { return hidesOf(g, oursCid) == 1 })
	if !refused || hidesOf(g, otherCid) != 0 {
		t.Errorf("another account's insulting comment: refused as it came %v, hidden %d times; want it refused, never hidden",
			refused, hidesOf(g, otherCid))
	}
}

// TestInstagramAccountReadAgainSoonAfterNoAnswer: the read of the Page's
// linked Instagram account that got no answer (the connection lost) is made
// again within seconds, not at the token's next check a quarter of an hour
// later; meanwhile the log says every account's deliveries are taken, and
// once it is read another account's are refused again.
func TestInstagramAccountReadAgainSoonAfterNoAnswer(t *testing.T) {
	g := newFakeGraph(t)
	// Lost twice: Go's client sends a GET again once on a new connection.
	g.dropAnswerNext(http.MethodGet, "/"+pageID)
	g.dropAnswerNext(http.MethodGet, "/"+pageID)
	base, logs := startDaemon(t, metaEnv(g))
	waitTokenChecked(t, g)
	if !strings.Contains(logs.String(), "deliveries about every Instagram account are taken until it is") {
		t.Errorf("the account's read lost: the log does not say what is taken meanwhile:\n%s", logs.String())
	}
	testsync.Eventually(t, "the Page's Instagram account read again", func() bool {
		return strings.Contains(logs.String(), "the Page's Instagram account is the one linked to it")
	})

	const oursCid, otherCid = "17865799348089039", "17865799348089777"
	ours := bytes.ReplaceAll(restamp(fixture(t, "ig_comment.json"), time.Since(igCommentSent)),
		[]byte("quels sont vos horaires ?"), []byte("vous êtes des escrocs"))
	other := bytes.ReplaceAll(bytes.ReplaceAll(ours, []byte(igID), []byte("17841400000000001")), []byte(oursCid), []byte(otherCid))
	deliverSigned(t, base, other)
	deliverSigned(t, base, ours)
	testsync.Eventually(t, "the account's own insult hidden", func() bool { return hidesOf(g, oursCid) == 1 })
	if hidesOf(g, otherCid) != 0 {
		t.Errorf("another account's insulting comment hidden %d times after the account was read again; want never", hidesOf(g, otherCid))
	}
}

// TestReloadKeepsWhatTheTokenCheckLearned: a reload (a rule changed, the
// page token file read again and unchanged) does not make vigie forget
// which Page its token is: with Graph not answering any check since,
// another Page's delivery is still refused at once and the Page's own is
// taken, both answered 200, none sent back to Meta's retries.
func TestReloadKeepsWhatTheTokenCheckLearned(t *testing.T) {
	g := newFakeGraph(t)
	base, logs, _ := startWithPageTokenFile(t, g)
	waitTokenChecked(t, g)
	g.holdCalls(t, http.MethodGet, "/me")
	reloadDaemon(t, base)

	ours := restamp(fixture(t, "fb_comment_add.json"), time.Since(fbCommentAddSent))
	const oursCid, otherCid = "987654321098765_1122334455667788", "987654321098765_1122334455669999"
	other := bytes.ReplaceAll(bytes.ReplaceAll(ours, []byte(pageID), []byte("555000555000555")), []byte(oursCid), []byte(otherCid))
	otherStatus, oursStatus := deliverStatus(t, base, other), deliverStatus(t, base, ours)
	testsync.Eventually(t, "the Page's own insult hidden", func() bool { return hidesOf(g, oursCid) == 1 })
	refused := strings.Contains(logs.String(), "Meta entry for another Page than the page token's refused")
	if otherStatus != http.StatusOK || oursStatus != http.StatusOK || !refused || hidesOf(g, otherCid) != 0 {
		t.Errorf("after a reload, Graph not answering: another Page's insult answered %d (refused %v, hidden %d times), the Page's own %d; "+
			"want both 200, the other refused and never hidden", otherStatus, refused, hidesOf(g, otherCid), oursStatus)
	}
}
