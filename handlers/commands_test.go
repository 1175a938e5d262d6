package handlers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

const commandRules = `timezone: UTC
rules:
  - name: flood
    category: flood
    when: 'text == "flood"'
    do: [delete]
  - name: caps
    category: spam
    when: 'text == "CAPS"'
    do: [delete]
    mode: shadow
  - name: night
    when: 'text == "night"'
    do: [forward("night")]
    hours: after
`

func TestCommands(t *testing.T) {
	ctx := context.Background()
	rs, err := rules.Parse("rules.yaml", []byte(commandRules), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	m, _ := newModerator(t, st, nil, &chat{recorder: recorder{name: "discord"}})
	reloads := 0
	c := handlers.NewCommands(m, handlers.CommandsOptions{
		Version: "1.0",
		Started: at.Add(-3 * time.Hour),
		Rules:   func() *rules.Ruleset { return rs },
		Reload: func(by string) (string, error) {
			reloads++
			return "Reloaded by " + by, nil
		},
		Status: func(context.Context) []string { return []string{"Platforms: discord on."} },
	})

	// Two flagged events in the last hour, one yesterday.
	flood := bot.Match{Rule: "flood", Category: "flood", Actions: []bot.Action{{Kind: bot.ActDelete}}}
	caps := bot.Match{Rule: "caps", Category: "spam", Shadow: true, Actions: []bot.Action{{Kind: bot.ActDelete}}}
	for _, e := range []store.AuditEntry{
		{At: at.Add(-25 * time.Hour), Event: event("discord"), Verdict: verdict("discord", flood)},
		{At: at.Add(-10 * time.Minute), Event: event("discord"), Verdict: verdict("discord", flood, caps)},
		{At: at.Add(-5 * time.Minute), Event: event("telegram"), Verdict: verdict("telegram", caps)},
	} {
		if err := st.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.OpenCase(ctx, store.Case{Event: event("discord"), Reason: "night"}); err != nil {
		t.Fatal(err)
	}

	check := func(name, got string, err error, want string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != want {
			t.Errorf("%s =\n%s\nwant\n%s", name, got, want)
		}
	}
	text, err := c.Status(ctx, "telegram:42")
	check("status", text, err, `vigie 1.0: enforcing, up 3h.
Rules: rules.yaml, 3 rules (1 in shadow mode).
Platforms: discord on.
Last hour: 2 flagged, 1 action.
Open cases: 1.`)

	text, err = c.Stats(ctx, 24*time.Hour, "telegram:42")
	check("stats", text, err, `Last 1d: 2 flagged, 1 action.
By rule:
  caps 2
  flood 1
By category:
  spam 2
  flood 1
By platform:
  discord 1
  telegram 1`)

	text, err = c.Rules(ctx, "telegram:42")
	check("rules", text, err, `rules.yaml: 3 rules (hits today)
flood enforce: 1
caps shadow: 2
night enforce, after hours: 0`)

	text, err = c.Pause(ctx, 2*time.Hour, "telegram:42")
	check("pause", text, err, "Paused for 2h (until Sat 00:10 UTC): vigie only flags and forwards cases.")
	if paused, until := m.Paused(); !paused || !until.Equal(at.Add(2*time.Hour)) {
		t.Errorf("Paused() = %v %v", paused, until)
	}
	text, err = c.Status(ctx, "telegram:42")
	if err != nil || !strings.HasPrefix(text, "vigie 1.0: PAUSED (only flagging and forwarding) until Sat 00:10 UTC, up 3h.") {
		t.Errorf("status while paused = %q, %v", text, err)
	}
	text, err = c.Resume(ctx, "telegram:42")
	check("resume", text, err, "Resumed: the rules are enforced again.")
	text, err = c.Resume(ctx, "telegram:42")
	check("resume again", text, err, "vigie was not paused: the rules are enforced.")
	text, err = c.Pause(ctx, 0, "telegram:42")
	check("pause until resume", text, err, "Paused until /resume: vigie only flags and forwards cases.")

	text, err = c.Reload(ctx, "telegram:42")
	check("reload", text, err, "Reloaded by telegram:42")

	queue, err := c.Queue(ctx, "telegram:42")
	if err != nil || len(queue) != 1 {
		t.Fatalf("queue = %v, %v", queue, err)
	}
	decided, err := c.Decide(ctx, queue[0].ID, "keep", "telegram:42")
	if err != nil || decided.Outcome != "keep" {
		t.Errorf("decide = %+v, %v", decided, err)
	}
	if _, err := c.Decide(ctx, queue[0].ID, "keep", "telegram:43"); !errors.Is(err, store.ErrDecided) {
		t.Errorf("second decision: %v, want ErrDecided", err)
	}
}
