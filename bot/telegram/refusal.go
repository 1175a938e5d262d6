package telegram

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/vigie-bot/vigie/bot"
)

// PlainRefusal says Telegram's known refusals of op in a CM's words,
// Telegram's code and description in brackets (bot.PlainRefusal); "" for
// the others, whose raw text the card keeps. A bot acts on members and
// others' messages only as an administrator of the group with the right
// for it (banChatMember and restrictChatMember: can_restrict_members, the
// app's "Ban users"; deleteMessage: can_delete_messages, "Delete
// messages", and the message sent less than 48 hours ago); it can
// restrict no administrator of the group.
func (e *APIError) PlainRefusal(op bot.ActionKind) string {
	d := strings.ToLower(e.Description)
	var s string
	switch {
	case e.Code == http.StatusForbidden && strings.Contains(d, "bot was kicked"):
		s = "vigie was removed from the group: add it back as an administrator"
	case e.Code == http.StatusTooManyRequests:
		s = "vigie's calls are limited for now (too many at once): the case stays open on the desk"
	case lacksRight(e):
		s = "vigie lacks " + rightFor(op)
	case strings.Contains(d, "user is an administrator of the chat"):
		s = "the member is an administrator of the group, out of vigie's reach: the group's owner can take their rights away first"
	case strings.Contains(d, "message can't be deleted"):
		s = "vigie cannot delete this message: it lacks the Delete messages right, or the message is older than 48 hours"
	case strings.Contains(d, "message to delete not found"):
		s = "the message is already gone (deleted by its author or an administrator)"
	case op == bot.ActWarn && strings.Contains(d, "chat not found"),
		strings.Contains(d, "bot can't initiate conversation"):
		s = "the member never opened a private chat with vigie, and Telegram lets a bot write only to those who did"
	case e.Code == http.StatusForbidden && strings.Contains(d, "bot is not a member"),
		strings.Contains(d, "chat not found"):
		s = "vigie is not in the group any more (removed, or the group deleted): add it back as an administrator"
	case strings.Contains(d, "can't remove chat owner"), strings.Contains(d, "can't restrict chat owner"):
		s = "the member owns the group: no one can ban or mute them"
	case strings.Contains(d, "participant_id_invalid"), strings.Contains(d, "user not found"), strings.Contains(d, "user_not_participant"):
		s = "the member is not in the group (they left, or their account was deleted)"
	case strings.Contains(d, "bot was blocked by the user"):
		s = "the member blocked vigie in their private chat"
	case strings.Contains(d, "user is deactivated"):
		s = "the member's account was deleted"
	case strings.Contains(d, "method is available only for supergroups"):
		s = "Telegram allows this only in supergroups, and this group is a basic one: it becomes a supergroup once made public, or given more rights in its settings"
	default:
		return ""
	}
	desc := e.Description
	if _, rest, ok := strings.Cut(desc, ": "); ok {
		// "Bad Request: ", "Forbidden: ": the code says it
		desc = rest
	}
	return bot.Refused("Telegram", s, fmt.Sprintf("telegram %d: %s", e.Code, desc))
}

// rightFor names the administrator's right op needs in a group, for a
// refusal of "not enough rights".
func rightFor(op bot.ActionKind) string {
	switch op {
	case bot.ActBan, bot.ActKick, bot.ActTimeout:
		return "the Ban users right in this group: make it an administrator with it"
	case bot.ActDelete:
		return "the Delete messages right in this group: make it an administrator with it"
	}
	return "an administrator's right this needs in this group"
}
