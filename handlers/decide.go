package handlers

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// Outcomes a CM can give a case, besides the actions of the rule file. Keep leaves
// the message as it is; unhide, unban and untimeout overturn what vigie did.
const (
	OutcomeKeep      bot.ActionKind = "keep"
	OutcomeUnhide    bot.ActionKind = "unhide"
	OutcomeUnban     bot.ActionKind = "unban"
	OutcomeUntimeout bot.ActionKind = "untimeout"
	// OutcomeAnswer sends the reply the case suggests (bot.OutcomeAnswer).
	OutcomeAnswer bot.ActionKind = bot.OutcomeAnswer
)

// defaultTimeout is used for a timeout decided without a duration when the case
// suggests none.
const defaultTimeout = time.Hour

// Outcome is a CM's decision on a case, written like an action of the rule file:
// keep, delete, hide, unhide, kick, ban, ban(7d), unban, timeout(1h), untimeout,
// reply("…").
type Outcome struct {
	Kind     bot.ActionKind
	Duration time.Duration
	Text     string
}

// String renders the outcome as ParseOutcome reads it.
func (o Outcome) String() string {
	return bot.Action{Kind: o.Kind, Text: o.Text, Duration: o.Duration}.String()
}

// ParseOutcome reads an outcome as the desk's buttons and commands write it.
func ParseOutcome(s string) (Outcome, error) {
	s = strings.TrimSpace(s)
	name, arg, hasArg := strings.Cut(s, "(")
	if hasArg {
		var ok bool
		if arg, ok = strings.CutSuffix(arg, ")"); !ok {
			return Outcome{}, fmt.Errorf("outcome %q: missing )", s)
		}
	}
	o := Outcome{Kind: bot.ActionKind(strings.ToLower(strings.TrimSpace(name)))}
	switch o.Kind {
	case OutcomeKeep, bot.ActDelete, bot.ActHide, OutcomeUnhide, bot.ActKick, OutcomeUnban, OutcomeUntimeout, OutcomeAnswer:
		if hasArg {
			return Outcome{}, fmt.Errorf("outcome %q: %s takes no argument", s, o.Kind)
		}
	case bot.ActTimeout, bot.ActBan:
		if hasArg {
			d, err := parseDuration(arg)
			if err != nil {
				return Outcome{}, fmt.Errorf("outcome %q: %w", s, err)
			}
			o.Duration = d
		}
	case bot.ActLockdown, bot.ActSlowmode:
		// a lockdown held while vigie was paused, decided by a CM
		d, err := parseDuration(arg)
		if !hasArg || err != nil {
			return Outcome{}, fmt.Errorf("outcome %q: %s needs a duration, like %s(10m)", s, o.Kind, o.Kind)
		}
		o.Duration = d
	case bot.ActReply:
		text, err := strconv.Unquote(strings.TrimSpace(arg))
		if err != nil || strings.TrimSpace(text) == "" {
			return Outcome{}, fmt.Errorf(`outcome %q: reply needs a quoted text, like reply("merci")`, s)
		}
		o.Text = text
	default:
		return Outcome{}, fmt.Errorf("outcome %q: want keep, delete, hide, unhide, kick, ban, unban, timeout, untimeout, reply, answer, lockdown or slowmode", s)
	}
	return o, nil
}

// WithArgument writes an outcome named as a button names it (reply,
// timeout, ban) with the argument a form or a command line gives apart: the
// reply's text, quoted, or the duration, as ParseOutcome reads them. An
// outcome already written with its argument, or given none, is left as it is.
func WithArgument(outcome, arg string) string {
	outcome, arg = strings.TrimSpace(outcome), strings.TrimSpace(arg)
	switch {
	case arg == "" || strings.Contains(outcome, "("):
		return outcome
	case strings.EqualFold(outcome, string(bot.ActReply)):
		return outcome + "(" + strconv.Quote(arg) + ")"
	}
	return outcome + "(" + arg + ")"
}

// parseDuration reads a duration as CMs write them on the desk (10m, 1h30m,
// 7d, 1w), the rule file's way, up to ten years.
func parseDuration(s string) (time.Duration, error) {
	d, err := bot.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d > 3650*24*time.Hour {
		return 0, fmt.Errorf("bad duration %q: longer than ten years", s)
	}
	return d, nil
}

// MayDecide says, before a decision is taken, whether by may decide the case:
// a *bot.CommunityError, audited as a refusal, when by's rights are another
// community's; an error wrapping bot.ErrStaleCard when ctx names a card
// older than the case (bot.WithCardPosted); one wrapping store.ErrNotFound
// for an id the store does not know (a card from before a restart, whose
// case ids were of another epoch); nil otherwise, also for a case it cannot
// read now (Decide will say why). The Telegram desk asks it before prompting
// for a reply's text.
func (m *Moderator) MayDecide(ctx context.Context, caseID, by string) error {
	c, err := m.store.Case(ctx, caseID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("case %s: %w", caseID, err)
	}
	if err != nil {
		return nil
	}
	if err := m.mayDecide(c, by); err != nil {
		return err
	}
	return m.staleCard(ctx, c, by)
}

// staleCard refuses, wrapping bot.ErrStaleCard, a decision taken from a card
// (bot.WithCardPosted) posted before its case was opened: the card is about
// an older case that had the same id.
func (m *Moderator) staleCard(ctx context.Context, c store.Case, by string) error {
	at := bot.CardPosted(ctx)
	if at.IsZero() || !at.Before(c.Opened.Add(-bot.CardClockSlack)) {
		return nil
	}
	m.log.Warn("decision refused: the card pressed is older than its case", "audit", true, "case", c.ID, "by", by,
		"card_posted", at.UTC().Format(time.RFC3339), "case_opened", c.Opened.UTC().Format(time.RFC3339))
	return fmt.Errorf("case %s: %w (the card was posted %s, case %s opened %s: an older case had the same id: "+
		"an id from before ids carried their store's epoch, or another vigie's); nothing was done: decide from the queue or the case's own card",
		c.ID, bot.ErrStaleCard, at.UTC().Format(time.RFC3339), c.ID, c.Opened.UTC().Format(time.RFC3339))
}

func (m *Moderator) mayDecide(c store.Case, by string) error {
	if ok, own := m.communities.Load().MayDecide(by, c.Community); !ok {
		m.log.Warn("desk: refused a community's CM", "audit", true, "case", c.ID, "by", by, "community", c.Community, "own", own)
		return &bot.CommunityError{Community: c.Community, Own: own}
	}
	return nil
}

// Decide records a CM's decision on an open case and carries it out on the platform
// the case came from, through the same capabilities and retry stage as verdicts.
// The case is claimed first, so two CMs pressing buttons at once cannot both act:
// the second gets the first decision and an error wrapping store.ErrDecided. If the
// platform cannot carry the decision out, a new case says so and the error is
// returned as well. Every card of the case, on every desk, shows the decision
// (ShowDecision).
func (m *Moderator) Decide(ctx context.Context, caseID, outcome, by string) (store.Case, error) {
	c, _, err := m.DecideNoted(ctx, caseID, outcome, by)
	return c, err
}

