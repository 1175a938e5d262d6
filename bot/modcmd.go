package bot

import (
	"context"
	"time"
)

// ModCommand is a moderator's command given by hand where the members talk
// (/ban in a Telegram group, the /ban slash command on Discord), as
// moderators coming from other bots expect.
type ModCommand string

// The moderators' commands.
const (
	ModBan        ModCommand = "ban"
	ModUnban      ModCommand = "unban"
	ModMute       ModCommand = "mute"
	ModUnmute     ModCommand = "unmute"
	ModKick       ModCommand = "kick"
	ModWarn       ModCommand = "warn"
	ModWarns      ModCommand = "warns"
	ModResetWarns ModCommand = "resetwarns"
	ModDel        ModCommand = "del"
	ModPurge      ModCommand = "purge"
	ModNote       ModCommand = "note"
)

// ModCommandInfo says how a command is written and which right it needs.
type ModCommandInfo struct {
	Command ModCommand
	// Args is its usage after the target: "[DURATION] [REASON]".
	Args  string
	Help  string
	Right ModRight
	// Message says the command is about a message (del), not only its author.
	Message bool
}

// ModRight is the kind of platform right a command needs from the
// moderator; each platform maps it to its own (Telegram's
// can_restrict_members, Discord's BAN_MEMBERS…).
type ModRight string

// The rights the commands need.
const (
	RightBan    ModRight = "ban"
	RightKick   ModRight = "kick"
	RightMute   ModRight = "mute"
	RightDelete ModRight = "delete"
	// RightWarn is for the strikes and notes: a moderator's own records.
	RightWarn ModRight = "warn"
)

// ModCommandList is every command, in the order the help lists them.
var ModCommandList = []ModCommandInfo{
	{ModBan, "[DURATION] [REASON]", "ban the member (for a while with a duration)", RightBan, false},
	{ModUnban, "", "lift the member's ban", RightBan, false},
	{ModMute, "[DURATION]", "mute (time out) the member, 1h by default", RightMute, false},
	{ModUnmute, "", "give the member their voice back", RightMute, false},
	{ModKick, "[REASON]", "remove the member, who may come back", RightKick, false},
	{ModWarn, "[REASON]", "warn the member and give them a strike", RightWarn, false},
	{ModWarns, "", "the member's strikes, cases and notes", RightWarn, false},
	{ModResetWarns, "", "lift the member's strikes", RightWarn, false},
	{ModDel, "", "delete the message", RightDelete, true},
	{ModPurge, "N", "delete the member's last N messages (at most 100)", RightDelete, false},
	{ModNote, "TEXT", "a private note on the member, shown on their cases", RightWarn, false},
}

// ModCommandOf finds a command by name.
func ModCommandOf(name string) (ModCommandInfo, bool) {
	for _, k := range ModCommandList {
		if string(k.Command) == name {
			return k, true
		}
	}
	return ModCommandInfo{}, false
}

// ActsOnMember reports whether command acts on the member or speaks to
// them (a ban, a mute, a kick, a warning, a purge): the platforms stop it
// before it when the member named is vigie itself, or a message's sender no
// member is (a channel's post, an anonymous administrator's).
func ActsOnMember(command ModCommand) bool {
	switch command {
	case ModBan, ModMute, ModKick, ModWarn, ModPurge:
		return true
	}
	return false
}

// MaxPurge bounds /purge.
const MaxPurge = 100

// ModRequest is a moderator's command as a platform read it.
type ModRequest struct {
	Command ModCommand
	// Target is the member's message the command answers; without one (a
	// command naming the member), an event with no ID that names the member
	// (Author) and the place (Platform, Space, Channel).
	Target Event
	// Messages are the member's last messages, newest first, for purge.
	Messages []Event
	// Duration of a ban or a mute; 0 is the default (a ban for good, a 1h mute).
	Duration time.Duration
	// Text is the reason, or the note.
	Text string
	// By is the moderator as in desk.cms ("telegram:123"); ByName their name.
	By, ByName string
	// Private says the answer is for the moderator alone (Discord's
	// ephemeral answers): it may quote the CMs' notes and say who decided
	// the member's cases. Otherwise the members of the place read it too,
	// and it only counts them.
	Private bool
}

// Moderation carries out moderators' commands: through the same actions,
// audit, strikes and reports as the rules' verdicts. The text returned is
// for the moderator; an error says the command was not carried out, and the
// text then says why in their words.
type Moderation interface {
	Moderate(ctx context.Context, r ModRequest) (string, error)
}

// LogPoster writes the mod-log's lines in a platform's chat or channel (to):
// a line is posted, then edited as its wave grows. id names the posted line
// for EditLog.
type LogPoster interface {
	PostLog(ctx context.Context, to, text string) (id string, err error)
	EditLog(ctx context.Context, to, id, text string) error
}

// LogEscaper is a LogPoster whose chats read a line as markup (Discord's
// markdown): EscapeLog makes a part of a line that vigie did not write (a
// member's name, an excerpt, a reason) show as written, so that it cannot
// take vigie's voice with a link or a format. A poster that does not
// implement it shows the whole line as written, as Telegram's does.
type LogEscaper interface {
	EscapeLog(text string) string
}

// PlaceNamer names where an event happened for the moderators (a group's
// title), when the event's ids do not say it.
type PlaceNamer interface {
	PlaceName(ev Event) string
}

// DeskPlaceNamer names an event's place for a case's card, as the
// platform's own desk does (a Telegram group's title and its forum topic's
// name), asking the platform when it must, bounded by ctx; "" when it
// cannot. Another platform's desk shows it (Card.Place).
type DeskPlaceNamer interface {
	DeskPlaceName(ctx context.Context, ev Event) string
}

// CMPoseTeller tells which CM of its platform the author of ev, a member
// there, is named like without being them (PosesAsCM), for a card on the
// desk of the platform desk: the CMs a member can pose as are those of the
// member's own platform, whichever desk shows the case. It names that CM
// as plain text, which the desk marks up as its own names; "" for none.
// It asks the platform when it must, bounded by ctx (Card.PosesAs).
type CMPoseTeller interface {
	PosesAsCM(ctx context.Context, ev Event, desk string) string
}
