package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// earlyCaseWait is how long a forwarded message's actions may take before
// its case is opened without them: a platform that answers carries them out
// in milliseconds, one that does not answer holds each try for its client's
// timeout (20 s on Discord), four times with the retry stage. It is waited
// on the moderator's clock (Options.AfterFunc).
const earlyCaseWait = time.Second

// earlyCase opens the case of a verdict that forwards its message before
// its actions end, when they are slow (earlyCaseWait) or a try failed: the
// CMs see the message at once, with the actions still being tried
// (store.Case.Trying, not done until they are), and the case is amended
// with how they ended (finish, amend). A verdict whose actions end at once
// opens its case after them, as before: nothing changes while the platform
// answers. A nil *earlyCase does nothing.
type earlyCase struct {
	m   *Moderator
	ctx context.Context
	rs  *rules.Ruleset
	ev  bot.Event
	v   bot.Verdict
	p   bot.Platform
	// acts is the verdict's actions, in the order they are tried.
	acts []bot.Action
	// stop stops the wait of earlyCaseWait; nil for none.
	stop func() bool

	mu sync.Mutex
	// cur is the index in acts of the action being tried; carried are the
	// actions carried out so far.
	cur     int
	carried []bot.Action
	// asked: the case was opened, or tried (open says once); finished: the
	// actions ended, and open does nothing.
	asked, finished bool
	// joined: the message joined a case open for its place or author (a
	// raid), rather than opening its own: that case is not amended with
	// how its actions ended (finish).
	joined bool
	opened store.Case
	// decision is the case opened, once it was read decided by a CM
	// (decided); its ID is "" until then.
	decision store.Case
}

// startEarly watches the actions of a verdict that forwards ev on p; nil
// when it does not forward it.
func (m *Moderator) startEarly(ctx context.Context, rs *rules.Ruleset, ev bot.Event, v bot.Verdict, acts []bot.Action, p bot.Platform) *earlyCase {
	if !slices.ContainsFunc(acts, func(a bot.Action) bool { return a.Kind == bot.ActForward }) {
		return nil
	}
	// acts is copied: HandleBy merges them in room on its stack, which a
	// timer that outlives the call must not hold (it moved the room to the
	// heap for every verdict, forwarded or not).
	e := &earlyCase{m: m, ctx: ctx, rs: rs, ev: ev, v: v, p: p, acts: slices.Clone(acts)}
	e.stop = m.afterFunc(earlyCaseWait, e.open)
	return e
}

// at says that the action acts[i] is being tried.
func (e *earlyCase) at(i int) {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.cur = i
	e.mu.Unlock()
}

// carriedOut says that a was carried out.
func (e *earlyCase) carriedOut(a bot.Action) {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.carried = append(e.carried, a)
	e.mu.Unlock()
}

// watch is op, which opens the case when a try fails for a reason worth
// another: the retries would hold the case. A try of a once a CM decided
// the case in a way that overrules a (overrules) is not made: it fails with
// errOverruled, which is not retried.
func (e *earlyCase) watch(a bot.Action, op func(context.Context) error) func(context.Context) error {
	if e == nil {
		return op
	}
	return func(ctx context.Context) error {
		if c, ok := e.decided(); ok && overrules(c.Outcome, a) {
			// not Retryable: the retry stage gives it up at once
			return &bot.ActionError{Op: a.Kind, Err: errOverruled}
		}
		err := op(ctx)
		if err != nil && bot.Retryable(err) {
			e.open()
		}
		return err
	}
}