// DecideNoted is Decide, and also returns what the cards add to a decision
// carried out: a timed ban's end, and, on a store that a restart empties,
// that a restart before then leaves the ban on (banText), or what a delete
// or hide left undone on the other messages its case groups. It is empty
// otherwise, and while the decision is still being tried.
func (m *Moderator) DecideNoted(ctx context.Context, caseID, outcome, by string) (c store.Case, note string, err error) {
	c, given, err := m.decide(ctx, caseID, outcome, by)
	if err == nil {
		note = m.banText(given)
	}
	return c, note, err
}

// decide does what Decide says; given says how long a ban carried out lasts.
func (m *Moderator) decide(ctx context.Context, caseID, outcome, by string) (store.Case, banGiven, error) {
	var none banGiven
	o, err := ParseOutcome(outcome)
	if err != nil {
		return store.Case{}, none, err
	}
	c, err := m.store.Case(ctx, caseID)
	if err != nil {
		return store.Case{}, none, fmt.Errorf("case %s: %w", caseID, err)
	}
	if err := m.mayDecide(c, by); err != nil {
		return c, none, err
	}
	if err := m.staleCard(ctx, c, by); err != nil {
		return store.Case{}, none, err
	}
	if ref, ok := bot.CardPressed(ctx); ok {
		if err := m.cardOfCase(ctx, c, ref, by); err != nil {
			return store.Case{}, none, err
		}
	}
	if c.Unverified && o.Kind != OutcomeKeep && c.Status == store.CaseOpen {
		// Refused rather than confirmed: a real message would have come
		// from the platform's connector itself, as its own case; a "yes, I
		// saw it there" pressed half asleep on a phone would be a reflex,
		// not a check, and the ban would fall on the member named.
		m.log.Warn("decision refused: the case's message is unverified", "audit", true, "case", c.ID, "by", by, "outcome", o.String())
		return c, none, fmt.Errorf("case %s: %w: its message came over HTTP and was not seen on %s (unverified): keep is the only outcome; look for it on %s and act there if it is real",
			caseID, ErrCannot, c.Event.Platform, c.Event.Platform)
	}
	if o.Kind == OutcomeAnswer {
		text, ok := suggestedReply(c)
		if !ok {
			return c, none, fmt.Errorf("case %s suggests no reply to send: answer with reply(\"…\")", caseID)
		}
		o = Outcome{Kind: bot.ActReply, Text: text}
	}
	if p := m.platforms[c.Event.Platform]; o.Kind != OutcomeKeep && c.Status == store.CaseOpen {
		// What Outcomes offers, the desks and the console: a decision
		// nothing could carry out is not recorded as if it had been, and
		// the case stays open for when the platform is on.
		switch {
		case p == nil:
			return c, none, fmt.Errorf("case %s: %w: vigie does not act on %q (the platform is off, or its source carries out no action): keep is the only outcome",
				caseID, ErrCannot, c.Event.Platform)
		case !bot.CapableOn(p, c.Event, o.Kind):
			return c, none, fmt.Errorf("case %s: %w: %s cannot %s%s", caseID, ErrCannot, c.Event.Platform, o.Kind, onWhat(p, c.Event, o.Kind))
		}
		if err := replyFits(p, c, o); err != nil {
			return c, none, err
		}
	}
	if o.Kind == bot.ActTimeout && o.Duration == 0 {
		o.Duration = defaultTimeout
		for _, a := range c.Suggested {
			if a.Kind == bot.ActTimeout && a.Duration > 0 {
				o.Duration = a.Duration
			}
		}
	}
	if o.Kind == bot.ActTimeout {
		// recorded as long as the platform gives it
		o.Duration, _ = bot.GivenTimeout(m.platforms[c.Event.Platform], o.Duration)
	}
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	c, err = m.store.DecideCase(sctx, caseID, o.String(), by, bot.DeciderName(ctx), m.now())
	if err != nil {
		if errors.Is(err, store.ErrDecided) && bot.HandedOn(ctx) && c.DecidedBy == by && c.Outcome == o.String() {
			return m.handedOn(ctx, c, o, by)
		}
		return c, none, fmt.Errorf("case %s: %w", caseID, err)
	}
	m.refreshOpenCases(sctx)
	m.log.Info("case decided", "case", c.ID, "outcome", o.String(), "by", by)
	m.learnFAQ(sctx, c, o, by)
	m.uncase(sctx, c)
	if o.Kind == OutcomeKeep {
		m.ShowDecision(ctx, c, "")
		return c, none, nil
	}
	claimed, err := m.claimCarrying(ctx, c.ID)
	switch {
	case errors.Is(err, errCarryingHere):
		// a hand-on of the same press came first: it carries it out
		m.log.Info("a decision already being carried out here: not carried out twice", "case", c.ID, "outcome", o.String(), "by", by)
		return c, none, nil
	case err != nil:
		return m.awaitClaim(ctx, c, o, by, err)
	}
	return m.carryDecided(ctx, c, o, by, claimed)
}

// errCarryingHere is what claimCarrying wraps when the case's decision is
// being carried out in this process already.
var errCarryingHere = errors.New("its decision is being carried out here already")

// errClaimLost is what a decision's try ends with, untried, when the claim
// of its carrying out was lost: another process may have taken it since,
// and the decision is left to whoever holds it (awaitClaim).
var errClaimLost = errors.New("the claim of its carrying out was lost (the store did not answer its renewals): another vigie may be carrying it out")

// carryClaim is the claim of a case's decision's carrying out: release
// ends it, once the case says how the carrying out ended; lost says
// whether the store lost it meanwhile.
type carryClaim struct {
	release func()
	lost    func() bool
}

// claimCarrying claims the carrying out of case id's decision: in this
// process first (an error wrapping errCarryingHere when it is under way
// here already: the same press handed on twice at once, or a hand-on
// racing the press still carried out), then in the store, for every
// process sharing it (store.CarryClaims: an error wrapping
// store.ErrClaimed when another holds it, any other when the store did not
// answer).
func (m *Moderator) claimCarrying(ctx context.Context, id string) (carryClaim, error) {
	m.carryingMu.Lock()
	if m.carrying[id] {
		m.carryingMu.Unlock()
		return carryClaim{}, fmt.Errorf("case %s: %w", id, errCarryingHere)
	}
	if m.carrying == nil {
		m.carrying = map[string]bool{}
	}
	m.carrying[id] = true
	m.carryingMu.Unlock()
	here := func() {
		m.carryingMu.Lock()
		delete(m.carrying, id)
		m.carryingMu.Unlock()
	}
	cl, ok := m.store.(store.CarryClaims)
	if !ok {
		return carryClaim{release: sync.OnceFunc(here), lost: func() bool { return false }}, nil
	}
	sctx, cancel := m.storeContext(ctx)
	release, lost, err := cl.ClaimCarrying(sctx, id)
	cancel()
	if err != nil {
		here()
		return carryClaim{}, err
	}
	return carryClaim{release: sync.OnceFunc(func() { release(); here() }), lost: lost}, nil
}

// stopping is closed once a shutdown waits for the decisions
// (WaitDecisions): those waiting for their claim stop waiting.
func (m *Moderator) stopping() <-chan struct{} { return m.stoppingCh() }

func (m *Moderator) stoppingCh() chan struct{} {
	m.carryingMu.Lock()
	defer m.carryingMu.Unlock()
	if m.stop == nil {
		m.stop = make(chan struct{})
	}
	return m.stop
}

