package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// banGiven says when a ban that vigie lifts ends.
type banGiven struct {
	// Until is when vigie lifts it; zero for a ban for good, or one the
	// platform ends by itself (its answers say "for 1d" as before).
	Until time.Time
	// Lifted says vigie lifts it at Until: set with Until.
	Lifted bool
	// Stays says no ban was given: the member is banned already for
	// longer than asked, until Stays' end (StaysUntil, zero for good), and
	// a shorter ban never replaces a longer one.
	Stays      bool
	StaysUntil time.Time
	// Left says what the decision left undone on the other messages its
	// case groups (carryGrouped), "" when nothing: the cards show it.
	Left string
}

// ban bans ev's author on p for d, 0 for good. A ban with a duration that
// the platform does not end by itself (bot.BanEnds: Discord, a Facebook
// Page's blocks) is given for good and its end kept in the store first, for
// LiftBans to lift it when due, whichever process that is; without a store
// that keeps them it is refused rather than made permanent. A new ban of the
// member replaces the end kept; a ban for good is kept too, never due
// (store.ForGoodUntil), for a lift under way to see it (banAgain); one the
// platform ends forgets it. rule and by say who banned, for the lift's audit
// entry and mod-log line.
func (m *Moderator) ban(ctx context.Context, p bot.Platform, ev bot.Event, d time.Duration, rule, by string) (banGiven, error) {
	b, ok := p.(bot.Banner)
	if !ok {
		return banGiven{}, &bot.ActionError{Op: bot.ActBan, Err: fmt.Errorf("platform %s cannot ban", p.Name())}
	}
	// One decision on the member's ban at a time, in every process that
	// shares the store: two bans at once would both read no ban, and the
	// shorter one, given last, replace the longer one's end.
	unlock, still, err := m.lockMemberHeld(ctx, ev, bot.ActBan, memberWait)
	if err != nil {
		return banGiven{}, err
	}
	defer unlock()
	b = stillBanner{b, still}
	now := m.now()
	bk, keeps := m.store.(store.BanKeeper)
	if takenAgain(ctx) && by == "" {
		// Taken from the journal: the process that stopped may have
		// given it. Banned already until at least when this ban, given
		// as its message came, would end (for good, for a ban for good),
		// it counts as given.
		end := store.ForGoodUntil
		if d > 0 && !ev.At.IsZero() {
			end = ev.At.Add(d)
		}
		until, longer, err := m.longerBan(ctx, p, bk, keeps, ev, end.Add(-time.Millisecond))
		if err != nil {
			return banGiven{}, err
		}
		if longer {
			m.log.Info("a ban of a verdict taken again after a stop not given again: the member is banned already, found given", "audit", true,
				"platform", ev.Platform, "space", ev.Space, "author", ev.Author.ID, "rule", rule, "banned", banLeft(until, now))
			return banGiven{}, nil
		}
	}
	if d > 0 {
		until, longer, err := m.longerBan(ctx, p, bk, keeps, ev, now.Add(d))
		if err != nil {
			return banGiven{}, err
		}
		if longer {
			m.log.Info("a timed ban not given: the member is banned for longer already", "audit", true,
				"platform", ev.Platform, "space", ev.Space, "author", ev.Author.ID, "rule", rule, "by", by,
				"asked", bot.FormatDuration(d), "banned", banLeft(until, now))
			return banGiven{Stays: true, StaysUntil: until}, nil
		}
	}
	// overDue says the ban kept now is one whose end came: a lift of it may
	// be under way, and the unban the platform reports next may be that
	// lift's (Unbanned).
	overDue := false
	if keeps && (d <= 0 || by == "" || !bot.BanEnds(p, ev, d)) {
		sctx, cancel := m.storeContext(ctx)
		kept, ok, err := bk.KeptBan(sctx, store.BanKey(ev))
		cancel()
		overDue = err == nil && ok && !kept.Until.After(now)
		// A rule's timed ban for a message written before the member was
		// banned for good (a verdict carried out late: retried, taken
		// again from the journal) does not shorten the later ban: the
		// member is banned for good already. One written after it, the
		// member was let back in by hand: the rule's ban is given.
		if d > 0 && by == "" && err == nil && ok && kept.ForGood() && !ev.At.IsZero() && ev.At.Before(kept.Started) {
			m.log.Info("a rule's timed ban not given: the member was banned for good since the message", "audit", true,
				"platform", ev.Platform, "space", ev.Space, "author", ev.Author.ID, "rule", rule, "banned", kept.Started)
			return banGiven{}, nil
		}
	}
	if d > 0 && bot.BanEnds(p, ev, d) {
		if !keeps {
			return banGiven{}, b.Ban(ctx, ev, d)
		}
		// The end kept of an earlier ban that vigie lifts (a longer one)
		// would lift this one early: replaced, before the platform's ban,
		// by this one, never due (Ends), for a lift of that one under way
		// to see it replaced and give it again (banAgain). Not replaced,
		// that lift is logged, not the ban, which is given.
		tb := store.TimedBan{Event: bannedOf(ev), Rule: rule, By: by, Started: now, Until: now.Add(d), OverDue: overDue, Ends: true}
		sctx, cancel := m.storeContext(ctx)
		prev, had, perr := bk.PutBan(sctx, tb)
		cancel()
		if err := b.Ban(ctx, ev, d); err != nil {
			if perr == nil {
				m.putBack(ctx, bk, tb, prev, had)
			}
			return banGiven{}, err
		}
		if perr != nil && !m.writeBack(bk, tb) {
			m.log.Warn("banned, but the end of an earlier timed ban may still be kept: vigie may lift this ban then",
				"platform", ev.Platform, "space", ev.Space, "author", ev.Author.ID, "err", perr)
		}
		return banGiven{}, nil
	}
	if d <= 0 {
		if !keeps {
			return banGiven{}, b.Ban(ctx, ev, 0)
		}
		// Kept before the platform's ban, in the place of an earlier timed
		// ban's end: a lift of that one under way (it read the book before)
		// finds it replaced once its unban is done, and bans again
		// (banAgain). Kept after, a lift whose unban came after this ban
		// would forget it unseen.
		tb := store.TimedBan{Event: bannedOf(ev), Rule: rule, By: by, Started: now, Until: store.ForGoodUntil, OverDue: overDue}
		sctx, cancel := m.storeContext(ctx)
		prev, had, perr := bk.PutBan(sctx, tb)
		cancel()
		if err := b.Ban(ctx, ev, 0); err != nil {
			if perr == nil {
				m.putBack(ctx, bk, tb, prev, had)
			}
			return banGiven{}, err
		}
		if perr != nil {
			// Banned, but an earlier timed ban would lift it: the retry stage
			// bans again (the same ban) and keeps it; and should its tries
			// give up before the store is back, the store writes it then.
			kept := "the end of an earlier timed ban is still kept"
			if m.writeBack(bk, tb) {
				kept = "the store did not take it: it keeps it when it answers again, before an earlier timed ban's end is lifted"
			}
			return banGiven{}, &bot.ActionError{Op: bot.ActBan, Retryable: true,
				Err: &storeFailure{fmt.Errorf("banned for good, but %s: %w", kept, perr)}}
		}
		return banGiven{}, nil
	}
	if !keeps {
		return banGiven{}, &bot.ActionError{Op: bot.ActBan, Err: fmt.Errorf(
			"%s bans do not end by themselves and this store keeps no ends of bans: a ban for %s would be for good", p.Name(), bot.FormatDuration(d))}
	}
	tb := store.TimedBan{Event: bannedOf(ev), Rule: rule, By: by, Started: now, Until: now.Add(d), OverDue: overDue}
	sctx, cancel := m.storeContext(ctx)
	prev, had, err := bk.PutBan(sctx, tb)
	cancel()
	if err != nil {
		return banGiven{}, &bot.ActionError{Op: bot.ActBan, Retryable: true,
			Err: &storeFailure{fmt.Errorf("not banned: the store could not keep the ban's end, for vigie to lift it: %w", err)}}
	}
	if err := b.Ban(ctx, ev, d); err != nil {
		m.putBack(ctx, bk, tb, prev, had)
		return banGiven{}, err
	}
	return banGiven{Until: tb.Until, Lifted: true}, nil
}

