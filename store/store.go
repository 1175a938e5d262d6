// Package store keeps what vigie must remember between events: sliding-window
// counters, strikes, the ids of events already seen, cases for the desk and the
// audit log. Memory and Redis implement the same Store and pass the same contract
// tests (store/storetest).
package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// ErrNotFound is returned for a case id the store does not know: the desks
// know it as bot.ErrUnknownCase.
var ErrNotFound = bot.ErrUnknownCase

// CounterOp is one sliding-window counter an event touches.
type CounterOp struct {
	// Name is the counter's name in the rule file.
	Name string
	// Key is the value of the counter's key expression for this event
	// (an author id, a channel, a space).
	Key string
	// Sum, when set, is the counter's name and key hashed (see KeySum): a
	// SumKeyed store reads it in place of Name and Key, which may then be
	// left empty; other stores read Name and Key only.
	Sum KeySum
	// Window: the count is of the counter's events newer than At-Window,
	// those stamped after At included. Live, events evaluated at once reach
	// the store in another order than they read the clock, and the
	// later-stamped one belongs in the other's window as much.
	Window time.Duration
	// Incr adds this event to the window before reading it; otherwise the counter
	// is only read (its when: condition was false).
	Incr bool
	// ByAuthor says the key has the observation's Author among its parts
	// (author.id, alone or glued to others), so that two events of one key
	// are always of one author: a store may keep an author's counters
	// together (the memory store keeps those with a Sum in the author's
	// shard, side by side in its table). The counts do not depend on it.
	ByAuthor bool
}

// Observation is everything one event needs from the store, asked in one call so
// that a networked store answers it in one round trip.
type Observation struct {
	At       time.Time
	Platform string
	Space    string
	Author   string
	// EventID, when set, is remembered for DedupeTTL; an event seen before (same
	// platform, space, author and id: a retry) is reported as Duplicate and
	// nothing is counted for it.
	EventID   string
	DedupeTTL time.Duration
	// SeenAt is when vigie saw the event, on its own clock: the id is
	// remembered for DedupeTTL from then, not from At, which the engine may
	// have moved back (an event dated weeks ago is judged as if 72 hours
	// old) and which would leave the id almost no memory. Zero: At.
	SeenAt time.Time
	// Pending, when set, marks a new id pending rather than seen for good:
	// its judging has not ended (Settle, or a JournalEntry's Settle, ends
	// it). A retry within Pending of the mark (or of its Renew) is a
	// duplicate, as a retry of a settled id always is; a later retry of a
	// mark never settled is answered Again, and the mark is pending again,
	// for it. Zero: the id is settled at once (replays, tests).
	Pending  time.Duration
	Counters []CounterOp
	// Wall says that At is vigie's own clock (a claim that one instance
	// pages an alert, a report's turn, an escalation), not an event's time:
	// a store that sweeps on the events' clock (memory) does not sweep by
	// it, since the events may be late on it.
	Wall bool
	// StrikeWindow is how far back the author's strikes are returned: those in
	// (At-StrikeWindow, At] whose TTL has not run out. Zero asks for none.
	StrikeWindow time.Duration
	// Into, when set, lends the store its slices for the Result: a store may
	// return Counts and Strikes in them, from their start, when their
	// capacity holds them, rather than in new ones. The caller reuses them
	// for the next observation once done with the Result. A store may also
	// leave Into unread.
	Into *Result
}

// Defaults the stores apply when a duration is left zero.
const (
	// DefaultDedupeTTL is how long an event id is remembered: Meta retries a
	// webhook for up to 36 hours; three days leave room for a long outage.
	DefaultDedupeTTL = 72 * time.Hour
	// DefaultStrikeTTL is how long a strike with no TTL lasts.
	DefaultStrikeTTL = 30 * 24 * time.Hour
)

// Result answers an Observation.
type Result struct {
	Duplicate bool
	// Again says the id was marked pending (Observation.Pending) longer than
	// Pending ago and never settled: whoever judged it first stopped (a
	// kill, a panic) before its verdict was journaled, or judged it with
	// nothing to journal and so never settled it. The event is not counted
	// again: Counts are the counters as they are (on a Redis Cluster, a
	// counter in another slot than the author's counts it again only if the
	// event's time moved). The caller judges it again, and carries out the
	// verdict only if it has something to journal (settling the mark as it
	// journals it); otherwise it is a duplicate.
	Again bool
	// Counts is aligned with Observation.Counters: each counter's value after this
	// event was counted.
	Counts []int64
	// Strikes are the times of the author's strikes within StrikeWindow, oldest first.
	Strikes []time.Time
}

// Strike is one mark against an author, kept for TTL.
type Strike struct {
	Platform string
	Space    string
	Author   string
	At       time.Time
	Rule     string
	TTL      time.Duration
}

// AuditEntry records one verdict that matched at least one rule.
type AuditEntry struct {
	At      time.Time   `json:"at"`
	Event   bot.Event   `json:"event"`
	Verdict bot.Verdict `json:"verdict"`
	// Mode is what vigie was doing when it decided: enforce, paused, office, after.
	Mode string `json:"mode,omitempty"`
	// By names the moderator whose command this entry records (/ban, /del…);
	// empty for the rules' verdicts.
	By string `json:"by,omitempty"`
	// Failed says why the platform refused a moderator's command; its action
	// was not carried out.
	Failed string `json:"failed,omitempty"`
}

// CaseStatus is where a case stands.
type CaseStatus string

// Case statuses.
const (
	CaseOpen    CaseStatus = "open"
	CaseDecided CaseStatus = "decided"
)