// claimPoll is how often a decision waiting for its claim asks for it
// again (awaitClaim), on the moderator's clock.
const claimPoll = time.Second

// claimWaitWarn is how long, on the moderator's clock, a decision waits for
// its claim before vigie warns, once, that it still does (awaitClaim): a
// vigie carrying a decision out takes seconds, or the retry stage's
// minutes; a store away that long, or a claim never let go, wants a human.
const claimWaitWarn = 5 * time.Minute

// claimWait is a decision's wait for its claim (awaitClaim): since when,
// and whether it was warned of.
type claimWait struct {
	started time.Time
	warned  bool
}

// awaitClaim finishes, in the background, the decision o of by on c whose
// claim was not had (why): another process carries it out (store.ErrClaimed:
// a press handed on while the first is still at it, or paused), or the
// store did not answer (Redis away). Not carried out now, so that it is
// carried out once at most; not lost either: the press or command that
// asked stays unfinished (bot.Hold), for the next process to hand it on
// should this one stop, and the claim is asked for again every claimPoll
// until had. Had, the case says whether the holder before finished it
// (shown on the cards, not done again), or it is carried out now.
//
// The CMs are told what it waits for once per decision (a *bot.WaitError,
// Again for a press handed on while it waits here, or from the vigie that
// holds the claim, which answered it), and the log says it once.
// A wait past claimWaitWarn is logged at error, counted and shown on the
// case's cards, once; the decision goes on waiting.
func (m *Moderator) awaitClaim(ctx context.Context, c store.Case, o Outcome, by string, why error) (store.Case, banGiven, error) {
	var none banGiven
	wait := &bot.WaitError{Why: bot.WaitStore}
	if errors.Is(why, store.ErrClaimed) {
		wait.Why = bot.WaitOtherVigie
	}
	m.carryingMu.Lock()
	w := m.awaiting[c.ID]
	wait.Again = w != nil
	if w == nil {
		if m.awaiting == nil {
			m.awaiting = map[string]*claimWait{}
		}
		w = &claimWait{started: m.now()}
		m.awaiting[c.ID] = w
	}
	m.carryingMu.Unlock()
	// A press handed on from the vigie that holds the claim was answered
	// there: that vigie said how it goes, and its cards will say how it
	// ends. Told again here, the CM would read it twice in the chat.
	told := wait.Again
	wait.Again = told || bot.HandedOn(ctx) && wait.Why == bot.WaitOtherVigie
	unmarked, shown := false, false
	if errors.Is(why, errUnmarked) {
		unmarked, shown = m.markShown(c.ID)
		wait.Again = wait.Again || shown
	}
	switch {
	case unmarked && shown:
		// Asked again: the store refuses the mark still, said once already.
	case unmarked:
		// carryDecision warned of it; the cards say it once.
		m.ShowDecision(ctx, c, "⏳ Recorded, not carried out yet: vigie's store does not take it. It will be once it does; this card will say how it ends.")
	case told:
		m.log.Info("a decision taken again while it waits for the claim of its carrying out: still waiting, once", "case", c.ID, "outcome", o.String(), "by", by)
	case wait.Why == bot.WaitOtherVigie:
		// The cards are that vigie's to edit: one edited here could come
		// after its own saying how it ended.
		m.log.Info("a decision being carried out by another vigie: waiting for its end, to finish it should that vigie stop", "audit", true,
			"case", c.ID, "outcome", o.String(), "by", by)
	default:
		m.log.Warn("a decision not carried out yet: the store did not answer its claim, without which another vigie could carry it out too; carried out once it answers", "audit", true,
			"case", c.ID, "outcome", o.String(), "by", by, "err", why)
		m.ShowDecision(ctx, c, "⏳ Recorded, not carried out yet: vigie's store does not answer. It will be once it does; this card will say how it ends.")
	}
	hold := bot.Hold(ctx)
	m.decisions.Add(1)
	go func() {
		defer m.decisions.Done()
		waited := func() {
			m.carryingMu.Lock()
			if m.awaiting[c.ID] == w {
				delete(m.awaiting, c.ID)
			}
			m.carryingMu.Unlock()
		}
		// warn says whether the wait is to be warned of now: once, past
		// claimWaitWarn, by whichever of its presses asks first.
		warn := func() (time.Duration, bool) {
			m.carryingMu.Lock()
			defer m.carryingMu.Unlock()
			long := m.now().Sub(w.started)
			if w.warned || long < claimWaitWarn {
				return long, false
			}
			w.warned = true
			return long, true
		}
		for {
			tick := make(chan struct{})
			stop := m.afterFunc(m.pollFor(c.ID), func() { close(tick) })
			select {
			case <-tick:
			case <-m.stopping():
				stop()
				// A stop: the press stays unfinished (not released), for the
				// next process to hand it on.
				m.log.Info("a decision waiting for its claim left for the next process: vigie is stopping", "case", c.ID, "outcome", o.String(), "by", by)
				return
			}
			claimed, err := m.claimCarrying(ctx, c.ID)
			switch {
			case errors.Is(err, errCarryingHere):
				// this process carries it out already, under a hold of its own
				hold()
				return
			case err != nil:
				if long, now := warn(); now {
					m.claimWaitsLong.Inc()
					what := "another vigie holds the claim of its carrying out and has not ended it"
					if !errors.Is(err, store.ErrClaimed) {
						what = "vigie's store does not answer"
					}
					m.log.Error("a decision recorded and still not carried out: "+what+"; still waiting, it will be carried out once; a CM should check the case", "audit", true,
						"case", c.ID, "outcome", o.String(), "by", by, "waited", long.Round(time.Second).String(), "err", err)
					m.ShowDecision(context.WithoutCancel(ctx), c, fmt.Sprintf("⚠️ Recorded, still not carried out after %d minutes: %s. vigie goes on waiting, and will carry it out once; check the case.",
						int(long/time.Minute), what))
				}
				continue
			}
			sctx, cancel := m.storeContext(ctx)
			cur, err := m.store.Case(sctx, c.ID)
			cancel()
			if err != nil {
				claimed.release()
				continue
			}
			waited()
			m.finishClaimed(context.WithoutCancel(ctx), cur, o, by, claimed)
			hold()
			return
		}
	}()
	return c, none, fmt.Errorf("case %s: %s by %s: %w", c.ID, o, by, wait)
}

