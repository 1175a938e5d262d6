package handlers

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ClaimWarnEvery is how often a run of failed claims is logged: the first
// failure at once, then one line an interval with how many failed since.
const ClaimWarnEvery = time.Minute

// The claims asked of the store before something is said or counted about a
// message, so that its edits do not get it twice (ClaimFailed's claim).
const (
	ClaimSaid   = "said"   // an answer or a warning about the message
	ClaimCased  = "cased"  // the message sent to the desk by a rule
	ClaimWarned = "warned" // the author warned, by any instance
	ClaimStruck = "struck" // the message struck by a rule (the rules engine)
	ClaimForget = "forget" // a claim given back, its action not done
	// ClaimCarried is no claim asked, but the record that a CM's decision
	// was carried out (Moderator.markCarried): not kept, a press of it
	// handed on after a stop carries it out again.
	ClaimCarried = "carried"
)

// claimFailures logs the claims the store did not answer, at most once per
// ClaimWarnEvery, and counts each in vigie_claim_failures_total: with Redis
// failing or slow, edits are answered, sent to the desk or struck twice, and
// that is seen, without a line per event.
type claimFailures struct {
	counter *prometheus.CounterVec
	mu      sync.Mutex
	logged  time.Time // when the last line was written; zero: none yet
	since   int       // failures since that line, not logged yet
}

func newClaimFailures() *claimFailures {
	c := &claimFailures{counter: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigie_claim_failures_total",
		Help: "Claims the store did not answer, by claim (said, cased, warned, struck, forget): whether a message's edit was answered, warned, sent to the desk or struck already; carried: the record that a CM's decision was carried out, not kept (a press of it handed on after a stop carries it out again). Each one failed may be done twice.",
	}, []string{"claim"})}
	for _, claim := range []string{ClaimSaid, ClaimCased, ClaimWarned, ClaimStruck, ClaimForget, ClaimCarried} {
		c.counter.WithLabelValues(claim)
	}
	return c
}

// ClaimFailed counts and logs (at most once per ClaimWarnEvery, with how
// many failed since the last line) that the store did not answer a claim
// of kind claim (ClaimSaid…) for event (its key), with err: what it claimed
// may be done twice. The rules engine tells its strikes' here
// (rules.Options.ClaimFailed).
func (m *Moderator) ClaimFailed(claim, event string, err error) {
	c := m.claims
	c.counter.WithLabelValues(claim).Inc()
	now := m.now()
	c.mu.Lock()
	c.since++
	if !c.logged.IsZero() && now.Sub(c.logged) < ClaimWarnEvery {
		c.mu.Unlock()
		return
	}
	failed, last := c.since, c.logged
	c.logged, c.since = now, 0
	c.mu.Unlock()
	args := []any{"claim", claim, "event", event, "failed", failed, "err", err}
	if !last.IsZero() {
		args = append(args, "since", last.UTC().Format(time.RFC3339))
	}
	m.log.Warn("the store did not answer whether a message was answered, warned, sent to the desk or struck already: it may be done twice (an edit of it)", args...)
}