// Case is a decision left to the humans on the desk.
type Case struct {
	ID       string     `json:"id"`
	Opened   time.Time  `json:"opened"`
	Status   CaseStatus `json:"status"`
	Event    bot.Event  `json:"event"`
	Rule     string     `json:"rule,omitempty"`
	Category string     `json:"category,omitempty"`
	Reason   string     `json:"reason"`
	// Suggested is what the rule would do, or did, to the message.
	Suggested []bot.Action `json:"suggested,omitempty"`
	// NotDone are the suggested actions vigie did not carry out on the
	// message: failed after the retries, or held (paused, the author's roles
	// unknown). The desks offer to undo only what was carried out, and offer
	// these to do.
	NotDone []bot.Action `json:"not_done,omitempty"`
	// Trying are the suggested actions vigie was still trying on the
	// message when the case was opened: the platform was failing or slow
	// to answer, and the case went to the desk without waiting for its
	// retries. They are in NotDone too (no undo is offered for them);
	// AmendCase records how they ended.
	Trying []bot.Action `json:"trying,omitempty"`
	// Priority is high for the cases to decide first (set by the rule, or raised
	// by repeat cases for one author or thread); empty is normal.
	Priority string `json:"priority,omitempty"`
	// Outcome is set once a CM decided: keep, delete, hide, timeout, ban, reply.
	Outcome   string `json:"outcome,omitempty"`
	DecidedBy string `json:"decided_by,omitempty"`
	// DeciderName is the name of who decided as their desk showed it (a
	// CM's display name), "" when none was told: the desks name them by
	// it, not by DecidedBy's id.
	DeciderName string    `json:"decider_name,omitempty"`
	DecidedAt   time.Time `json:"decided_at,omitzero"`
	// Undeliverable says why the desk refused the case's card for good (see
	// MarkUndeliverable); the case is still open, for the queue.
	Undeliverable string `json:"undeliverable,omitempty"`
	// Holds says the case holds actions not carried out on its message
	// (vigie paused, the author's roles unknown, an action failed): a CM
	// decides that message, so it is grouped with no other.
	Holds bool `json:"holds,omitempty"`
	// Count is how many hits the case groups, its own event included (see
	// OpenCase); 0, in a case stored before grouping, is one.
	Count int `json:"count,omitempty"`
	// Latest are the ids of the last events grouped into the case after its
	// own, oldest first, at most GroupLatest.
	Latest []string `json:"latest,omitempty"`
	// Refs name the messages grouped into the case after its own, where
	// they are, oldest first, at most GroupRefs: a CM's delete or hide
	// acts on each of them as on the case's own (Messages). A case opened
	// before vigie kept them, or joined by a vigie that did not, has its
	// later ids in Latest only.
	Refs []MessageRef `json:"refs,omitempty"`
	// Community is the community of the case's place (the rule file's
	// communities:), "" outside every community.
	Community string `json:"community,omitempty"`
	// Carried says how the carrying out of the case's decision ended, once
	// it did (see DecisionMarks): CarriedDone, or why it failed; "" while
	// it is under way, cut short by a stop, or for a keep.
	Carried string `json:"carried,omitempty"`
	// Carrying says the carrying out of the case's decision began (the
	// platform may have been asked) and its end is not recorded yet
	// (DecisionMarks.MarkCarrying): whoever finishes the decision next does
	// not know whether it was done, and must not do it blind.
	Carrying bool `json:"carrying,omitempty"`
	// CarryingMark is the mark of the carrying out that set Carrying
	// (DecisionMarks.MarkCarrying), "" when not told.
	CarryingMark string `json:"carryingMark,omitempty"`
	// Unverified says the case's message was posted over HTTP about a
	// platform whose own connector is on, and not seen there: anyone with
	// the webhook secret could have written it in a member's name. The
	// desks show it so, and a decision that acts on the platform is refused
	// (keep only); it is grouped with no other case.
	Unverified bool `json:"unverified,omitempty"`
	// Rules are the rules that sent the case's message to the desk
	// (forward), Rule among them; none when no rule did (an action failed,
	// vigie paused). A CM's decision on the case is on the text its card
	// showed: an edit any of them sends to the desk after it is a case
	// again.
	Rules []string `json:"rules,omitempty"`
	// Message names the case's own message for its edits to find the case
	// (MessageCases), "" for none: a store that opens a case for it (not
	// one the hit joins) keeps its id under that name, MessageCallKeep, in
	// the same step. It is not kept in the case.
	Message string `json:"-"`
	// Calls are keys of the store's calls (CallKeeper) that a store keeping
	// them with its cases (CallsWithCases) keeps done, at Opened, for
	// MessageCallKeep, once the case is opened or the hit joins one (not
	// when it is refused), in the same step: the rules that sent the
	// message to the desk, which its edits are not sent again by. They are
	// not kept in the case.
	Calls []string `json:"-"`
	// Edited is what the message became, edited by its author while the
	// case was open (bot.Edited), nil when it was not.
	Edited *bot.Edited `json:"edited,omitempty"`
	// Cause names what made the case's actions fail, when it is what every
	// such action in its place would meet (vigie lacks a permission there,
	// its token is refused, the platform refuses that action there for
	// good): platform, space, channel, the actions and the refusal. The
	// desk shows the cases of one cause on one card that counts them,
	// rather than one card each; each case stays open for the queue. ""
	// for a case of its own.
	Cause string `json:"cause,omitempty"`
}

// CarriedOut reports whether vigie carried out an action of kind k on the
// case's message (bot.CarriedOut): only that has an undo.
func (c Case) CarriedOut(k bot.ActionKind) bool { return bot.CarriedOut(c.Suggested, c.NotDone, k) }

// Hits is how many hits the case groups, at least one.
func (c Case) Hits() int { return max(c.Count, 1) }

// MessageRef names one message grouped into a case: enough for its
// platform to delete or hide it, wherever in the case's space it is.
type MessageRef struct {
	ID       string    `json:"id"`
	Platform string    `json:"platform"`
	Kind     bot.Kind  `json:"kind,omitempty"`
	Space    string    `json:"space,omitempty"`
	Channel  string    `json:"channel,omitempty"`
	Thread   string    `json:"thread,omitempty"`
	Author   string    `json:"author,omitempty"`
	At       time.Time `json:"at,omitzero"`
}