// open opens the case with the actions not ended yet as Trying, once, unless
// they all ended.
func (e *earlyCase) open() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.finished || e.asked {
		return
	}
	e.asked = true
	var vc verdictCase
	for _, a := range e.acts {
		if a.Kind == bot.ActForward {
			e.m.forward(&vc, e.v, a)
		}
	}
	var trying, notDone []bot.Action
	for i, a := range e.acts {
		switch a.Kind {
		case bot.ActStrike, bot.ActForward, bot.ActAlert:
			continue
		}
		if !bot.Capable(e.p, a.Kind) || slices.Contains(e.carried, a) {
			continue
		}
		notDone = append(notDone, a)
		if i >= e.cur {
			trying = append(trying, a)
		}
	}
	if len(trying) == 0 {
		return
	}
	rule, category := firstEnforced(e.v)
	vc.add(rule, category, "being tried: "+actionList(trying), notDone, true)
	c, _ := vc.build(e.m, e.rs, e.ev)
	c.Trying = trying
	// Actions being tried are not actions that failed: where a raid is
	// under way (cases of the rule of three authors in the place lately,
	// as this vigie saw them), the case is grouped as the one its verdict
	// would open once they end well, so that a raid behind a rate limit
	// joins its place's case rather than posting a card a message. Should
	// they fail, the message then opens a case of its own, which holds
	// them (finish). Elsewhere it holds them from the start, as a case of
	// its own, and counts towards the raid.
	probe := c
	probe.Holds = false
	place := probe.PlaceGroup()
	if e.m.grouping.raid(place, e.ev.Author.ID, e.m.now()) {
		c.Holds = false
	}
	var first func(origin string) error
	if e.m.earlyOpening != nil {
		first = func(origin string) error { return e.m.earlyOpening(e.ctx, e.ev, origin) }
	}
	opened, err := e.m.openCaseAfter(e.ctx, e.rs, c, first)
	if err != nil {
		e.m.log.Warn("the case of a message whose actions are being tried was not opened; it opens once they end",
			"event", e.ev.Key(), "err", err)
		return
	}
	if opened.ID != "" && (opened.Event.Platform != e.ev.Platform || opened.Event.ID != e.ev.ID) {
		// Joined a case of its place or author: counted there, and the
		// journal keeps no case of its own for the verdict.
		e.joined = true
		return
	}
	e.opened = opened
	if e.m.earlyOpened != nil && opened.ID != "" {
		// Under e.mu: told before finish returns, so before the verdict
		// is carried out.
		e.m.earlyOpened(e.ctx, e.ev, opened.ID)
	}
}

// errOverruled is what a try of an action wraps, in a *bot.ActionError that
// is not worth another try, when a CM's decision on the case opened early
// overrules it (watch): the action is dropped.
var errOverruled = errors.New("overruled by the case's decision")

// decided returns the case opened early, once a CM decided it; ok is false
// while it is open, when none was opened, and when the store cannot say
// (the action then goes on: vigie cannot know of a decision it cannot read).
// Once read decided, the case is not read again.
func (e *earlyCase) decided() (c store.Case, ok bool) {
	if e == nil {
		return store.Case{}, false
	}
	e.mu.Lock()
	id, decision := e.opened.ID, e.decision
	e.mu.Unlock()
	if decision.ID != "" {
		return decision, true
	}
	if id == "" {
		return store.Case{}, false
	}
	sctx, cancel := e.m.storeContext(e.ctx)
	c, err := e.m.store.Case(sctx, id)
	cancel()
	if err != nil || c.Status != store.CaseDecided {
		return store.Case{}, false
	}
	e.mu.Lock()
	e.decision = c
	e.mu.Unlock()
	return c, true
}

// overrules says whether a CM's decision outcome (as the case records it)
// overrules a verdict's action a still to try: keep and a reply leave the
// message and its author as they are, so every action on them is dropped;
// an undo (unhide, unban, untimeout) drops what it undoes; a decision that
// moderates too (delete, hide, timeout, ban, kick) lets the verdict's
// actions on the other target go on, but takes the place of every one on
// its own target (replaces), which the decision carries out itself, as the
// CM gave it: a milder one too, the CM's choice. A lockdown or a slow mode
// is about the place, not the message: no decision on the case drops it. An
// outcome not understood drops everything: the human's word wins.
func overrules(outcome string, a bot.Action) bool {
	if placeAction(a.Kind) {
		return false
	}
	o, err := ParseOutcome(outcome)
	if err != nil {
		return true
	}
	switch o.Kind {
	case OutcomeKeep, bot.ActReply:
		return true
	case OutcomeUnhide:
		return a.Kind == bot.ActHide || a.Kind == bot.ActDelete
	case OutcomeUnban:
		return a.Kind == bot.ActBan || a.Kind == bot.ActKick
	case OutcomeUntimeout:
		return a.Kind == bot.ActTimeout
	}
	return slices.Contains(replaces[o.Kind], a.Kind)
}

