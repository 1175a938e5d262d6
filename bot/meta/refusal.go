package meta

import (
	"fmt"

	"github.com/vigie-bot/vigie/bot"
)

// PlainRefusal says Meta's known refusals of op in a CM's words, Graph's
// code in brackets (bot.PlainRefusal); "" for the others, whose raw text
// the card keeps. Meta's error handling guide: 190, the token expired or
// was revoked, get a new one; 10 and 200-299, a permission not granted or
// taken away; 100 with subcode 33, an object that does not exist or the
// page may not see; 10 with subcode 2018278, an answer past Messenger's
// 24 hours; 10900, a second private reply; 368, the Page blocked for a
// while for its policies; 551, a person who cannot be reached; 1, 2 and
// is_transient, Meta's own passing trouble. Hiding and deleting a page's comments takes
// pages_manage_engagement, an Instagram account's instagram_manage_comments.
func (e *GraphError) PlainRefusal(op bot.ActionKind) string {
	var s string
	switch {
	case e.TokenInvalid():
		s = "vigie's page token has expired or was revoked: renew META_PAGE_TOKEN"
	case e.ProofInvalid():
		s = "vigie's app secret is not the app's any more: set META_APP_SECRET to the App Dashboard's"
	case e.PermissionMissing():
		s = "vigie's app lacks the permission to " + verbOf(op) +
			": grant it pages_manage_engagement (Facebook) or instagram_manage_comments (Instagram), then renew META_PAGE_TOKEN"
	case e.Gone():
		s = "the comment is already gone, or the page may not see it"
	case e.RateLimited():
		s = "vigie's calls are limited for now (too many at once): the case stays open on the desk"
	case e.Code == 10 && e.Subcode == 2018278:
		s = "Meta allows an answer in a conversation only within 24 hours of the person's last message: it is too late"
	case e.AlreadyRepliedPrivately():
		s = "Meta allows one private reply to each comment, and it was sent already"
	case e.Code == 368:
		s = "Meta has blocked the Page from doing this for a while (it judged its recent actions against its policies): see the Page's Support Inbox"
	case e.Code == 551:
		s = "the person cannot be reached (they blocked the Page, or closed their account)"
	case e.Code == 100 && e.Subcode == 2018001:
		s = "Meta knows no such person for the Page (their account is gone)"
	case e.Transient || e.Code == 1 || e.Code == 2 || e.Status >= 500:
		s = "Meta's servers failed (a passing trouble on Meta's side): try again in a while"
	default:
		return ""
	}
	code := fmt.Sprintf("graph %d", e.Code)
	if e.Subcode != 0 {
		code += fmt.Sprintf("/%d", e.Subcode)
	}
	return bot.Refused("Meta", s, code)
}

// verbOf says what op does to a comment, for a refusal of it.
func verbOf(op bot.ActionKind) string {
	switch op {
	case bot.ActHide:
		return "hide comments"
	case bot.ActDelete:
		return "delete comments"
	case bot.ActReply, bot.ActWarn:
		return "answer comments"
	}
	return "do this"
}