// RefOf is the reference of ev's message.
func RefOf(ev bot.Event) MessageRef {
	return MessageRef{ID: ev.ID, Platform: ev.Platform, Kind: ev.Kind, Space: ev.Space, Channel: ev.Channel,
		Thread: ev.Thread, Author: ev.Author.ID, At: ev.At}
}

// Event is the message r names, as an event a platform acts on: its
// author is named by id only.
func (r MessageRef) Event() bot.Event {
	return bot.Event{ID: r.ID, Platform: r.Platform, Kind: r.Kind, Space: r.Space, Channel: r.Channel,
		Thread: r.Thread, Author: bot.Author{ID: r.Author}, At: r.At}
}

// Grouped returns the messages grouped into the case after its own, oldest
// first, as events a platform acts on, and how many hits it counted that it
// keeps no reference of (past GroupRefs). An id of Latest with no reference
// in Refs (a hit grouped by a vigie that kept ids only) is taken to be in
// the case's own place, where that vigie grouped it.
func (c Case) Grouped() (msgs []bot.Event, unkept int) {
	seen := make(map[string]bool, len(c.Refs))
	for _, r := range c.Refs {
		if !seen[r.ID] {
			seen[r.ID] = true
			msgs = append(msgs, r.Event())
		}
	}
	for _, id := range c.Latest {
		if id == "" || seen[id] || id == c.Event.ID {
			continue
		}
		seen[id] = true
		r := RefOf(c.Event)
		r.ID, r.At = id, time.Time{}
		msgs = append(msgs, r.Event())
	}
	return msgs, max(c.Hits()-1-len(msgs), 0)
}

// Places counts the channels (a Discord thread, a Telegram topic each) of
// the messages the case groups, its own included, as far as it keeps them.
func (c Case) Places() int {
	place := func(e bot.Event) string { return e.Channel + "\x00" + e.Thread }
	seen := map[string]bool{place(c.Event): true}
	msgs, _ := c.Grouped()
	for _, e := range msgs {
		seen[place(e)] = true
	}
	return len(seen)
}

// PlacesNoun names what Places counts: "topics" in a Telegram chat,
// "channels" elsewhere.
func (c Case) PlacesNoun() string {
	if c.Event.Platform == "telegram" {
		return "topics"
	}
	return "channels"
}

// GroupedText is what the desks and the console write after the reason of
// a case that groups several hits: how many more, in how many channels
// when more than one, and how many of them a delete cannot reach (past
// GroupRefs): "and 4 more, in 5 channels". "" for a case of one hit.
func (c Case) GroupedText() string {
	n := c.Hits() - 1
	if n <= 0 {
		return ""
	}
	more := fmt.Sprintf("and %d more", n)
	if places := c.Places(); places > 1 {
		more += fmt.Sprintf(", in %d %s", places, c.PlacesNoun())
	}
	if _, unkept := c.Grouped(); unkept > 0 {
		more += fmt.Sprintf("; vigie keeps where the last %d are only: a delete leaves the %d oldest up", GroupRefs, unkept)
	}
	return more
}

// Store is what the engine and the handlers need to remember.
type Store interface {
	// Observe dedupes the event, counts it in its counters and returns the counts
	// and the author's recent strikes, in one call.
	Observe(ctx context.Context, o Observation) (Result, error)
	// AddStrike records a strike against an author.
	AddStrike(ctx context.Context, s Strike) error
	// AppendAudit records a verdict.
	AppendAudit(ctx context.Context, e AuditEntry) error
	// Audit returns the entries recorded at or after since, oldest first.
	Audit(ctx context.Context, since time.Time) ([]AuditEntry, error)
	// OpenCase stores a new case and returns it with its ID and status set.
	// Opening again a case with the same Origin returns the first one: a store
	// that did write a case but could not say so (a connection cut before the
	// reply) is asked again, and must not make it two. A case opened again
	// that carries hits beyond its own (Count, Latest, Refs: a copy that
	// grouped them while the store was away) adds them to the first one
	// while it is open; once it is decided, it is grouped or opened as any
	// case, its hits not lost. A copy that carries hits adds, to the case it
	// joins, only those whose message that case does not name yet (its own
	// event, Latest, Refs): the store may have run them before the copy
	// added them too.
	//
	// Under a raid, hits are grouped instead of opened one by one: a case with
	// the AuthorGroup of an open case is added to it (its Count goes up, its
	// event id joins Latest, its message's reference Refs) and that case is
	// returned, with or without its Refs (Redis leaves them out: a hit of a
	// raid would carry up to GroupRefs of them; Case reads them); so is one
	// whose
	// PlaceGroup saw GroupAuthors cases opened within GroupWindow (by Opened),
	// added to the last of them. When OpenCaseCap cases are open already, a
	// case that would be new is not stored: the error wraps ErrCaseCap.
	OpenCase(ctx context.Context, c Case) (Case, error)
	// Case returns one case by id, or ErrNotFound.
	Case(ctx context.Context, id string) (Case, error)
	// Cases returns the cases with the given status, oldest first.
	Cases(ctx context.Context, status CaseStatus) ([]Case, error)
	// DecideCase closes an open case with an outcome, recording who decided
	// (by, an id such as telegram:42) and their name as the desk showed it
	// (byName, "" when none is known), for the other desks to name them;
	// deciding a case twice
	// returns the first decision and an error wrapping ErrDecided.
	DecideCase(ctx context.Context, id, outcome, by, byName string, at time.Time) (Case, error)
	// PendingCases returns the cases the desk has not accepted yet (see AckCase),
	// oldest first, in their current state. Delivery is at least once: a case comes
	// back until it is acknowledged, so one opened just before a crash is posted
	// after the restart instead of being lost. With several processes on one
	// Redis, each case goes to one of them unless that one stops answering.
	PendingCases(ctx context.Context) ([]Case, error)
	// AckCase records that the desk accepted a case (it was posted where the CMs
	// see it); it is not returned by PendingCases again. ErrNotFound if unknown.
	AckCase(ctx context.Context, id string) error
	// MarkUndeliverable records that the desk refused the case for good (a
	// card it will never take as it is): like AckCase, PendingCases does not
	// return it again, but the case stays as it is, open until a CM decides it
	// from the queue, with Undeliverable set to why. ErrNotFound if unknown.
	MarkUndeliverable(ctx context.Context, id, why string) error
	// AddCard records where a desk posted the case's card, so that whichever
	// process decides the case can show the decision on it; a case may have
	// cards on several desks, and the same card recorded again is kept
	// once. The cards live as long as the case. ErrNotFound if unknown.
	AddCard(ctx context.Context, id string, card bot.CardRef) error
	// CaseCards returns where the case's cards were posted, by platform,
	// chat and message; none for an unknown case.
	CaseCards(ctx context.Context, id string) ([]bot.CardRef, error)
	// AmendCase records how the actions a case was opened with as Trying
	// ended: its reason, suggestions and actions not done become a's, and
	// it tries nothing more. A decided case is amended too (its decision
	// stays); its groups and Holds are left as opened. ErrNotFound if
	// unknown.
	AmendCase(ctx context.Context, id string, a CaseAmendment) error

	// Begin writes a verdict to the journal of verdicts being carried out,
	// before its actions are handed to a lane; writing the same key again
	// replaces the entry and its stamp (a process renews what it still holds).
	Begin(ctx context.Context, e JournalEntry) error
	// Done removes a verdict from the journal once it was carried out (its
	// actions done, or failed and made a case). An unknown key is no error.
	Done(ctx context.Context, key string) error
	// Settle ends the pending mark m (Observation.Pending): its id is a
	// duplicate from now on, for the rest of its TTL. A mark settled
	// already, or unknown, is left so.
	Settle(ctx context.Context, m SeenMark) error
	// Renew stamps the pending mark m at now, for a judge still at work: a
	// retry within pending of now is a duplicate. A mark settled, or
	// unknown, is left so.
	Renew(ctx context.Context, m SeenMark, now time.Time, pending time.Duration) error
	// Unfinished returns the journal's entries stamped before olderThan,
	// oldest first, with the stamp they had and Tries counting this time, and
	// stamps them now, atomically: a process asking at the
	// same time does not get them too, and if this one stops before Done
	// they come back once now is older than the next caller's olderThan.
	Unfinished(ctx context.Context, olderThan, now time.Time) ([]JournalEntry, error)

	// LearnFAQ keeps a wording a CM answered with an FAQ entry from the desk,
	// for the assistant to read as one of the entry's examples on every
	// process. The same entry and text again is kept once (the first); past
	// MaxFAQWordings a new one is not kept.
	LearnFAQ(ctx context.Context, w FAQWording) error
	// FAQWordings returns the wordings learned, oldest first.
	FAQWordings(ctx context.Context) ([]FAQWording, error)
	Close() error
}

