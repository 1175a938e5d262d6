package meta_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
)

// TestLostReplyFoundUnderBusyComment: Meta posts vigie's public reply and
// the answer is lost; before posting it again, vigie reads the replies under
// the comment for its own. Under a busy comment it is not on the first page
// Graph gives (Instagram's oldest first; on Facebook, the newest first,
// others replied since): the pages after it are read, following
// paging.cursors.after, and the reply is not posted twice. Past a few pages,
// vigie does not post on a guess: a case says to look.
func TestLostReplyFoundUnderBusyComment(t *testing.T) {
	const (
		fbCID = "987654321098765_1122334455667788" // fb_comment_add.json
		igCID = "17865799348089039"                // ig_comment.json
	)
	tests := []struct {
		name, fixture, cid, path string
		sent                     time.Time
		// others replied before vigie's reply (negative), or after it.
		others int
		after  bool
		// posted is how many replies of vigie's the comment has at the end;
		// caseSays, when set, is in the reason of the case opened.
		posted   int
		caseSays string
	}{
		{"instagram, found on the second page", "ig_comment.json", igCID, "/" + igCID + "/replies", igCommentSent, 150, false, 1, ""},
		{"facebook, found on the second page", "fb_comment_add.json", fbCID, "/" + fbCID + "/comments", fbCommentAddSent, 150, true, 1, ""},
		{"instagram, past the pages read", "ig_comment.json", igCID, "/" + igCID + "/replies", igCommentSent, 900, false, 1, "may have been posted"},
		{"facebook, past the pages read", "fb_comment_add.json", fbCID, "/" + fbCID + "/comments", fbCommentAddSent, 900, true, 1, "may have been posted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.sent.Add(time.Minute)
			p := newPipelineWith(t, now, "timezone: Europe/Paris\nrules:\n  - name: act\n    when: author.id != \"42\"\n    do: ['reply(\"Merci, nous regardons.\")']\n")
			p.h.graph.now = func() time.Time { return now }
			from := now.Add(-2 * time.Hour)
			if tt.after {
				from = now.Add(time.Second)
			}
			p.h.graph.othersReply(tt.cid, tt.others, from)
			p.h.graph.dropAnswerNext("POST", tt.path)
			p.deliver(t, fixture(t, tt.fixture))
			if n := len(p.h.graph.repliesUnder(tt.cid)); n != tt.posted {
				t.Errorf("%d replies of the Page under the comment, want %d", n, tt.posted)
			}
			reads := p.callsTo("GET", tt.path)
			if len(reads) < 2 {
				t.Errorf("%d pages of replies read, want the next ones too", len(reads))
			}
			if len(reads) > 5 {
				t.Errorf("%d pages of replies read, want 5 at most", len(reads))
			}
			for _, r := range reads {
				if r.Params.Get("access_token") != "" {
					t.Errorf("paging.next followed with the token in its URL: %v", r.Params)
				}
			}
			cs, err := p.store.Cases(context.Background(), store.CaseOpen)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.caseSays == "" && len(cs) > 0:
				t.Errorf("case opened: %s", cs[0].Reason)
			case tt.caseSays != "" && len(cs) != 1:
				t.Errorf("%d cases, want one saying %q", len(cs), tt.caseSays)
			case tt.caseSays != "" && !strings.Contains(cs[0].Reason, tt.caseSays):
				t.Errorf("case reason %q, want it to say %q", cs[0].Reason, tt.caseSays)
			}
		})
	}
}
