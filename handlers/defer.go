package handlers

import (
	"context"
	"errors"
	"fmt"

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
	return m.DeferAgain(ctx, rs, ev, v, why, "")
}

// DeferAgain is Defer for a verdict carried out again (HandleAgain) whose
// case was opened early, with the id early: that case is amended to say
// what Defer's case would, rather than a second one opened. An early of ""
// is Defer.
func (m *Moderator) DeferAgain(ctx context.Context, rs *rules.Ruleset, ev bot.Event, v bot.Verdict, why, early string) error {
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
	var suggested []bot.Action
	label := m.Label(ev.Platform)
	for _, a := range v.Actions() {
		switch a.Kind {
		case bot.ActStrike:
			continue
		case bot.ActForward, bot.ActAlert:
		default:
			suggested = append(suggested, a)
		}
		m.count(label, a.Kind, ResultDeferred)
	}
	rule, category := firstEnforced(v)
	reason := why
	if len(suggested) > 0 {
		reason += ": would " + actionList(suggested)
	}
	// Nothing was carried out: nothing to undo from its card.
	c := store.Case{Event: ev, Rule: rule, Category: category, Suggested: suggested, NotDone: suggested, Reason: reason}
	if early != "" {
		errs = append(errs, m.amend(ctx, rs, store.Case{ID: early}, c))
	} else {
		errs = append(errs, m.open(ctx, rs, c))
	}
	return errors.Join(errs...)
}