// finishClaimed finishes, under its claim, the decision o of by on c, as c
// was read under it: shown when its carrying out ended already, carried out
// otherwise.
func (m *Moderator) finishClaimed(ctx context.Context, c store.Case, o Outcome, by string, claimed carryClaim) {
	switch {
	case c.Carried == store.CarriedDone:
		claimed.release()
		m.markTaken(c.ID)
		m.log.Info("a decision carried out by another vigie: shown, not carried out again", "case", c.ID, "outcome", o.String(), "by", by)
		given := banGiven{}
		if o.Kind == bot.ActBan {
			given = m.givenBefore(ctx, c, o, by)
		}
		m.ShowDecision(ctx, c, m.banText(given))
	case c.Carried != "":
		claimed.release()
		m.markTaken(c.ID)
		m.log.Info("a decision whose carrying out ended already, and failed, on another vigie", "case", c.ID, "outcome", o.String(), "by", by, "err", c.Carried)
	case c.Carrying && !m.ownMark(c):
		_, _, err := m.carryUnknown(ctx, c, o, by, claimed)
		if err != nil && !errors.Is(err, bot.ErrStillTrying) && !bot.Logged(err) {
			m.log.Warn("decision not carried out", "case", c.ID, "outcome", o.String(), "by", by, "err", err, "audit", true)
		}
	default:
		if m.markWaits(c.ID) {
			// This vigie's own wait for the store to take the mark.
			m.log.Debug("a decision whose mark the store refused: asked again", "case", c.ID, "outcome", o.String(), "by", by)
		} else {
			m.log.Warn("a decision recorded but not carried out by the vigie that held it: carried out now", "audit", true,
				"case", c.ID, "outcome", o.String(), "by", by)
		}
		_, _, err := m.carryDecided(ctx, c, o, by, claimed)
		if err != nil && !errors.Is(err, bot.ErrStillTrying) && !bot.Logged(err) {
			m.log.Warn("decision not carried out", "case", c.ID, "outcome", o.String(), "by", by, "err", err, "audit", true)
		}
	}
}

// handedOn finishes the decision o of by on c, recorded already by a
// process that stopped before its end (a press or a command handed on
// again, bot.WithHandedOn): carried out now unless the case says how its
// carrying out ended (store.DecisionMarks), so that it is done once, and
// shown on the case's cards either way.
func (m *Moderator) handedOn(ctx context.Context, c store.Case, o Outcome, by string) (store.Case, banGiven, error) {
	var none banGiven
	claimed := carryClaim{release: func() {}, lost: func() bool { return false }}
	release := func() { claimed.release() }
	if o.Kind != OutcomeKeep {
		var err error
		claimed, err = m.claimCarrying(ctx, c.ID)
		switch {
		case errors.Is(err, errCarryingHere):
			m.log.Info("a decision taken again while it is being carried out here: not carried out twice", "case", c.ID, "outcome", o.String(), "by", by)
			return c, none, nil
		case err != nil:
			// Its end recorded already needs no claim to be shown (a
			// claim whose release the store did not answer runs out on
			// its own); otherwise it waits for its claim.
			sctx, cancel := m.storeContext(ctx)
			cur, rerr := m.store.Case(sctx, c.ID)
			cancel()
			if rerr != nil || cur.Carried == "" {
				return m.awaitClaim(ctx, c, o, by, err)
			}
			c, claimed = cur, carryClaim{release: func() {}, lost: func() bool { return false }}
		default:
			// read again under the claim: a carrying out here may have
			// ended since the case was read
			sctx, cancel := m.storeContext(ctx)
			cur, err := m.store.Case(sctx, c.ID)
			cancel()
			if err == nil {
				c = cur
			}
		}
	}
	switch {
	case o.Kind == OutcomeKeep || c.Carried == store.CarriedDone:
		release()
		m.log.Info("a decision taken again after a stop: carried out already", "case", c.ID, "outcome", o.String(), "by", by)
		given := none
		if o.Kind == bot.ActBan && c.Carried == store.CarriedDone {
			given = m.givenBefore(ctx, c, o, by)
		}
		m.ShowDecision(ctx, c, m.banText(given))
		return c, given, nil
	case c.Carried != "":
		release()
		m.log.Info("a decision taken again after a stop: its carrying out ended already, and failed", "case", c.ID, "outcome", o.String(), "by", by)
		return c, none, fmt.Errorf("case %s: %s by %s not carried out: %s", c.ID, o, by, c.Carried)
	}
	if _, ok := m.store.(store.DecisionMarks); !ok {
		// Nothing says whether it was carried out: not done twice.
		release()
		return c, none, fmt.Errorf("case %s decided %s by %s: %w", c.ID, c.Outcome, c.DecidedBy, store.ErrDecided)
	}
	if c.Carrying && !m.ownMark(c) {
		return m.carryUnknown(ctx, c, o, by, claimed)
	}
	m.log.Warn("a decision recorded but not carried out before its process stopped: carried out now", "audit", true,
		"case", c.ID, "outcome", o.String(), "by", by)
	return m.carryDecided(ctx, c, o, by, claimed)
}

// givenBefore says, from the ban book, how the ban o of by on c, carried
// out already, was given: the cards a press handed on shows it on say, as
// the press's own did, when vigie lifts it, or that the member was banned
// for longer already. What the book does not tell is said as nothing.
func (m *Moderator) givenBefore(ctx context.Context, c store.Case, o Outcome, by string) banGiven {
	bk, ok := m.store.(store.BanKeeper)
	if !ok || o.Duration <= 0 {
		return banGiven{}
	}
	sctx, cancel := m.storeContext(ctx)
	kept, ok, err := bk.KeptBan(sctx, store.BanKey(c.Event))
	cancel()
	switch {
	case err != nil || !ok || kept.Ends:
		return banGiven{}
	case kept.By == by && !kept.ForGood() && kept.Until.Sub(kept.Started) == o.Duration:
		return banGiven{Until: kept.Until, Lifted: true}
	case kept.ForGood():
		return banGiven{Stays: true}
	case !c.DecidedAt.IsZero() && kept.Until.After(c.DecidedAt.Add(o.Duration)):
		return banGiven{Stays: true, StaysUntil: kept.Until}
	}
	return banGiven{}
}

// carryDecided carries out o, the decision of by recorded on c, and shows
// how it went on the case's cards; claimed is the claim of its carrying
// out (claimCarrying), released once the case says how it ended. A claim
// lost on the way stops the tries, and the decision waits for its claim
// again (awaitClaim): whoever holds it since finishes it, once.
func (m *Moderator) carryDecided(ctx context.Context, c store.Case, o Outcome, by string, claim carryClaim) (store.Case, banGiven, error) {
	var none banGiven
	claimed := claim.release
	p := m.platforms[c.Event.Platform]
	if p == nil {
		defer claimed()
		m.count(m.Label(c.Event.Platform), o.Kind, ResultPlatformOff)
		return c, none, m.decided(ctx, c, o, by, banGiven{}, fmt.Errorf("platform %q is off", c.Event.Platform))
	}
	// The platform has DecisionWait to carry the decision out: one that
	// answers does it in milliseconds, and the CM is told how it went. One
	// that is down or slow keeps it for the retry stage (four tries, 20 s
	// each when Discord does not answer): the CM is told at once that it is
	// being tried, and the rest is done in the background, the card and
	// the queue saying how it ended (decided). Every try is kept for a
	// CM's decision, unlike a verdict's actions during an outage: a human
	// asked for it, and should not have to ask again for a blip.
	actx, cancelAct := context.WithTimeout(bot.WithByHand(bot.WithAuditReason(context.WithoutCancel(ctx), decisionReason(c, by))), decisionRunWait)
	type carried struct {
		given banGiven
		err   error
	}
	done, gone := make(chan carried), make(chan struct{})
	m.decisions.Add(1)
	// the press or command that asked stays unfinished until the end
	release := bot.Hold(ctx)
	go func() {
		defer m.decisions.Done()
		defer release()
		defer cancelAct()
		given, err := m.carryDecision(actx, p, c, o, by, claim.lost)
		select {
		case done <- carried{given, err}:
		case <-gone:
			if errors.Is(err, errClaimLost) || errors.Is(err, errUnmarked) {
				claimed()
				m.awaitClaim(context.WithoutCancel(ctx), c, o, by, err)
				return
			}
			// No caller is left to be told: the card says it, and so does
			// the log (decided).
			_ = m.decided(context.WithoutCancel(ctx), c, o, by, given, err)
			claimed()
		}
	}()
	waited := make(chan struct{})
	stop := m.afterFunc(m.decisionWait, func() { close(waited) })
	defer stop()
	select {
	case r := <-done:
		if errors.Is(r.err, errClaimLost) || errors.Is(r.err, errUnmarked) {
			claimed()
			return m.awaitClaim(ctx, c, o, by, r.err)
		}
		defer claimed()
		return c, r.given, m.decided(ctx, c, o, by, r.given, r.err)
	case <-waited:
	case <-ctx.Done():
	}
	m.log.Info("decision still being carried out: its platform is slow to answer", "case", c.ID, "outcome", o.String(), "by", by)
	m.ShowDecision(ctx, c, "⏳ Being carried out on "+c.Event.Platform+", which is slow to answer: this card will say how it ends.")
	// After the card's edit: the end's own edit comes after it.
	close(gone)
	return c, none, fmt.Errorf("case %s: %s by %s: %w", c.ID, o, by, bot.ErrStillTrying)
}

