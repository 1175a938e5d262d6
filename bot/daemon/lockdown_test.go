package daemon_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// lockPlace is a platform that locks places down, recording the calls.
type lockPlace struct {
	mu    sync.Mutex
	calls []string
}

var _ bot.Locker = (*lockPlace)(nil)

func (p *lockPlace) Name() string { return "guild" }
func (p *lockPlace) Lock(_ context.Context, ev bot.Event) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, "lock "+ev.Space)
	return "open", nil
}
func (p *lockPlace) Unlock(_ context.Context, ev bot.Event, prev string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, "unlock "+ev.Space+" "+prev)
	return nil
}
func (p *lockPlace) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

const rulesLockdown = `timezone: UTC
counters:
  joins: {key: space, window: 1m, when: 'kind == "join"'}
rules:
  - name: raid
    category: raid
    when: kind == "join" and counters.joins >= 3
    do: [lockdown(10m)]
`

// rulesAlertLockdown locks the place from an alert, not from a rule.
const rulesAlertLockdown = `timezone: UTC
counters:
  joins: {key: space, window: 1m, when: 'kind == "join"'}
rules:
  - name: noop
    when: "false"
alerts:
  - name: raid
    when: kind == "join" and counters.joins >= 3
    do: ['alert("raid on {{space}}")', lockdown(10m)]
`

// The daemon wires lockdown from a rule, or from an alert, to the platform,
// with its store: the third join in a minute locks the place once, the
// fourth only extends it.
func TestDaemonLockdown(t *testing.T) {
	for name, c := range map[string]struct{ file, by string }{
		"rule":  {rulesLockdown, "rule raid"},
		"alert": {rulesAlertLockdown, "rule alert:raid"},
	} {
		t.Run(name, func(t *testing.T) {
			place := &lockPlace{}
			src := &feed{name: "guild", in: make(chan bot.Event)}
			in := startWith(t, c.file, nil, daemon.Connector{Name: "guild", Source: src, Platforms: []bot.Platform{place}})
			for i, id := range []string{"a", "b", "c", "d"} {
				src.in <- bot.Event{ID: "j-" + id, Platform: "guild", Kind: bot.KindJoin, Space: "g1",
					Author: bot.Author{ID: "new-" + id}, At: time.Now().Add(time.Duration(i) * time.Second)}
			}
			testsync.Eventually(t, "the place locked", func() bool { return len(place.Calls()) == 1 })
			testsync.Eventually(t, "the lock told", func() bool {
				logs := in.logs.String()
				return strings.Contains(logs, "🔒 lockdown(10m) on guild g1") && strings.Contains(logs, c.by)
			})
			testsync.Eventually(t, "the fourth join extending the lock", func() bool {
				return strings.Contains(in.logs.String(), "place already locked: extended")
			})
			if err := in.stop(); err != nil {
				t.Fatal(err)
			}
			if got := place.Calls(); !slices.Equal(got, []string{"lock g1"}) {
				t.Errorf("calls = %q, want one lock", got)
			}
		})
	}
}