// longerBan reports whether ev's author is banned already until after end:
// for good (until zero), or until a later time, so that a ban ending at end
// would shorten it (one ending as late is given again). The platform says
// whether the member is banned (bot.BanReader), and when it ends the ban by
// itself; a ban it keeps until lifted ends when the book says vigie lifts
// it, and is for good when the book keeps no end (a ban for good, given by
// vigie or by hand). A platform
// that cannot tell leaves the book alone to say. A platform's answer worth
// another try is returned.
func (m *Moderator) longerBan(ctx context.Context, p bot.Platform, bk store.BanKeeper, keeps bool, ev bot.Event, end time.Time) (until time.Time, longer bool, err error) {
	var st bot.BanStatus
	if r, ok := p.(bot.BanReader); ok {
		if st, err = r.BanOf(ctx, ev); err != nil {
			return time.Time{}, false, err
		}
	}
	switch {
	case st.Known && !st.Banned:
		return time.Time{}, false, nil
	case st.Known && !st.Until.IsZero():
		return st.Until, st.Until.After(end), nil
	}
	var kept store.TimedBan
	var ok bool
	if keeps {
		sctx, cancel := m.storeContext(ctx)
		kept, ok, err = bk.KeptBan(sctx, store.BanKey(ev))
		cancel()
		if err != nil {
			// The platform's word alone: a ban it keeps until lifted may be
			// a timed one whose end the store keeps, or one for good.
			m.log.Warn("the ban kept not read: a ban the platform says is on is taken for one for good",
				"platform", ev.Platform, "space", ev.Space, "author", ev.Author.ID, "err", err)
			ok = false
		}
	}
	switch {
	case ok && kept.ForGood():
		return time.Time{}, true, nil
	case ok && kept.Ends && st.Known:
		// A ban the platform ends by itself, which would say when: it
		// says no end, so a ban for good (by hand) replaced it since.
		return time.Time{}, true, nil
	case ok:
		// A timed ban vigie lifts (its end may have come, and its lift be
		// under way: then this one is given), or one the platform ends.
		return kept.Until, kept.Until.After(end), nil
	case st.Known:
		// Banned, and no end kept that vigie lifts: for good.
		return time.Time{}, true, nil
	}
	return time.Time{}, false, nil
}

