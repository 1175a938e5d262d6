package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// Defer records a verdict that cannot be carried out now (its place's queue of
// actions is full: the platform is rate-limiting or not answering there) and
// opens one case with what it asked for, so that nothing is lost: the CMs decide
// from the desk. The actions are counted with the result "deferred". rs is
// the rule file that judged ev, as HandleBy takes it.
func (m *Moderator) Defer(ctx context.Context, rs *rules.Ruleset, ev bot.Event, v bot.Verdict, why string) error {
	return m.DeferAgain(ctx, rs, ev, v, why, "", nil)
}

// DeferAgain is Defer for a verdict carried out before (HandleAgain) and
// left unfinished. done are its actions those carryings out did (as the
// journal kept them, Carried): its case says they were done, and leaves
// only the others not done. When its case was opened early, with the id
// early, that case is amended to say what Defer's case would, rather than
// a second one opened. An early of "" and no done is Defer.
func (m *Moderator) DeferAgain(ctx context.Context, rs *rules.Ruleset, ev bot.Event, v bot.Verdict, why, early string, done []bot.Action) error {
	if v.Duplicate || !v.Flagged() {
		return nil
	}
	if rs == nil {
		rs = m.communities.Load()
	}
	var errs []error
	sctx, cancel := m.storeContext(ctx)
	err := m.store.AppendAudit(sctx, store.AuditEntry{At: m.now(), Event: ev, Verdict: v, Mode: m.modeFor(rs, ev)})
	cancel()
	if err != nil {
		errs = append(errs, fmt.Errorf("audit %s: %w", ev.Key(), err))
	}
	var suggested, notDone, carried []bot.Action
	label := m.Label(ev.Platform)
	for _, a := range v.Actions() {
		switch a.Kind {
		case bot.ActStrike:
			continue
		case bot.ActForward, bot.ActAlert:
		default:
			suggested = append(suggested, a)
			// By kind: a verdict does each kind once, and the one carried
			// out may differ (a timeout shortened to the platform's longest).
			if slices.ContainsFunc(done, func(d bot.Action) bool { return d.Kind == a.Kind }) {
				// counted done when it was
				carried = append(carried, a)
				continue
			}
			notDone = append(notDone, a)
		}
		m.count(label, a.Kind, ResultDeferred)
	}
	rule, category := firstEnforced(v)
	reason := why
	if len(notDone) > 0 {
		reason += ": would " + actionList(notDone)
	}
	if len(carried) > 0 {
		reason += "; done: " + actionList(carried)
	}
	// Only what was carried out is offered to undo from its card.
	c := store.Case{Event: ev, Rule: rule, Category: category, Suggested: suggested, NotDone: notDone, Reason: reason,
		Unverified: v.Unverified()}
	if early != "" {
		errs = append(errs, m.amend(ctx, rs, store.Case{ID: early}, c))
	} else {
		errs = append(errs, m.open(ctx, rs, c))
	}
	return errors.Join(errs...)
}
