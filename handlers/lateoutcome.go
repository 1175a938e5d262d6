package handlers

import (
	"strings"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// LongLimitCause ends the store.Case.Cause of an action left as a case
// because its platform asked vigie to wait longer than the retry stage
// waits (a long rate limit): the daemon names it so (its FailureCause).
const LongLimitCause = "rate limited for longer than vigie waits"

// PageTokenCause ends the store.Case.Cause of an action left as a case
// because Meta refused the page token (expired at night, revoked): the
// daemon names it so (its FailureCause), and carries out what is still
// right late (LateOutcome) once Meta takes a token again, as at a long
// rate limit's end.
const PageTokenCause = "page token refused"

// LateCause reports whether cause is one whose actions vigie carries out
// itself once it ends, where still right (LateOutcome): a long rate limit,
// or the page token refused.
func LateCause(cause string) bool {
	return strings.HasSuffix(cause, LongLimitCause) || strings.HasSuffix(cause, PageTokenCause)
}

// LateBound is how long an action a long rate limit left may wait for the
// limit's end: a public answer is carried out late only within it of the
// message it answers, and on a platform whose actions wait out a limit
// (Options.LimitWaits) the case's card is held that long, to be posted only
// if the action was not carried out by then.
const LateBound = time.Hour

// LateDecider is who decides the cases whose actions vigie carries out once
// the long rate limit that left them ended.
const LateDecider = "vigie"

// CauseOf is the store.Case.Cause of an action a of ev that failed for
// cause (Options.FailureCause's), as the handlers name the cases of a
// verdict: for another part of vigie that opens cases (the FAQ's
// answers), so that they share the cause's card and its carrying out late.
func CauseOf(ev bot.Event, a bot.Action, cause string) string {
	return causeKey(ev, []bot.Action{a}, []string{cause})
}

// LateOutcome is the decision that carries out, once the cause that left
// it ended (LateCause: the long rate limit, LongLimitCause; the page token
// Meta refused, PageTokenCause), the action of c not done, when
// carrying it out late, at now, is still right: a message's delete or hide,
// a member's ban or kick, as a scam wave's verdicts ask, and a public
// answer (a rule's reply, the FAQ's) within LateBound of the message. False
// for a timeout or a warning (late, it would punish out of its moment), for
// an answer later than that, for a case whose actions not done are more
// than one (a decision is one action), and for a case of any other cause.
func LateOutcome(c store.Case, now time.Time) (string, bool) {
	if !LateCause(c.Cause) || len(c.NotDone) != 1 {
		return "", false
	}
	a := c.NotDone[0]
	switch a.Kind {
	case bot.ActDelete, bot.ActHide, bot.ActKick:
		return string(a.Kind), true
	case bot.ActBan:
		return a.String(), true
	case bot.ActReply:
		at := c.Event.At
		if at.IsZero() {
			at = c.Opened
		}
		if strings.TrimSpace(a.Text) == "" || now.Sub(at) > LateBound {
			return "", false
		}
		return Outcome{Kind: bot.ActReply, Text: a.Text}.String(), true
	}
	return "", false
}