// writeBack has the store keep tb, a ban never due that the platform gave
// but the store did not take, once it answers again (store.BanWriteBack):
// the earlier timed ban it replaces must not be lifted then. A store that
// cannot do so says false: the earlier ban's end may stay.
func (m *Moderator) writeBack(bk store.BanKeeper, tb store.TimedBan) bool {
	wb, ok := bk.(store.BanWriteBack)
	if ok {
		wb.PutBanLater(tb)
	}
	return ok
}

// putBack undoes the keeping of tb, a ban the platform did not give: its
// end is not kept, and the one it replaced (prev, had) is kept again, unless
// a later ban replaced tb meanwhile: that one is kept. tb itself is removed,
// not any ban with its end: a ban for good given meanwhile has the same end
// as tb when tb is for good, and putting back the timed ban before it would
// lift it at that one's end. The store's
// bound starts after the platform's answer, which may have taken longer
// than it.
func (m *Moderator) putBack(ctx context.Context, bk store.BanKeeper, tb, prev store.TimedBan, had bool) {
	ev := tb.Event
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	removed, err := bk.RemoveKeptBan(sctx, tb)
	if err == nil && removed && had {
		_, _, err = bk.PutBan(sctx, prev)
	}
	if err != nil {
		m.log.Warn("a ban that failed keeps its end in the store: vigie will lift a ban that may not be there",
			"platform", ev.Platform, "space", ev.Space, "author", ev.Author.ID, "err", err)
	}
}

// memberWait bounds how long a ban, unban, kick or lift waits for another
// one of the same member to be done (lockMemberWithin): a ban waits for the
// platform's answer to the one before, a lift's tries may take longer.
const memberWait = 30 * time.Second

// liftWait bounds a lift's wait for the member's lock: a lift whose member
// is busy is tried again at the next check, a minute on, rather than hold
// the check (and the escalations it runs) up to memberWait for each of the
// lifts due.
const liftWait = 2 * time.Second

// lockMemberWithin takes the lock of ev's author in ev's space
// (store.MemberLocker), for one ban, unban, kick or lift of them at a time:
// each reads what the member is under now, decides, asks the platform and
// writes the book before the next reads. A store that offers none leaves
// them unlocked. A lock not had within wait is an error worth another
// try, for op: the retry stage tries it again, and the action's failure
// goes where a failed action goes (a rule's to the desk), never dropped. A
// store that does not answer (Redis away) leaves it unlocked, logged.
func (m *Moderator) lockMemberWithin(ctx context.Context, ev bot.Event, op bot.ActionKind, wait time.Duration) (func(), error) {
	unlock, _, err := m.lockMemberHeld(ctx, ev, op, wait)
	return unlock, err
}