// DecisionMarks is offered by a store that records, on a decided case, how
// its decision's carrying out ended (Case.Carried): a CM's press or command
// handed on again after the process that took it was killed finds the
// decision it recorded, and carries it out only when nothing says it was.
type DecisionMarks interface {
	// MarkCarried records how the decision of case id was carried out:
	// CarriedDone, or why it was not. ErrNotFound if unknown.
	MarkCarried(ctx context.Context, id, result string) error
	// MarkCarrying records that the carrying out of case id's decision
	// begins (Case.Carrying), before the platform is asked: kept until
	// MarkCarried, so that a holder of the claim after a kill, or after an
	// end recorded while the store was away, knows that the platform may
	// have done it already. It returns only once the store took it: an
	// error says nothing may be asked of the platform yet. ErrNotFound if
	// unknown. mark names this carrying out (Case.CarryingMark): its maker
	// knows a mark the store took after it stopped waiting for the answer
	// as its own, which asked nothing of the platform. A store that shares
	// claims (CarryClaims) takes it only while the claim its process holds
	// of the case is the one it took: a mark that comes after that claim
	// was let go is dropped, never written over another holder's.
	MarkCarrying(ctx context.Context, id, mark string) error
}

// CarryClaims is offered by a store that lets one holder at a time carry
// out a case's decision, whichever process shares the store: a press or a
// command handed on to another process (its poller taken over while the
// first was paused, or a webhook's retry) while the first still carries
// the decision out finds it claimed, and waits for the case to say how it
// ended (MarkCarried) rather than carrying it out a second time.
type CarryClaims interface {
	// ClaimCarrying claims the carrying out of case id's decision. Held,
	// the claim is renewed until release is called (once the case records
	// how its carrying out ended), and lost says whether it was lost
	// meanwhile (it ran out while the store did not answer its renewals):
	// another may hold it since. A holder that dies loses it within the
	// store's bound (Redis: CarryClaimTTL). It wraps ErrClaimed, having
	// taken nothing, when another holds it; any other error is the
	// store's not answering, and nothing is known.
	ClaimCarrying(ctx context.Context, id string) (release func(), lost func() bool, err error)
}

// ErrClaimed is what CarryClaims.ClaimCarrying wraps when another holder
// carries the case's decision out.
var ErrClaimed = errors.New("its decision is being carried out by another holder")

// CarriedDone is Case.Carried for a decision carried out.
const CarriedDone = "done"

// CaseAmendment is what AmendCase changes in a case once the actions it
// was trying ended.
type CaseAmendment struct {
	Reason    string       `json:"reason"`
	Suggested []bot.Action `json:"suggested,omitempty"`
	NotDone   []bot.Action `json:"not_done,omitempty"`
	// Edited, when set, is what the message became since (Case.Edited);
	// nil leaves the case's as it is. A store that keeps the last
	// amendment only (Redis) is given the case's Edited again by whoever
	// amends it for another reason.
	Edited *bot.Edited `json:"edited,omitempty"`
}

// Amend returns c as a amends it.
func (c Case) Amend(a CaseAmendment) Case {
	c.Reason, c.Suggested, c.NotDone, c.Trying = a.Reason, slices.Clone(a.Suggested), slices.Clone(a.NotDone), nil
	if a.Edited != nil {
		e := *a.Edited
		e.Rules = slices.Clone(e.Rules)
		c.Edited = &e
	}
	return c
}