// decisionRunWait bounds a decision's tries in all: four of 20 s, their
// pauses, and a rate limit's wait or two.
const decisionRunWait = 5 * time.Minute

// DefaultDecisionWait is how long Decide waits for the platform to carry a
// decision out before it answers that it is still being tried.
const DefaultDecisionWait = 3 * time.Second

// carryDecision carries the decision o on c out on p, through the retry
// stage, and counts, audits and logs it; given says how long a ban lasts.
// lost says whether the claim of its carrying out was lost: each try asks
// it first, and one lost ends the tries with errClaimLost, nothing asked of
// the platform (the tries before failed), and nothing recorded.
func (m *Moderator) carryDecision(actx context.Context, p bot.Platform, c store.Case, o Outcome, by string, lost func() bool) (given banGiven, err error) {
	held := func() error {
		if lost() {
			return &bot.ActionError{Op: o.Kind, Err: errClaimLost}
		}
		return nil
	}
	if err := m.markCarrying(actx, c.ID); err != nil {
		if m.markRefused(c.ID) {
			m.marksRefused.Inc()
			m.log.Warn("a decision not carried out yet: the store did not record that its carrying out begins, without which a vigie finishing it after a stop could not know it may be done; asked again less and less often (up to a minute apart), carried out once it does",
				"audit", true, "case", c.ID, "outcome", o.String(), "by", by, "err", err)
		} else {
			m.log.Debug("the store refused the mark of a decision again", "case", c.ID, "err", err)
		}
		return given, &bot.ActionError{Op: o.Kind, Err: fmt.Errorf("%w: %w", errUnmarked, err)}
	}
	if m.markTaken(c.ID) {
		m.log.Info("the store took the mark of a decision it refused before: carried out now", "audit", true,
			"case", c.ID, "outcome", o.String(), "by", by)
	}
	if placeAction(o.Kind) {
		// a lockdown held while paused: locked, kept and lifted as a rule's
		a := bot.Action{Kind: o.Kind, Duration: o.Duration}
		err = m.retry.Do(actx, func(ctx context.Context) error {
			if err := held(); err != nil {
				return err
			}
			return m.lock(ctx, m.communities.Load(), p, c.Event, a, bot.Match{Rule: c.Rule})
		})
	} else {
		err = m.retry.Do(actx, func(ctx context.Context) error {
			if err := held(); err != nil {
				return err
			}
			var cerr error
			given, cerr = m.carryOut(ctx, p, c.Event, o, cmp.Or(c.Rule, ManualRule), by)
			return cerr
		})
		switch {
		case errors.Is(err, errClaimLost):
		case o.Kind == bot.ActBan:
			if err == nil {
				given.Left = m.sweepGrouped(actx, p, c, by, held)
			}
		default:
			// the case's own message's failure stops none of the others
			given.Left = m.carryGrouped(actx, p, c, o, by, held)
		}
	}
	if errors.Is(err, errClaimLost) {
		// The mark of its carrying out stays: a try before may have been
		// done by the platform, whose answer was lost.
		m.log.Warn("a decision's tries stopped: "+errClaimLost.Error()+"; left to the vigie that holds it, or to this one once it has it again",
			"case", c.ID, "outcome", o.String(), "by", by)
		return given, err
	}
	m.count(m.Label(c.Event.Platform), o.Kind, resultOf(err))
	m.acted(actx, c.Event.Platform, err)
	reason := "case of rule " + cmp.Or(c.Rule, "none")
	if given.Stays {
		// Nothing was asked of the platform: the line says why.
		reason += " (" + stayText(given, m.now()) + ")"
	}
	m.modlog.Record(ModLogEntry{Event: c.Event, Action: bot.Action{Kind: o.Kind, Text: o.Text, Duration: o.Duration},
		By: by, Reason: reason, CaseID: c.ID, Failed: errText(err), Until: given.Until})
	m.markCarried(actx, c.ID, err)
	return given, err
}

// onEachMessage says whether the outcome k acts on a message, and so on
// each message a case groups rather than on its own only.
func onEachMessage(k bot.ActionKind) bool {
	return k == bot.ActDelete || k == bot.ActHide || k == OutcomeUnhide
}

// sweepGrouped deletes, once its author is banned, the messages of a case
// that groups several (a spam bot's posts in many channels or topics) as a
// Delete would, its own message with them: what a CM banning a spam bot
// wants gone, where the ban itself leaves them up (Telegram's always,
// Discord's past DISCORD_BAN_DELETE). A case of one message keeps it, as
// a ban always did. It says, as carryGrouped, what was not deleted.
func (m *Moderator) sweepGrouped(actx context.Context, p bot.Platform, c store.Case, by string, held func() error) string {
	if msgs, unkept := c.Grouped(); len(msgs) == 0 && unkept == 0 {
		return ""
	}
	del := Outcome{Kind: bot.ActDelete}
	err := m.retry.Do(actx, func(ctx context.Context) error {
		if err := held(); err != nil {
			return err
		}
		_, err := m.carryOut(ctx, p, c.Event, del, cmp.Or(c.Rule, ManualRule), by)
		return err
	})
	m.count(m.Label(c.Event.Platform), bot.ActDelete, resultOf(err))
	left := m.carryGrouped(actx, p, c, del, by, held)
	if err != nil {
		m.log.Warn("a banned author's message not deleted", "audit", true, "case", c.ID, "event", c.Event.Key(), "by", by, "err", err)
		left = strings.Join(slices.DeleteFunc([]string{"⚠️ the case's own message not deleted: " + bot.RefusalWords(err), left},
			func(s string) bool { return s == "" }), "; ")
	}
	return left
}