// lockMemberHeld is lockMemberWithin, with still, to be called before each
// call to the platform made under the lock: nil while the lock holds; once
// it is lost (it ran out while Redis did not answer, or Redis lost it, and
// another instance may hold it now), an error: the call is not made,
// beside another instance's. Counted and logged. The error is worth
// another try, which takes the lock anew and reads the member's state
// again, unless the lock was the one a verdict took before its carrying
// out in its place's lane (HoldMember): that verdict's case goes to the
// desk rather than hold the place's lane for another instance's lock.
func (m *Moderator) lockMemberHeld(ctx context.Context, ev bot.Event, op bot.ActionKind, wait time.Duration) (unlock func(), still func() error, err error) {
	ml, ok := m.store.(store.MemberLocker)
	if !ok {
		return func() {}, stillHeld, nil
	}
	key := store.BanKey(ev)
	// again says whether the action is worth another try once the lock
	// is lost: not for a verdict in its place's lane (HoldMember took the
	// lock), which would wait there for another instance's lock, holding
	// the place's next events: its case goes to the desk at once.
	check := func(held func() bool, again bool) func() error {
		if held == nil {
			return stillHeld
		}
		return func() error {
			if held() {
				return nil
			}
			m.lockLost.WithLabelValues(string(op)).Inc()
			m.log.Warn("the member's lock lost before the platform's call: not made, tried again with the lock taken anew or left to the desk",
				"platform", ev.Platform, "space", ev.Space, "author", ev.Author.ID, "action", op, "again", again)
			return &bot.ActionError{Op: op, Retryable: again, Err: &storeFailure{fmt.Errorf("not done: %w", store.ErrMemberLockLost)}}
		}
	}
	if h := heldOf(ctx); h != nil {
		if unlock, ok := h.take(key); ok {
			return unlock, check(h.held, false), nil // taken before the verdict's carrying out (HoldMember)
		}
	}
	var held func() bool
	if w, ok := ml.(store.MemberLockWatcher); ok {
		unlock, held, err = w.LockMemberWatched(ctx, key, wait)
	} else {
		unlock, err = ml.LockMember(ctx, key, wait)
	}
	switch {
	case err == nil:
		return unlock, check(held, true), nil
	case errors.Is(err, store.ErrMemberBusy), ctx.Err() != nil:
		return nil, nil, &bot.ActionError{Op: op, Retryable: true,
			Err: &storeFailure{fmt.Errorf("not done: %w", err)}}
	}
	// The store did not answer: it cannot keep the ban book either, and
	// the book's own calls say what that means for this action (a timed
	// ban is refused, a ban for good given and kept when it answers).
	m.log.Warn("the member's lock not taken, the store did not answer: done without it",
		"platform", ev.Platform, "space", ev.Space, "author", ev.Author.ID, "action", op, "err", err)
	return func() {}, stillHeld, nil
}

// stillHeld is lockMemberHeld's still for a lock that cannot be lost.
func stillHeld() error { return nil }

// stillBanner is a Banner whose bans are asked only while still says the
// member's lock holds.
type stillBanner struct {
	bot.Banner
	still func() error
}

func (b stillBanner) Ban(ctx context.Context, ev bot.Event, d time.Duration) error {
	if err := b.still(); err != nil {
		return err
	}
	return b.Banner.Ban(ctx, ev, d)
}

// locksMember says whether an action of kind changes what the member is
// under on the platform, and so is done with their lock held (lockMemberHeld)
// as bans are: Telegram kicks by a ban lifted at once, then mutes again a
// member who was muted, and a mute there replaces a ban; either, done while
// a ban of the member is given, would undo it.
func locksMember(kind bot.ActionKind) bool {
	return kind == bot.ActKick || kind == bot.ActTimeout || kind == OutcomeUntimeout
}

// withMemberLock runs f with the lock of ev's author held when an action
// of kind needs it (locksMember).
func (m *Moderator) withMemberLock(ctx context.Context, ev bot.Event, kind bot.ActionKind, f func() error) error {
	if !locksMember(kind) {
		return f()
	}
	unlock, still, err := m.lockMemberHeld(ctx, ev, kind, memberWait)
	if err != nil {
		return err
	}
	defer unlock()
	if err := still(); err != nil {
		return err
	}
	return f()
}

// storeFailure is an action that failed for the store, not the platform (a
// ban whose end Redis could not keep): the platform's action watch is not
// told of it, since the platform did not fail.
type storeFailure struct{ err error }

func (e *storeFailure) Error() string { return e.err.Error() }
func (e *storeFailure) Unwrap() error { return e.err }

// unban lifts the ban of ev's author on p, and forgets the end kept of a
// timed one: a CM's unban before the end leaves nothing to lift. So does one
// that finds no ban (lifted by hand): that end would lift a later ban given
// by hand.
func (m *Moderator) unban(ctx context.Context, p bot.Platform, ev bot.Event) error {
	b, ok := p.(bot.Banner)
	if !ok {
		return &bot.ActionError{Op: OutcomeUnban, Err: fmt.Errorf("platform %s cannot unban", p.Name())}
	}
	// A ban given between the unban and the book's forgetting would have
	// its end forgotten.
	unlock, still, err := m.lockMemberHeld(ctx, ev, OutcomeUnban, memberWait)
	if err != nil {
		return err
	}
	defer unlock()
	if err := still(); err != nil {
		return err
	}
	err = b.Unban(ctx, ev)
	if err == nil || errors.Is(err, bot.ErrNotBanned) {
		m.forgetBan(ctx, ev)
	}
	return err
}