// FAQWording is a member's question that a CM answered with an FAQ entry.
type FAQWording struct {
	Entry string    `json:"entry"`
	Text  string    `json:"text"`
	By    string    `json:"by,omitempty"`
	At    time.Time `json:"at"`
}

// MaxFAQWordings bounds the wordings learned, so that a desk that answers
// everything through the FAQ does not grow the store for ever.
const MaxFAQWordings = 10_000

// SortCards puts card refs in CaseCards' order.
func SortCards(cards []bot.CardRef) {
	slices.SortFunc(cards, func(a, b bot.CardRef) int {
		return cmp.Or(strings.Compare(a.Platform, b.Platform), strings.Compare(a.Chat, b.Chat), strings.Compare(a.Message, b.Message))
	})
}

// Key names a wording: the entry and the text, as LearnFAQ keeps them once.
func (w FAQWording) Key() string { return w.Entry + "\x00" + w.Text }

// SortFAQWordings puts wordings oldest first, by key for the same time.
func SortFAQWordings(ws []FAQWording) {
	slices.SortFunc(ws, func(a, b FAQWording) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.Key(), b.Key())
	})
}

// JournalEntry is a verdict whose actions are being carried out. An event is
// marked seen when it is judged; the journal is what makes its actions survive
// a crash between that moment and the platforms' answers. The mark is
// pending until the entry settles it (Settle), so that a crash before the
// entry is written leaves the event's retry to be judged again
// (Result.Again).
type JournalEntry struct {
	// Key names the entry: the event's Key.
	Key     string      `json:"key"`
	Event   bot.Event   `json:"event"`
	Verdict bot.Verdict `json:"verdict"`
	// At stamps the entry: when it was written (Begin) or last taken
	// (Unfinished's now). Its age is how long nobody answered for it.
	At time.Time `json:"at"`
	// Begun is when the verdict was first written; a renewal keeps it.
	Begun time.Time `json:"begun"`
	// Tries counts the times it was taken by Unfinished.
	Tries int `json:"tries,omitempty"`
	// Case is the id of the case opened for the verdict while its actions
	// were still being tried (Case.Trying), "" for none: the verdict carried
	// out again amends that case with how they end, rather than open another
	// and leave that one being tried for good.
	Case string `json:"case,omitempty"`
	// CaseOrigin is the origin (Case.Origin) of the case being opened for
	// the verdict while its actions are being tried, written before it is
	// opened: a process killed before Case was written leaves the next one
	// to find that case by its origin (CaseOrigins), rather than open
	// another.
	CaseOrigin string `json:"case_origin,omitempty"`
	// Done are the verdict's actions carried out by a carrying out that was
	// cut short, as far as it could say (written as its case opened early,
	// or as it was cut short while its process lived on): the case of a
	// verdict left unfinished too often says they were done.
	Done []bot.Action `json:"done,omitempty"`
	// Trying are the verdict's actions asked of the platform that a second
	// asking would not leave as the first did (a timeout, which would run
	// from later; a kick), written before they are asked: one of them not
	// in Done after a kill may have been done, and is not asked again blind.
	Trying []bot.Action `json:"trying,omitempty"`
	// Settle, when set, is the pending mark of the event, which Begin
	// settles in the same write as the entry (Store.Settle): a retry after
	// it is a duplicate, the entry carrying the verdict out.
	Settle *SeenMark `json:"-"`
}

// SeenMark names the mark an Observation with an EventID left of it: the
// Observation's Platform, Space, Author and EventID. At is when it was seen
// (SeenAt, or At), TTL its DedupeTTL (zero: DefaultDedupeTTL).
type SeenMark struct {
	Platform, Space, Author, ID string
	At                          time.Time
	TTL                         time.Duration
}

// Origin names what a case is about: its event, rule and reason. Two cases with
// the same origin are the same case; an event without an id has none.
func (c Case) Origin() string {
	if c.Event.ID == "" {
		return ""
	}
	// Built in one allocation, as "KEY|RULE|%x" of the reason's FNV-1a:
	// every forward computes it, a raid night's included.
	h := uint64(fnvOffset64)
	for i := 0; i < len(c.Reason); i++ {
		h ^= uint64(c.Reason[i])
		h *= fnvPrime64
	}
	var hex [16]byte
	x := strconv.AppendUint(hex[:0], h, 16)
	var b strings.Builder
	b.Grow(len(c.Event.Platform) + 1 + len(c.Event.ID) + 1 + len(c.Rule) + 1 + len(x))
	b.WriteString(c.Event.Platform)
	b.WriteByte(':')
	b.WriteString(c.Event.ID)
	b.WriteByte('|')
	b.WriteString(c.Rule)
	b.WriteByte('|')
	b.Write(x)
	return b.String()
}

// FNV-1a's 64-bit constants (hash/fnv), for Origin.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// Grouping of cases, the same for every store.
const (
	// GroupLatest bounds the event ids a grouped case keeps in Latest.
	GroupLatest = 20
	// GroupRefs bounds the messages a grouped case keeps in Refs, the
	// last ones: a stolen account's scam in every channel of a server is
	// 50 to 100 messages, which a CM's delete removes one by one (at
	// Discord's five deletes a second per channel, in seconds); the card
	// says how many more the case counted that a delete leaves up.
	GroupRefs = 100
	// GroupWindow and GroupAuthors: once GroupAuthors cases of one place and
	// rule were opened within GroupWindow, the hits of further authors there
	// join the last of them rather than open their own.
	GroupWindow  = time.Minute
	GroupAuthors = 3
	// GroupJoiners bounds the authors of other cases a case remembers as
	// its members: the last GroupJoiners who joined it (a place's case in a
	// raid). An author it forgot, whose hit comes again, joins the place's
	// case while the place is grouped, or opens a case of their own. A case
	// forgets all of them, and its own author, once decided.
	GroupJoiners = 64
	// DefaultOpenCaseCap is how many cases may be open at once by default.
	DefaultOpenCaseCap = 10_000
)

