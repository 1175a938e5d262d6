package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Card is a case as a desk shows it: the platform-neutral fields of a case.
type Card struct {
	ID       string
	Opened   time.Time
	Event    Event
	Rule     string
	Category string
	Reason   string
	// Suggested is what the rule would do, or did, to the message.
	Suggested []Action
	// NotDone are the suggested actions not carried out: failed, or held.
	NotDone []Action
	// Trying are those of NotDone still being tried (the platform slow or
	// failing): the card is edited once they end.
	Trying []Action
	// Outcome is set once a CM decided, written as an action of the rule file:
	// keep, delete, hide, timeout(1h), ban, reply("…").
	Outcome   string
	DecidedBy string
	// DeciderName is the name of who decided as their desk showed it, ""
	// when none was told (store.Case.DeciderName).
	DeciderName string
	DecidedAt   time.Time
	// Notes are the moderators' notes on the author (/note), one a line:
	// "telegram:42, 2026-12-01: sells accounts".
	Notes []string
	// Desk is the chat or channel the card is posted to when it is not the
	// desk's: the desk of the case's community (the rule file's communities:).
	Desk string
	// Place names where the message was as its own platform does, for a
	// card on another platform's desk (a Telegram group's title and topic,
	// "Fans › Off-topic", on the Discord desk: DeskPlaceNamer); "" when the
	// desk names it itself, or nothing does.
	Place string
	// PosesAs names, as plain text, the CM of the case's platform whom
	// its author is named like without being them, told by that platform
	// (CMPoseTeller) for a card on another platform's desk; "" when none,
	// or when the desk tells it itself.
	PosesAs string
	// Community is the case's community, "" for none (store.Case.Community).
	Community string
	// Unverified says the message came over HTTP and was not seen on its
	// platform (store.Case.Unverified): the desks say so (UnverifiedText)
	// and offer keep only.
	Unverified bool
	// Edited is what the message became, edited while its case was open;
	// nil when it was not.
	Edited *Edited
	// Offers are the outcomes the case's platform can carry out on its
	// message (handlers.Moderator.OutcomesFor), keep first: the desks show
	// those buttons only, so that a CM is not offered a ban Instagram does
	// not have, or a hide on a Messenger message. nil is not told: every
	// button the desk has, each refused by Decide when it cannot be done.
	Offers []ActionKind
}

// Offered reports whether the card offers the outcome o (an Outcome
// constant): the answer, a reply; an undo, what it undoes.
func (c Card) Offered(o string) bool {
	if o == OutcomeAnswer {
		o = OutcomeReply
	}
	return c.Offers == nil || slices.Contains(c.Offers, ActionKind(o))
}

// Edited is what a case's message became when its author edited it while
// the case was open: the cards show it under the message as first seen, so
// that the CM decides on what the message says now, and on every reason the
// rules found in it.
type Edited struct {
	// At is when the last edit was seen.
	At time.Time `json:"at"`
	// Text is the last edit's content, as the rules judged it
	// (Event.Content).
	Text string `json:"text"`
	// Reason is what the rules found in the last edit for the CMs: each
	// rule that sent it to the desk and why ("scam: scam link"), the
	// actions held or failed; "" when it matched no such rule.
	Reason string `json:"reason,omitempty"`
	// Rules are the rules that sent the last edit to the desk.
	Rules []string `json:"rules,omitempty"`
	// Edits counts the edits seen while the case was open, the last one
	// included; 0 when the message was deleted, or shown again, and never
	// edited.
	Edits int `json:"edits,omitempty"`
	// Deleted is when the platform said the message was deleted while the
	// case was open (by its author, a moderator or vigie); zero while it
	// is there.
	Deleted time.Time `json:"deleted,omitzero"`
	// Unhidden is when the platform said the message, hidden, was shown
	// again while the case was open, by hand in the platform's tools (a
	// CM, or the platform itself); zero when it did not.
	Unhidden time.Time `json:"unhidden,omitzero"`
}

// DeletedText is the line the cards write when the case's message was
// deleted while the case was open.
func DeletedText(e *Edited) string {
	return "🗑 The message was deleted at " + e.Deleted.UTC().Format("15:04 UTC") +
		" (by its author, a moderator or vigie): it is gone, and a Delete has nothing left to do."
}

// UnhiddenText is the line the cards write when the case's message, hidden,
// was shown again by hand while the case was open.
func UnhiddenText(e *Edited) string {
	return "👁 The comment was shown again at " + e.Unhidden.UTC().Format("15:04 UTC") +
		" (by a CM in Meta's tools, or by Meta): everyone sees it again, and an Unhide has nothing left to do."
}

