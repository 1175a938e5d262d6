package daemon_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// deskRulesFailing is deskRules with a rule that fails on every event.
const deskRulesFailing = deskRules + `  - name: broken-regexp
    category: spam
    when: 'text matches ("(" + "[")'
    do: [delete]
`

// TestRuleFailingToldOnceAcrossInstances: two vigie on one Redis, behind a
// load balancer, each judge thirty events of a rule that fails on each. The
// desk hears that the rule keeps failing once, from the instance that
// claims it in Redis, not once from each; the other logs that another told it.
func TestRuleFailingToldOnceAcrossInstances(t *testing.T) {
	api := tgfake.New(t)
	env := map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL, "VIGIE_WEBHOOK_SECRET": secret,
		"VIGIE_REDIS_URL": redistest.URL(t), "VIGIE_REDIS_PREFIX": redistest.Prefix("rule-fail-fleet")}
	ins := []*instance{start(t, deskRulesFailing, env), start(t, deskRulesFailing, env)}
	for i := range 30 {
		for j, in := range ins {
			in.post(t, message("f-"+strconv.Itoa(j)+"-"+strconv.Itoa(i), "u-"+strconv.Itoa(i), "hello"))
		}
	}
	const other = "a rule keeps failing: another instance told the desk"
	told := func() int { return len(deskCards(api, `rule "broken-regexp" failed on more than 20 events`)) }
	testsync.Eventually(t, "both instances finding the rule failing", func() bool {
		n := told()
		for _, in := range ins {
			n += strings.Count(in.logs.String(), other)
		}
		return n >= 2
	})
	if n := told(); n != 1 {
		t.Errorf("the desk was told %d times that the rule keeps failing, by 2 instances: want 1", n)
	}
}