// ErrCaseCap is what OpenCase wraps when too many cases are open already.
var ErrCaseCap = errors.New("too many open cases")

// PlaceGroup names the cases of one rule in one place: platform, space,
// channel. The reason is left out on purpose: the handlers write counts into
// it (priority), and a CM decides about the author and the rule. A case
// without a rule or an author, one that Holds actions, or an Unverified one,
// is grouped with none.
func (c Case) PlaceGroup() string {
	_, place := c.Groups()
	return place
}

// AuthorGroup names the cases of one author and rule in a Discord server
// or a Telegram chat (with its topics), whatever its channel: a stolen
// account posting one scam in fifty channels makes one case. Elsewhere (a
// Page's posts, each the place of its own discussion), and for an event
// without a space, it is of one channel. "" for none.
func (c Case) AuthorGroup() string {
	author, _ := c.Groups()
	return author
}

// spaceWide are the platforms whose AuthorGroup is of the whole space.
var spaceWide = map[string]bool{"discord": true, "telegram": true}

// Groups returns AuthorGroup and PlaceGroup in one allocation:
// "PLATFORM|SPACE|CHANNEL|RULE" and "PLATFORM|SPACE||RULE|AUTHOR" (the
// channel left empty on the spaceWide platforms, for an event with a
// space).
func (c Case) Groups() (author, place string) {
	if c.Rule == "" || c.Event.Author.ID == "" || c.Holds || c.Unverified {
		return "", ""
	}
	e := c.Event
	channel := e.Channel
	if e.Space != "" && spaceWide[e.Platform] {
		channel = ""
	}
	var b strings.Builder
	n := len(e.Platform) + 1 + len(e.Space) + 1 + len(e.Channel) + 1 + len(c.Rule)
	b.Grow(n + len(e.Platform) + 1 + len(e.Space) + 1 + len(channel) + 1 + len(c.Rule) + 1 + len(e.Author.ID))
	for _, ch := range []string{e.Channel, channel} {
		b.WriteString(e.Platform)
		b.WriteByte('|')
		b.WriteString(e.Space)
		b.WriteByte('|')
		b.WriteString(ch)
		b.WriteByte('|')
		b.WriteString(c.Rule)
	}
	b.WriteByte('|')
	b.WriteString(e.Author.ID)
	both := b.String()
	return both[n:], both[:n]
}

// Local is implemented by a store whose calls never wait on anything outside
// the process (the memory store: maps under mutexes). Callers may skip
// bounding its calls with a timer, which costs more than the call.
type Local interface {
	Local()
}

// WithAnswer marks ctx for a write that must be taken before its caller
// goes on (a journal entry saying an action is being asked, written before
// the platform is asked): a store that queues writes for a pipeline
// (the Redis store's auto-pipeline) waits for the store's answer, within
// ctx, rather than return as soon as it is queued.
func WithAnswer(ctx context.Context) context.Context {
	return context.WithValue(ctx, answerKey{}, true)
}

type answerKey struct{}

// AnswerWanted reports whether WithAnswer marked ctx.
func AnswerWanted(ctx context.Context) bool {
	b, _ := ctx.Value(answerKey{}).(bool)
	return b
}

// CaseOrigins is offered by a store that keeps, for each case's origin
// (Case.Origin), the id of the case it opened or joined: the journal finds
// there the case opened for a verdict whose entry says its origin and not
// its id (JournalEntry.CaseOrigin).
type CaseOrigins interface {
	// CaseOfOrigin returns the id of the case origin opened or joined, ""
	// when the store knows of none.
	CaseOfOrigin(ctx context.Context, origin string) (string, error)
}

// CallsWithCases is offered by a store that can keep a case's Calls in the
// step that opens the case or joins the hit to one (OpenCase).
// KeepsCallsWithCases says whether it does: when it does not (a Redis
// cluster, whose calls are in other slots than the cases), OpenCase leaves
// them, and the caller keeps them itself (CallKeeper.KeepCall).
type CallsWithCases interface {
	KeepsCallsWithCases() bool
}

// MessageCases is offered by a store that keeps, for a message a case was
// opened for (Case.Message), the case's id: an edit of the message finds its
// case there, as long as its answers are remembered (MessageCallKeep).
type MessageCases interface {
	// CaseOfMessage returns the id of the case opened for message, ""
	// when the store keeps none.
	CaseOfMessage(ctx context.Context, message string) (string, error)
	// KeepCaseOfMessage keeps id as the case opened for message at at, for
	// a case opened without its Message (before its verdict's actions
	// ended).
	KeepCaseOfMessage(ctx context.Context, message, id string, at time.Time) error
}

// IsLocal reports whether s is a Local store.
func IsLocal(s Store) bool {
	_, ok := s.(Local)
	return ok
}

// CaseIndex is offered by a store that keeps its open cases in the order they
// were opened, with their counts kept as cases open and close: the gauges and
// the escalation read what they need from it in time that does not grow with
// the open cases, where Cases copies every one of them. The escalation and
// the gauges check for it by type assertion and read Cases without it.
type CaseIndex interface {
	// OpenCounts says how many cases are open, by priority, and when the
	// oldest of them was opened.
	OpenCounts(ctx context.Context) (OpenCounts, error)
	// OpenedWithin returns the open cases opened in [from, to), oldest first.
	OpenedWithin(ctx context.Context, from, to time.Time) ([]Case, error)
}

// OpenCounts counts the open cases.
type OpenCounts struct {
	// ByPriority is keyed by Case.Priority ("" for normal).
	ByPriority map[string]int
	// Oldest is when the oldest open case was opened, zero without one.
	Oldest time.Time
}

// Total is how many cases are open.
func (o OpenCounts) Total() int {
	n := 0
	for _, k := range o.ByPriority {
		n += k
	}
	return n
}

// OutcomeExpired is the outcome of a case nobody decided within its time to
// live: it is closed by vigie, so that the open cases stay bounded.
const OutcomeExpired = "expired"