// EditedText is the line the cards write above an edit's text: when it
// was seen, and how many there were.
func EditedText(e *Edited) string {
	s := "✏️ Edited by its author"
	if e.Edits > 1 {
		s += fmt.Sprintf(" (%d times)", e.Edits)
	}
	if !e.At.IsZero() {
		s += " at " + e.At.UTC().Format("15:04 UTC")
	}
	return s + ", it now reads:"
}

// EditedReason is the line the cards write under an edit's text: what the
// rules found in it.
func EditedReason(e *Edited) string {
	if e.Reason == "" {
		return "The edit matches no rule that sends it to the desk."
	}
	return "In the edit: " + e.Reason
}

// UnverifiedText is what the cards of an Unverified case say, above the
// message: a CM woken at night reads at once that vigie cannot vouch for it
// and will not act on it.
func UnverifiedText(platform string) string {
	return "⚠️ Unverified: this message came over HTTP (/v1/events), not from " + platform +
		", and may be forged in the member's name. vigie will not act on it: look for it on " +
		platform + ", and act there if it is real."
}

// SuggestsFAQAnswer reports whether the card is the FAQ's (rule faq:ENTRY)
// and suggests a reply, which OutcomeAnswer sends.
func SuggestsFAQAnswer(c Card) bool {
	if !strings.HasPrefix(c.Rule, "faq:") {
		return false
	}
	for _, a := range c.Suggested {
		if a.Kind == ActReply && a.Text != "" {
			return true
		}
	}
	return false
}

// CarriedOut reports whether vigie carried out an action of kind k on the
// card's message: only that has an undo (unhide, unban, untimeout) on it.
func (c Card) CarriedOut(k ActionKind) bool { return CarriedOut(c.Suggested, c.NotDone, k) }

// CarriedOut reports whether an action of kind k was carried out, of a case
// that suggests suggested and did not carry out notDone: it suggests one and
// lists none of that kind as not done (a verdict does each kind once: two
// rules' timeouts are one, whose duration a rule's suggestion may not have).
func CarriedOut(suggested, notDone []Action, k ActionKind) bool {
	has := func(a Action) bool { return a.Kind == k }
	return slices.ContainsFunc(suggested, has) && !slices.ContainsFunc(notDone, has)
}

// SuggestedText lists the card's suggested actions as the rule file writes
// them, each not carried out marked so: "hide (not done), ban", or
// "delete (being tried)" while vigie still tries it.
func SuggestedText(c Card) string {
	acts := make([]string, len(c.Suggested))
	for i, a := range c.Suggested {
		acts[i] = a.String()
		switch {
		case slices.Contains(c.Trying, a):
			acts[i] += TryingMark
		case slices.Contains(c.NotDone, a):
			acts[i] += NotDoneMark
		}
	}
	return strings.Join(acts, ", ")
}

// NotDoneMark follows a suggested action not carried out, on the cards;
// TryingMark one still being tried.
const (
	NotDoneMark = " (not done)"
	TryingMark  = " (being tried)"
)

// Decided reports whether a CM has decided the case.
func (c Card) Decided() bool { return c.Outcome != "" }

// The outcomes a CM can choose on a card; each desk offers those its platform
// can carry out.
const (
	OutcomeKeep    = "keep"
	OutcomeDelete  = "delete"
	OutcomeHide    = "hide"
	OutcomeTimeout = "timeout"
	OutcomeBan     = "ban"
	OutcomeReply   = "reply"
	// OutcomeAnswer sends the reply the case suggests: the FAQ's answer to a
	// question it was not sure of. The FAQ learns the question's wording.
	OutcomeAnswer = "answer"
	// OutcomeUnhide, OutcomeUnban and OutcomeUntimeout undo what vigie did:
	// they overturn the rule.
	OutcomeUnhide    = "unhide"
	OutcomeUnban     = "unban"
	OutcomeUntimeout = "untimeout"
)

// MuteDuration is how long a card's mute (timeout) button silences the author.
const MuteDuration = time.Hour

// ButtonDecision is the decision of a card's button, by the name its data
// carries. The desks of every platform name their buttons alike, and the
// names stay: a card posted before an upgrade still decides.
func ButtonDecision(name string) (d Decision, ok bool) {
	d, ok = buttonDecisions[name]
	return d, ok
}