// carryGrouped carries the decision o on c out on the other messages c
// groups (store.Case.Grouped), each through the retry stage, one's
// failure stopping none of the others; it says, in a CM's words, what was
// not carried out: "" when all was.
func (m *Moderator) carryGrouped(actx context.Context, p bot.Platform, c store.Case, o Outcome, by string, held func() error) string {
	if !onEachMessage(o.Kind) {
		return ""
	}
	msgs, unkept := c.Grouped()
	if len(msgs) == 0 && unkept == 0 {
		return ""
	}
	var failed []error
	for _, ev := range msgs {
		if ev.Platform != c.Event.Platform {
			continue
		}
		err := m.retry.Do(actx, func(ctx context.Context) error {
			if err := held(); err != nil {
				return err
			}
			_, err := m.carryOut(ctx, p, ev, o, cmp.Or(c.Rule, ManualRule), by)
			return err
		})
		m.count(m.Label(ev.Platform), o.Kind, resultOf(err))
		if err != nil {
			failed = append(failed, err)
			m.log.Warn("a grouped message's decision not carried out", "audit", true, "case", c.ID, "event", ev.Key(),
				"outcome", o.String(), "by", by, "err", err)
		}
	}
	return leftText(o, 1+len(msgs)+unkept, failed, unkept)
}

// leftText says what a decision o on a case grouping n messages left
// undone: the messages whose action failed (the first refusal in a CM's
// words) and those the case counted but kept no reference of.
func leftText(o Outcome, n int, failed []error, unkept int) string {
	done := map[bot.ActionKind]string{bot.ActDelete: "deleted", bot.ActHide: "hidden", OutcomeUnhide: "shown again"}[o.Kind]
	var parts []string
	if len(failed) > 0 {
		parts = append(parts, fmt.Sprintf("⚠️ %d of the %d messages grouped not %s: %s", len(failed), n, done, bot.RefusalWords(failed[0])))
	}
	if unkept > 0 {
		parts = append(parts, fmt.Sprintf("⚠️ %d older messages of the %d grouped not %s: vigie keeps where the last %d are only; find them on the platform",
			unkept, n, done, store.GroupRefs))
	}
	return strings.Join(parts, "; ")
}

// errUnmarked is what a decision's carrying out ends with, nothing asked of
// the platform, when the store did not record that it begins
// (markCarrying): it waits for its claim again (awaitClaim), as when the
// claim was lost.
var errUnmarked = errors.New("the store did not record that its carrying out begins")

// markPollMax bounds the pause between the asks of a decision whose mark
// the store refuses (pollFor): a store full, a replica, or one too slow
// for it is not asked every second, and a decision waits at most this
// long once it takes the mark again.
const markPollMax = time.Minute

// markWait is a decision's wait for the store to take the mark of its
// carrying out (markRefused): the pause before its next ask, doubled at
// each, and whether its cards said it waits.
type markWait struct {
	next  time.Duration
	shown bool
}

// markRefused notes that the store refused the mark of case id's decision,
// and reports whether that begins its wait (to be warned of and counted
// then only).
func (m *Moderator) markRefused(id string) bool {
	m.carryingMu.Lock()
	defer m.carryingMu.Unlock()
	if m.unmarked[id] != nil {
		return false
	}
	if m.unmarked == nil {
		m.unmarked = map[string]*markWait{}
	}
	m.unmarked[id] = &markWait{next: claimPoll}
	return true
}

// markTaken ends the wait of case id's decision for its mark, and reports
// whether it waited.
func (m *Moderator) markTaken(id string) bool {
	m.carryingMu.Lock()
	defer m.carryingMu.Unlock()
	_, ok := m.unmarked[id]
	delete(m.unmarked, id)
	return ok
}

// markWaits reports whether case id's decision waits for its mark.
func (m *Moderator) markWaits(id string) bool {
	m.carryingMu.Lock()
	defer m.carryingMu.Unlock()
	return m.unmarked[id] != nil
}

// markShown reports whether case id's decision waits for its mark, and
// whether its cards said so already; they say it now.
func (m *Moderator) markShown(id string) (waits, shown bool) {
	m.carryingMu.Lock()
	defer m.carryingMu.Unlock()
	w := m.unmarked[id]
	if w == nil {
		return false, false
	}
	shown, w.shown = w.shown, true
	return true, shown
}

// pollFor is the pause before a decision of case id waiting for its claim
// asks for it again: claimPoll; while the store refuses its mark, twice
// the pause before, up to markPollMax.
func (m *Moderator) pollFor(id string) time.Duration {
	m.carryingMu.Lock()
	defer m.carryingMu.Unlock()
	w := m.unmarked[id]
	if w == nil {
		return claimPoll
	}
	d := w.next
	w.next = min(2*d, markPollMax)
	return d
}

// markCarrying records on case id, before its decision is asked of the
// platform, that its carrying out begins (store.DecisionMarks): until its
// end is recorded, a vigie finishing it after a stop, a lost claim or an end
// not recorded knows the platform may have done it (carryUnknown). nil for a
// store that keeps no marks, and for a case gone.
//
// Each mark is a value of its own. One the store did not answer is kept
// (ownMark): the store may take it later, after this vigie stopped waiting
// and asked nothing of the platform, and this vigie, finding it under its
// next claim, knows it for its own.
func (m *Moderator) markCarrying(ctx context.Context, id string) error {
	mk, ok := m.store.(store.DecisionMarks)
	if !ok {
		return nil
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	mark := hex.EncodeToString(b[:])
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	err := mk.MarkCarrying(sctx, id, mark)
	m.carryingMu.Lock()
	defer m.carryingMu.Unlock()
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		if m.unanswered == nil {
			m.unanswered = map[string][]string{}
		}
		// The last few: one written late is the last the store took.
		m.unanswered[id] = append(m.unanswered[id][max(len(m.unanswered[id])-7, 0):], mark)
		return err
	}
	delete(m.unanswered, id)
	return nil
}

// ownMark reports whether the mark found on c (store.Case.CarryingMark) is
// one this vigie wrote and stopped waiting for before it asked the
// platform anything (markCarrying): no carrying out began.
func (m *Moderator) ownMark(c store.Case) bool {
	if c.CarryingMark == "" {
		return false
	}
	m.carryingMu.Lock()
	defer m.carryingMu.Unlock()
	return slices.Contains(m.unanswered[c.ID], c.CarryingMark)
}

