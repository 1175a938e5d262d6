package meta_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// A visitor asks the opening hours under a post and deletes the question
// before vigie answers it (Meta sends the removal, verb remove, and refuses
// a reply under it: code 100, subcode 33). No one can see the question any
// more: there is nothing to answer, and no case for the desk. Asked and
// deleted again and again (from one account or several), it would
// otherwise leave the CMs a case each time.
func TestFAQQuestionRemovedBeforeTheAnswerIsNoCase(t *testing.T) {
	g := newFakeGraph(t)
	base, logs := startFAQDaemon(t, g)
	now := time.Now().Unix()
	for i := range 3 {
		cid := fmt.Sprintf("779_%d", i+1)
		g.mu.Lock()
		g.gone[cid] = true
		g.mu.Unlock()
		author := fmt.Sprint(6201 + i)
		// Meta's removal first: the question's own delivery was late
		// (tried again by Meta, or queued behind others)
		deliverSigned(t, base, removedComment("779", cid, author, now-59+int64(i)))
		deliverSigned(t, base, commentOnPost("779", cid, author, "Bonjour, quels sont vos horaires ?", now-60+int64(i)))
	}
	// each question ends in one of these: answered (or nothing left to
	// answer), or a case opened or grown
	testsync.Eventually(t, "the three questions carried", func() bool {
		l := logs.String()
		return strings.Count(l, `msg="faq answered"`)+strings.Count(l, `msg="faq: nothing to answer"`)+
			strings.Count(l, `msg="case opened"`)+strings.Count(l, `msg="hit added to a case"`) >= 3
	})
	if n := openCasesWith(t, base, "faq"); n != 0 {
		_, b := daemonGet(t, base+"/v1/cases?status=open")
		t.Fatalf("%d cases for questions their author removed: %s", n, b)
	}
	if n := strings.Count(logs.String(), "removed on Facebook before vigie's reply"); n != 3 {
		t.Fatalf("the log says %d times that the question was removed before the reply, want 3:\n%s", n, logs.String())
	}
}

// removedComment is the Page's webhook delivery of the removal of comment
// cid on post post by its author.
func removedComment(post, cid, author string, at int64) []byte {
	return []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":%d,"changes":[{"field":"feed","value":`+
		`{"item":"comment","verb":"remove","comment_id":"%s","post_id":"%s_%s","parent_id":"%s_%s",`+
		`"from":{"id":"%s","name":"%s"},"created_time":%d}}]}]}`,
		pageID, at, cid, pageID, post, pageID, post, author, author, at))
}