var buttonDecisions = map[string]Decision{
	"keep":   {Outcome: OutcomeKeep},
	"delete": {Outcome: OutcomeDelete},
	"hide":   {Outcome: OutcomeHide},
	"unhide": {Outcome: OutcomeUnhide},
	"mute":   {Outcome: OutcomeTimeout, Duration: MuteDuration},
	"ban":    {Outcome: OutcomeBan},
	"unmute": {Outcome: OutcomeUntimeout},
	"unban":  {Outcome: OutcomeUnban},
	"answer": {Outcome: OutcomeAnswer},
}

// Decision is what a CM chose for a case.
type Decision struct {
	CaseID string
	// Outcome is one of the Outcome constants.
	Outcome string
	// Duration is set for a timeout.
	Duration time.Duration
	// Text is the answer to send, for a reply.
	Text string
	// By is the CM's id as in the rule file's desk.cms ("telegram:123",
	// "discord:123"); ByName their display name.
	By     string
	ByName string
}

// String writes the decision as an action of the rule file, the way the handlers
// read outcomes: keep, delete, hide, ban, timeout(1h), reply("…").
func (d Decision) String() string {
	return Action{Kind: ActionKind(d.Outcome), Text: d.Text, Duration: d.Duration}.String()
}

// CardRef says where a desk posted a case's card: enough for any process to
// edit it later, whichever one posted it.
type CardRef struct {
	// Platform is the desk's: telegram, discord.
	Platform string `json:"platform"`
	// Chat is the chat or channel id, Message the message id, as the
	// platform writes them.
	Chat    string `json:"chat"`
	Message string `json:"message"`
}

// CardBook is offered by DeskCommands that keep where the cards were posted
// where every process reads it (the store): a desk records each card it
// posts, and whichever process records a decision shows it on all of the
// case's cards (CardEditor). A desk whose commands keep no cards edits only
// the card whose button was pressed.
type CardBook interface {
	AddCard(ctx context.Context, caseID string, ref CardRef) error
}

// CardEditor is a desk that can show a decision on a card it or another
// process posted. note, when set, is shown under the decision (it was not
// carried out, and why); the name of who decided is read from ctx
// (DeciderName), when the decision came from there.
type CardEditor interface {
	EditCard(ctx context.Context, ref CardRef, card Card, note string) error
}

type deciderKey struct{}

// WithDeciderName tells the desks the display name of the CM whose decision
// ctx carries, for the cards: the store keeps only their id.
func WithDeciderName(ctx context.Context, name string) context.Context {
	if name == "" {
		return ctx
	}
	return context.WithValue(ctx, deciderKey{}, name)
}

// DeciderName is the name WithDeciderName put in ctx, or "".
func DeciderName(ctx context.Context) string {
	s, _ := ctx.Value(deciderKey{}).(string)
	return s
}

// ErrUnknownCase is what DeskCommands.Decide wraps when the store knows no
// case of the id a button names: it was forgotten (a case lives 90 days
// after its last change in Redis), or the card is from before the store
// was emptied (a restart on the memory store, Redis's data lost), or
// another vigie's with a store of its own posted it. Nothing was done; the
// card's buttons can only ever say so again.
var ErrUnknownCase = errors.New("not found")

// UnknownCaseText is what a desk tells the CM who pressed a button of a
// case the store does not know (ErrUnknownCase); queue is the desk's
// command that lists the open cases.
func UnknownCaseText(caseID, queue string) string {
	return "Nothing was done: vigie does not know case " + caseID + ". Its store forgets a case 90 days after its last change, " +
		"and a card from before the store was emptied (a restart on the memory store, Redis's data lost), or posted by another vigie " +
		"with a store of its own, names a case it does not have. " + queue + " lists the open cases."
}

// ButtonsTakenOff follows UnknownCaseText when the desk took the buttons
// off the card pressed.
const ButtonsTakenOff = " The card's buttons are taken off."

// ErrDecided is what DeskCommands.Decide wraps when the case was decided before.
var ErrDecided = errors.New("case already decided")

// ErrStillTrying is what DeskCommands.Decide wraps when the decision is
// recorded but its platform has not carried it out yet (down, or slow to
// answer): it goes on being tried, and the case's cards will say how it
// ended; one not carried out opens a case that says so.
var ErrStillTrying = errors.New("still being tried: the platform is slow to answer; the case's cards will say how it ends")

// WaitError is what DeskCommands.Decide wraps when the decision is recorded
// and waits, before being carried out, for the claim of its carrying out
// (so that it is carried out once, by one vigie): another vigie sharing the
// store holds it (WaitOtherVigie), or the store does not answer
// (WaitStore). It is ErrStillTrying too (errors.Is). Again says that the
// CMs were told already how this decision goes (a press handed on again
// while it waits, or handed on from the vigie carrying it out, which
// answered it): a desk need not say it a second time.
type WaitError struct {
	Why   string
	Again bool
}