// replaces is, for a CM's decision that moderates, the verdict's actions it
// takes the place of: those on its target, the message (delete, hide) or
// its author (ban, kick, timeout, and the warning, written for the
// verdict's own sanction). The CM chose how the message or the author is
// dealt with, milder or harsher than the rule: vigie does not add its own
// on top. docs/operations.md has the table.
var replaces = map[bot.ActionKind][]bot.ActionKind{
	bot.ActDelete:  onMessage,
	bot.ActHide:    onMessage,
	bot.ActBan:     onAuthor,
	bot.ActKick:    onAuthor,
	bot.ActTimeout: onAuthor,
}

var (
	onMessage = []bot.ActionKind{bot.ActDelete, bot.ActHide}
	onAuthor  = []bot.ActionKind{bot.ActBan, bot.ActKick, bot.ActTimeout, bot.ActWarn}
)

// overruled adds to vc, once a CM decided the case opened early, what the
// decision changed in the verdict's actions: those it overruled that were
// carried out all the same, the decision reaching them too late (a call
// under way when it was taken), for the CMs to undo by hand; and dropped,
// those it overruled that were not, which stay not done.
func (e *earlyCase) overruled(vc *verdictCase, v bot.Verdict, dropped []bot.Action) {
	c, ok := e.decided()
	if !ok {
		return
	}
	e.mu.Lock()
	var late []bot.Action
	for _, a := range e.carried {
		if slices.Contains(c.Trying, a) && overrules(c.Outcome, a) {
			late = append(late, a)
		}
	}
	e.mu.Unlock()
	if len(late) == 0 && len(dropped) == 0 {
		return
	}
	reason := "decided " + c.Outcome + " by " + c.DecidedBy + " while vigie was acting"
	if len(late) > 0 {
		reason += "; carried out before the decision reached it: " + actionList(late)
	}
	if len(dropped) > 0 {
		reason += "; dropped for the decision: " + actionList(dropped)
	}
	rule, category := firstEnforced(v)
	vc.add(rule, category, reason, dropped, len(dropped) > 0)
	// carried out: suggested and done, so that the cards offer the undo
	for _, a := range late {
		if !slices.Contains(vc.suggested, a) {
			vc.suggested = append(vc.suggested, a)
		}
	}
}

