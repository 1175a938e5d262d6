package daemon

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/rules"
)

// The engine's RuleError hook counts into vigie_rule_errors_total by rule.
func TestRuleErrorsMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg, "test")
	var hook func(rules.RuleError) = m.ruleError
	for range 2 {
		hook(rules.RuleError{Rule: "number", Line: 5, Col: 11, Err: errors.New("invalid operation")})
	}
	hook(rules.RuleError{Rule: "counters.first_link", Err: errors.New("index out of range")})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "vigie_rule_errors_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			got[s.GetLabel()[0].GetValue()] = s.GetCounter().GetValue()
		}
	}
	if got["number"] != 2 || got["counters.first_link"] != 1 || len(got) != 2 {
		t.Errorf("vigie_rule_errors_total %v, want number 2, counters.first_link 1", got)
	}
}