// ErrDecided is returned when a case was already decided by someone else.
var ErrDecided = errors.New("case already decided")

// Account is a CM's login to the web console.
type Account struct {
	Name string `json:"name"`
	// Role is viewer (reads), moderator (decides cases) or admin (also
	// changes the rules and the accounts).
	Role string `json:"role"`
	// Hash is the password's hash in PHC form ($argon2id$v=19$m=…,t=…,p=…$salt$key);
	// the password itself is never stored.
	Hash    string    `json:"hash"`
	Created time.Time `json:"created"`
}

// Accounts is offered by a store that keeps the console's accounts, shared by
// every instance that uses it, and the key that signs their sessions (so that
// a CM logged in on one instance is logged in on all).
type Accounts interface {
	// PutAccount creates or replaces the account of a.Name.
	PutAccount(ctx context.Context, a Account) error
	// Account returns one account by name, or ErrNotFound.
	Account(ctx context.Context, name string) (Account, error)
	// AccountList returns every account, by name.
	AccountList(ctx context.Context) ([]Account, error)
	// DeleteAccount removes an account; ErrNotFound if there is none.
	DeleteAccount(ctx context.Context, name string) error
	// SessionKey returns the key that signs the console's sessions: made at
	// random the first time it is asked for, the same afterwards for everyone.
	SessionKey(ctx context.Context) ([]byte, error)
	// RevokeSession ends the console session id (a logout) for every
	// instance that shares the store. It is kept for ttl, the rest of the
	// session cookie's life, after which the cookie is refused anyway.
	RevokeSession(ctx context.Context, id string, ttl time.Duration) error
	// SessionRevoked reports whether the session id was revoked.
	SessionRevoked(ctx context.Context, id string) (bool, error)
}

// StrikeKeeper is offered by a store that can show an author's strikes and
// lift them, for a CM who finds them undeserved (the console's people page).
type StrikeKeeper interface {
	// Strikes returns the times of the author's strikes that have not
	// expired at now, oldest first.
	Strikes(ctx context.Context, platform, space, author string, now time.Time) ([]time.Time, error)
	// ClearStrikes lifts all of the author's strikes and says how many there
	// were (expired ones included).
	ClearStrikes(ctx context.Context, platform, space, author string) (int, error)
}

// EventHistory is offered by a store that keeps the recent events for every
// instance that shares it, so that a backtest in the console replays the
// whole community's traffic and not one process's share.
type EventHistory interface {
	// RememberEvents adds events to the history, which keeps about max of
	// the newest.
	RememberEvents(ctx context.Context, events []bot.Event, max int) error
	// RecentEvents returns the events remembered at or after since (by their
	// own time), oldest first.
	RecentEvents(ctx context.Context, since time.Time) ([]bot.Event, error)
}

// Lease is one process's hold on a single-owner job (a Discord shard, the
// Telegram poller, the morning report), as a Leaser granted it.
type Lease struct {
	Job   string
	Owner string
	// Token is the fencing token: it grows with every acquisition of the
	// job's lease, so that what a job writes with it can be refused once a
	// later owner took the job (see AdvanceFenced).
	Token int64
	// GivenUp, in a lease AcquireLease just granted, says that the job's
	// last holder gave its lease up (ReleaseLease), after its job stopped:
	// nobody runs the job, which may start at once. Otherwise that holder
	// may still run it until its lease runs out on its own clock (it ran
	// out in the store, or the store lost it), and the new owner waits for
	// that before it starts the job. It names no lease: the scripts and
	// comparisons ignore it.
	GivenUp bool
	// HeldFor is the TTL the job's lease was last taken for, as the store
	// keeps it: in a lease AcquireLease granted, its holder's before this
	// one (who may run the job until about that long after its last
	// renewal); in one it refused (false), the holder's now. Processes
	// whose VIGIE_LEASE_TTL differ learn so the longest, and wait for it.
	// Zero when the store does not say. It names no lease either.
	HeldFor time.Duration
}

// ErrLeaseGone is what RenewLease wraps when the store holds no lease of the
// job at all: lost, but to no other owner.
var ErrLeaseGone = errors.New("the store holds no lease of the job")

// ErrLeaseReset is what a careful acquisition (the Redis store's
// AcquireLeaseAfterHeld) wraps when the store lost the job's lease before it
// ran out, with the rest of its data or alone (Redis evicted its key): its
// holder may not know yet, so the lease is not taken.
var ErrLeaseReset = errors.New("the store lost the job's lease before it ran out (its data lost, or its key evicted): its holder may still run the job until its next renewal")

// Leaser is offered by a store that shares single-owner jobs between the
// processes that use it: each job runs in the one process that holds its
// lease, and moves to another once the lease is not renewed in time. The
// memory store grants every lease to its one process.
type Leaser interface {
	// AcquireLease takes the job's lease for owner for ttl when nobody holds
	// it, with a token larger than any the job had before. ok is false while
	// another owner holds it; an owner that holds it already gets it back,
	// renewed, with its token.
	AcquireLease(ctx context.Context, job, owner string, ttl time.Duration) (l Lease, ok bool, err error)
	// RenewLease holds l for ttl more, and reports false when l was lost: it
	// ran out, or another owner took the job since. When no owner holds the
	// job's lease (it ran out and none took it, or the store lost it: a
	// Redis flushed, or restarted empty), the error wraps ErrLeaseGone.
	RenewLease(ctx context.Context, l Lease, ttl time.Duration) (bool, error)
	// ReleaseLease gives l up, so that another owner may take the job at once;
	// a lease lost already is left alone.
	ReleaseLease(ctx context.Context, l Lease) error
	// AdvanceFenced raises the job's value name to v (never lowers it) while l
	// is the job's current lease, and reports false, writing nothing, once it
	// is not: an owner that lost the job cannot overwrite what a later one
	// wrote.
	AdvanceFenced(ctx context.Context, l Lease, name string, v int64) (bool, error)
	// Fenced returns the job's value name, 0 when it was never set.
	Fenced(ctx context.Context, job, name string) (int64, error)
}

