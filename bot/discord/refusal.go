package discord

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// PlainRefusal says Discord's known refusals of op in a CM's words, its
// code in brackets (bot.PlainRefusal); "" for the others, whose raw text
// the card keeps. The permission each route needs is Discord's: Create
// Guild Ban Ban Members, Remove Guild Member Kick Members, a timeout
// (communication_disabled_until) Moderate Members, Delete Message Manage
// Messages; a member at or above vigie's highest role is out of reach of
// all three whatever its permissions.
func (e *APIError) PlainRefusal(op bot.ActionKind) string {
	var s string
	switch {
	case e.Code == codeMissingPermissions:
		s = "vigie lacks " + permissionFor(op)
	case e.Code == codeMissingAccess:
		s = "vigie cannot see this channel: give its role View Channel there"
	case e.Code == codeUnknownMember:
		s = "the member is no longer in the server"
	case e.Code == codeUnknownMessage:
		s = "the message is already gone (deleted by its author or a moderator)"
	case e.Code == codeUnknownChannel:
		s = "the channel is gone (deleted), and its messages with it"
	case e.Code == codeUnknownUser:
		s = "the member's account no longer exists"
	case e.Code == codeCannotDMUser:
		s = "the member takes no direct messages from vigie (their privacy settings, or they left every server vigie shares with them)"
	case e.Code == codeSystemMessage:
		s = "this is a system message (a join, a boost, a pin's notice), which Discord lets no bot act on: act on the member instead, or by hand"
	case e.Code == codeBulkDeleteTooOld:
		s = "Discord deletes in bulk only messages under 14 days old: delete the older ones one by one"
	case e.Code == codeThreadArchived:
		s = "the thread is archived: open it again to act in it"
	case e.Status == http.StatusTooManyRequests:
		s = "vigie's calls are limited for now (too many at once): the case stays open on the desk"
	default:
		return ""
	}
	code := e.Code
	if code == 0 {
		code = e.Status
	}
	return refused(s, code)
}

// permissionFor names the permission op needs, and where, for a refusal
// of a missing permission.
func permissionFor(op bot.ActionKind) string {
	if p, ok := actionPermissions[op]; ok {
		return "the " + permissionName(p.perm) + " permission" + p.where
	}
	return "a permission this needs here (Server Settings → Roles)"
}

// explained is Discord's refusal of an action that the state explains:
// why says, in a CM's words, what stands in the way and what to do. Its
// text is err's, which says why before Discord's answer.
type explained struct {
	why  string
	code int
	err  error
}

func (e *explained) Error() string { return e.err.Error() }
func (e *explained) Unwrap() error { return e.err }

// PlainRefusal is why, Discord's code in brackets (bot.PlainRefusal).
func (e *explained) PlainRefusal(bot.ActionKind) string {
	return refused(e.why, e.code)
}

// refused is words with Discord's code, as a card says them (bot.Refused).
func refused(words string, code int) string {
	return bot.Refused("Discord", words, "discord "+strconv.Itoa(code))
}

// rateLimited is Discord's 429 as discordgo hands it: on path, to be
// tried again after a while.
type rateLimited struct {
	path  string
	after time.Duration
}

func (e *rateLimited) Error() string {
	return fmt.Sprintf("discord: rate limited on %s, retry after %s", e.path, e.after)
}

// PlainRefusal says it in a CM's words (bot.PlainRefusal).
func (e *rateLimited) PlainRefusal(op bot.ActionKind) string {
	return (&APIError{Status: http.StatusTooManyRequests}).PlainRefusal(op)
}
