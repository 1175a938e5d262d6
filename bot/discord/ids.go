package discord

import (
	"fmt"

	"github.com/vigie-bot/vigie/bot"
)

// An event posted over HTTP carries ids that vigie puts into Discord's REST
// paths as they are: an author id "../.." or "123?x=" would call another
// endpoint than the one meant, or with a query of the poster's. The gateway's
// ids are Discord's own; the others are checked, at /v1/events and again
// before any call.

// CheckIDs reports the first of ev's ids that would go into a path of
// Discord's and is not a Discord id (a snowflake: digits only), naming its
// field as the event JSON does. Empty ids are left to the actions, which
// say what they lack; the id of a join or profile event is vigie's own and
// names no message.
func CheckIDs(ev bot.Event) error {
	if err := placeIDs(ev); err != nil {
		return err
	}
	if namesMessage(ev.Kind) {
		if id := messageID(ev); id != "" && !isSnowflake(id) {
			return badID("id", ev.ID)
		}
	}
	return nil
}

// placeIDs is CheckIDs for the guild, channel, thread and author, which
// every action puts into its path: an event of vigie's own (an alert's
// lockdown, a moderator's command) has an id of its own making.
func placeIDs(ev bot.Event) error {
	fields := [...]struct{ name, value string }{
		{"space", ev.Space},
		{"channel", ev.Channel},
		{"thread", ev.Thread},
		{"author.id", ev.Author.ID},
	}
	for _, f := range fields {
		if f.value != "" && !isSnowflake(f.value) {
			return badID(f.name, f.value)
		}
	}
	return nil
}

var _ bot.IDChecker = (*Client)(nil)

// CheckIDs is the package's CheckIDs, for the daemon's /v1/events.
func (c *Client) CheckIDs(ev bot.Event) error { return CheckIDs(ev) }

// namesMessage reports whether an event of kind k has a Discord message's
// id as its id (before an "@", for an edit).
func namesMessage(k bot.Kind) bool {
	return k != bot.KindJoin && k != bot.KindProfile
}

func badID(field, value string) error {
	if r := []rune(value); len(r) > 40 {
		value = string(r[:40]) + "…"
	}
	return fmt.Errorf("%s %q is not a Discord id (digits only)", field, value)
}

// checkIDs refuses, as an action's error not worth retrying, an event
// whose guild, channel, thread or author is not a Discord id.
func checkIDs(op bot.ActionKind, ev bot.Event) error {
	if err := placeIDs(ev); err != nil {
		return refusedIDs(op, err)
	}
	return nil
}

// checkMessageID is checkIDs for an action on the event's message, whose
// id goes into the path too.
func checkMessageID(op bot.ActionKind, ev bot.Event) error {
	if err := placeIDs(ev); err != nil {
		return refusedIDs(op, err)
	}
	if id := messageID(ev); id != "" && !isSnowflake(id) {
		return refusedIDs(op, badID("id", ev.ID))
	}
	return nil
}

func refusedIDs(op bot.ActionKind, err error) error {
	return &bot.ActionError{Op: op, Err: fmt.Errorf("discord: event refused: %w", err)}
}
