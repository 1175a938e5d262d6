package daemon

import (
	"cmp"
	"errors"
	"slices"
	"strings"

	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
)

// When a platform asks vigie to wait longer than the retry stage waits, each
// action behind the limit is left as a case at once (failureCause), and the
// cases of one place share a card; on Meta, whose actions wait out the limit
// (handlers.Options.LimitWaits), their cards are held, and the desk is told
// of the limit once. When the limit ends (its time is past, or an action on
// the platform was carried out, or the first one after vigie started), vigie
// carries out those cases' actions that are still right late, in the order
// the messages came, as a decision of its own (handlers.LateDecider), the
// way a CM's press would: a message's delete or hide, a member's ban or
// kick, what a scam wave's verdicts ask, and a public answer (a rule's, the
// FAQ's) within handlers.LateBound of its question. Decided so, a case is
// carried out once whoever comes first (a CM's press, another instance whose
// limit ended too: the case's decision and the claim of its carrying out are
// the store's), and its cards say how it ended. A timeout or a warning
// carried out an hour after the message would punish out of its moment:
// those cases stay open for a CM, and so does a case whose actions are more
// than one (a decision is one action), or that a CM decided.

// limitEnded carries out the actions that the long rate limit of connector
// name left as cases, where still right (handlers.LateOutcome), once it ended.
func (d *daemon) limitEnded(name string) {
	ctx := d.workCtx
	if ctx == nil || ctx.Err() != nil {
		return
	}
	// One at a time: a limit's end and the first action carried out after
	// it may both say it ended, and the second must find the cases decided,
	// not carry them out beside the first, out of their order.
	d.limitEndMu.Lock()
	defer d.limitEndMu.Unlock()
	open, err := d.store.Cases(ctx, store.CaseOpen)
	if err != nil {
		d.log.Warn("rate limit ended, but the cases it left were not read: a CM decides them from the queue", "platform", name, "err", err)
		return
	}
	// In the order the messages came: an answer after the question's
	// hide, a wave's scams in turn.
	slices.SortStableFunc(open, func(a, b store.Case) int {
		return cmp.Or(a.Event.At.Compare(b.Event.At), a.Opened.Compare(b.Opened))
	})
	carried, left := 0, 0
	for _, c := range open {
		if !strings.HasSuffix(c.Cause, handlers.LongLimitCause) || d.actions.connector[c.Event.Platform] != name || c.Outcome != "" {
			continue
		}
		outcome, ok := handlers.LateOutcome(c, d.now())
		if !ok {
			left++
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if _, err := d.mod.Decide(ctx, c.ID, outcome, handlers.LateDecider); err != nil {
			if errors.Is(err, store.ErrDecided) {
				continue // a CM, or another instance, came first
			}
			d.log.Warn("rate limit ended: a case it left not carried out", "platform", name, "case", c.ID, "outcome", outcome, "err", err)
			continue
		}
		carried++
	}
	if carried > 0 || left > 0 {
		d.log.Info("rate limit ended: the actions it left as cases carried out, those still right late; the rest wait for a CM",
			"platform", name, "carried_out", carried, "left_to_cms", left)
	}
}