// What a decision waits for (WaitError.Why).
const (
	WaitOtherVigie = "another vigie sharing the store is carrying it out"
	WaitStore      = "vigie's store does not answer"
)

func (e *WaitError) Error() string {
	return "recorded, not carried out yet: " + e.Why + "; it will be, once, and the case's cards will say how it ends"
}

// Is makes a WaitError ErrStillTrying.
func (e *WaitError) Is(target error) bool { return target == ErrStillTrying }

// ErrStaleCard is what DeskCommands.Decide wraps, having done nothing, when the
// card whose button was pressed is another case's that had the same id: it was
// posted before the case its button names was opened (WithCardPosted), as a
// card of an id from before ids carried their store's epoch can be, or it is
// not one of the case's cards the store recorded (WithCardPressed), as
// another vigie's with a store of its own is. Deciding would act on another
// member.
var ErrStaleCard = errors.New("the card pressed is about another case that had the same id")

// CardClockSlack is how much earlier than its case a card may be dated by its
// platform and still be the case's: the platform's clock and vigie's differ.
const CardClockSlack = 10 * time.Second

type handedOnKey struct{}

// WithHandedOn tells Decide that the decision is a press or a command taken
// again after the process that first took it stopped before its end (it
// was killed): a case the same CM decided the same way already is that
// decision, carried out now unless the store says its carrying out ended
// (store.DecisionMarks), and answered as done rather than ErrDecided.
func WithHandedOn(ctx context.Context) context.Context {
	return context.WithValue(ctx, handedOnKey{}, true)
}

// HandedOn reports whether WithHandedOn marked ctx.
func HandedOn(ctx context.Context) bool {
	b, _ := ctx.Value(handedOnKey{}).(bool)
	return b
}

type holdKey struct{}

// WithHold gives Decide what keeps the press or command that asked for a
// decision from counting as finished while the decision's carrying out
// goes on in the background (ErrStillTrying): hold is called as it goes
// there, and the release it returns once it ends. The Telegram poller
// keeps the update in its inbox until then, for the next poller to finish
// the decision should this process die first.
func WithHold(ctx context.Context, hold func() (release func())) context.Context {
	return context.WithValue(ctx, holdKey{}, hold)
}

// Hold calls the hold WithHold put in ctx, and returns its release (one
// that does nothing without one).
func Hold(ctx context.Context) (release func()) {
	if hold, ok := ctx.Value(holdKey{}).(func() func()); ok && hold != nil {
		return hold()
	}
	return func() {}
}

type cardPostedKey struct{}

// WithCardPosted tells Decide when the card whose button was pressed was
// posted, by the desk platform's clock (a Discord message id's time).
func WithCardPosted(ctx context.Context, at time.Time) context.Context {
	if at.IsZero() {
		return ctx
	}
	return context.WithValue(ctx, cardPostedKey{}, at)
}

// CardPosted is the time WithCardPosted put in ctx, or zero.
func CardPosted(ctx context.Context) time.Time {
	at, _ := ctx.Value(cardPostedKey{}).(time.Time)
	return at
}

type cardPressedKey struct{}

// WithCardPressed tells Decide which card's button was pressed: when the
// store recorded the case's cards on that desk (CardBook) and this is not one
// of them, it is another case's card of the same id (posted before a
// restart, or by another process with a store of its own), and Decide wraps
// ErrStaleCard, having done nothing.
func WithCardPressed(ctx context.Context, ref CardRef) context.Context {
	if ref.Message == "" {
		return ctx
	}
	return context.WithValue(ctx, cardPressedKey{}, ref)
}

// CardPressed is the card WithCardPressed put in ctx, if any.
func CardPressed(ctx context.Context) (CardRef, bool) {
	ref, ok := ctx.Value(cardPressedKey{}).(CardRef)
	return ref, ok
}

type cardLostKey struct{}

type cardLost struct {
	ref  CardRef
	lost func(outcome, note string, err error)
}

