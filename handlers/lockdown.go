package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// opLift names the end of a lockdown or slow mode in audit entries and the
// mod-log; its Text says which.
const opLift = bot.ActionKind("lift")

// placeAction reports whether k acts on the place rather than on the
// author: it is done whoever the author is.
func placeAction(k bot.ActionKind) bool {
	return k == bot.ActLockdown || k == bot.ActSlowmode
}

// lock carries out a lockdown or a slow mode: the place is claimed in the
// store, the platform changes it and says what it was, and the store keeps
// that for the lift (LiftLocks), which may be another process's. A place
// already locked is not asked again: its lock is extended to end d from now
// at the earliest, so that a raid that goes on keeps it closed, and it is
// lifted once, to the settings from before the first lock.
func (m *Moderator) lock(ctx context.Context, rs *rules.Ruleset, p bot.Platform, ev bot.Event, a bot.Action, match bot.Match) error {
	lk, ok := m.store.(store.LockKeeper)
	if !ok {
		return &bot.ActionError{Op: a.Kind, Err: errors.New("the store keeps no locks")}
	}
	if a.Duration <= 0 {
		return &bot.ActionError{Op: a.Kind, Err: errors.New("no duration")}
	}
	now := m.now()
	l := store.PlaceLock{Kind: a.Kind, Event: placeOf(ev), Rule: match.Rule, Started: now, Until: now.Add(a.Duration)}
	sctx, cancel := m.storeContext(ctx)
	kept, isNew, err := lk.PutLock(sctx, l)
	cancel()
	if err != nil {
		return &bot.ActionError{Op: a.Kind, Retryable: true, Err: fmt.Errorf("keep the lock: %w", err)}
	}
	if !isNew {
		m.log.Info("place already locked: extended", "action", a.String(), "place", l.Key(), "until", kept.Until)
		return nil
	}
	var prev string
	switch a.Kind {
	case bot.ActLockdown:
		if lp, ok := p.(bot.Locker); ok {
			prev, err = lp.Lock(ctx, ev)
		}
	case bot.ActSlowmode:
		if sp, ok := p.(bot.SlowModer); ok {
			prev, err = sp.SlowMode(ctx, ev, a.Duration)
		}
	}
	sctx, cancel = m.storeContext(ctx)
	defer cancel()
	if err != nil {
		// Not locked: the next event of the raid may try again.
		if _, rerr := lk.RemoveLock(sctx, kept.Key(), kept.Until); rerr != nil {
			m.log.Warn("a lock that failed stays claimed until its time is up", "place", l.Key(), "err", rerr)
		}
		m.auditPlace(sctx, l, a, match.Rule, "", err)
		return err
	}
	l.Prev = prev
	if _, _, err := lk.PutLock(sctx, l); err != nil {
		// The place is locked and the claim is kept: it is lifted at its
		// time, but the settings before are not known.
		m.log.Error("place locked but its settings before not kept: lift it by hand", "place", l.Key(), "err", err)
	}
	m.auditPlace(sctx, l, a, match.Rule, "", nil)
	m.tellDesk(ctx, rs, l.Event, fmt.Sprintf("🔒 %s on %s until %s (rule %s)", a.String(), m.placeName(l), kept.Until.In(rs.LocationOf(ev.Platform, ev.Space)).Format("15:04 MST"), match.Rule))
	return nil
}

// LiftLocks lifts the lockdowns and slow modes whose time is up, restoring
// the settings from before, and tells the desk; it returns how many it
// lifted. The process that runs the escalation's check calls it every minute,
// whichever set the locks. A platform that is not on here keeps its locks
// for a process where it is; a platform that refuses for good (a right
// taken away) has its lock forgotten, and the desk is told to lift it by hand.
// A lock extended while it is being lifted is lifted early rather than left
// on for good.
func (m *Moderator) LiftLocks(ctx context.Context) (int, error) {
	lk, ok := m.store.(store.LockKeeper)
	if !ok {
		return 0, nil
	}
	now := m.now()
	due, err := lk.DueLocks(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("due locks: %w", err)
	}
	var errs []error
	n := 0
	for _, l := range due {
		p := m.platforms[l.Event.Platform]
		if p == nil {
			continue
		}
		err := m.unlock(ctx, p, l)
		m.acted(ctx, l.Event.Platform, err)
		if err != nil && bot.Retryable(err) {
			errs = append(errs, fmt.Errorf("lift %s: %w", l.Key(), err))
			continue
		}
		sctx, cancel := m.storeContext(ctx)
		removed, rerr := lk.RemoveLock(sctx, l.Key(), l.Until)
		cancel()
		if rerr != nil {
			errs = append(errs, fmt.Errorf("forget lock %s: %w", l.Key(), rerr))
			continue
		}
		if !removed {
			continue // another process lifted it, or it was extended
		}
		lift := bot.Action{Kind: opLift, Text: string(l.Kind)}
		sctx, cancel = m.storeContext(ctx)
		m.auditPlace(sctx, l, lift, l.Rule, "", err)
		cancel()
		m.modlog.Record(ModLogEntry{Event: l.Event, Action: bot.Action{Kind: opLift}, Rule: l.Rule, Reason: "end of " + string(l.Kind), Failed: errText(err)})
		lasted := bot.FormatDuration(now.Sub(l.Started).Round(time.Minute))
		if err != nil {
			m.count(m.Label(l.Event.Platform), opLift, ResultFailed)
			m.tellDesk(ctx, m.communities.Load(), l.Event, fmt.Sprintf("⚠️ %s on %s could not be lifted: %v. Lift it by hand.", l.Kind, m.placeName(l), err))
			continue
		}
		m.count(m.Label(l.Event.Platform), opLift, ResultDone)
		m.tellDesk(ctx, m.communities.Load(), l.Event, fmt.Sprintf("🔓 %s on %s lifted after %s", l.Kind, m.placeName(l), lasted))
		n++
	}
	return n, errors.Join(errs...)
}