// carryUnknown finishes, under its claim, the decision o of by on c whose
// carrying out began and has no end recorded (store.Case.Carrying): a vigie
// killed or paused during the platform's call, or whose end the store did
// not take. The platform may have done it. Never done blind: a delete, a
// hide or a place's lock is done again (what is gone or hidden already
// counts as done), and so is a lift; a ban is looked up where the platform tells
// (bot.BanReader), found given or done now; anything else (a ban the
// platform does not tell, a timeout, a kick, a warning, a reply) is not done
// a second time: the case's cards say its end is unknown, and a case asks
// a CM to check on the platform.
func (m *Moderator) carryUnknown(ctx context.Context, c store.Case, o Outcome, by string, claimed carryClaim) (store.Case, banGiven, error) {
	var none banGiven
	p := m.platforms[c.Event.Platform]
	// What leaves things as they are when done twice: a delete or hide
	// (gone or hidden already counts as done), a lift, a place's lock.
	again := p == nil || placeAction(o.Kind) || slices.Contains([]bot.ActionKind{bot.ActDelete, bot.ActHide, OutcomeUnhide, OutcomeUnban, OutcomeUntimeout}, o.Kind)
	why := "it is done again: done already, it counts as done"
	if !again && o.Kind == bot.ActBan {
		if r, ok := p.(bot.BanReader); ok {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			var st bot.BanStatus
			err := m.retry.Do(actx, func(ctx context.Context) error {
				var err error
				st, err = r.BanOf(ctx, c.Event)
				return err
			})
			cancel()
			switch {
			case err == nil && st.Known && st.Banned:
				m.log.Warn("a decision whose carrying out was cut short, its end unknown: the member is banned on the platform, found done", "audit", true,
					"case", c.ID, "outcome", o.String(), "by", by)
				m.markCarried(ctx, c.ID, nil)
				claimed.release()
				given := m.givenBefore(ctx, c, o, by)
				m.ShowDecision(ctx, c, m.banText(given))
				return c, given, nil
			case err == nil && st.Known:
				again, why = true, "the platform says the member is not banned: banned now"
			default:
				m.log.Warn("a decision's end unknown, and the platform did not say whether the member is banned", "case", c.ID, "err", cmp.Or[error](err, errors.New("it cannot tell")))
			}
		}
	}
	if again {
		m.log.Warn("a decision whose carrying out was cut short, its end unknown: "+why, "audit", true,
			"case", c.ID, "outcome", o.String(), "by", by)
		return m.carryDecided(ctx, c, o, by, claimed)
	}
	err := fmt.Errorf("case %s: %s by %s: %w", c.ID, o, by, errEndUnknown)
	m.log.Error("a decision whose carrying out was cut short, its end unknown: not done a second time; a CM checks on the platform", "audit", true,
		"case", c.ID, "outcome", o.String(), "by", by)
	m.markCarried(ctx, c.ID, err)
	claimed.release()
	m.ShowDecision(ctx, c, "⚠️ Maybe not carried out: "+err.Error())
	asked := []bot.Action{{Kind: o.Kind, Text: o.Text, Duration: o.Duration}}
	if oerr := m.open(ctx, m.communities.Load(), store.Case{
		Event: c.Event, Rule: c.Rule, Category: c.Category,
		Suggested: asked,
		NotDone:   asked,
		Reason:    err.Error(),
		Holds:     true,
	}); oerr != nil {
		err = errors.Join(err, oerr)
	}
	return c, none, err
}

// errEndUnknown is what carryUnknown says of a decision it did not do a
// second time.
var errEndUnknown = errors.New("its carrying out was cut short (a vigie stopped, or its end was not recorded) and the platform may have done it: not done a second time; check on the platform, and decide this case again if it was not")

// markCarried records on case id how its decision's carrying out ended
// (err nil: done), for a press handed on after a kill to find it. The
// store keeps it for Redis while Redis is away (redis.Fallback); one it
// did not keep otherwise is counted in vigie_claim_failures_total{claim=
// "carried"} and logged. A case gone meanwhile needs no mark.
func (m *Moderator) markCarried(ctx context.Context, id string, err error) {
	mk, ok := m.store.(store.DecisionMarks)
	if !ok {
		return
	}
	result := store.CarriedDone
	if err != nil {
		result = err.Error()
	}
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	if merr := mk.MarkCarried(sctx, id, result); merr != nil && !errors.Is(merr, store.ErrNotFound) {
		m.claims.counter.WithLabelValues(ClaimCarried).Inc()
		m.log.Warn("a decision's end not recorded on its case: a press of it handed on after a stop would carry it out again",
			"case", id, "err", merr)
	}
}

// decided shows how the decision o on c ended, err nil when it was carried
// out, on the case's cards; a decision not carried out opens a case that
// says so, and comes back as an error.
func (m *Moderator) decided(ctx context.Context, c store.Case, o Outcome, by string, given banGiven, err error) error {
	if err == nil {
		// a timed ban's card says when it ends, and who ends it
		m.ShowDecision(ctx, c, m.banText(given))
		return nil
	}
	asked := []bot.Action{{Kind: o.Kind, Text: o.Text, Duration: o.Duration}}
	// A refusal every such action in its place meets (a long rate limit)
	// puts the case on its cause's card, with the others it left, rather
	// than a card of its own; and a long limit's end carries it out again.
	cause := causeKey(c.Event, asked, []string{m.causeOf(err)})
	// The new case says what was not carried out, by whom, and why, in
	// the words of the cards; the platform's own text goes to the log.
	reason := fmt.Sprintf("%s by %s on case %s not carried out: %s", o, by, c.ID, bot.RefusalWords(err))
	err = fmt.Errorf("case %s: %s by %s not carried out: %w", c.ID, o, by, err)
	shown := bot.NotCarriedOut(err)
	if given.Left != "" {
		shown += "; " + given.Left
	}
	m.ShowDecision(ctx, c, shown)
	// a decision of now: the rule file running now
	if oerr := m.open(ctx, m.communities.Load(), store.Case{
		Event: c.Event, Rule: c.Rule, Category: c.Category,
		Suggested: asked,
		NotDone:   asked,
		Reason:    reason,
		Holds:     true,
		Cause:     cause,
	}); oerr != nil {
		err = errors.Join(err, oerr)
	}
	// The one line of it: a press on a card logs no "desk: decision" of
	// its own (bot.Logged).
	attrs := []any{"case", c.ID, "outcome", o.String(), "by", by}
	if name := bot.DeciderName(ctx); name != "" {
		attrs = append(attrs, "name", name)
	}
	m.log.Warn("decision not carried out", append(attrs, "err", err, "audit", true)...)
	return &bot.LoggedError{Err: err}
}

// WaitDecisions waits, until ctx ends, for the decisions still being
// carried out in the background (Decide) to end; a shutdown calls it
// before the store closes. Those waiting for their claim (awaitClaim) stop
// waiting, their press or command left unfinished for the next process.
func (m *Moderator) WaitDecisions(ctx context.Context) error {
	m.stopOnce.Do(func() { close(m.stoppingCh()) })
	done := make(chan struct{})
	go func() { m.decisions.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("decisions still being carried out: %w", context.Cause(ctx))
	}
}

// ErrCannot is what Decide wraps when the case's platform cannot carry out the
// outcome (a Discord message cannot be hidden, a Telegram author has no
// timeout to lift, the platform is off or its source carries out no action):
// nothing is recorded and the case stays open for another outcome. The desks only offer what the platform can do; the HTTP API and the
// command line are told so.
var ErrCannot = errors.New("not possible on this platform")

// capable reports whether p can carry out the outcome k.
func capable(p bot.Platform, k bot.ActionKind) bool {
	switch k {
	case OutcomeKeep:
		return true
	case OutcomeUnhide:
		return bot.Capable(p, bot.ActHide)
	case OutcomeUnban:
		return bot.Capable(p, bot.ActBan)
	case OutcomeUntimeout:
		_, ok := p.(bot.Untimeouter)
		return ok
	}
	return bot.Capable(p, k)
}

// replyFits refuses a reply longer than c's platform takes (bot.ReplyLimiter),
// with ErrCannot: a reply cut where the member reads it is not what the CM
// wrote, and the case stays open for a shorter one.
func replyFits(p bot.Platform, c store.Case, o Outcome) error {
	l, ok := p.(bot.ReplyLimiter)
	if o.Kind != bot.ActReply || !ok {
		return nil
	}
	if most, n := l.MaxReply(c.Event), utf8.RuneCountInString(o.Text); most > 0 && n > most {
		return fmt.Errorf("case %s: %w: the reply is %d characters long, and %s takes %d characters at most: nothing was sent, write a shorter one",
			c.ID, ErrCannot, n, c.Event.Platform, most)
	}
	return nil
}

