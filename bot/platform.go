package bot

import (
	"context"
	"errors"
	"time"
)

// Source produces events from one platform.
//
// Run blocks until ctx is cancelled and then returns nil. It sends every event on
// out and never closes it. Any other return is a failure the daemon logs and
// restarts after a pause, so Run must not retry forever on its own.
type Source interface {
	Name() string
	Run(ctx context.Context, out chan<- Event) error
}

// A platform carries out actions through the capabilities it implements; the
// handlers find them by type assertion. A platform that cannot hide a message
// simply does not implement Hider.

// Deleter removes a message or comment.
type Deleter interface {
	Delete(ctx context.Context, ev Event) error
}

// NameRemover takes a member's name off a space: what a delete does to a
// profile event (a name that is a slur or passes for the staff), which has no
// message. A platform without it skips a profile's delete.
type NameRemover interface {
	RemoveName(ctx context.Context, ev Event) error
}

// Hider hides a page comment from everyone but its author, and can undo it.
type Hider interface {
	Hide(ctx context.Context, ev Event) error
	Unhide(ctx context.Context, ev Event) error
}

// Replier answers in the same place as the event (a reply, a thread message, a
// public comment reply).
type Replier interface {
	Reply(ctx context.Context, ev Event, text string) error
}

// ReplyLimiter is a Replier whose replies have a length limit: MaxReply is the
// most characters (code points) a reply to ev may have, 0 for none known. A
// CM's reply longer than that is refused before the decision is recorded,
// rather than cut where the member reads it.
type ReplyLimiter interface {
	MaxReply(ev Event) int
}

// Warner tells the author privately (a DM) when the platform allows it; platforms
// without private messages are warned with a Replier instead.
type Warner interface {
	Warn(ctx context.Context, ev Event, text string) error
}

// MessageNamer is a Platform whose edits are events of their own, each with
// an id of its own: MessageOf names the message an event is about, the same
// for the message and each of its edits ("" for an event that is no
// message), so that what was done for the message once (an answer, a
// warning, a strike, a case) is not done again when an edit is judged again.
type MessageNamer interface {
	MessageOf(ev Event) string
}

// Timeouter silences the author for a while.
type Timeouter interface {
	Timeout(ctx context.Context, ev Event, d time.Duration) error
}

// TimeoutLimiter is a Timeouter whose timeouts last MaxTimeout at most:
// asked for longer, it gives that. Discord's end within 28 days. The handlers
// record a timeout as long as it was given (GivenTimeout), not as asked.
type TimeoutLimiter interface {
	MaxTimeout() time.Duration
}

// GivenTimeout is how long a timeout of d asked of p lasts: d, or p's
// longest when p has one and d is longer. shortened says it was.
func GivenTimeout(p Platform, d time.Duration) (given time.Duration, shortened bool) {
	if l, ok := p.(TimeoutLimiter); ok {
		if m := l.MaxTimeout(); m > 0 && d > m {
			return m, true
		}
	}
	return d, false
}

// Untimeouter gives the author their voice back before their timeout ends: a
// CM's overturn from the desk. It is apart from Timeouter so that a platform
// whose timeouts cannot be lifted still times out.
type Untimeouter interface {
	Untimeout(ctx context.Context, ev Event) error
}

// IDChecker is a platform whose ids have a form of their own, which it
// puts into its API's paths: CheckIDs says which of an event's ids (posted
// over HTTP) is not of that form, naming its field as the event JSON does.
type IDChecker interface {
	CheckIDs(ev Event) error
}

// RoleResolver finds out, when an event went out with Author.RolesUnknown,
// whether its author is staff, waiting for the platform (bounded by ctx) if it
// must, and the roles the platform would have described them with (the
// rules read author.roles). known is false when it still cannot tell.
type RoleResolver interface {
	ResolveRoles(ctx context.Context, ev Event) (roles []string, staff, known bool)
}

// RolesFirst is a RoleResolver whose answer costs one call for a whole place
// (a Telegram group's list of administrators): the daemon asks it before
// judging an event of its own whose author's roles are unknown, so that a
// moderator's message is judged as a moderator's, rather than become a case.
// A resolver that asks about each author (Discord's members) is asked only
// in the lane, for an event the rules would act on.
type RolesFirst interface {
	RoleResolver
	ResolveRolesFirst()
}

// Kicker removes the author from the space; they may come back.
type Kicker interface {
	Kick(ctx context.Context, ev Event) error
}

// Banner bans the author; d == 0 is permanent.
type Banner interface {
	Ban(ctx context.Context, ev Event, d time.Duration) error
	Unban(ctx context.Context, ev Event) error
}