// finish says that the actions ended, and returns the case opened before
// they did, if any (an ID of "": none), and whether the message joined a
// case of its place or author instead. An open under way is waited for.
func (e *earlyCase) finish() (opened store.Case, joined bool) {
	if e == nil {
		return store.Case{}, false
	}
	if e.stop != nil {
		e.stop()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.finished = true
	return e.opened, e.joined
}

// amend records on the case opened early how the verdict's actions ended,
// as c (the case the verdict would have opened now) says, and shows it on
// the case's cards. When the store cannot take the amendment, c opens a case
// of its own: the failures must reach the desk.
func (m *Moderator) amend(ctx context.Context, rs *rules.Ruleset, early store.Case, c store.Case) error {
	a := store.CaseAmendment{Reason: c.Reason, Suggested: c.Suggested, NotDone: c.NotDone}
	sctx, cancel := m.storeContext(ctx)
	// (No edit of the message is shown on it yet: its edits find the case
	// once its verdict was carried out, keepMessageCase.)
	err := m.store.AmendCase(sctx, early.ID, a)
	var amended store.Case
	if err == nil {
		amended, err = m.store.Case(sctx, early.ID)
	}
	cancel()
	if err != nil {
		m.log.Warn("a case opened while its actions were being tried was not amended with how they ended; they open a case of their own",
			"case", early.ID, "event", c.Event.Key(), "err", err)
		return m.open(ctx, rs, c)
	}
	m.log.Info("case amended: its actions ended", "case", amended.ID, "event", c.Event.Key(), "reason", amended.Reason)
	m.ShowDecision(ctx, amended, "")
	return nil
}

// showAmended shows on its cards a case posted as posted was, if it was
// amended in the meantime: its actions being tried ended, or its message
// was edited (showEdit); the amendment, made before the card was recorded
// (AddCard), did not find it to edit.
func (m *Moderator) showAmended(ctx context.Context, posted store.Case) {
	sctx, cancel := m.storeContext(ctx)
	c, err := m.store.Case(sctx, posted.ID)
	cancel()
	if err != nil || len(c.Trying) > 0 {
		return
	}
	if len(posted.Trying) == 0 && editsOf(c) == editsOf(posted) && deletedOf(c) == deletedOf(posted) && unhiddenOf(c).Equal(unhiddenOf(posted)) {
		return
	}
	m.ShowDecision(ctx, c, "")
}

// deletedOf reports whether case c shows its message deleted.
func deletedOf(c store.Case) bool { return c.Edited != nil && !c.Edited.Deleted.IsZero() }

// unhiddenOf is when case c shows its message shown again by hand; zero
// when it does not.
func unhiddenOf(c store.Case) time.Time {
	if c.Edited == nil {
		return time.Time{}
	}
	return c.Edited.Unhidden
}

// editsOf counts the edits of its message that case c shows.
func editsOf(c store.Case) int {
	if c.Edited == nil {
		return 0
	}
	return c.Edited.Edits
}

// tryingTooLong is how long after it opened a case may still say that its
// actions are being tried before the escalation's check says that vigie
// stopped while acting on it. A verdict's tries take minutes (four of at
// most 20 s an action, and the journal hands a verdict left unfinished to
// another vigie after 2 minutes, three times at most, the last amending the
// case); a case still being tried an hour on was left so by a vigie that
// stopped before the journal named the case, or whose journal entry was
// lost, or that could not amend it: nobody will.
const tryingTooLong = time.Hour

// stoppedTrying amends c, an open case still being tried long after its
// actions' time (tryingTooLong), to say that vigie stopped while acting on
// it: the actions it was trying may or may not have been carried out, and
// a CM should look. They are marked not done, so that the card offers
// them again rather than their undoing. The case is read again first: one
// amended meanwhile (its verdict carried out at last) is left as it is.
func (m *Moderator) stoppedTrying(ctx context.Context, c store.Case) error {
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	cur, err := m.store.Case(sctx, c.ID)
	if err != nil {
		return fmt.Errorf("case %s still being tried: %w", c.ID, err)
	}
	if len(cur.Trying) == 0 || cur.Outcome != "" {
		return nil
	}
	notDone := slices.Clone(cur.NotDone)
	for _, a := range cur.Trying {
		if !slices.Contains(notDone, a) {
			notDone = append(notDone, a)
		}
	}
	a := store.CaseAmendment{Reason: stoppedReason(cur), Suggested: cur.Suggested, NotDone: notDone, Edited: cur.Edited}
	if err := m.store.AmendCase(sctx, cur.ID, a); err != nil {
		return fmt.Errorf("case %s still being tried: %w", c.ID, err)
	}
	m.log.Warn("case still being tried long after its actions' time: vigie stopped while acting on it; the CMs check it",
		"case", cur.ID, "event", cur.Event.Key(), "opened", cur.Opened, "trying", actionList(cur.Trying))
	m.ShowDecision(ctx, cur.Amend(a), "")
	return nil
}

// stoppedReason is the reason of c, a case left being tried, once amended:
// its part "being tried: …" (early.go's open) says that vigie stopped while
// acting on it, the rest is kept.
func stoppedReason(c store.Case) string {
	list := actionList(c.Trying)
	note := "vigie stopped while acting on this (" + list + "); check it"
	if r := strings.Replace(c.Reason, "being tried: "+list, note, 1); r != c.Reason {
		return r
	}
	if c.Reason == "" {
		return note
	}
	return c.Reason + "; " + note
}
