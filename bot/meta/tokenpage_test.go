package meta_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestOtherPagesEntriesRefusedWithoutPageID: an app subscribed to several
// Pages (an agency's, a group's) gets every Page's deliveries, signed alike.
// Without META_PAGE_ID, vigie takes the Page its token is (GET /me, asked
// as it starts) for its own, and leaves the other Pages' comments alone: it
// is not theirs to hide, answer, count against their visitors or show on its
// desk.
func TestOtherPagesEntriesRefusedWithoutPageID(t *testing.T) {
	g := newFakeGraph(t)
	base, logs := startDaemon(t, metaEnv(g))
	// The token's Page is known once its subscription is asked for, which
	// follows the answer of GET /me.
	waitTokenChecked(t, g)

	ours := restamp(fixture(t, "fb_comment_add.json"), time.Since(fbCommentAddSent))
	const oursCid, otherCid = "987654321098765_1122334455667788", "987654321098765_1122334455669999"
	other := bytes.ReplaceAll(bytes.ReplaceAll(ours, []byte(pageID), []byte("555000555000555")), []byte(oursCid), []byte(otherCid))
	deliverSigned(t, base, other)
	// An entry is taken or refused before the delivery is answered.
	refused := bytes.Contains([]byte(logs.String()), []byte("Meta entry for another Page than the page token's refused"))
	deliverSigned(t, base, ours)
	testsync.Eventually(t, "the Page's own insult hidden", func() bool { return hidesOf(g, oursCid) == 1 })
	if !refused || hidesOf(g, otherCid) != 0 {
		t.Errorf("another Page's insulting comment: refused as it came %v, hidden %d times; want it refused, never hidden",
			refused, hidesOf(g, otherCid))
	}
}