// forgetBan forgets the end kept of ev's author's timed ban, if any. One not
// forgotten only makes the lift unban a member not banned: it is logged.
func (m *Moderator) forgetBan(ctx context.Context, ev bot.Event) {
	bk, ok := m.store.(store.BanKeeper)
	if !ok {
		return
	}
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	if _, err := bk.RemoveBan(sctx, store.BanKey(ev), time.Time{}); err != nil {
		m.log.Warn("unbanned, but the end of the timed ban is still kept: vigie will unban again then",
			"platform", ev.Platform, "space", ev.Space, "author", ev.Author.ID, "err", err)
	}
}

// liftUnderWay bounds how long after a ban given over a ban whose end came
// (store.TimedBan.OverDue) a lift of that one may still be under way: its
// tries, each bounded, and the pauses between them.
const liftUnderWay = 10 * time.Minute

// unbanTold is how long before the platform tells of an unban it may have
// been given, when the platform does not say when (Discord's gateway): a
// ban given since, whose unban this cannot be, is among those kept.
const unbanTold = 10 * time.Second

// Unbanned learns an unban the platform saw that vigie did not give (a
// moderator in the platform's own app): the ban kept for member is
// forgotten, and audited "unbanned on discord by hand", so that its end does
// not lift, later, a ban given by hand since, nor does the book keep a ban
// for good that is no more. A ban given since at is kept. When the platform
// does not say who unbanned (by is ""), the unban may be vigie's own, and
// the ban is kept too when it may be: a timed ban whose end came (the
// lift's, which finds it lifted already), and one given over a ban whose end
// came while a lift of that one may have been under way (its unban; the lift
// gives the new ban again).
func (m *Moderator) Unbanned(ctx context.Context, member bot.Event, at time.Time, by string) {
	bk, ok := m.store.(store.BanKeeper)
	if !ok {
		return
	}
	member = bannedOf(member)
	now := m.now()
	if at.IsZero() {
		at = now.Add(-unbanTold)
	}
	log := m.log.With("platform", member.Platform, "space", member.Space, "author", member.Author.ID)
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	kept, ok, err := bk.KeptBan(sctx, store.BanKey(member))
	switch {
	case err != nil:
		log.Warn("an unban by hand seen, but the ban kept not read: a lift may unban a later ban by hand", "err", err)
		return
	case !ok, !kept.Started.Before(at), by == "" && !kept.Until.After(now):
		return
	case by == "" && kept.OverDue && at.Sub(kept.Started) < liftUnderWay:
		log.Info("an unban seen, maybe the lift of an earlier ban's: the ban kept stays", "started", kept.Started)
		return
	}
	// The platform may name the member by id alone (Discord's audit log):
	// the audit says the name they were banned under.
	member.Author.Name = cmp.Or(member.Author.Name, kept.Event.Author.Name)
	removed, err := bk.RemoveKeptBan(sctx, kept)
	if err != nil {
		log.Warn("an unban by hand seen, but the ban kept not forgotten: a lift may unban a later ban by hand", "err", err)
		return
	}
	if !removed {
		return // replaced or forgotten meanwhile
	}
	end := banLeft(kept.Until, now)
	reason := "unbanned on " + member.Platform + " by hand: the ban " + end + " is forgotten"
	match := bot.Match{Rule: cmp.Or(kept.Rule, ManualRule), Reason: reason}
	e := store.AuditEntry{At: now, Event: member, Mode: m.Mode(), By: by,
		Verdict: bot.Verdict{EventID: member.ID, Platform: member.Platform, At: now, Matches: []bot.Match{match}}}
	if err := m.store.AppendAudit(sctx, e); err != nil {
		log.Warn("an unban by hand not audited", "err", err)
	}
	log.Info("unbanned by hand on the platform: the ban kept is forgotten", "audit", true, "by", by, "banned_by", kept.By,
		"rule", kept.Rule, "until", end)
}

// bannedOf is the part of ev that the unban needs: who, and where.
func bannedOf(ev bot.Event) bot.Event {
	return bot.Event{ID: ev.ID, Platform: ev.Platform, Space: ev.Space, Channel: ev.Channel,
		Author: bot.Author{ID: ev.Author.ID, Name: ev.Author.Name}}
}

// UntilText is how the moderators read the end of a ban: "until 12 Dec 03:00
// UTC", with the year when it is not now's.
func UntilText(until, now time.Time) string {
	u := until.UTC()
	if u.Year() != now.UTC().Year() {
		return "until " + u.Format("2 Jan 2006 15:04 UTC")
	}
	return "until " + u.Format("2 Jan 15:04 UTC")
}