// ExpiringBanner is a Banner whose bans with a duration can end by
// themselves on the platform (Telegram's until_date): BanEnds reports whether
// a ban of ev's author for d does. A ban that does not, and any timed ban on
// another Banner (Discord, a Facebook Page's blocks), lasts until lifted: the
// handlers keep its end in the store and lift it with Unban when it is due.
type ExpiringBanner interface {
	Banner
	BanEnds(ev Event, d time.Duration) bool
}

// BanEnds reports whether a ban of ev's author for d on p ends by itself,
// without vigie lifting it.
func BanEnds(p Platform, ev Event, d time.Duration) bool {
	e, ok := p.(ExpiringBanner)
	return ok && e.BanEnds(ev, d)
}

// BanReader is a Banner that can say whether a member is banned now, as
// the platform keeps it: a shorter ban is not given over a longer one (a
// timed ban over a ban for good would shorten it), and the platform knows
// of the bans given by hand in its own app, and of those the store no
// longer keeps.
type BanReader interface {
	Banner
	// BanOf says whether ev's author is banned in ev's space now. An error
	// is worth another try (bot.Retryable); a platform that cannot tell
	// (a chat writing as itself) says so with Known false.
	BanOf(ctx context.Context, ev Event) (BanStatus, error)
}

// BanLister is a BanReader whose bans are a list the platform shows page
// by page (a Facebook Page's blocked list): vigie's ban book is checked
// against it, for the bans lifted by hand in the platform's own tools.
type BanLister interface {
	BanReader
	// Listed says whether ev's author is named in the list when banned:
	// false for one the list does not name (a Messenger sender, blocked by
	// page-scoped id), whose ban the list cannot confirm or deny.
	Listed(ev Event) bool
	// BannedPage returns the ids of one page of the members banned in
	// space, from the cursor after ("" for the first page), and the cursor
	// of the next page, "" after the last. An error is worth another try
	// when bot.Retryable; otherwise the list cannot be read (a permission
	// missing).
	BannedPage(ctx context.Context, space, after string) (ids []string, next string, err error)
	// UnbannedByHand says, for the log and the audit, how a ban missing
	// from the list was lifted: "unblocked by hand in Meta's tools".
	UnbannedByHand() string
}

// BanStatus is a member's ban as the platform says it is now.
type BanStatus struct {
	// Known says the platform told; Banned says whether the member is.
	Known, Banned bool
	// Until is when the platform ends the ban by itself; zero when it
	// lasts until lifted (for good, or until vigie lifts it).
	Until time.Time
}

// UnbanWatcher is what the desk's commands add when vigie keeps the ends of
// bans: a platform tells it of an unban it saw that vigie did not give (a
// moderator's in the platform's own app), so that vigie forgets the ban's end
// and does not lift, later, a ban given by hand since.
type UnbanWatcher interface {
	// Unbanned says member (an event naming its platform, space and
	// author) was unbanned at at, zero when the platform does not say when
	// (it tells within seconds); by names who did it (platform:id) when the
	// platform says, "" when not. A platform that names who unbanned tells
	// none of vigie's own unbans.
	Unbanned(ctx context.Context, member Event, at time.Time, by string)
}

// DeleteWatcher is what the desk's commands add to follow the message of an
// open case: a platform tells it of a message deleted (by its author, a
// moderator, or vigie), so that the case's cards say the message is gone
// rather than show it as if it were there.
type DeleteWatcher interface {
	// MessageDeleted says the message that msg names, as the platform's
	// MessageNamer reads it (its platform, space, channel and id), was
	// deleted at at.
	MessageDeleted(ctx context.Context, msg Event, at time.Time)
}

// HideWatcher is a DeleteWatcher that follows the hidden messages of open
// cases too: a platform that tells of a message shown again by hand (a CM
// in the platform's tools, or the platform itself), and hidden again, tells
// it, when its DeleteWatcher is one, so that the case's cards say whether
// the message is seen.
type HideWatcher interface {
	// MessageUnhidden says the message that msg names, as the platform's
	// MessageNamer reads it, was shown again at at.
	MessageUnhidden(ctx context.Context, msg Event, at time.Time)
	// MessageHidden says it was hidden at at (by vigie, a CM or the
	// platform).
	MessageHidden(ctx context.Context, msg Event, at time.Time)
}

// RemovalKeeper is a platform that remembers the messages it said were
// removed (by their author, or in the platform's tools): Meta sends a
// comment and its removal in one delivery, and the removal, told to the
// DeleteWatcher at once, comes before the comment's case is open. The
// handlers ask it once a message's case is open, so that its cards say the
// message is gone.
type RemovalKeeper interface {
	// RemovedAt says when the message ev names was said removed, and
	// whether it was.
	RemovedAt(ctx context.Context, ev Event) (at time.Time, removed bool)
}

// ErrNotBanned is what an Unban's error wraps when the platform says the
// member is not banned (lifted by hand already): a lift that finds it so has
// nothing left to do.
var ErrNotBanned = errors.New("the member is not banned")