// suggestedReply is the reply a case suggests, if it suggests one.
func suggestedReply(c store.Case) (string, bool) {
	for _, a := range c.Suggested {
		if a.Kind == bot.ActReply && a.Text != "" {
			return a.Text, true
		}
	}
	return "", false
}

// faqRulePrefix starts the rule of the cases the FAQ opens: faq:ENTRY.
const faqRulePrefix = "faq:"

// learnFAQ keeps the wording of an FAQ case a CM answered with the entry's
// reply, for the FAQ to answer it next time: the CM confirmed the entry was
// the right one. A wording not kept is logged, not returned: the decision
// itself was made.
func (m *Moderator) learnFAQ(ctx context.Context, c store.Case, o Outcome, by string) {
	entry, ok := strings.CutPrefix(c.Rule, faqRulePrefix)
	text, suggested := suggestedReply(c)
	// vigie carrying an answer out late (LateDecider) confirms nothing.
	if !ok || entry == "" || !suggested || o.Kind != bot.ActReply || o.Text != text || strings.TrimSpace(c.Event.Text) == "" || by == LateDecider {
		return
	}
	w := store.FAQWording{Entry: entry, Text: c.Event.Text, By: by, At: m.now()}
	if err := m.store.LearnFAQ(ctx, w); err != nil {
		m.log.Warn("faq wording not learned", "case", c.ID, "entry", entry, "err", err)
		return
	}
	m.log.Info("faq wording learned", "case", c.ID, "entry", entry, "by", by)
	if m.faqLearned != nil {
		m.faqLearned()
	}
}

// decisionReason is the audit-log reason of a CM's decision on case c.
func decisionReason(c store.Case, by string) string {
	r := "vigie: case " + c.ID
	if c.Rule != "" {
		r += " (rule " + c.Rule + ")"
	}
	return r + ", decided by " + by
}

// carryOut does an outcome on the platform: a ban and an unban through ban
// and unban, which keep the ends of timed bans (rule and by say who banned);
// given says how long a ban lasts.
func (m *Moderator) carryOut(ctx context.Context, p bot.Platform, ev bot.Event, o Outcome, rule, by string) (given banGiven, err error) {
	switch o.Kind {
	case bot.ActBan:
		return m.ban(ctx, p, ev, o.Duration, rule, by)
	case OutcomeUnban:
		return banGiven{}, m.unban(ctx, p, ev)
	}
	return banGiven{}, m.withMemberLock(ctx, ev, o.Kind, func() error { return carryOut(ctx, p, ev, o) })
}

// carryOut does an outcome on the platform, as it is: a timed ban's end is
// not kept (see Moderator.carryOut).
func carryOut(ctx context.Context, p bot.Platform, ev bot.Event, o Outcome) error {
	switch o.Kind {
	case OutcomeUnhide:
		if h, ok := p.(bot.Hider); ok {
			return h.Unhide(ctx, ev)
		}
	case OutcomeUnban:
		if b, ok := p.(bot.Banner); ok {
			return b.Unban(ctx, ev)
		}
	case OutcomeUntimeout:
		if u, ok := p.(bot.Untimeouter); ok {
			return u.Untimeout(ctx, ev)
		}
	default:
		return do(ctx, p, ev, bot.Action{Kind: o.Kind, Text: o.Text, Duration: o.Duration})
	}
	return &bot.ActionError{Op: o.Kind, Err: fmt.Errorf("platform %s cannot %s", p.Name(), o.Kind)}
}

// deskOutcomes are the outcomes besides keep a CM may choose, in the desk's order.
var deskOutcomes = []bot.ActionKind{bot.ActDelete, bot.ActHide, bot.ActTimeout, bot.ActBan, bot.ActKick, bot.ActReply,
	OutcomeUnhide, OutcomeUntimeout, OutcomeUnban}

// OutcomesFor lists what a CM may decide on a case of ev: keep, and the
// outcomes ev's platform can carry out on that very event (bot.CapableOn: a
// Page hides a comment, not a Messenger message; Instagram has no ban), in
// the desk's order. The desks offer these buttons only, and Decide refuses
// the others. A platform that is off gets keep only.
func (m *Moderator) OutcomesFor(ev bot.Event) []bot.ActionKind {
	out := []bot.ActionKind{OutcomeKeep}
	p := m.platforms[ev.Platform]
	if p == nil {
		return out
	}
	for _, k := range deskOutcomes {
		if bot.CapableOn(p, ev, k) {
			out = append(out, k)
		}
	}
	return out
}

// onWhat says, after "PLATFORM cannot OUTCOME", on what it cannot when the
// platform could on another event: " on this message".
func onWhat(p bot.Platform, ev bot.Event, k bot.ActionKind) string {
	if !capable(p, k) {
		return ""
	}
	what := "message"
	if ev.Kind == bot.KindComment {
		what = "comment"
	}
	return " on this " + what
}

// LiftTimeout gives an author their voice back before their timeout ends,
// outside of any case (the console's people page); ev is one of their
// messages, which says where. It goes through the platform's retries and
// audit-log reason like a decision.
func (m *Moderator) LiftTimeout(ctx context.Context, ev bot.Event, by string) error {
	p := m.platforms[ev.Platform]
	if p == nil {
		return fmt.Errorf("platform %q is off", ev.Platform)
	}
	if !capable(p, OutcomeUntimeout) {
		return fmt.Errorf("%w: %s cannot lift a timeout", ErrCannot, ev.Platform)
	}
	actx := bot.WithAuditReason(ctx, "vigie: timeout lifted by "+by)
	err := m.retry.Do(actx, func(ctx context.Context) error {
		return m.withMemberLock(ctx, ev, OutcomeUntimeout, func() error { return carryOut(ctx, p, ev, Outcome{Kind: OutcomeUntimeout}) })
	})
	m.count(m.Label(ev.Platform), OutcomeUntimeout, resultOf(err))
	m.acted(actx, ev.Platform, err)
	if err == nil {
		m.log.Info("timeout lifted", "platform", ev.Platform, "author", ev.Author.ID, "by", by)
	}
	return err
}

// cardOfCase refuses, with bot.ErrStaleCard, a press on a card that is not
// one of c's as the store recorded them on that desk: another case's card of
// the same id. A case with no card recorded there (the desk keeps none, or
// recording failed) is not refused.
func (m *Moderator) cardOfCase(ctx context.Context, c store.Case, ref bot.CardRef, by string) error {
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	cards, err := m.store.CaseCards(sctx, c.ID)
	if err != nil {
		return nil // the press's own time was checked; the store's hiccup refuses nothing
	}
	mine := false
	for _, k := range cards {
		if k.Platform != ref.Platform {
			continue
		}
		if k == ref {
			return nil
		}
		mine = true
	}
	if !mine {
		return nil
	}
	m.log.Warn("decision refused: the card pressed is not one of its case's", "audit", true, "case", c.ID, "by", by,
		"chat", ref.Chat, "message", ref.Message)
	return fmt.Errorf("case %s: %w (the card pressed is not one of case %s's cards: another vigie with a store of its own "+
		"posted it, or an older case had the same id); nothing was done: decide from the queue or the case's own card",
		c.ID, bot.ErrStaleCard, c.ID)
}