// banLeft says how long a ban lasts, for the moderators and the log: "for
// good" for a ban with no end, whether it says so with a zero time (a ban
// given or found) or with store.ForGoodUntil (a ban kept), else UntilText.
func banLeft(until, now time.Time) string {
	if until.IsZero() || until.Equal(store.ForGoodUntil) {
		return "for good"
	}
	return UntilText(until, now)
}

// banText says how long a ban given lasts, for the moderators: "until 12
// Dec 03:00 UTC", and, when vigie lifts it from a store that a restart
// empties (memory), that a restart before then leaves it for good. For a
// delete or hide, and after it for a ban, it says what was left undone on
// the messages the case groups (banGiven.Left).
func (m *Moderator) banText(g banGiven) string {
	var s string
	switch {
	case g.Stays:
		s = stayText(g, m.now())
	case !g.Until.IsZero():
		s = UntilText(g.Until, m.now())
		if g.Lifted && store.IsLocal(m.store) {
			s += " (vigie lifts it then; its store is in memory: a restart before then leaves the ban on, until /unban)"
		}
	}
	if s == "" || g.Left == "" {
		return s + g.Left
	}
	return s + "; " + g.Left
}

// stayText says why no ban was given: "banned already for good: a shorter
// ban is not given over it".
func stayText(g banGiven, now time.Time) string {
	return "banned already " + banLeft(g.StaysUntil, now) + ": a shorter ban is not given over it"
}

// maxLiftsPerCheck bounds the bans lifted in one check: after a long stop,
// many may be due at once, and the platforms' rate limits would hold the
// check for long. The rest are lifted at the next checks. It bounds the lifts
// tried, not the bans read: the bans of a platform that is not on here would
// otherwise fill every check, and hold back the others for good.
const maxLiftsPerCheck = 50

