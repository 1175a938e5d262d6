package meta_test

import (
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/meta"
)

// TestRefusalWords: each refusal of Meta's vigie knows reads in a CM's
// words, by the action refused, Graph's code in brackets; another keeps
// Graph's text.
func TestRefusalWords(t *testing.T) {
	for _, tc := range []struct {
		op   bot.ActionKind
		err  *meta.GraphError
		want string
	}{
		{bot.ActHide, &meta.GraphError{Status: 403, Code: 200, Type: "OAuthException", Message: "(#200) Requires pages_manage_engagement permission to manage the object"},
			"Meta refused: vigie's app lacks the permission to hide comments: grant it pages_manage_engagement (Facebook) or instagram_manage_comments (Instagram), then renew META_PAGE_TOKEN [graph 200]"},
		{bot.ActReply, &meta.GraphError{Status: 400, Code: 10, Subcode: 2018278, Type: "OAuthException", Message: "(#10) This message is sent outside of allowed window."},
			"Meta refused: Meta allows an answer in a conversation only within 24 hours of the person's last message: it is too late [graph 10/2018278]"},
		{bot.ActWarn, &meta.GraphError{Status: 400, Code: 10900, Type: "OAuthException", Message: "(#10900) Activity already replied to"},
			"Meta refused: Meta allows one private reply to each comment, and it was sent already [graph 10900]"},
		{bot.ActHide, &meta.GraphError{Status: 400, Code: 368, Type: "OAuthException", Message: "(#368) The action attempted has been deemed abusive or is otherwise disallowed"},
			"Meta refused: Meta has blocked the Page from doing this for a while (it judged its recent actions against its policies): see the Page's Support Inbox [graph 368]"},
		{bot.ActWarn, &meta.GraphError{Status: 400, Code: 551, Type: "OAuthException", Message: "(#551) This person isn't available right now."},
			"Meta refused: the person cannot be reached (they blocked the Page, or closed their account) [graph 551]"},
		{bot.ActBan, &meta.GraphError{Status: 400, Code: 100, Subcode: 2018001, Type: "OAuthException", Message: "(#100) No matching user found"},
			"Meta refused: Meta knows no such person for the Page (their account is gone) [graph 100/2018001]"},
		{bot.ActHide, &meta.GraphError{Status: 500, Code: 2, Transient: true, Type: "OAuthException", Message: "Service temporarily unavailable"},
			"Meta refused: Meta's servers failed (a passing trouble on Meta's side): try again in a while [graph 2]"},
		{bot.ActHide, &meta.GraphError{Status: 400, Code: 100, Type: "OAuthException", Message: "(#100) Invalid parameter"},
			"hide: graph api: (#100) Invalid parameter (HTTP 400, code 100)"},
	} {
		if got := bot.RefusalWords(&bot.ActionError{Op: tc.op, Err: tc.err}); got != tc.want {
			t.Errorf("%s refused %d/%d:\n got %q\nwant %q", tc.op, tc.err.Code, tc.err.Subcode, got, tc.want)
		}
	}
}