// unlock restores the place's settings from before l. A lock whose settings
// were not kept (the process stopped between the platform's answer and the
// store) cannot be undone here.
func (m *Moderator) unlock(ctx context.Context, p bot.Platform, l store.PlaceLock) error {
	if l.Prev == "" {
		return &bot.ActionError{Op: opLift, Err: errors.New("the settings from before were not kept")}
	}
	ctx = bot.WithAuditReason(ctx, "vigie: end of "+string(l.Kind)+" (rule "+l.Rule+")")
	return m.retry.Do(ctx, func(ctx context.Context) error {
		switch l.Kind {
		case bot.ActLockdown:
			if lp, ok := p.(bot.Locker); ok {
				return lp.Unlock(ctx, l.Event, l.Prev)
			}
		case bot.ActSlowmode:
			if sp, ok := p.(bot.SlowModer); ok {
				return sp.RestoreSlowMode(ctx, l.Event, l.Prev)
			}
		}
		return &bot.ActionError{Op: opLift, Err: fmt.Errorf("platform %s cannot lift %s", p.Name(), l.Kind)}
	})
}

// auditPlace records a lock, or its lift, in the audit log.
func (m *Moderator) auditPlace(ctx context.Context, l store.PlaceLock, a bot.Action, rule, by string, failed error) {
	reason := fmt.Sprintf("%s until %s", a.String(), l.Until.UTC().Format(time.RFC3339))
	if a.Kind == opLift {
		reason = string(l.Kind) + " lifted"
	}
	e := store.AuditEntry{At: m.now(), Event: l.Event, Mode: m.Mode(), By: by, Failed: errText(failed),
		Verdict: bot.Verdict{EventID: l.Event.ID, Platform: l.Event.Platform, At: m.now(),
			Matches: []bot.Match{{Rule: rule, Category: "raid", Actions: []bot.Action{a}, Reason: reason}}}}
	if err := m.store.AppendAudit(ctx, e); err != nil {
		m.log.Warn("lock not audited", "place", l.Key(), "err", err)
	}
}

// tellDesk sends a line about a place to the desk of its community in the
// rule file rs (the file's desk when it is in none); without a desk it is
// logged.
func (m *Moderator) tellDesk(ctx context.Context, rs *rules.Ruleset, place bot.Event, text string) {
	m.log.Info(text)
	if m.desk == nil {
		return
	}
	if err := m.retry.Do(ctx, func(ctx context.Context) error { return m.deskAlert(ctx, rs, place, text) }); err != nil {
		m.log.Warn("desk not told", "text", text, "err", err)
	}
}

// placeOf is the part of ev that names its place: the lock keeps no message
// and no author.
func placeOf(ev bot.Event) bot.Event {
	return bot.Event{ID: ev.ID, Platform: ev.Platform, Space: ev.Space, Channel: ev.Channel}
}

// placeName is how the desk reads a place: by its name where the platform
// gives one (a Telegram group's title), else by its ids.
func (m *Moderator) placeName(l store.PlaceLock) string {
	ev := l.Event
	if l.Kind != bot.ActSlowmode || ev.Channel == "" || ev.Channel == ev.Space {
		if where := m.placeNamed(ev); where != "" {
			return where
		}
	}
	s := ev.Platform + " " + ev.Space
	if l.Kind == bot.ActSlowmode && ev.Channel != "" {
		s += " #" + ev.Channel
	}
	return s
}

// placeNamed is ev's place as its platform names it (bot.PlaceNamer), after
// the platform: "telegram · Fans"; "" when it cannot.
func (m *Moderator) placeNamed(ev bot.Event) string {
	if n, ok := m.platforms[ev.Platform].(bot.PlaceNamer); ok {
		if name := shownName(n.PlaceName(ev)); name != "" {
			return ev.Platform + " · " + name
		}
	}
	return ""
}

// shownName is a name members chose, in a line of vigie's: on one line, cut
// to 60 characters, unable to turn the text around it, and mentioning
// nobody.
func shownName(s string) string { return bot.InertMentions(bot.Shown(s, 60)) }
