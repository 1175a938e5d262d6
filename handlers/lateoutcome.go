package handlers

import (
	"strings"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// LongLimitCause ends the store.Case.Cause of an action left as a case
// because its platform asked vigie to wait longer than the retry stage
// waits (a long rate limit): the daemon names it so (its FailureCause).
const LongLimitCause = "rate limited for longer than vigie waits"

// LateOutcome is the decision that carries out, once the long rate limit
// that left it (LongLimitCause) ended, the action of c not done, when
// carrying it out late is still right: a message's delete or hide, a
// member's ban or kick, as a scam wave's verdicts ask. False for a
// timeout, a warning or a reply (an hour late, it would punish or answer
// out of its moment), for a case whose actions not done are more than one
// (a decision is one action), and for a case of any other cause.
func LateOutcome(c store.Case) (string, bool) {
	if !strings.HasSuffix(c.Cause, LongLimitCause) || len(c.NotDone) != 1 {
		return "", false
	}
	a := c.NotDone[0]
	switch a.Kind {
	case bot.ActDelete, bot.ActHide, bot.ActKick:
		return string(a.Kind), true
	case bot.ActBan:
		return a.String(), true
	}
	return "", false
}