// InboxItem is one thing a single-owner job took from its platform and has
// not finished with: a Telegram update taken by the poller, not judged yet.
type InboxItem struct {
	// ID orders the items and names one for its removal (an update_id).
	ID   int64
	Data []byte
	// Taken is when the item was first kept (zero: not known, an item kept
	// by an earlier build that did not note it, until it is first handed
	// on). AdvanceFencedKeeping keeps the first one noted.
	Taken time.Time
	// HandedOn counts the times the item was handed on by a next owner
	// (HandingOn) after an owner that did not release it (ReleaseInbox):
	// one that died with it.
	HandedOn int
}

// Inbox is offered by a store that keeps, for a single-owner job, what it
// took and has not finished with, where the job's next owner finds it: a
// process killed with updates in hand leaves them there, and the poller
// that takes the job over hands them on before it asks for more.
type Inbox interface {
	// AdvanceFencedKeeping is AdvanceFenced, and keeps items in the job's
	// inbox in the same step: both are written, or neither (false, once l is
	// not the job's current lease). The inbox keeps at most max items: past
	// that, the oldest (lowest ID) are dropped, and their number returned.
	AdvanceFencedKeeping(ctx context.Context, l Lease, name string, v int64, items []InboxItem, max int) (ok bool, dropped int, err error)
	// InboxItems returns the job's inbox, by ID.
	InboxItems(ctx context.Context, job string) ([]InboxItem, error)
	// RemoveFromInbox removes the items of ids from the job's inbox (those
	// it does not hold are no error). It is not fenced: the process that
	// finished with an item removes it, whoever holds the job now.
	RemoveFromInbox(ctx context.Context, job string, ids []int64) error
	// HandingOn counts one more hand-on for each item of ids still in the
	// job's inbox, and notes now as its Taken when none was noted: a next
	// owner calls it before it hands them on, so that an item whose
	// handling kills the process each time is known as such and let go.
	HandingOn(ctx context.Context, job string, ids []int64, now time.Time) error
	// ReleaseInbox marks the items of ids still in the job's inbox as left
	// there by an owner that stopped cleanly (a shutdown, not a crash):
	// their next HandingOn does not count, so that restarts alone never
	// make an item pass for one whose handling kills the process.
	ReleaseInbox(ctx context.Context, job string, ids []int64) error
}

// Settings is offered by a store the processes share (Redis): what a CM sets
// from a desk for all of vigie (a /pause, a /mode), which reaches one
// process, is kept there, and every process follows it, a restarted one too.
type Settings interface {
	// PutSetting sets name to value, and returns the settings' version
	// after it: a number that grows with every change.
	PutSetting(ctx context.Context, name, value string) (version int64, err error)
	// Settings returns every setting and their version (0 and none when
	// nothing was set, or the store lost its data).
	Settings(ctx context.Context) (values map[string]string, version int64, err error)
}

// Reloads is offered by a store the processes share (Redis): a process asked
// to reload its rule file (the console's Apply, a desk's /reload, POST
// /-/reload, a signal) says so there, and every other process, which reads
// it every few seconds, reloads its own rule file. Behind a load balancer the
// ask reaches one process; without it, the others would judge with the old
// rules until each was reloaded by hand.
type Reloads interface {
	// AskReload records one more reload asked, and returns the reloads
	// asked so far, this one included. a.Confined says the asking process
	// read the file confined to its folder (the console's Apply): the
	// others do too; a.Digest names the content of its rule file, for the
	// others to tell whether theirs is the same.
	AskReload(ctx context.Context, a ReloadAsk) (n int64, err error)
	// ReloadsAsked returns the reloads asked so far (N 0 when none, or
	// after the store lost its data), with the last one's Confined and
	// Digest.
	ReloadsAsked(ctx context.Context) (ReloadAsk, error)
}

// ReloadAsk is a reload asked of the processes sharing a store (Reloads).
type ReloadAsk struct {
	N        int64
	Confined bool
	Digest   string
}

// ReminderKeeper is offered by a store the processes share (Redis): it keeps
// the reminders of old cases that a desk did not take (an outage), claimed
// already, so that the next check of any process, or of this one after a
// restart, posts them. Without it, the process that claimed a reminder keeps
// it in memory, and a stop loses it until the case's next reminder.
type ReminderKeeper interface {
	// KeepReminder keeps the k-th reminder of case id until TakeReminders.
	KeepReminder(ctx context.Context, id string, k int64) error
	// TakeReminders returns the reminders kept, k by case id, and forgets
	// them: each is taken by one process.
	TakeReminders(ctx context.Context) (map[string]int64, error)
}

// ChannelMark is where a connector last was in one channel: the last message
// it saw there, by id, and when.
type ChannelMark struct {
	Channel string
	Guild   string
	Last    string // the last message's id (a Discord snowflake)
	At      time.Time
}

// ChannelMarks is offered by a store the processes share (Redis): the
// Discord shards' memory of the last message seen in each channel, kept by
// the processes running them, so that the process that runs a shard next
// (another one that took its lease over, this one restarted, or one running
// another count of shards) reads from the channels' history what was posted
// while nobody ran it.
type ChannelMarks interface {
	// SaveChannelMarks merges marks into the memory name, a channel's last
	// message only moving forward; it records saved as when writer last
	// wrote the memory, keeps about keep of the channels most recently
	// active, and lets the memory go once nobody wrote it for ttl.
	SaveChannelMarks(ctx context.Context, name, writer string, marks []ChannelMark, saved time.Time, keep int, ttl time.Duration) error
	// ChannelMarks returns the memory name, the most recently active
	// channels first, and when each writer last wrote it (none when it
	// never was written, or the store lost it; the writer "" is one of a
	// memory written without a writer's name).
	ChannelMarks(ctx context.Context, name string) (marks []ChannelMark, saved map[string]time.Time, err error)
	// DropChannelMarks deletes the memory name: one of an earlier layout,
	// merged into another.
	DropChannelMarks(ctx context.Context, name string) error
}