// LiftBans lifts the timed bans whose end is past, on the platforms whose
// bans do not end by themselves, and returns how many it lifted. The
// escalation's check calls it every minute, in the one process of those
// sharing the store that holds its lease, whichever process banned. A lift
// the platform cannot do now (down, a 429) is logged and tried again at the
// next check, with that platform's other lifts, after those of them that did
// not fail; a ban a platform that is not on here gave is left for a process
// where it is. One refused for good (vigie's right taken away) is forgotten,
// and the desk is asked to lift it by hand; one found lifted already (by
// hand) is forgotten too. A ban replaced or forgotten since the check read
// it (a new ban, an unban) is not lifted; one replaced by a new ban, timed
// or for good, while its unban was under way is given again, till the new
// end or for good (banAgain).
func (m *Moderator) LiftBans(ctx context.Context) (int, error) {
	bk, ok := m.store.(store.BanKeeper)
	if !ok {
		return 0, nil
	}
	now := m.now()
	// The bans for good kept longer than anything can need them go first: a
	// lift under way or a verdict carried out late no longer can.
	if dropped, err := bk.DropBans(ctx, now, 0); err != nil {
		m.log.Warn("the bans for good kept longer than needed not dropped from the store; again at the next check", "err", err)
	} else if dropped > 0 {
		m.log.Info("bans for good dropped from the store: kept long enough", "bans", dropped, "kept", bot.FormatDuration(store.ForGoodKept))
	}
	due, err := bk.DueBans(ctx, now, 0)
	if err != nil {
		return 0, fmt.Errorf("due bans: %w", err)
	}
	// The lifts that failed at an earlier check go after the others: the
	// first failure of a platform's lifts holds the rest back until the
	// next check, and one that keeps failing (the platform refuses that
	// member's unban with a 5xx, time and again) would otherwise come first
	// at every check, and hold back the others for good. The ends kept,
	// failing still, are remembered for the next check; no others.
	m.liftsMu.Lock()
	failing := m.liftsFailing
	m.liftsMu.Unlock()
	still := make(map[string]bool)
	if len(failing) > 0 {
		for _, tb := range due {
			if failing[tb.Key()] {
				still[tb.Key()] = true
			}
		}
		slices.SortStableFunc(due, func(a, b store.TimedBan) int {
			switch fa, fb := still[a.Key()], still[b.Key()]; {
			case fa == fb:
				return 0
			case fb:
				return -1
			}
			return 1
		})
	}
	defer func() {
		m.liftsMu.Lock()
		m.liftsFailing = still
		m.liftsMu.Unlock()
	}()
	var errs []error
	n, tried := 0, 0
	// The platforms whose lift failed for a reason worth another try (down,
	// a 429): their other lifts wait for the next check, rather than each
	// wait out its tries and timeouts, and hold the check for an hour.
	var down map[string]bool
	for _, tb := range due {
		ev := tb.Event
		p := m.platforms[ev.Platform]
		if p == nil || down[ev.Platform] {
			continue
		}
		if tried == maxLiftsPerCheck {
			break
		}
		tried++
		// The lift reads the book, unbans and forgets the end with the
		// member's lock held: a ban given meanwhile waits for it, and
		// reads the member unbanned.
		unlock, holds, lerr := m.lockMemberHeld(ctx, ev, OutcomeUnban, liftWait)
		if lerr != nil {
			m.log.Info("timed ban not lifted yet: the member's lock not had; again at the next check",
				"platform", ev.Platform, "space", ev.Space, "author", ev.Author.ID, "until", tb.Until, "err", lerr)
			continue
		}
		// What the desk is to be told, it is told once the lock is let go:
		// a desk slow to answer (its chat's rate limit, its tries) holds
		// no ban, kick or lift of the member back.
		tell := func() string {
			defer unlock()
			given := bot.FormatDuration(tb.Until.Sub(tb.Started).Round(time.Minute))
			// A ban given since the check read this one replaced its end, or
			// forgot it: the unban would undo it.
			sctx, cancel := m.storeContext(ctx)
			cur, kept, kerr := bk.KeptBan(sctx, tb.Key())
			cancel()
			if kerr != nil {
				errs = append(errs, fmt.Errorf("lift ban %s: %w", tb.Key(), kerr))
				return ""
			}
			if !kept || !cur.Until.Equal(tb.Until) {
				m.log.Info("timed ban not lifted: a ban or unban since replaced it", "platform", ev.Platform, "space", ev.Space,
					"author", ev.Author.ID, "until", tb.Until)
				return ""
			}
			actx := bot.WithAuditReason(ctx, "vigie: end of ban("+given+") by "+cmp.Or(tb.By, "rule "+tb.Rule))
			if err := holds(); err != nil {
				// again at the next check, with the lock taken anew
				errs = append(errs, fmt.Errorf("lift ban %s: %w", tb.Key(), err))
				return ""
			}
			err := m.retry.Do(actx, func(ctx context.Context) error {
				if b, ok := p.(bot.Banner); ok {
					return b.Unban(ctx, ev)
				}
				return &bot.ActionError{Op: OutcomeUnban, Err: fmt.Errorf("platform %s cannot unban", p.Name())}
			})
			already := errors.Is(err, bot.ErrNotBanned)
			if already {
				err = nil
			}
			m.acted(actx, ev.Platform, err)
			if err != nil && bot.Retryable(err) {
				if down == nil {
					down = make(map[string]bool)
				}
				down[ev.Platform] = true
				still[tb.Key()] = true
				m.count(m.Label(ev.Platform), OutcomeUnban, ResultFailed)
				m.log.Warn("timed ban not lifted yet: tried again at the next check", "platform", ev.Platform, "space", ev.Space,
					"author", ev.Author.ID, "until", tb.Until, "err", err)
				errs = append(errs, fmt.Errorf("lift ban %s: %w", tb.Key(), err))
				return ""
			}
			delete(still, tb.Key())
			sctx, cancel = m.storeContext(ctx)
			removed, rerr := bk.RemoveBan(sctx, tb.Key(), tb.Until)
			cancel()
			if rerr != nil {
				errs = append(errs, fmt.Errorf("forget ban %s: %w", tb.Key(), rerr))
				return ""
			}
			if !removed {
				// Another process lifted it, or a new ban replaced it while it
				// was being lifted: the unban may have undone that one.
				if err == nil {
					return m.banAgain(ctx, bk, p, tb, given)
				}
				return ""
			}
			reason := "end of ban(" + given + ")"
			if already {
				reason += ": lifted already"
			}
			m.auditLift(ctx, tb, reason, err)
			m.modlog.Record(ModLogEntry{Event: ev, Action: bot.Action{Kind: OutcomeUnban}, Rule: cmp.Or(tb.Rule, ManualRule),
				Reason: reason, Failed: errText(err)})
			if err != nil {
				m.count(m.Label(ev.Platform), OutcomeUnban, ResultFailed)
				return fmt.Sprintf("⚠️ The ban of %s (%s %s) for %s could not be lifted: %v. Lift it by hand.",
					bot.Shown(cmp.Or(ev.Author.Name, ev.Author.ID), memberNameShown), ev.Platform, ev.Author.ID, given, err)
			}
			m.count(m.Label(ev.Platform), OutcomeUnban, ResultDone)
			m.log.Info("timed ban lifted", "audit", true, "platform", ev.Platform, "space", ev.Space, "author", ev.Author.ID,
				"given", given, "by", tb.By, "rule", tb.Rule, "already", already)
			n++
			return ""
		}()
		if tell != "" {
			m.tellDesk(ctx, m.communities.Load(), ev, tell)
		}
	}
	return n, errors.Join(errs...)
}

