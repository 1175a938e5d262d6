package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/told"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
)

// When a rule keeps failing at run time, the desk hears of it: more than
// ruleFailLimit failing events within ruleFailWindow make one alert, and a
// rule is alerted about once per ruleFailQuiet at most. A rule that fails
// now and then only shows in vigie_rule_errors_total.
const (
	ruleFailLimit  = 20
	ruleFailWindow = 10 * time.Minute
	ruleFailQuiet  = time.Hour
)

// ruleFailures counts the rules' run-time failures (the metric) and sends the
// alerts, from its own loop, so that an event waits for no desk. Of the
// instances on one store, which each count the events they judge, the one
// that claims a rule's alert tells the desk (told.Desk, whose claim lasts
// ruleFailQuiet).
type ruleFailures struct {
	desk  handlers.Desk // nil: the alert is logged only
	told  told.Desk
	log   *slog.Logger
	count func(rules.RuleError)
	now   func() time.Time

	mu    sync.Mutex
	rules map[string]*failing

	alerts chan ruleAlert
}

// ruleAlert is an alert of a rule that keeps failing, found at at.
type ruleAlert struct {
	rule, text string
	at         time.Time
}

// failing is one rule's recent failures.
type failing struct {
	times   []time.Time // within the window, oldest first, at most ruleFailLimit+1
	first   rules.RuleError
	file    string
	alerted time.Time
}

func newRuleFailures(desk handlers.Desk, told told.Desk, log *slog.Logger, count func(rules.RuleError), now func() time.Time) *ruleFailures {
	return &ruleFailures{desk: desk, told: told, log: log, count: count, now: now,
		rules: map[string]*failing{}, alerts: make(chan ruleAlert, 16)}
}

// observer is the engine's rules.Options.RuleError for the rules of file.
func (r *ruleFailures) observer(file string) func(rules.RuleError) {
	return func(e rules.RuleError) { r.failed(file, e) }
}

func (r *ruleFailures) failed(file string, e rules.RuleError) {
	if r.count != nil {
		r.count(e)
	}
	now := r.now()
	r.mu.Lock()
	f := r.rules[e.Rule]
	if f == nil {
		f = &failing{}
		r.rules[e.Rule] = f
	}
	i := 0
	for i < len(f.times) && now.Sub(f.times[i]) >= ruleFailWindow {
		i++
	}
	f.times = f.times[i:]
	if len(f.times) == 0 {
		f.first, f.file = e, file
	}
	f.times = append(f.times, now)
	if len(f.times) > ruleFailLimit+1 {
		f.times = f.times[1:]
	}
	var text string
	if len(f.times) > ruleFailLimit && (f.alerted.IsZero() || now.Sub(f.alerted) >= ruleFailQuiet) {
		f.alerted = now
		text = fmt.Sprintf("rule %q failed on more than %d events in %s; %s: %s",
			e.Rule, ruleFailLimit, bot.FormatDuration(ruleFailWindow), where(f.file, f.first), rules.FirstLine(f.first.Err))
	}
	r.mu.Unlock()
	if text == "" {
		return
	}
	select {
	case r.alerts <- ruleAlert{rule: e.Rule, text: text, at: now}:
	default:
		r.log.Warn("rule failure alert not sent: too many waiting", "rule", e.Rule)
	}
}

// where names the failing expression as vigie check does: FILE:LINE:COL.
func where(file string, e rules.RuleError) string {
	if file == "" {
		file = "rules"
	}
	if e.Line == 0 {
		return file
	}
	return fmt.Sprintf("%s:%d:%d", file, e.Line, e.Col)
}

// run sends the alerts to the desk until ctx ends.
func (r *ruleFailures) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-r.alerts:
			r.log.Warn("a rule keeps failing", "alert", a.text)
			if r.desk == nil {
				continue
			}
			if !r.told.First("rule failing "+a.rule, "failing", a.at) {
				r.log.Info("a rule keeps failing: another instance told the desk", "rule", a.rule)
				continue
			}
			actx, cancel := context.WithTimeout(ctx, 30*time.Second)
			if err := r.desk.Alert(actx, a.text); err != nil {
				r.log.Warn("rule failure alert not shown on the desk", "err", err)
			}
			cancel()
		}
	}
}