// WithCardLost gives Decide what to call when the card at ref, whose button
// was pressed, does not show the decision and will not: its platform
// refused the edit for good (the card deleted, or too old to edit), or did
// not take it in the time a card's edit is given. outcome is the case's
// decision as the card would have shown it, note what it would have said
// under it, err why it does not. It is called at each edit of the case's
// cards that fails on that one: as Decide shows the decision, and as its
// carrying out goes on after Decide returned (ErrStillTrying), so lost
// must not depend on the press's context being alive, and says each new
// note once. The desk tells the presser there, since the card pressed is
// where they look for the outcome.
func WithCardLost(ctx context.Context, ref CardRef, lost func(outcome, note string, err error)) context.Context {
	if ref.Message == "" || lost == nil {
		return ctx
	}
	return context.WithValue(ctx, cardLostKey{}, cardLost{ref: ref, lost: lost})
}

// CardLostText is what a desk tells the presser of a card that does not
// show the case's decision and will not (WithCardLost): outcome is the
// decision as the desk names it, err why the card does not show it, shows
// the command that shows the case, written as the desk writes commands.
func CardLostText(caseID, outcome string, err error, shows string) string {
	return fmt.Sprintf("Case %s: %s is recorded, but its card does not show it and will not (%v); vigie does not try again. %s shows the case.",
		caseID, outcome, err, shows)
}

// FirstTime returns a test of whether a text is said for the first time:
// true once for each text, whoever asks. The desks tell each new note of
// a lost card once (WithCardLost).
func FirstTime() func(text string) bool {
	var mu sync.Mutex
	said := map[string]bool{}
	return func(text string) bool {
		mu.Lock()
		defer mu.Unlock()
		again := said[text]
		said[text] = true
		return !again
	}
}

// CardLost is what WithCardLost put in ctx for the card at ref, nil for
// another card or none.
func CardLost(ctx context.Context, ref CardRef) func(outcome, note string, err error) {
	if l, ok := ctx.Value(cardLostKey{}).(cardLost); ok && l.ref == ref {
		return l.lost
	}
	return nil
}

// DeskCommands is what every desk needs from the rest of vigie to decide cases
// and answer the CMs' commands. The texts returned are shown to the CM as they are.
type DeskCommands interface {
	// Decide records the decision, carries it out on the case's platform, and
	// returns the case as it now stands. A case decided earlier comes back with
	// that first decision and an error wrapping ErrDecided; a decision recorded
	// but not carried out comes back decided, with the error that stopped it.
	Decide(ctx context.Context, d Decision) (Card, error)
	// Queue returns the open cases, oldest first, that by (platform:id) may
	// decide: a community's CM sees only their communities' cases.
	Queue(ctx context.Context, by string) ([]Card, error)
	// Status says what vigie is doing, with the figures by may see.
	Status(ctx context.Context, by string) (string, error)
	// Pause makes vigie only flag and forward, for d (0: until Resume).
	Pause(ctx context.Context, d time.Duration, by string) (string, error)
	Resume(ctx context.Context, by string) (string, error)
}

// ModeCommands is what DeskCommands that know shifts add: the mode command.
type ModeCommands interface {
	// Mode shows the mode with no argument; "office" or "after" with an
	// optional duration forces it; "auto" follows office hours again.
	Mode(ctx context.Context, args, by string) (string, error)
}

// CaseRights is what DeskCommands that keep a community's CMs to its cases
// add: asking before a decision is taken, so that a desk can refuse at once
// what it would otherwise refuse only when the decision comes (the
// Telegram reply button, whose text comes later).
type CaseRights interface {
	// MayDecide returns a *CommunityError when by may not decide the case,
	// an error wrapping ErrStaleCard when ctx names a card older than the
	// case (WithCardPosted), an error when the store knows no such case (its
	// id from before a restart), nil otherwise (a case the store cannot read
	// now included: Decide says why).
	MayDecide(ctx context.Context, caseID, by string) error
}

// ReportCommands is what DeskCommands that write reports add: the report command.
type ReportCommands interface {
	// Report is the report of the last period, as text and a PNG chart; for
	// a CM whose rights are some communities' (by), of those communities.
	Report(ctx context.Context, period time.Duration, by string) (text string, png []byte, err error)
}

// CommunityError is what DeskCommands.Decide and Moderation.Moderate return
// when the CM's rights are a community's (its desk.cms in the rule file) and
// the case or the place belongs to another community, or to none. Nothing
// was done; the desks answer and audit it as a refusal.
type CommunityError struct {
	// Community is the case's or the place's community, "" for none.
	Community string
	// Own is the CM's community.
	Own string
}

func (e *CommunityError) Error() string {
	if e.Community == "" {
		return fmt.Sprintf("this case belongs to no community; your rights are community %s's", e.Own)
	}
	return fmt.Sprintf("this case belongs to community %s; your rights are community %s's", e.Community, e.Own)
}