// banAgain bans again the member of tb, whose ban was just lifted, when a
// new ban (timed, or for good) replaced tb's end while it was being lifted:
// the lift may have undone it. The audit log and the log say so; the desk
// is to be told when the ban cannot be given again: banAgain returns what
// to tell it, "" for nothing, for the caller to tell once the member's
// lock is let go.
func (m *Moderator) banAgain(ctx context.Context, bk store.BanKeeper, p bot.Platform, tb store.TimedBan, given string) string {
	ev := tb.Event
	sctx, cancel := m.storeContext(ctx)
	cur, kept, err := bk.KeptBan(sctx, tb.Key())
	cancel()
	if err != nil {
		m.log.Warn("a timed ban lifted may have undone a ban given meanwhile: not known, the store did not answer",
			"platform", ev.Platform, "space", ev.Space, "author", ev.Author.ID, "err", err)
		return ""
	}
	if !kept || !cur.Until.After(m.now()) {
		return "" // lifted by another process, or forgotten by an unban
	}
	b, ok := p.(bot.Banner)
	if !ok {
		return ""
	}
	// left is 0 for a ban for good
	var left time.Duration
	end := "for good"
	// until is the log's: a ban for good's kept end (year 9999) is no date
	var until any = end
	if !cur.ForGood() {
		left, end, until = cur.Until.Sub(m.now()), UntilText(cur.Until, m.now()), cur.Until
	}
	reason := "end of ban(" + given + "); banned again: a new ban " + end + " was given while it was being lifted"
	actx := bot.WithAuditReason(ctx, "vigie: "+reason)
	err = m.retry.Do(actx, func(ctx context.Context) error { return b.Ban(ctx, ev, left) })
	m.acted(actx, ev.Platform, err)
	now := m.now()
	match := bot.Match{Rule: cmp.Or(cur.Rule, ManualRule), Reason: reason, Actions: []bot.Action{{Kind: OutcomeUnban}}}
	if err == nil {
		match.Actions = append(match.Actions, bot.Action{Kind: bot.ActBan, Duration: left})
	}
	e := store.AuditEntry{At: now, Event: ev, Mode: m.Mode(), By: cur.By, Failed: errText(err),
		Verdict: bot.Verdict{EventID: ev.ID, Platform: ev.Platform, At: now, Matches: []bot.Match{match}}}
	sctx, cancel = m.storeContext(ctx)
	if aerr := m.store.AppendAudit(sctx, e); aerr != nil {
		m.log.Warn("a ban given again after a lift not audited", "platform", ev.Platform, "author", ev.Author.ID, "err", aerr)
	}
	cancel()
	if err != nil {
		m.count(m.Label(ev.Platform), bot.ActBan, ResultFailed)
		m.log.Warn("a ban given while an earlier one was being lifted was undone, and not given again", "audit", true,
			"platform", ev.Platform, "space", ev.Space, "author", ev.Author.ID, "until", until, "err", err)
		return fmt.Sprintf("⚠️ %s (%s %s) was banned again %s while an earlier ban was being lifted; the lift undid it, and it could not be given again: %v. Ban by hand.",
			bot.Shown(cmp.Or(ev.Author.Name, ev.Author.ID), memberNameShown), ev.Platform, ev.Author.ID, end, err)
	}
	m.count(m.Label(ev.Platform), bot.ActBan, ResultDone)
	m.log.Info("timed ban lifted, and a ban given meanwhile given again", "audit", true, "platform", ev.Platform, "space", ev.Space,
		"author", ev.Author.ID, "given", given, "until", until)
	return ""
}

// auditLift records the end of a timed ban in the audit log: an unban by the
// rule (or "manual") that banned, naming the moderator who did.
func (m *Moderator) auditLift(ctx context.Context, tb store.TimedBan, reason string, failed error) {
	now := m.now()
	ev := tb.Event
	match := bot.Match{Rule: cmp.Or(tb.Rule, ManualRule), Reason: reason}
	if failed == nil {
		match.Actions = []bot.Action{{Kind: OutcomeUnban}}
	}
	e := store.AuditEntry{At: now, Event: ev, Mode: m.Mode(), By: tb.By, Failed: errText(failed),
		Verdict: bot.Verdict{EventID: ev.ID, Platform: ev.Platform, At: now, Matches: []bot.Match{match}}}
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	if err := m.store.AppendAudit(sctx, e); err != nil {
		m.log.Warn("the end of a timed ban not audited", "platform", ev.Platform, "author", ev.Author.ID, "err", err)
	}
}
