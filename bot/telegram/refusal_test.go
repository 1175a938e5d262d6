package telegram

import (
	"testing"

	"github.com/vigie-bot/vigie/bot"
)

// TestRefusalWords: each refusal of Telegram's vigie knows reads in a CM's
// words, by the action refused, Telegram's answer in brackets; another
// keeps Telegram's text.
func TestRefusalWords(t *testing.T) {
	for _, tc := range []struct {
		op   bot.ActionKind
		err  *APIError
		want string
	}{
		{bot.ActDelete, &APIError{Method: "deleteMessage", Code: 400, Description: "Bad Request: not enough rights to delete a message"},
			"Telegram refused: vigie lacks the Delete messages right in this group: make it an administrator with it [telegram 400: not enough rights to delete a message]"},
		{bot.ActTimeout, &APIError{Method: "restrictChatMember", Code: 400, Description: "Bad Request: user is an administrator of the chat"},
			"Telegram refused: the member is an administrator of the group, out of vigie's reach: the group's owner can take their rights away first [telegram 400: user is an administrator of the chat]"},
		{bot.ActDelete, &APIError{Method: "deleteMessage", Code: 400, Description: "Bad Request: message can't be deleted"},
			"Telegram refused: vigie cannot delete this message: it lacks the Delete messages right, or the message is older than 48 hours [telegram 400: message can't be deleted]"},
		{bot.ActDelete, &APIError{Method: "deleteMessage", Code: 400, Description: "Bad Request: message to delete not found"},
			"Telegram refused: the message is already gone (deleted by its author or an administrator) [telegram 400: message to delete not found]"},
		{bot.ActBan, &APIError{Method: "banChatMember", Code: 403, Description: "Forbidden: bot was kicked from the supergroup chat"},
			"Telegram refused: vigie was removed from the group: add it back as an administrator [telegram 403: bot was kicked from the supergroup chat]"},
		{bot.ActBan, &APIError{Method: "banChatMember", Code: 429, Description: "Too Many Requests: retry after 30"},
			"Telegram refused: vigie's calls are limited for now (too many at once): the case stays open on the desk [telegram 429: retry after 30]"},
		{bot.ActBan, &APIError{Method: "banChatMember", Code: 400, Description: "Bad Request: PARTICIPANT_ID_INVALID"},
			"Telegram refused: the member is not in the group (they left, or their account was deleted) [telegram 400: PARTICIPANT_ID_INVALID]"},
		{bot.ActBan, &APIError{Method: "banChatMember", Code: 403, Description: "Forbidden: bot is not a member of the supergroup chat"},
			"Telegram refused: vigie is not in the group any more (removed, or the group deleted): add it back as an administrator [telegram 403: bot is not a member of the supergroup chat]"},
		{bot.ActDelete, &APIError{Method: "deleteMessage", Code: 400, Description: "Bad Request: chat not found"},
			"Telegram refused: vigie is not in the group any more (removed, or the group deleted): add it back as an administrator [telegram 400: chat not found]"},
		{bot.ActBan, &APIError{Method: "banChatMember", Code: 400, Description: "Bad Request: can't remove chat owner"},
			"Telegram refused: the member owns the group: no one can ban or mute them [telegram 400: can't remove chat owner]"},
		{bot.ActWarn, &APIError{Method: "sendMessage", Code: 403, Description: "Forbidden: bot can't initiate conversation with a user"},
			"Telegram refused: the member never opened a private chat with vigie, and Telegram lets a bot write only to those who did [telegram 403: bot can't initiate conversation with a user]"},
		{bot.ActWarn, &APIError{Method: "sendMessage", Code: 403, Description: "Forbidden: bot was blocked by the user"},
			"Telegram refused: the member blocked vigie in their private chat [telegram 403: bot was blocked by the user]"},
		{bot.ActTimeout, &APIError{Method: "restrictChatMember", Code: 400, Description: "Bad Request: method is available only for supergroups"},
			"Telegram refused: Telegram allows this only in supergroups, and this group is a basic one: it becomes a supergroup once made public, or given more rights in its settings [telegram 400: method is available only for supergroups]"},
		{bot.ActBan, &APIError{Method: "banChatMember", Code: 400, Description: "Bad Request: USER_ID_INVALID"},
			"ban: telegram banChatMember: Bad Request: USER_ID_INVALID (400)"},
	} {
		if got := bot.RefusalWords(&bot.ActionError{Op: tc.op, Err: tc.err}); got != tc.want {
			t.Errorf("%s refused %q:\n got %q\nwant %q", tc.op, tc.err.Description, got, tc.want)
		}
	}
}
