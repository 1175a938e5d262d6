package store

import (
	"context"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// TimedBan is a ban with an end on a platform whose bans last until lifted
// (Discord, Facebook Page blocks): vigie lifts it when Until is past. It is
// kept in the store so that the process that lifts it may be another one, or
// this one after a restart. A ban for good takes the place of the member's
// timed ban, with an Until of ForGoodUntil: never lifted.
type TimedBan struct {
	// Event names who is banned and where (its platform, space and author),
	// for the platform's unban.
	Event bot.Event `json:"event"`
	// Rule is the rule that banned, "manual" for a moderator's /ban, the
	// case's rule for a CM's decision.
	Rule string `json:"rule,omitempty"`
	// By names the moderator who banned, empty for a rule.
	By      string    `json:"by,omitempty"`
	Started time.Time `json:"started"`
	Until   time.Time `json:"until"`
	// OverDue says the ban replaced one whose end had come when it was
	// given: a lift of that one may have been under way, and the unban the
	// platform reports next may be that lift's (which gives this ban
	// again), not a moderator's.
	OverDue bool `json:"over_due,omitempty"`
	// Ends says the platform ends the ban by itself at Until (Telegram's,
	// up to 366 days): never due, vigie does not lift it; it is kept until
	// then for a lift under way of the ban it replaced to see it, and give
	// it again, and dropped then (DropBans).
	Ends bool `json:"ends,omitempty"`
}

// ForGoodUntil is the Until of a ban for good kept in the book: never due,
// it is there for a lift under way to see that the member was banned for
// good meanwhile (the lift read the book before, and its unban undid the
// ban), and ban them again. A time to the millisecond, as Redis keeps it.
var ForGoodUntil = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// ForGood says b is a ban for good, kept for the lifts under way to see.
func (b TimedBan) ForGood() bool { return b.Until.Equal(ForGoodUntil) }

// ForGoodKept is how long a ban for good stays in the book once given: what
// it is kept for is over by then. A lift under way when it was given ends
// within minutes (its tries); a rule's timed ban carried out late, for a
// message written before it, comes at the latest when a verdict left in
// Redis's journal is taken again, which outlives its last write by 7 days
// (store/redis DefaultJournalTTL), for a message Telegram or Discord handed
// over late (Telegram keeps updates 24 hours). Then it is dropped
// (DropBans): the book holds the bans for good of the last 30 days, not all
// of them for ever.
const ForGoodKept = 30 * 24 * time.Hour

// Due says b is lifted by vigie when its Until is past: neither for good,
// nor one the platform ends.
func (b TimedBan) Due() bool { return !b.ForGood() && !b.Ends }

// DropAt is when b may be dropped from the book, when it is never due: a
// ban for good, its Started plus ForGoodKept; a ban the platform ends, its
// end. ok is false for a ban vigie lifts when due, not dropped.
func (b TimedBan) DropAt() (at time.Time, ok bool) {
	switch {
	case b.ForGood():
		return b.Started.Add(ForGoodKept), true
	case b.Ends:
		return b.Until, true
	}
	return time.Time{}, false
}

// SameBan says a and b are the same ban: of the same member, given at the
// same time by the same rule or moderator, with the same end. Until is
// compared to the millisecond, as Redis keeps it.
func SameBan(a, b TimedBan) bool {
	return a.Key() == b.Key() && a.Started.Equal(b.Started) && a.Rule == b.Rule && a.By == b.By &&
		a.Until.UnixMilli() == b.Until.UnixMilli() && a.Ends == b.Ends && a.OverDue == b.OverDue
}

// Key names the ban: one per author and space.
func (b TimedBan) Key() string { return BanKey(b.Event) }

// BanKey names the ban of ev's author in ev's space.
func BanKey(ev bot.Event) string { return bot.MemberKey(ev) }

// BanKeeper is offered by a store that keeps the ends of the timed bans; the
// handlers check for it by type assertion, and without it cannot lift a ban
// on a platform whose bans do not end by themselves.
type BanKeeper interface {
	// PutBan records b, replacing the ban of the same key if one is kept
	// (the last ban of a member is the one that counts), and returns that
	// one, had saying there was one.
	PutBan(ctx context.Context, b TimedBan) (prev TimedBan, had bool, err error)
	// DueBans returns the bans whose Until is not after now, oldest Until
	// first, at most limit of them (limit <= 0: all).
	DueBans(ctx context.Context, now time.Time, limit int) ([]TimedBan, error)
	// DueBans never returns a ban that is not Due.
	//
	// RemoveBan forgets the ban of key. With a non-zero until, only if its
	// Until is still that (it was not replaced meanwhile); zero forgets it
	// whatever its end (an unban, a ban for good). It reports whether a ban
	// was forgotten.
	RemoveBan(ctx context.Context, key string, until time.Time) (bool, error)
	// RemoveKeptBan forgets b only if it is still the ban kept under its
	// key, the ban itself (SameBan: who gave it, when, and till when), not
	// only its end: every ban for good has the same end, and a ban for good
	// given meanwhile by another moderator or rule is kept. It reports
	// whether b was forgotten.
	RemoveKeptBan(ctx context.Context, b TimedBan) (bool, error)
	// KeptBan returns the ban kept under key; false when none is.
	KeptBan(ctx context.Context, key string) (TimedBan, bool, error)
	// DropBans forgets the bans never due whose DropAt is not after now,
	// at most limit of them (limit <= 0: all), and returns how many it
	// forgot. One replaced meanwhile (a new ban) is kept. It never makes a
	// ban due: a process that reads the book with DueBans, of this version
	// or an older one, lifts none of them.
	DropBans(ctx context.Context, now time.Time, limit int) (int, error)
}

// BanWriteBack is offered by a store that may be away a while and come back
// (Redis, behind its fallback). A ban never due (for good, or one the
// platform ends) that the platform gave while the store did not take it
// must replace the member's entry all the same: left there, an earlier timed
// ban's end would lift it. The store writes it once it answers again,
// before any other call of the book, so that this process never lifts the
// ban it replaces.
type BanWriteBack interface {
	// PutBanLater keeps b, to be written as PutBan would (unless a ban
	// given after it is kept by then) when the store answers again. An
	// unban of the member (RemoveBan with no end) forgets it.
	PutBanLater(b TimedBan)
}

// BanLister is offered by a store whose ban book can be read through, one
// platform at a time and a page at a time: vigie checks it against a
// platform's own list of bans (a Facebook Page's blocked list), for the bans
// a moderator lifted by hand in the platform's tools.
type BanLister interface {
	// BansOn returns some of the bans kept of platform's members, from
	// cursor ("" for the first call), and the cursor of the next call, ""
	// when the book was read through. A call returns about limit bans at
	// most (Redis may return a few more, or fewer, even none before the
	// end). A ban kept for the whole read is returned at least once; one
	// given or forgotten during it may be or not.
	BansOn(ctx context.Context, platform, cursor string, limit int) (bans []TimedBan, next string, err error)
}