// ErrMemberBusy is what a store's member lock (store.MemberLocker) wraps
// when another ban, kick or lift of the member held it for all of the
// wait: the action is worth another try, later.
var ErrMemberBusy = errors.New("another ban, kick or lift of the member is under way")

// Tagger labels the message or the author (a role, a reaction, a label).
type Tagger interface {
	Tag(ctx context.Context, ev Event, tag string) error
}

// Locker closes a place to newcomers during a raid (Discord: a higher
// verification level; Telegram: members may send text only) and opens it
// again. Lock returns what the place's settings were, in the platform's own
// words, for Unlock: the lock is lifted later, maybe by another process, from
// what the store kept.
type Locker interface {
	Lock(ctx context.Context, ev Event) (prev string, err error)
	Unlock(ctx context.Context, ev Event, prev string) error
}

// SlowModer makes the members of the event's channel wait d between two
// messages, and restores the setting it returned.
type SlowModer interface {
	SlowMode(ctx context.Context, ev Event, d time.Duration) (prev string, err error)
	RestoreSlowMode(ctx context.Context, ev Event, prev string) error
}

// Troubler is a platform that knows of places where it cannot do its work,
// though connected (a Telegram group where vigie is no longer an
// administrator): /healthz's degraded and the console's Health page list
// them, each a sentence naming the place.
type Troubler interface {
	Troubles() []string
}

// Platform is a named set of capabilities; Name matches Event.Platform.
type Platform interface {
	Name() string
}

// Capable reports whether p can carry out actions of kind k. Actions that only
// touch vigie itself (strike, forward, alert) are always possible.
func Capable(p Platform, k ActionKind) bool {
	switch k {
	case ActDelete:
		_, ok := p.(Deleter)
		return ok
	case ActHide:
		_, ok := p.(Hider)
		return ok
	case ActReply:
		_, ok := p.(Replier)
		return ok
	case ActWarn:
		_, okW := p.(Warner)
		_, okR := p.(Replier)
		return okW || okR
	case ActTimeout:
		_, ok := p.(Timeouter)
		return ok
	case ActKick:
		_, ok := p.(Kicker)
		return ok
	case ActBan:
		_, ok := p.(Banner)
		return ok
	case ActTag:
		_, ok := p.(Tagger)
		return ok
	case ActLockdown:
		_, ok := p.(Locker)
		return ok
	case ActSlowmode:
		_, ok := p.(SlowModer)
		return ok
	default:
		return true
	}
}

// EventLimiter is a Platform that can do some of its actions on some of its
// events only: a Facebook Page hides and deletes comments, not Messenger
// messages; an Instagram account cannot hide an @mention on another account's
// media. CanOn says whether p can do k (an action or a desk's outcome: unhide,
// unban, untimeout) on ev; the platform's own action refuses the same events,
// saying why.
type EventLimiter interface {
	CanOn(ev Event, k ActionKind) bool
}

// CapableOn reports whether p can do k on ev: it has the capability
// (Capable; unhide, unban and untimeout with hide, ban and Untimeouter), and,
// when p is an EventLimiter, on that event. The desks offer only these
// buttons, and a decision of another outcome is refused before it is
// recorded.
func CapableOn(p Platform, ev Event, k ActionKind) bool {
	switch k {
	case "unhide":
		if !Capable(p, ActHide) {
			return false
		}
	case "unban":
		if !Capable(p, ActBan) {
			return false
		}
	case "untimeout":
		if _, ok := p.(Untimeouter); !ok {
			return false
		}
	default:
		if !Capable(p, k) {
			return false
		}
	}
	if l, ok := p.(EventLimiter); ok {
		return l.CanOn(ev, k)
	}
	return true
}

// ErrOutranked is what a platform's ActionError wraps when the platform refused
// an action on a member who is above vigie in the place's hierarchy (its owner,
// a role as high as vigie's), although vigie holds the right: giving vigie the
// right again changes nothing, moving vigie's role up (or acting by hand) does.
var ErrOutranked = errors.New("the member is above vigie in the server's hierarchy")

// ActionError is how a platform says an action failed and whether trying again
// later may succeed (a 429, a timeout, a 5xx) or not (missing permission, message
// already gone).
type ActionError struct {
	Op        ActionKind
	Retryable bool
	// RetryAfter is the platform's own hint, when it gave one.
	RetryAfter time.Duration
	Err        error
}

func (e *ActionError) Error() string { return string(e.Op) + ": " + e.Err.Error() }
func (e *ActionError) Unwrap() error { return e.Err }

// Retryable reports whether err is worth trying again. Errors that do not say are
// treated as transient: a lost case is worse than a second attempt.
func Retryable(err error) bool {
	var ae *ActionError
	if errors.As(err, &ae) {
		return ae.Retryable
	}
	return !errors.Is(err, context.Canceled)
}
